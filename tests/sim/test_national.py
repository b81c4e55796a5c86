"""The encrypted national election on a tiny scenario: same record whatever the executor, totals right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saylau.election.scenario import load_scenario
from saylau.errors import SaylauError
from saylau.parallel import ProcessExecutor, SerialExecutor
from saylau.parallel.dask import DaskExecutor
from saylau.record import format as fmt
from saylau.record.verifier import RecordVerifier
from saylau.sim.national import NationalOptions, run_national
from saylau.sim.paper import simulate_paper

MINI = Path(__file__).parent / "fixtures" / "mini"
# rates well above the defaults, so that a few dozen voters include challenges and coerced revotes
OPTIONS = NationalOptions(scale=0.005, seed=11, challenge_rate=0.2, remote_rate=0.4, revote_rate=0.5)


def _files(record: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(record.iterdir())}


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("serial")
    return out, run_national(out, MINI, OPTIONS, executor=SerialExecutor())


def test_serial_run_verifies_and_counts_what_was_cast(serial) -> None:
    out, result = serial
    assert result.states["challenged"] > 0 and result.states["superseded"] > 0
    assert result.decrypted == result.generated
    assert sum(result.decrypted.values()) == result.states["cast"] == result.voters
    assert [c.name for c in result.checks]  # the verifier ran its checks
    assert not (out / "work").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["record_hash"] == result.record_hash.hex()
    # an independent run of the verifier on the written record gives the same hash
    assert RecordVerifier(out / "record").run() == result.record_hash


def test_totals_are_the_paper_simulations(serial) -> None:
    """The votes cast are the paper simulation's valid votes at that scale (calibrated to published)."""
    _, result = serial
    paper = simulate_paper(load_scenario(MINI), scale=OPTIONS.scale, seed=OPTIONS.seed)
    t = paper.table
    assert result.decrypted == {o: int(v) for o, v in zip(t.options, t.votes.sum(axis=0), strict=True)}
    assert result.stations == len(t)


def test_process_pool_and_local_cluster_write_the_same_record(serial, tmp_path: Path) -> None:
    out, result = serial
    reference = _files(out / "record")
    with ProcessExecutor(2) as pool:
        pooled = run_national(tmp_path / "pool", MINI, OPTIONS, executor=pool, verify=False)
    with DaskExecutor(None, workers=1, processes=False) as cluster:
        dask = run_national(tmp_path / "dask", MINI, OPTIONS, executor=cluster, verify=False)
    assert pooled.record_hash == dask.record_hash == result.record_hash
    assert _files(tmp_path / "pool" / "record") == reference == _files(tmp_path / "dask" / "record")


def test_another_seed_gives_another_record(serial, tmp_path: Path) -> None:
    _, result = serial
    other = NationalOptions(**{**OPTIONS.__dict__, "seed": 12})
    assert run_national(tmp_path, MINI, other, verify=False).record_hash != result.record_hash


def test_a_changed_ballot_line_fails_verification(serial, tmp_path: Path) -> None:
    out, _ = serial
    copy = tmp_path / "record"
    copy.mkdir()
    for name, data in _files(out / "record").items():
        (copy / name).write_bytes(data)
    lines = (copy / fmt.BALLOTS).read_bytes().splitlines(keepends=True)
    lines[0], lines[1] = lines[1], lines[0]
    (copy / fmt.BALLOTS).write_bytes(b"".join(lines))
    with pytest.raises(SaylauError):
        RecordVerifier(copy).run()


def test_leftover_work_of_another_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "config.json").write_text("{}")
    with pytest.raises(SaylauError, match="other parameters"):
        run_national(tmp_path, MINI, OPTIONS, verify=False)
    run_national(tmp_path, MINI, OPTIONS, verify=False, restart=True)


@pytest.mark.slow
def test_local_cluster_of_processes_writes_the_same_record(serial, tmp_path: Path) -> None:
    """The distributed path with real worker processes (tasks and results pickled over TCP)."""
    _, result = serial
    with DaskExecutor(None, workers=2, processes=True) as cluster:
        dask = run_national(tmp_path, MINI, OPTIONS, executor=cluster, verify=False)
    assert dask.record_hash == result.record_hash

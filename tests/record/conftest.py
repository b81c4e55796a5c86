"""One small honest election record per test session, copied by tests that tamper with it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from saylau.record.demo import DemoResult, run_demo
from saylau.sim.pilot import pilot_election


@pytest.fixture(scope="session")
def small_record(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("record") / "honest"
    pilot = pilot_election(stations=3, ballots=24, seed=7)
    result = run_demo(
        out, pilot.manifest, pilot.plan, guardians=3, quorum=2, missing=1,
        challenge_rate=0.25, remote_rate=0.5, revote_rate=0.5, seed=7, workers=1, registered=pilot.registered,
    )
    assert result.states["challenged"] > 0 and result.states["superseded"] > 0
    return result


@pytest.fixture
def record_copy(small_record: DemoResult, tmp_path: Path) -> Path:
    dst = tmp_path / "record"
    shutil.copytree(small_record.out_dir, dst)
    return dst

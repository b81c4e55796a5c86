"""``saylau audit``: start from a results directory, enter hand tallies, verify; a changed tally fails."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from saylau.cli import app

runner = CliRunner()
ROLLS = "39184720553619028847"


def _tallies(audit: Path, change: int = 0) -> Path:
    rec = json.loads((audit / "audit.json").read_text())
    batches = {b["station"]: b["reported"] for b in rec["manifest"]["batches"]}
    opts = rec["manifest"]["options"]
    with (audit / "sample-round-1.csv").open() as fh:
        stations = sorted({r["station"] for r in csv.DictReader(fh)})
    out = audit / "tallies.csv"
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["station", *opts, "invalid"])
        for st in stations:
            counts = dict(batches[st])
            counts["tokayev"] -= change
            counts["abden"] += change
            w.writerow([st, *[counts[o] for o in opts], counts["invalid"]])
    return out


def test_audit_commands_end_to_end(tmp_path: Path) -> None:
    results, audit = tmp_path / "results", tmp_path / "audit"
    sim = runner.invoke(
        app, ["simulate", "kz-2022", "--paper", "--scale", "0.02", "--seed", "2", "--out", str(results)]
    )
    assert sim.exit_code == 0, sim.output
    res = runner.invoke(
        app,
        [
            "audit",
            "start",
            str(results),
            "--rolls",
            ROLLS,
            "--observer",
            "A",
            "--observer",
            "B",
            "--out",
            str(audit),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "awaiting tallies" in res.output and (audit / "sample-round-1.csv").exists()
    est = runner.invoke(app, ["audit", "estimate", str(results), "--risk-limit", "0.05"])
    assert est.exit_code == 0 and "BRAVO ASN" in est.output, est.output
    res = runner.invoke(app, ["audit", "enter", str(audit), str(_tallies(audit))])
    assert res.exit_code == 0 and "confirmed" in res.output, res.output
    res = runner.invoke(app, ["audit", "verify", str(audit), "--results", str(results)])
    assert res.exit_code == 0 and "audit verified" in res.output, res.output
    # a hand tally changed after the fact: the recorded risks no longer follow
    rec = json.loads((audit / "audit.json").read_text())
    first = next(iter(rec["rounds"][0]["station_tallies"]))
    rec["rounds"][0]["station_tallies"][first]["tokayev"] -= 5
    rec["rounds"][0]["station_tallies"][first]["abden"] += 5
    (audit / "audit.json").write_text(json.dumps(rec))
    res = runner.invoke(app, ["audit", "verify", str(audit)])
    assert res.exit_code == 1 and "AUDIT VERIFICATION FAILED" in res.output and "round 1" in res.output


def test_bad_input_is_named(tmp_path: Path) -> None:
    results, audit = tmp_path / "results", tmp_path / "audit"
    runner.invoke(
        app, ["simulate", "kz-2022", "--paper", "--scale", "0.01", "--seed", "2", "--out", str(results)]
    )
    res = runner.invoke(
        app, ["audit", "start", str(results), "--rolls", "12ab", "--observer", "A", "--out", str(audit)]
    )
    assert res.exit_code == 2 and "rolls" in res.output
    res = runner.invoke(
        app, ["audit", "start", str(results), "--rolls", ROLLS, "--observer", "A", "--kind", "x"]
    )
    assert res.exit_code == 2 and "--kind" in res.output

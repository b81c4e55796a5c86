"""The demo's audit step: one batch-comparison round on the simulated count, written and verifiable."""

from __future__ import annotations

from pathlib import Path

from saylau.audit.verify import load_record, verify_audit
from saylau.election.scenario import load_scenario
from saylau.sim.election_day import _audit_round
from saylau.sim.run import run_paper


def test_demo_audit_round_confirms_and_verifies(tmp_path: Path) -> None:
    sc = load_scenario("kz-2022")
    paper = run_paper(sc, tmp_path / "results", scale=0.05, seed=4)
    rec = _audit_round(sc, paper, tmp_path / "audit", seed=4)
    assert rec.status == "confirmed" and len(rec.rounds) == 1
    assert rec.max_risk() <= 0.05
    again = load_record(tmp_path / "audit")
    assert again == rec
    verify_audit(again)

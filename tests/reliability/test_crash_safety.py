"""Crash safety: ``saylau serve`` SIGKILLed at random moments while clients cast loses no acknowledged ballot.

A few kills per backend here (``make test``); the long version (``-m slow``, 50 kills per backend) is the
same soak (``reliability.crash_soak``), and ``benchmarks/crash_soak.py`` prints its table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reliability.crash_soak import SoakReport, run_soak
from reliability.live_server import LiveServer, database_url


def _assert_safe(report: SoakReport, kills: int) -> None:
    table = report.table()
    assert len(report.rows) == kills, table
    assert report.errors == [], f"{report.errors}\n{table}"
    for row in report.rows:
        assert row.lost == 0, f"kill {row.kill}: {row.lost} acknowledged ballots lost\n{table}"
        assert row.duplicated == 0, f"kill {row.kill}: {row.duplicated} ballots stored twice\n{table}"
        assert row.leftovers == [], f"kill {row.kill}: processes left after SIGKILL {row.leftovers}"
    assert report.acknowledged > 0 and report.lost == 0 and report.duplicated == 0, table
    assert report.on_board == report.acknowledged, table  # every retried request got its answer in the end
    assert "intact" in report.check_output, report.check_output
    assert report.tally_matches and report.record_verified, report.errors
    assert report.final_leftovers == [], report.final_leftovers
    assert report.rows[-1].acknowledged > report.rows[0].acknowledged, table  # casting went on between kills


def _soak(database: Any, tmp_path: Path, kills: int, **options: Any) -> SoakReport:
    server = LiveServer(
        database_url(database), tmp_path / "server", verify_processes=options.pop("verifiers", 1)
    )
    return run_soak(server, database.backend, kills, **options)


def test_sigkill_while_casting_loses_and_duplicates_nothing(database: Any, tmp_path: Path) -> None:
    kills = 3
    # enough voters, and kills soon enough, that casting goes on past the first kill on a quiet machine
    report = _soak(database, tmp_path, kills, seed=7, voters=480, up_seconds=(0.2, 0.6))
    _assert_safe(report, kills)


@pytest.mark.slow
def test_fifty_sigkills_while_casting(database: Any, tmp_path: Path) -> None:
    kills = 50
    report = _soak(database, tmp_path, kills, seed=11, voters=2400, verifiers=2, up_seconds=(0.2, 3.0))
    print(f"\n{database.backend}\n{report.table()}")
    _assert_safe(report, kills)

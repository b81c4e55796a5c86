"""Run every forensic test on one set of station results and collect statistics and p-values.

One place decides which tests run, with which settings, so that the CLI report and the detection-power
benchmark measure exactly the same procedures. The classical digit tests (χ² against the uniform and
Benford laws) are reported but marked ``calibrated = False``: they alarm on every clean simulated
election (docs/forensics.md), so they never count as an anomaly; their ``_mc`` variants do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from saylau.errors import ForensicsError
from saylau.forensics.data import StationResults
from saylau.forensics.digits import last_digit_test, second_digit_test
from saylau.forensics.fingerprint import fingerprint_test
from saylau.forensics.outliers import late_jump_test, near_full_test
from saylau.forensics.rounding import round_number_test

__all__ = ["TEST_NAMES", "TestOutcome", "run_suite"]

TEST_NAMES = (
    "fingerprint",
    "round_numbers",
    "last_digit",
    "last_digit_mc",
    "second_digit",
    "second_digit_mc",
    "late_turnout",
    "near_100",
)


@dataclass
class TestOutcome:
    """One test's statistic and p-value (``None`` with a reason when it could not run)."""

    name: str
    statistic: float | None
    p_value: float | None
    details: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    seconds: float = 0.0
    result: Any = field(default=None, repr=False)
    calibrated: bool = True

    def p_text(self) -> str | None:
        """The p-value as it should be read: ``< 1/(B+1)`` with the z-score at a Monte-Carlo floor."""
        text = self.details.get("p_text") or self.details.get("mc_p_text") if self.calibrated else None
        if text:
            return str(text)
        return None if self.p_value is None else f"p = {self.p_value:.3g}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the raw result object)."""
        return {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_text": self.p_text(),
            "details": self.details,
            "skipped": self.skipped,
            "calibrated": self.calibrated,
            "seconds": round(self.seconds, 3),
        }


def _jsonable(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in asdict(obj).items():
        if isinstance(v, np.ndarray):
            out[k] = v.tolist()
        elif isinstance(v, dict):
            out[k] = {kk: (vv.tolist() if isinstance(vv, np.ndarray) else vv) for kk, vv in v.items()}
        else:
            out[k] = v
    return out


def run_suite(
    results: StationResults,
    rng: np.random.Generator,
    replications: int = 200,
    fingerprint_replications: int = 99,
    only: tuple[str, ...] = TEST_NAMES,
    on_done: Callable[[str], None] | None = None,
) -> dict[str, TestOutcome]:
    """Run the tests named in ``only``; a test that cannot run is reported as skipped with the reason.

    ``on_done`` is called with each test's name when it finishes (the CLI advances a progress bar).
    """
    outcomes: dict[str, TestOutcome] = {}

    def run(name: str, fn: Callable[[], TestOutcome]) -> None:
        if name not in only:
            return
        start = time.perf_counter()
        try:
            outcome = fn()
        except ForensicsError as exc:
            outcome = TestOutcome(name, None, None, skipped=str(exc))
        outcome.seconds = time.perf_counter() - start
        outcomes[name] = outcome
        if on_done is not None:
            on_done(name)

    def fingerprint() -> TestOutcome:
        fit = fingerprint_test(results, rng, replications=fingerprint_replications)
        return TestOutcome("fingerprint", fit.score, fit.p_value, _jsonable(fit), result=fit)

    def rounding() -> TestOutcome:
        r = round_number_test(results, rng, replications=replications)
        return TestOutcome("round_numbers", float(r.statistic), r.p_value, _jsonable(r), result=r)

    def digits(name: str, mc: bool, second: bool) -> TestOutcome:
        gen = rng if mc else None
        reps = max(replications // 2, 20)
        d = second_digit_test(results, gen, reps) if second else last_digit_test(results, 10, gen, reps)
        stat, p = (d.mc_statistic, d.mc_p_value) if mc else (d.statistic, d.p_value)
        # the theoretical laws fail on clean elections with narrow count ranges (docs/forensics.md)
        return TestOutcome(name, stat, p, _jsonable(d), result=d, calibrated=mc)

    def late() -> TestOutcome:
        r = late_jump_test(results)
        return TestOutcome("late_turnout", float(r.flagged), r.p_value, _jsonable(r), result=r)

    def near() -> TestOutcome:
        r = near_full_test(results, rng, replications=replications)
        return TestOutcome("near_100", float(r.statistic), r.p_value, _jsonable(r), result=r)

    run("fingerprint", fingerprint)
    run("round_numbers", rounding)
    run("last_digit", lambda: digits("last_digit", False, False))
    run("last_digit_mc", lambda: digits("last_digit_mc", True, False))
    run("second_digit", lambda: digits("second_digit", False, True))
    run("second_digit_mc", lambda: digits("second_digit_mc", True, True))
    run("late_turnout", late)
    run("near_100", near)
    return outcomes

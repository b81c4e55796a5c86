"""The verifier's table of checks: one row per check, the failure that names its check, progress hooks.

``run_checks`` runs named steps in their documented order. Each step fills its row (a count and a
detail) and raises on the first failure; ``fail`` builds the ``VerificationFailed`` that names the object
and the check, and any other ``SaylauError`` (or a malformed field: ``KeyError``, ``TypeError``,
``ValueError``) is reported the same way. The rows of the checks that ran stay in ``checks`` for the
CLI's table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from saylau.errors import SaylauError, VerificationFailed

__all__ = ["CheckResult", "ProgressHook", "Step", "fail", "run_checks"]


class ProgressHook(Protocol):
    """``hook(task, advance, total)``: called with ``advance=0`` and a total to start a task."""

    def __call__(self, task: str, advance: int, total: int | None = None) -> None:
        """Report progress on ``task``."""


@dataclass
class CheckResult:
    """One row of the verifier's table."""

    name: str
    count: int = 0
    passed: bool = False
    detail: str = ""


Step = tuple[str, Callable[[CheckResult], None]]
"""A check's name (its row in the table) and the function that runs it."""


def fail(check: CheckResult, message: str) -> VerificationFailed:
    """The failure of ``check``: its row's detail is ``message``; the exception names the check too."""
    check.detail = message
    return VerificationFailed(f"{message} [check: {check.name}]")


def run_checks(steps: Sequence[Step], checks: list[CheckResult]) -> None:
    """Run ``steps`` in order, appending a row to ``checks`` for each; the first failure is raised."""
    for name, step in steps:
        check = CheckResult(name)
        checks.append(check)
        try:
            step(check)
        except VerificationFailed as exc:
            if not check.detail:
                check.detail = str(exc)
            raise
        except (SaylauError, KeyError, TypeError, ValueError) as exc:
            raise fail(check, str(exc)) from exc
        check.passed = True

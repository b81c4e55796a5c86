"""Every ballot's proofs (range and contest limit): checked during the ballot pass, reported here.

The workers of the ballot pass (``lines.verify_lines``) check each line's proofs after its structure.
The first failure (in line order) is kept, not raised, so that the checks report in their documented
order: ``check_proofs`` reports it after the structural checks of the ballot pass.
"""

from __future__ import annotations

from saylau.record.verifier.state import VerifyState
from saylau.record.verifier.table import CheckResult, fail

__all__ = ["check_proofs"]


def check_proofs(s: VerifyState, check: CheckResult) -> None:
    """Report the proofs the ballot pass checked, or the first that failed."""
    if s.proof_failure is not None:
        raise fail(check, s.proof_failure)
    check.count = s.proofs_checked
    check.detail = "every ballot's"  # the same whatever the executor: the table is part of the verdict
    if s.resumed_lines:
        check.detail += f"; {s.resumed_lines} ballots verified earlier (state file, unchanged by hash)"

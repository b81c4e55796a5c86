"""Risk-limiting audits of the paper count: manifest, dice seed, consistent sampler, assertions, rounds."""

from saylau.audit.assertions import Assertion, derive_assertions
from saylau.audit.ceremony import DiceCeremony
from saylau.audit.engine import AuditRecord, enter_full_count, enter_round, plan_audit
from saylau.audit.manifest import BallotManifest
from saylau.audit.verify import verify_audit

__all__ = [
    "Assertion",
    "AuditRecord",
    "BallotManifest",
    "DiceCeremony",
    "derive_assertions",
    "enter_full_count",
    "enter_round",
    "plan_audit",
    "verify_audit",
]

"""What the guardian's console shows: the guardians' progress, and its checks of what they published.

The progress is the API's ``ceremony_progress``; the published documents come from ``get_election``
(the parameters with the joint key), ``list_guardians`` (each record), ``get_partial_decryption`` and
``get_tally`` (with the plaintexts once decrypted). Every check is the safe tier's own function, run
again here on what the API serves, so that a guardian sees for itself that the others' published
documents hold: ``verify_guardian_record`` (the Schnorr proof of each coefficient commitment, EG 2.0
§3.2.2), the joint key against ``JointPublicKey.from_records`` (``K = Π K_i0``, §3.2.3) and the base hash
against ``election_base_hash`` (the manifest, ``n``, ``k``), ``verify_partial_decryption`` (§3.6.3) and
``verify_plaintext_tally`` (§3.6.2). Nothing here holds or asks for a secret.

Partial decryptions and the decrypted result are checked for the nation and each region: a national
election's 10,000 station tallies would take a minute per guardian and page view; the server checked
every one on arrival and ``saylau verify`` checks them all in the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from saylau.api.errors import NotFound
from saylau.api.routes_admin import get_election_endpoint
from saylau.api.routes_ceremony import ceremony_progress, get_partial_decryption, list_guardians
from saylau.api.routes_results import get_tally
from saylau.api.state import AppState
from saylau.crypto import (
    ElectionParameters,
    EncryptedTally,
    GuardianRecord,
    JointPublicKey,
    PartialDecryption,
    PlaintextTally,
    verify_guardian_record,
    verify_partial_decryption,
    verify_plaintext_tally,
)
from saylau.election.manifest import Manifest
from saylau.errors import SaylauError
from saylau.record.format import election_base_hash
from saylau.store.accounts import TokenInfo

__all__ = ["CHECKED_SCOPES", "Check", "GuardianSteps", "Overview", "overview"]

CHECKED_SCOPES = ("nation", "region")
"""The tally scopes whose partial decryptions and plaintexts the page checks (see the module's text)."""

_BROKEN = (SaylauError, ValueError, KeyError, TypeError)
"""What a check of a malformed or wrong document raises."""


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``pass``, ``fail`` (with the check's own message) or ``none`` (nothing yet)."""

    state: str
    detail: str = ""


NOTHING = Check("none")


@dataclass
class GuardianSteps:
    """One guardian's steps and the checks of what it published."""

    index: int
    record: bool
    shares_sent: list[int]
    shares_received: list[int]
    finished: bool
    partial_decryption: bool
    record_check: Check = NOTHING
    partial_check: Check = NOTHING


@dataclass
class Overview:
    """The election, every guardian's row and the election-wide checks."""

    election: dict[str, Any]
    progress: dict[str, Any]
    guardians: list[GuardianSteps]
    base_hash_check: Check = NOTHING
    joint_key_check: Check = NOTHING
    result_check: Check = NOTHING
    combined: list[int] = field(default_factory=list)
    nation_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    scopes_checked: int = 0
    scopes_total: int = 0

    @property
    def quorum(self) -> int:
        return int(self.election["quorum"])

    def missing(self, step: str) -> list[int]:
        """The guardians who have not done ``step`` (``record``, ``finished``, ``partial_decryption``)."""
        return [g.index for g in self.guardians if not getattr(g, step)]


def _failed(exc: BaseException) -> Check:
    return Check("fail", str(exc.args[0]) if exc.args else type(exc).__name__)


def _check_record(raw: dict[str, Any], index: int, quorum: int, base_hash: bytes) -> Check:
    try:
        rec = GuardianRecord.from_dict(raw)
        if rec.index != index:
            return Check("fail", f"the record names guardian {rec.index}")
        if len(rec.commitments) != quorum:
            return Check("fail", f"{len(rec.commitments)} commitments, the quorum is {quorum}")
        verify_guardian_record(rec, base_hash)
    except _BROKEN as exc:
        return _failed(exc)
    return Check("pass")


def _check_base_hash(election: dict[str, Any]) -> Check:
    try:
        m = Manifest.from_json_obj(election["manifest"])
        expected = election_base_hash(m.manifest_hash(), int(election["guardians"]), int(election["quorum"]))
    except _BROKEN as exc:
        return _failed(exc)
    if expected.hex() != election["base_hash"]:
        return Check("fail", f"base hash {election['base_hash']} is not H(manifest, n, k) = {expected.hex()}")
    return Check("pass")


def _check_joint_key(
    election: dict[str, Any], records: dict[int, GuardianRecord]
) -> tuple[Check, ElectionParameters | None]:
    """The published parameters: parsed, of this base hash, ``K`` the product of the records' ``K_i0``."""
    raw = election.get("parameters")
    if raw is None:
        return NOTHING, None
    try:
        params = ElectionParameters.from_dict(raw)  # JointPublicKey checks K = Π of its own records' K_i0
        if params.base_hash.hex() != election["base_hash"]:
            return Check("fail", "the parameters' base hash is not the election's"), None
        if sorted(records) != list(range(1, int(election["guardians"]) + 1)):
            return Check("fail", "a joint key, but not every guardian's record is published"), None
        ours = JointPublicKey.from_records(list(records.values()), int(election["quorum"]))
        if ours.K != params.joint_key.K:
            return Check("fail", "K is not the product of the published records' K_i0"), None
        if ours.guardian_records != params.joint_key.guardian_records:
            return Check("fail", "the joint key carries other commitments than the published records"), None
    except _BROKEN as exc:
        return _failed(exc), None
    return Check("pass"), params


def _checked(scopes: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, s) for i, s in enumerate(scopes) if s.get("scope") in CHECKED_SCOPES]


def _check_partial(
    params: ElectionParameters, scopes: list[dict[str, Any]], body: dict[str, Any], index: int
) -> Check:
    try:
        partials = body["partials"]
        if [(p["scope"], p["scope_id"]) for p in partials] != [(s["scope"], s["scope_id"]) for s in scopes]:
            return Check("fail", "the partial decryptions do not cover the tally's scopes in order")
        for i, scope in _checked(scopes):
            partial = PartialDecryption.from_dict(partials[i]["partial"])
            if partial.guardian_index != index:
                return Check("fail", f"{scope['scope_id']}: made by guardian {partial.guardian_index}")
            verify_partial_decryption(params, EncryptedTally.from_dict(scope["encrypted"]), partial)
    except _BROKEN as exc:
        return _failed(exc)
    return Check("pass")


def _check_result(ov: Overview, params: ElectionParameters, entries: list[dict[str, Any]]) -> None:
    try:
        for _, entry in _checked(entries):
            plaintext = PlaintextTally.from_dict(entry["plaintext"])
            verify_plaintext_tally(params, EncryptedTally.from_dict(entry["encrypted"]), plaintext)
            if entry["scope"] == "nation":
                ov.combined = list(plaintext.guardians)
                ov.nation_counts = plaintext.counts
    except _BROKEN as exc:
        ov.result_check = _failed(exc)
        return
    ov.result_check = Check("pass")


def overview(state: AppState, caller: TokenInfo, election_id: str) -> Overview:
    """Read everything through the API's functions and check it (``NotFound`` for no such election)."""
    election = get_election_endpoint(election_id, state, caller)
    progress = ceremony_progress(election_id, state, caller)
    published = {g["index"]: g["record"] for g in list_guardians(election_id, state, caller)}
    base_hash = bytes.fromhex(election["base_hash"])
    rows = [GuardianSteps(**p) for p in progress["progress"]]
    ov = Overview(election, progress, rows, base_hash_check=_check_base_hash(election))
    records: dict[int, GuardianRecord] = {}
    for g in rows:
        raw = published.get(g.index)
        if raw is None:
            continue
        g.record_check = _check_record(raw, g.index, ov.quorum, base_hash)
        if g.record_check.state == "pass":
            records[g.index] = GuardianRecord.from_dict(raw)
    ov.joint_key_check, params = _check_joint_key(election, records)
    if params is None or election["phase"] not in ("tallied", "decrypted"):
        return ov
    try:
        tally = get_tally(election_id, state, caller)
    except NotFound:
        return ov
    scopes = tally["scopes"]
    ov.scopes_total, ov.scopes_checked = len(scopes), len(_checked(scopes))
    for g in rows:
        if g.partial_decryption:
            body = get_partial_decryption(election_id, g.index, state, caller)
            g.partial_check = _check_partial(params, scopes, body, g.index)
    if tally.get("entries"):
        _check_result(ov, params, tally["entries"])
    return ov

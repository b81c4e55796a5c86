"""ElectionGuard 1.4.0 doing the same work as saylau's ballot benchmark; prints one JSON object.

Runs inside the peer's own Python 3.10 virtual environment (electionguard 1.4.0 does not import on
3.11). Work: one contest, 7 options, vote for one; 3 guardians, quorum 2; encrypt ballots with proofs,
verify each ballot's proofs, measure the submitted ballot's JSON size, and decrypt a tally of the cast
ballots with all guardians. The process is pinned to one core (its internal pools too);
its log handler is set to WARNING so that no terminal output is timed (its own message formatting,
which runs at every level, stays: that is the library's cost).

Usage: python eg_peer.py [--ballots N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from typing import Any

from electionguard.ballot import (
    BallotBoxState,
    PlaintextBallot,
    PlaintextBallotContest,
    PlaintextBallotSelection,
    SubmittedBallot,
)
from electionguard.ballot_box import submit_ballot
from electionguard.decryption_mediator import DecryptionMediator
from electionguard.election import CiphertextElectionContext
from electionguard.encrypt import EncryptionDevice, encrypt_ballot, generate_device_uuid
from electionguard.group import ElementModQ
from electionguard.key_ceremony import CeremonyDetails
from electionguard.key_ceremony_mediator import KeyCeremonyMediator
from electionguard.logs import LOG
from electionguard.manifest import (
    BallotStyle,
    Candidate,
    CandidateContestDescription,
    ElectionType,
    GeopoliticalUnit,
    InternalManifest,
    Manifest,
    ReportingUnitType,
    SelectionDescription,
    SpecVersion,
    VoteVariationType,
)
from electionguard.scheduler import Scheduler
from electionguard.serialize import to_raw
from electionguard.tally import CiphertextTally
from electionguard.utils import get_optional
from electionguard_tools.helpers.election_builder import ElectionBuilder
from electionguard_tools.helpers.key_ceremony_orchestrator import KeyCeremonyOrchestrator
from electionguard_tools.helpers.tally_ceremony_orchestrator import TallyCeremonyOrchestrator

N_OPTIONS = 7
N_GUARDIANS = 3
QUORUM = 2
CONTEST_ID = "president"
STYLE_ID = "national"
GP_UNIT = "kz"


def build_manifest() -> Manifest:
    """One vote-for-one contest over seven options (six candidates and 'against all')."""
    candidates = [Candidate(f"cand-{i}") for i in range(N_OPTIONS)]
    selections = [SelectionDescription(f"sel-{i}", i, f"cand-{i}") for i in range(N_OPTIONS)]
    contest = CandidateContestDescription(
        CONTEST_ID, 0, GP_UNIT, VoteVariationType.one_of_m, 1, 1, "President", selections
    )
    style = BallotStyle(STYLE_ID)
    style.geopolitical_unit_ids = [GP_UNIT]
    return Manifest(
        election_scope_id="bench",
        spec_version=SpecVersion.EG0_95,
        type=ElectionType.general,
        start_date=datetime(2022, 11, 20),
        end_date=datetime(2022, 11, 20),
        geopolitical_units=[GeopoliticalUnit(GP_UNIT, "Kazakhstan", ReportingUnitType.state)],
        parties=[],
        candidates=candidates,
        contests=[contest],
        ballot_styles=[style],
    )


def plaintext_ballot(ballot_id: str, choice: int) -> PlaintextBallot:
    """A vote for option ``choice``."""
    selections = [PlaintextBallotSelection(f"sel-{i}", 1 if i == choice else 0) for i in range(N_OPTIONS)]
    return PlaintextBallot(ballot_id, STYLE_ID, [PlaintextBallotContest(CONTEST_ID, selections)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--as-shipped", action="store_true",
        help="keep the library's per-call log formatting (inspect.stack) instead of skipping it",
    )
    args = parser.parse_args()
    n_ballots: int = args.ballots
    rounds: int = args.rounds
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, pools included
    LOG.set_stream_log_level(logging.WARNING)  # no terminal output in the timed loops
    if not args.as_shipped:
        # Conservative for the peer: skip debug/info formatting (each call walks the stack).
        # This only makes ElectionGuard faster, so saylau's ratios are floors.
        LOG.debug = LOG.info = lambda *a, **k: None  # type: ignore[method-assign]

    manifest = build_manifest()
    t0 = time.perf_counter()
    details = CeremonyDetails(N_GUARDIANS, QUORUM)
    guardians = KeyCeremonyOrchestrator.create_guardians(details)
    mediator = KeyCeremonyMediator("mediator", details)
    KeyCeremonyOrchestrator.perform_full_ceremony(guardians, mediator)
    joint_key = get_optional(mediator.publish_joint_key())
    ceremony_s = time.perf_counter() - t0

    builder = ElectionBuilder(N_GUARDIANS, QUORUM, manifest)
    builder.set_public_key(joint_key.joint_public_key)
    builder.set_commitment_hash(joint_key.commitment_hash)
    internal_manifest, context = get_optional(builder.build())
    assert isinstance(internal_manifest, InternalManifest)
    assert isinstance(context, CiphertextElectionContext)

    device = EncryptionDevice(generate_device_uuid(), 1, 2, "bench")
    seed: ElementModQ = device.get_hash()

    # encrypt (proofs generated, not self-verified: the fair comparison with saylau's encrypt)
    encrypted = []
    per_round = max(1, n_ballots // rounds)
    encrypt_rounds = []
    for r in range(rounds):
        t0 = time.perf_counter()
        for b in range(r * per_round, (r + 1) * per_round):
            ct = encrypt_ballot(
                plaintext_ballot(f"ballot-{b}", b % N_OPTIONS), internal_manifest, context, seed,
                should_verify_proofs=False,
            )
            ct = get_optional(ct)
            seed = ct.code
            encrypted.append(ct)
        encrypt_rounds.append((time.perf_counter() - t0) / per_round)
    n_ballots = len(encrypted)

    submitted: list[SubmittedBallot] = [submit_ballot(ct, BallotBoxState.CAST) for ct in encrypted]

    # verify every proof of every submitted ballot (range proofs per selection + contest proof)
    verify_rounds = []
    for r in range(rounds):
        t0 = time.perf_counter()
        for sb in submitted[r * per_round:(r + 1) * per_round]:
            ok = sb.is_valid_encryption(
                internal_manifest.manifest_hash, context.elgamal_public_key, context.crypto_extended_base_hash
            )
            if not ok:
                raise SystemExit(f"electionguard rejected its own ballot {sb.object_id}")
        verify_rounds.append((time.perf_counter() - t0) / per_round)
    encrypt_s, verify_s = min(encrypt_rounds) * n_ballots, min(verify_rounds) * n_ballots

    sizes = [len(to_raw(sb).encode()) for sb in submitted]

    # tally and decrypt with all guardians present
    t0 = time.perf_counter()
    tally = CiphertextTally("tally", internal_manifest, context)
    with Scheduler() as scheduler:
        if not tally.batch_append([(sb.object_id, sb) for sb in submitted], False, scheduler):
            raise SystemExit("electionguard could not tally its ballots")
    accumulate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dmed = DecryptionMediator("decrypt", context)
    TallyCeremonyOrchestrator.perform_decryption_setup(guardians, dmed, context, tally)
    plaintext = get_optional(dmed.get_plaintext_tally(tally, manifest))
    decrypt_s = time.perf_counter() - t0
    counts: dict[str, int] = {
        sel_id: sel.tally for sel_id, sel in plaintext.contests[CONTEST_ID].selections.items()
    }
    expected = {f"sel-{i}": sum(1 for b in range(n_ballots) if b % N_OPTIONS == i) for i in range(N_OPTIONS)}
    if counts != expected:
        raise SystemExit(f"electionguard decrypted {counts}, expected {expected}")

    out: dict[str, Any] = {
        "implementation": "electionguard 1.4.0",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "interpreter": sys.executable,
        "options": N_OPTIONS,
        "guardians": N_GUARDIANS,
        "quorum": QUORUM,
        "ballots": n_ballots,
        "log_formatting": "as shipped" if args.as_shipped else "debug/info skipped (conservative)",
        "ceremony_s": ceremony_s,
        "rounds": rounds,
        "encrypt_ms_median_round": 1000 * statistics.median(encrypt_rounds),
        "verify_ms_median_round": 1000 * statistics.median(verify_rounds),
        "encrypt_ms_per_ballot": 1000 * encrypt_s / n_ballots,
        "encrypt_ballots_per_s": n_ballots / encrypt_s,
        "verify_ms_per_ballot": 1000 * verify_s / n_ballots,
        "verify_ballots_per_s": n_ballots / verify_s,
        "ballot_json_bytes": sum(sizes) / len(sizes),
        "tally_accumulate_s": accumulate_s,
        "tally_decrypt_s": decrypt_s,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

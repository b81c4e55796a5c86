"""What each kind of job does: roll import (``saylau.api.roll_import``), tally, decryption, verification."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saylau.api.common import need_phase
from saylau.api.record_export import write_server_record
from saylau.api.roll_import import JOB_KIND as ROLL_JOB
from saylau.api.roll_import import import_roll_job
from saylau.api.worker import HANDLERS, JobContext
from saylau.board import verify_board
from saylau.crypto import (
    ChallengedBallot,
    EncryptedBallot,
    EncryptedTally,
    PartialDecryption,
    combine_decryption,
    verify_ballot,
    verify_challenged_ballot,
    verify_plaintext_tally,
)
from saylau.election.manifest import Manifest
from saylau.errors import DecryptionError, ElectionStateError
from saylau.record.tally import StationSums, TallyEntry, results_summary
from saylau.record.verifier import RecordVerifier
from saylau.store.ballot_contexts import Contexts
from saylau.store.ballot_documents import ballot_document, with_documents
from saylau.store.board_rows import stored_payload
from saylau.store.models import (
    Ballot,
    BoardCheckpointRow,
    BoardEntryRow,
    Election,
    PartialDecryptionRow,
)
from saylau.voting.publish import result_payload

__all__ = ["decrypt", "tally", "verify"]

_BATCH = 500


def _election(ctx: JobContext) -> str:
    if ctx.election_id is None:
        raise ValueError(f"job {ctx.job_id}: no election")
    return ctx.election_id


def tally(ctx: JobContext) -> dict[str, Any]:
    """Sum counted ballots (cast, not superseded or challenged) per station, region and nation.

    The scopes and their order are the record's (``saylau.record.tally.StationSums``): guardians
    decrypt every scope, so each published number is proven directly.
    """
    eid = _election(ctx)
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is None or e.phase != "closed":
            raise ElectionStateError(f"election {eid}: tally needs phase 'closed'")
        params = ctx.state.election_params(e)
        manifest = Manifest.from_json_obj(e.manifest)
        total = (
            session.scalar(select(func.count()).where(Ballot.election_id == eid, Ballot.state == "cast")) or 0
        )
    sums = StationSums(manifest, params)
    done = 0
    last = ""
    while True:
        with ctx.state.reading() as session:
            rows = session.execute(
                with_documents(Ballot.id)
                .where(Ballot.election_id == eid, Ballot.state == "cast", Ballot.id > last)
                .order_by(Ballot.id)
                .limit(_BATCH)
            ).all()
            contexts = Contexts(session)
            payloads = [stored_payload(payload, body, contexts) for _, _, payload, body in rows]
        for (bid, kind, _, _), stored in zip(rows, payloads, strict=True):
            doc = _document(bid, kind, stored)
            sums.add(str(stored["station_id"]), EncryptedBallot.from_dict(doc))
        if not rows:
            break
        done += len(rows)
        last = rows[-1][0]
        ctx.progress(done / max(total, 1), f"{done} of {total} ballots added")
    scopes = [
        {"scope": scope, "scope_id": sid, "ballot_count": count, "encrypted": t.to_dict()}
        for scope, sid, count, t in sums.roll_up()
    ]
    with ctx.state.transaction() as session:
        e = session.get(Election, eid, with_for_update=True)
        assert e is not None
        e.tally = {"scopes": scopes, "ballots": done}
        e.phase = "tallied"
        entry = ctx.state.publish(session, eid, "tally", e.tally)
    return {"ballots": done, "scopes": len(scopes), "board_position": entry.position}


def _document(ballot_id: str, kind: str, payload: Any) -> dict[str, Any]:
    """The ballot a row's board entry carries (``store.ballot_documents``); a broken pair is an error."""
    doc = ballot_document(kind, payload)
    if doc is None:
        raise ElectionStateError(f"ballot {ballot_id}: its board entry ({kind}) carries no ballot")
    return doc


def _published(session: Session, eid: str, scopes: int) -> dict[str, Any]:
    """The outcome of a decryption job whose transaction already committed (a resumed job)."""
    position = session.scalar(
        select(func.max(BoardEntryRow.position)).where(
            BoardEntryRow.election_id == eid, BoardEntryRow.kind == "result"
        )
    )
    final = session.scalar(
        select(BoardCheckpointRow.position).where(
            BoardCheckpointRow.election_id == eid, BoardCheckpointRow.final.is_(True)
        )
    )
    if position is None or final is None:
        msg = f"election {eid}: decrypted, but its board has no result entry or no final checkpoint"
        raise ElectionStateError(msg)
    return {"board_position": position, "final_checkpoint": final, "scopes": scopes}


def decrypt(ctx: JobContext) -> dict[str, Any]:
    """Combine the guardians' partial decryptions of every scope (≥ quorum; missing ones compensated).

    The results, their board entry and the board's final checkpoint are committed in one transaction:
    publishing the results closes the board. A job resumed after that transaction committed (its worker
    died before recording success) publishes and closes nothing again: it reports what was published.
    Every partial decryption on the board goes into the results (the record verifier compares the
    board's ``partial_decryption`` entries with the record's): one that arrived while this job computed
    is seen under the board lock, and the decryption is computed again with it.
    """
    eid = _election(ctx)
    for _ in range(_DECRYPT_ATTEMPTS):
        done = _decrypt_once(ctx, eid)
        if done is not None:
            return done
    raise DecryptionError(f"election {eid}: partial decryptions kept arriving while decrypting; run it again")


_DECRYPT_ATTEMPTS = 5


def _decrypt_once(ctx: JobContext, eid: str) -> dict[str, Any] | None:
    """Decrypt with the partial decryptions stored now; ``None`` if another arrived meanwhile."""
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is not None and e.phase == "decrypted" and e.tally is not None:
            return _published(session, eid, len(e.tally["entries"]))
        if e is None or e.phase != "tallied" or e.tally is None:
            raise ElectionStateError(f"election {eid}: decryption needs phase 'tallied'")
        params = ctx.state.election_params(e)
        manifest = Manifest.from_json_obj(e.manifest)
        rows = session.scalars(
            select(PartialDecryptionRow).where(PartialDecryptionRow.election_id == eid)
        ).all()
        stored = e.tally
        quorum = e.quorum
    if len(rows) < quorum:
        raise DecryptionError(f"election {eid}: {len(rows)} partial decryptions, quorum is {quorum}")
    entries: list[TallyEntry] = []
    scopes = stored["scopes"]
    for i, scope in enumerate(scopes):
        encrypted = EncryptedTally.from_dict(scope["encrypted"])
        partials = [PartialDecryption.from_dict(r.body["partials"][i]["partial"]) for r in rows]
        count = int(scope["ballot_count"])
        plaintext = combine_decryption(params, encrypted, partials, max(count, 1))  # verifies each partial
        verify_plaintext_tally(params, encrypted, plaintext)
        entries.append(TallyEntry(scope["scope"], scope["scope_id"], count, encrypted, plaintext))
        if i % 50 == 0:
            ctx.progress(i / len(scopes), f"{i} of {len(scopes)} tallies decrypted")
    results = results_summary(manifest, entries)
    with ctx.state.transaction() as session:
        e2 = session.get(Election, eid, with_for_update=True)
        assert e2 is not None
        if e2.phase == "decrypted":  # another attempt of this job committed while this one computed
            return _published(session, eid, len(entries))
        need_phase(e2, "tallied")
        board = ctx.state.board(session, eid)
        board.store.head()  # lock: a partial decryption is published under this lock too
        present = set(
            session.scalars(
                select(PartialDecryptionRow.index).where(PartialDecryptionRow.election_id == eid)
            )
        )
        if present != {r.index for r in rows}:
            return None  # (nothing written: the transaction ends unchanged)
        e2.tally = {**stored, "entries": [t.to_dict() for t in entries]}
        e2.results = results
        e2.phase = "decrypted"
        entry = board.append("result", result_payload(results))
        final = board.close()
    return {"board_position": entry.position, "final_checkpoint": final.position, "scopes": len(entries)}


def verify(ctx: JobContext) -> dict[str, Any]:
    """Verify the board's chain and checkpoints; once decrypted, write the record and verify it whole.

    Once decrypted, the board must end with its final checkpoint. Before decryption there is no record
    yet: every stored ballot's proofs are checked again instead.
    """
    eid = _election(ctx)
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is None:
            raise ValueError(f"election {eid!r} does not exist")
        phase = e.phase
        summary = verify_board(
            ctx.state.board(session, eid).export_rows(),
            ctx.state.signer.public_key_hex,
            require_final=phase == "decrypted",
        )
        params = None if e.joint_key is None else ctx.state.election_params(e)
        total = session.scalar(select(func.count()).where(Ballot.election_id == eid)) or 0
    ctx.progress(0.1, f"board verified: {summary.count} entries, {summary.checkpoints} checkpoints")
    out: dict[str, Any] = {
        "board_entries": summary.count,
        "checkpoints": summary.checkpoints,
        "head_hash": summary.head_hash,
        "closed": summary.final,
    }
    if phase == "decrypted":
        with tempfile.TemporaryDirectory(prefix="saylau-verify-") as tmp:
            written = write_server_record(ctx.state, eid, Path(tmp))
            ctx.progress(0.3, "record written; verifying it independently")
            verified = RecordVerifier(Path(tmp)).run()
        if verified != written:
            raise ValueError(f"election {eid}: the verifier computed another record hash")
        return {**out, "record_hash": verified.hex(), "ballots_verified": total}
    checked = 0
    last = ""
    while params is not None:
        with ctx.state.reading() as session:
            rows = session.execute(
                with_documents(Ballot.id, Ballot.state)
                .where(Ballot.election_id == eid, Ballot.id > last)
                .order_by(Ballot.id)
                .limit(_BATCH)
            ).all()
            contexts = Contexts(session)
            payloads = [stored_payload(payload, body, contexts) for _, _, _, payload, body in rows]
        if not rows:
            break
        for (bid, ballot_state, kind, _, _), stored in zip(rows, payloads, strict=True):
            doc = _document(bid, kind, stored)
            if ballot_state == "challenged":
                verify_challenged_ballot(params, ChallengedBallot.from_dict(doc))
            else:
                verify_ballot(params, EncryptedBallot.from_dict(doc))
        checked += len(rows)
        last = rows[-1][0]
        ctx.progress(0.1 + 0.9 * checked / max(total, 1), f"{checked} of {total} ballots verified")
    return {**out, "ballots_verified": checked}


HANDLERS.update({ROLL_JOB: import_roll_job, "tally": tally, "decrypt": decrypt, "verify": verify})

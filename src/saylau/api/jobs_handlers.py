"""What each kind of job does: roll import, tally, decryption, verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from saylau.api import crypto_bridge as cb
from saylau.api.worker import HANDLERS, JobContext
from saylau.board import verify_board
from saylau.errors import DecryptionError, ElectionStateError, RollImportError
from saylau.store.models import Ballot, Election, PartialDecryptionRow, Station, Voter

__all__ = ["decrypt", "import_roll", "tally", "verify"]

_BATCH = 500


def _election(ctx: JobContext) -> str:
    if ctx.election_id is None:
        raise ValueError(f"job {ctx.job_id}: no election")
    return ctx.election_id


def import_roll(ctx: JobContext) -> dict[str, Any]:
    """Insert voter-roll rows in batches; each batch commits with its checkpoint, so a resume skips it."""
    eid = _election(ctx)
    voters: list[dict[str, Any]] = ctx.params["voters"]
    done = int((ctx.checkpoint or {}).get("done", 0))
    with ctx.state.reading() as session:
        stations = set(session.scalars(select(Station.id).where(Station.election_id == eid)))
    while done < len(voters):
        batch = voters[done : done + _BATCH]
        with ctx.state.transaction() as session:
            for i, v in enumerate(batch, start=done):
                if v["station_id"] not in stations:
                    raise RollImportError(
                        f"voter roll row {i} ({v['voter_id']}): unknown station {v['station_id']!r}"
                    )
                if session.get(Voter, (eid, v["voter_id"])) is not None:
                    raise RollImportError(f"voter roll row {i} ({v['voter_id']}): voter already on the roll")
                session.add(
                    Voter(election_id=eid, id=v["voter_id"], station_id=v["station_id"], remote=v["remote"])
                )
            session.flush()
        done += len(batch)
        ctx.progress(done / len(voters), f"{done} of {len(voters)} voters imported", {"done": done})
    with ctx.state.transaction() as session:
        counts = dict(
            session.execute(
                select(Voter.station_id, func.count())
                .where(Voter.election_id == eid)
                .group_by(Voter.station_id)
            ).all()
        )
        for sid, n in counts.items():
            session.execute(
                update(Station).where(Station.election_id == eid, Station.id == sid).values(registered=int(n))
            )
    return {"imported": len(voters)}


def tally(ctx: JobContext) -> dict[str, Any]:
    """Add every counted ballot (cast, not superseded or challenged) homomorphically; publish the tally."""
    eid = _election(ctx)
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is None or e.phase != "closed":
            raise ElectionStateError(f"election {eid}: tally needs phase 'closed'")
        params = ctx.state.election_params(e)
        total = (
            session.scalar(select(func.count()).where(Ballot.election_id == eid, Ballot.state == "cast")) or 0
        )
    acc = cb.empty_tally(params)
    done = 0
    last = ""
    while True:
        with ctx.state.reading() as session:
            rows = session.scalars(
                select(Ballot)
                .where(Ballot.election_id == eid, Ballot.state == "cast", Ballot.id > last)
                .order_by(Ballot.id)
                .limit(_BATCH)
            ).all()
        for row in rows:
            cb.add_to_tally(acc, cb.parse_ballot(row.payload))
        if not rows:
            break
        done += len(rows)
        last = rows[-1].id
        ctx.progress(done / max(total, 1), f"{done} of {total} ballots added")
    with ctx.state.transaction() as session:
        e = session.get(Election, eid, with_for_update=True)
        assert e is not None
        e.tally = {"tally": acc.to_dict(), "ballots": done}
        e.phase = "tallied"
        entry = ctx.state.publish(session, eid, "tally", e.tally)
    return {"ballots": done, "board_position": entry.position}


def decrypt(ctx: JobContext) -> dict[str, Any]:
    """Combine the guardians' partial decryptions (≥ quorum; missing guardians compensated) into results."""
    eid = _election(ctx)
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is None or e.phase != "tallied" or e.tally is None:
            raise ElectionStateError(f"election {eid}: decryption needs phase 'tallied'")
        params = ctx.state.election_params(e)
        rows = session.scalars(
            select(PartialDecryptionRow).where(PartialDecryptionRow.election_id == eid)
        ).all()
        stored = e.tally
    if len(rows) < e.quorum:
        raise DecryptionError(f"election {eid}: {len(rows)} partial decryptions, quorum is {e.quorum}")
    tally_obj = cb.tally_from_dict(stored["tally"])
    partials = [cb.verify_partial(params, tally_obj, r.body) for r in rows]
    ctx.progress(0.5, f"{len(partials)} partial decryptions verified")
    plaintext = cb.combine_decryption(params, tally_obj, partials, max(int(stored["ballots"]), 1))
    results = plaintext.to_dict()
    with ctx.state.transaction() as session:
        e2 = session.get(Election, eid, with_for_update=True)
        assert e2 is not None
        e2.results = results
        e2.phase = "decrypted"
        entry = ctx.state.publish(session, eid, "result", {"results": results})
    return {"board_position": entry.position}


def verify(ctx: JobContext) -> dict[str, Any]:
    """Verify the board's chain and checkpoints, then every cast or challenged ballot's proofs again."""
    eid = _election(ctx)
    with ctx.state.reading() as session:
        e = session.get(Election, eid)
        if e is None:
            raise ValueError(f"election {eid!r} does not exist")
        summary = verify_board(ctx.state.board(session, eid).export_rows(), ctx.state.signer.public_key_hex)
        params = None if e.joint_key is None else ctx.state.election_params(e)
        total = session.scalar(select(func.count()).where(Ballot.election_id == eid)) or 0
    ctx.progress(0.1, f"board verified: {summary.count} entries, {summary.checkpoints} checkpoints")
    checked = 0
    last = ""
    while params is not None:
        with ctx.state.reading() as session:
            rows = session.scalars(
                select(Ballot)
                .where(Ballot.election_id == eid, Ballot.id > last)
                .order_by(Ballot.id)
                .limit(_BATCH)
            ).all()
        if not rows:
            break
        for row in rows:
            if row.state == "challenged":
                cb.verify_challenged(params, row.payload)
            else:
                cb.verify_ballot(params, cb.parse_ballot(row.payload))
        checked += len(rows)
        last = rows[-1].id
        ctx.progress(0.1 + 0.9 * checked / max(total, 1), f"{checked} of {total} ballots verified")
    return {
        "board_entries": summary.count,
        "checkpoints": summary.checkpoints,
        "ballots_verified": checked,
        "head_hash": summary.head_hash,
    }


HANDLERS.update({"import_roll": import_roll, "tally": tally, "decrypt": decrypt, "verify": verify})

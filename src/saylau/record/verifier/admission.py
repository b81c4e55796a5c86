"""Every check the verifier makes on one ballot by itself: the server admits a ballot only if it passes.

The verifier's ballot pass (``ballots.check_ballots``, ``proofs``) and the server's verification pool
and cast writer (``saylau.api.verify_pool``, ``saylau.api.cast_batch``) call these same functions, so
what the server accepts and what ``saylau verify`` accepts cannot drift apart (``docs/record-format.md``
§6): a ballot the final record would fail on is refused at the door, not published and then found to
poison the whole record. The server may call the verifier; the verifier never calls the server.

Per ballot (``check_ballot_structure``): the ballot id is ``<device id>-<sequence>`` (the sequence
zero-padded to 6 digits; ``check_position`` compares it with the chain position), the ballot style exists and
is used in the station's region, the contests are exactly the style's and their selections exactly the
manifest's, no ciphertext component is the identity (a nonce of 0 gives ``α = 1``, ``β = K^σ``: the vote
in clear), and the revote-tag rule: a booth ballot carries no tag and is never superseded, a challenged
ballot carries none (it would link the opened plaintext to the voter's counted ballot), a remote-channel
ballot that is cast or superseded carries the voter's tag. ``check_ballot_proofs`` then checks every
proof and the tracking code (``verify_ballot``; its range proofs also refuse identity commitments).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from saylau.crypto import ElectionParameters, EncryptedBallot, verify_ballot
from saylau.election.manifest import BallotStyle, Manifest
from saylau.errors import InvalidBallot

__all__ = [
    "BallotRules",
    "ballot_sequence",
    "check_admission",
    "check_ballot_proofs",
    "check_ballot_structure",
    "check_position",
    "rules_document",
]

_SEQUENCE = re.compile(r"[0-9]{6,}")


@dataclass(frozen=True)
class _Style:
    contest_ids: tuple[str, ...]
    region_ids: frozenset[str]  # empty: used everywhere


@dataclass(frozen=True)
class BallotRules:
    """What the per-ballot checks need: the election parameters and the manifest's ballot styles.

    Selections come from the parameters' contests, which the verifier has checked equal the manifest's
    (``docs/record-format.md`` §4 check 3) and the server derived from the manifest.
    """

    params: ElectionParameters
    styles: Mapping[str, _Style]

    @classmethod
    def from_manifest(cls, manifest: Manifest, params: ElectionParameters) -> BallotRules:
        """The rules of an election from its manifest and parameters."""
        return cls(params, _styles(manifest.ballot_styles))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> BallotRules:
        """Parse ``rules_document``'s output (in a verification worker process)."""
        styles = tuple(BallotStyle.model_validate(s) for s in doc["ballot_styles"])
        return cls(ElectionParameters.from_dict(doc["parameters"]), _styles(styles))

    def selections(self, contest_id: str) -> tuple[str, ...]:
        """The manifest's selection ids of a contest, in order (``KeyError`` if unknown)."""
        return self.params.contest(contest_id).selection_ids


def _styles(styles: tuple[BallotStyle, ...]) -> dict[str, _Style]:
    return {s.style_id: _Style(tuple(s.contest_ids), frozenset(s.region_ids)) for s in styles}


def rules_document(params_doc: Mapping[str, Any], manifest_doc: Mapping[str, Any]) -> dict[str, Any]:
    """The small JSON-able form of ``BallotRules`` sent to worker processes (no station list).

    ``params_doc``: the parameters' record form; ``manifest_doc``: the manifest's. The station's region
    is resolved by the caller, so the manifest's geography (10,101 stations nationally) stays home.
    """
    return {"parameters": dict(params_doc), "ballot_styles": list(manifest_doc["ballot_styles"])}


def ballot_sequence(ballot_id: str, device_id: str) -> int:
    """The sequence in ``<device id>-<sequence>`` (at least 6 digits, zero-padded), or ``InvalidBallot``."""
    prefix = f"{device_id}-"
    rest = ballot_id[len(prefix):] if ballot_id.startswith(prefix) else ""
    if _SEQUENCE.fullmatch(rest) is None or f"{int(rest):06d}" != rest:
        raise InvalidBallot(
            f"ballot {ballot_id[:80]!r}: field 'ballot_id' is not '<device id>-<6-digit sequence>' "
            f"of device {device_id[:80]!r}"
        )
    return int(rest)


def check_position(ballot_id: str, named: int, position: int, device_id: str) -> None:
    """The sequence the ballot id names is the ballot's position in its device's chain (``InvalidBallot``)."""
    if named != position:
        raise InvalidBallot(
            f"ballot {ballot_id[:80]}: field 'ballot_id' names sequence {named}, but the ballot is at "
            f"position {position} of device {device_id}'s chain"
        )


def check_ballot_structure(
    rules: BallotRules,
    ballot: EncryptedBallot,
    *,
    device_id: str,
    region_id: str,
    channel: str,
    state: str,
) -> int:
    """Every per-ballot check but the proofs; returns the sequence the ballot id names.

    ``region_id`` is the region of the ballot's station, ``channel`` its device's (``booth`` or
    ``remote``), ``state`` the ballot's (``cast``, ``challenged`` or ``superseded``). Raises
    ``InvalidBallot`` naming the ballot and the field.
    """
    bid = ballot.ballot_id
    sequence = ballot_sequence(bid, device_id)
    who = f"ballot {bid}"
    style = rules.styles.get(ballot.style_id)
    if style is None:
        raise InvalidBallot(f"{who}: field 'style_id': unknown ballot style {ballot.style_id[:80]!r}")
    if style.region_ids and region_id not in style.region_ids:
        raise InvalidBallot(
            f"{who}: field 'style_id': ballot style {ballot.style_id} is not used in region {region_id} "
            "(the region of the ballot's station)"
        )
    contests = tuple(c.contest_id for c in ballot.contests)
    if contests != style.contest_ids:
        raise InvalidBallot(
            f"{who}: field 'contests': contests {[c[:64] for c in contests[:8]]} differ from ballot style "
            f"{ballot.style_id}'s {list(style.contest_ids)}"
        )
    for c in ballot.contests:
        if tuple(s.selection_id for s in c.selections) != rules.selections(c.contest_id):
            raise InvalidBallot(
                f"{who}: field 'contests': selections of contest {c.contest_id} differ from the manifest"
            )
        for s in c.selections:
            for part, point in (("alpha", s.ciphertext.alpha), ("beta", s.ciphertext.beta)):
                if point.is_identity:
                    raise InvalidBallot(
                        f"{who}: field 'contests': contest {c.contest_id} selection {s.selection_id}: "
                        f"{part} is the identity (such a ciphertext shows the vote)"
                    )
    _check_revote_tag(ballot, who, channel, state)
    return sequence


def _check_revote_tag(ballot: EncryptedBallot, who: str, channel: str, state: str) -> None:
    tagged = ballot.revote_tag is not None
    if channel not in ("booth", "remote"):
        raise InvalidBallot(f"{who}: device channel {channel[:40]!r} is not 'booth' or 'remote'")
    if channel == "booth":
        if state == "superseded":
            raise InvalidBallot(f"{who}: superseded, but in-person (booth) ballots can never be superseded")
        if tagged:
            raise InvalidBallot(f"{who}: field 'revote_tag' must be absent on an in-person (booth) ballot")
    elif state == "challenged":
        if tagged:
            raise InvalidBallot(
                f"{who}: field 'revote_tag' must be absent on a challenged ballot "
                "(it would link the opened ballot to the voter's counted one)"
            )
    elif not tagged:
        raise InvalidBallot(
            f"{who}: field 'revote_tag' is missing (a remote ballot carries the voter's revote tag)"
        )


def check_ballot_proofs(rules: BallotRules, ballot: EncryptedBallot) -> None:
    """Every range and contest-limit proof, and the ballot's own tracking code (``InvalidBallot``)."""
    verify_ballot(rules.params, ballot)


def check_admission(
    rules: BallotRules,
    ballot: EncryptedBallot,
    *,
    device_id: str,
    region_id: str,
    channel: str,
    state: str,
) -> int:
    """``check_ballot_structure`` then ``check_ballot_proofs``; returns the ballot id's sequence."""
    sequence = check_ballot_structure(
        rules, ballot, device_id=device_id, region_id=region_id, channel=channel, state=state
    )
    check_ballot_proofs(rules, ballot)
    return sequence

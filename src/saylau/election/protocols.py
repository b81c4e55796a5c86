"""Paper result protocols of polling stations: control relations, signed versions, history.

A station commission enters its protocol; before it is accepted every control relation is checked
and the commission's Ed25519 signature is verified. A rejected protocol raises
:class:`~saylau.errors.ProtocolRejected` naming the relation and the numbers. A correction is a
new version that names the hash of the version it replaces and a reason; old versions are kept.

Signed bytes: the tag ``saylau/protocol/1`` followed by the RFC 8785 canonical JSON of the
protocol body (election id, station, version, supersedes, reason, signing time, figures).

:func:`reconcile` checks a protocol against what the server knows of its station (:class:`StationFacts`:
the voter roll, the pollbook's check-ins and, once decrypted, the station's tally). What cannot be
true is refused (``ProtocolRejected`` naming the relation and the numbers); what can be but differs is
returned as :class:`Difference` entries, to be published beside the protocol.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field

from saylau.election.aggregation import StationTable
from saylau.errors import ProtocolRejected

__all__ = [
    "RECONCILIATION",
    "RELATIONS",
    "Difference",
    "ProtocolBook",
    "ProtocolFigures",
    "Rejection",
    "SignedProtocol",
    "StationFacts",
    "check_protocol",
    "public_key_hex",
    "reconcile",
    "sign_protocol",
]

_TAG = b"saylau/protocol/1\x00"

RELATIONS = (
    "no negative figures",
    "options match the scenario",
    "ballots received = issued + unused + spoiled",
    "valid + invalid = ballots in boxes",
    "sum of options = valid",
    "voted <= registered",
    "ballots in boxes <= ballots issued",
)
"""The control relations, in the order they are checked; messages quote these names."""

MAX_COUNT = 2**31 - 1
Count = Annotated[int, Field(le=MAX_COUNT)]
"""A protocol figure: at most 2^31 - 1 (a negative one is refused by the first control relation)."""


RECONCILIATION = (
    "registered = voters on the station's roll",
    "ballots issued <= voters checked in at the station",
    "ballots issued = voters checked in at the station",
    "votes = the station's decrypted tally",
)
"""Relations between a protocol and the server's records (:func:`reconcile`); the first two are refused
when broken, the last two flagged."""


class ProtocolFigures(BaseModel):
    """The numbers on one station's result protocol (``ballots_issued`` = voters who took part)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    station: str = Field(min_length=1)
    registered: Count
    ballots_received: Count
    ballots_issued: Count
    ballots_unused: Count
    ballots_spoiled: Count
    ballots_in_boxes: Count
    valid: Count
    invalid: Count
    votes: dict[str, Count]


def _reject(p: ProtocolFigures, relation: str, detail: str) -> ProtocolRejected:
    return ProtocolRejected(f"protocol of station {p.station!r}: relation '{relation}' fails: {detail}")


def check_protocol(p: ProtocolFigures, option_ids: Iterable[str]) -> None:
    """Raise ``ProtocolRejected`` naming the first control relation ``p`` breaks."""
    scalars = {k: v for k, v in p.model_dump().items() if isinstance(v, int)}
    scalars.update({f"votes[{k}]": v for k, v in p.votes.items()})
    negative = {k: v for k, v in scalars.items() if v < 0}
    if negative:
        raise _reject(p, RELATIONS[0], ", ".join(f"{k} = {v}" for k, v in negative.items()))
    expected = list(option_ids)
    if sorted(p.votes) != sorted(expected):
        missing = sorted(set(expected) - set(p.votes))
        extra = sorted(set(p.votes) - set(expected))
        raise _reject(p, RELATIONS[1], f"missing {missing}, unknown {extra}")
    issued = p.ballots_issued + p.ballots_unused + p.ballots_spoiled
    if p.ballots_received != issued:
        raise _reject(
            p,
            RELATIONS[2],
            f"{p.ballots_received} != {p.ballots_issued} + {p.ballots_unused} + {p.ballots_spoiled} "
            f"(= {issued})",
        )
    if p.valid + p.invalid != p.ballots_in_boxes:
        raise _reject(
            p, RELATIONS[3], f"{p.valid} + {p.invalid} (= {p.valid + p.invalid}) != {p.ballots_in_boxes}"
        )
    total = sum(p.votes.values())
    if total != p.valid:
        raise _reject(
            p, RELATIONS[4], f"{' + '.join(str(p.votes[o]) for o in expected)} = {total} != {p.valid}"
        )
    if p.ballots_issued > p.registered:
        raise _reject(p, RELATIONS[5], f"{p.ballots_issued} > {p.registered}")
    if p.ballots_in_boxes > p.ballots_issued:
        raise _reject(p, RELATIONS[6], f"{p.ballots_in_boxes} > {p.ballots_issued}")


def public_key_hex(key: Ed25519PublicKey) -> str:
    """Raw 32-byte public key as lowercase hex (how keys appear in protocols and the record)."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


class SignedProtocol(BaseModel):
    """One version of a station's protocol, signed by the station commission."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    election_id: str
    version: int = Field(ge=1, le=10_000)
    supersedes: str | None = Field(default=None, description="hash of the version this one corrects")
    reason: str = ""
    signed_at: datetime
    figures: ProtocolFigures
    signer: str = Field(description="station commission's Ed25519 public key, hex")
    signature: str = Field(description="Ed25519 signature over the tagged canonical body, hex")

    def body(self) -> dict[str, Any]:
        """The signed part as a JSON value."""
        return self.model_dump(mode="json", exclude={"signature"})

    def signed_bytes(self) -> bytes:
        """Domain tag + RFC 8785 bytes of the body."""
        return _TAG + bytes(rfc8785.dumps(self.body()))

    def protocol_hash(self) -> str:
        """SHA-256 (hex) of the signed bytes and the signature: how a correction names this version."""
        return hashlib.sha256(self.signed_bytes() + bytes.fromhex(self.signature)).hexdigest()

    def verify(self, key: Ed25519PublicKey) -> None:
        """Raise ``ProtocolRejected`` unless ``key`` signed this protocol."""
        if public_key_hex(key) != self.signer:
            raise ProtocolRejected(
                f"protocol of station {self.figures.station!r} v{self.version}: "
                "signer is not the station's key"
            )
        try:
            key.verify(bytes.fromhex(self.signature), self.signed_bytes())
        except (InvalidSignature, ValueError):
            raise ProtocolRejected(
                f"protocol of station {self.figures.station!r} v{self.version}: signature does not verify"
            ) from None


def sign_protocol(
    figures: ProtocolFigures,
    key: Ed25519PrivateKey,
    *,
    election_id: str,
    signed_at: datetime,
    version: int = 1,
    supersedes: str | None = None,
    reason: str = "",
) -> SignedProtocol:
    """Sign a protocol version with the station commission's key."""
    unsigned = SignedProtocol(
        election_id=election_id,
        version=version,
        supersedes=supersedes,
        reason=reason,
        signed_at=signed_at,
        figures=figures,
        signer=public_key_hex(key.public_key()),
        signature="",
    )
    sig = key.sign(unsigned.signed_bytes())
    return unsigned.model_copy(update={"signature": sig.hex()})


@dataclass(frozen=True)
class Rejection:
    """A submission that was refused, kept for the audit trail."""

    station: str
    version: int
    reason: str


class ProtocolBook:
    """Accepts signed protocols for one election and keeps every accepted version.

    ``station_keys`` maps station id → the commission's public key; ``options`` are the option ids
    in ballot order. With ``journal`` set, each accepted version is appended as a JSON line and
    flushed to disk (``fsync``) before :meth:`submit` returns.
    """

    def __init__(
        self,
        election_id: str,
        options: Iterable[str],
        station_keys: dict[str, Ed25519PublicKey],
        journal: Path | None = None,
    ) -> None:
        self.election_id = election_id
        self.options = tuple(options)
        self._keys = dict(station_keys)
        self._versions: dict[str, list[SignedProtocol]] = {}
        self.rejections: list[Rejection] = []
        self._journal = journal

    def submit(self, protocol: SignedProtocol) -> SignedProtocol:
        """Check and accept a protocol version; raise ``ProtocolRejected`` (and log it) otherwise."""
        try:
            self._check(protocol)
        except ProtocolRejected as exc:
            self.rejections.append(Rejection(protocol.figures.station, protocol.version, str(exc)))
            raise
        if self._journal is not None:
            with self._journal.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(protocol.model_dump(mode="json"), ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        self._versions.setdefault(protocol.figures.station, []).append(protocol)
        return protocol

    def _check(self, p: SignedProtocol) -> None:
        sid = p.figures.station
        where = f"protocol of station {sid!r} v{p.version}"
        if p.election_id != self.election_id:
            raise ProtocolRejected(f"{where}: election {p.election_id!r} is not {self.election_id!r}")
        key = self._keys.get(sid)
        if key is None:
            raise ProtocolRejected(f"{where}: station is not registered for this election")
        p.verify(key)
        history = self._versions.get(sid, [])
        if p.version != len(history) + 1:
            raise ProtocolRejected(f"{where}: expected version {len(history) + 1}")
        if history:
            prev = history[-1].protocol_hash()
            if p.supersedes != prev:
                raise ProtocolRejected(
                    f"{where}: supersedes {p.supersedes} but the current version is {prev}"
                )
            if not p.reason.strip():
                raise ProtocolRejected(f"{where}: a correction must give a reason")
        elif p.supersedes is not None:
            raise ProtocolRejected(f"{where}: first version cannot supersede anything")
        check_protocol(p.figures, self.options)

    def current(self, station: str) -> SignedProtocol:
        """The latest accepted version of a station's protocol."""
        versions = self._versions.get(station)
        if not versions:
            raise ProtocolRejected(f"station {station!r} has no accepted protocol")
        return versions[-1]

    def history(self, station: str) -> tuple[SignedProtocol, ...]:
        """Every accepted version, oldest first."""
        return tuple(self._versions.get(station, ()))

    def stations_reported(self) -> tuple[str, ...]:
        """Stations with an accepted protocol, in order of first acceptance."""
        return tuple(self._versions)

    def table(self, parents: dict[str, tuple[str, str]]) -> StationTable:
        """Latest versions as a :class:`StationTable`; ``parents`` maps station → (district, region).

        The table's ``invalid`` is "invalid or unaccounted" as published totals count it: voters who
        took part minus valid votes (ballots taken away count there too).
        """
        current = [v[-1].figures for v in self._versions.values()]
        votes = np.array([[f.votes[o] for o in self.options] for f in current], dtype=np.int64).reshape(
            len(current), len(self.options)
        )
        return StationTable(
            station=tuple(f.station for f in current),
            district=tuple(parents[f.station][0] for f in current),
            region=tuple(parents[f.station][1] for f in current),
            options=self.options,
            registered=np.array([f.registered for f in current], dtype=np.int64),
            voted=np.array([f.ballots_issued for f in current], dtype=np.int64),
            valid=np.array([f.valid for f in current], dtype=np.int64),
            invalid=np.array([f.ballots_issued - f.valid for f in current], dtype=np.int64),
            votes=votes,
        )


@dataclass(frozen=True)
class StationFacts:
    """What the server's records say of one station, to reconcile its protocol with.

    ``registered`` voters are on the station's list now: ``listed`` were imported to it, of whom
    ``transferred_out`` hold an absentee certificate for another station, and ``transferred_in`` came with
    one from elsewhere. ``checked_in`` voters were issued a ballot credential at the station in person;
    ``remote`` voters of the station registered for remote voting instead (no paper ballot). ``decrypted``
    are the station's decrypted counts per option once the tally is decrypted (``None`` before); they
    include the station's remote voters' last ballots, which are not on paper.
    """

    station: str
    registered: int
    listed: int
    transferred_out: int
    transferred_in: int
    checked_in: int
    remote: int
    decrypted: Mapping[str, int] | None = None


@dataclass(frozen=True)
class Difference:
    """A relation between the protocol and the server's records that does not hold (flagged, published)."""

    relation: str
    detail: str
    protocol: Mapping[str, int]
    server: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The published form."""
        return {
            "relation": self.relation,
            "detail": self.detail,
            "protocol": dict(self.protocol),
            "server": dict(self.server),
        }


def reconcile(p: ProtocolFigures, facts: StationFacts) -> list[Difference]:
    """Check ``p`` against its station's records: refuse the impossible, list what differs.

    Refused: a ``registered`` other than the roll's count (the roll is final once voting closed: imports
    end at opening, transfers at the close), and more ballots issued than voters checked in at the
    station (every paper ballot goes to a checked-in voter). Flagged: fewer ballots issued than voters
    checked in (a voter left with the credential unused, or a miscount), and votes that differ from the
    station's decrypted tally (the tally also holds the remote voters' ballots: ``server.remote_voters``).
    """
    if p.registered != facts.registered:
        raise _reject(
            p,
            RECONCILIATION[0],
            f"protocol {p.registered}, roll {facts.registered} (listed {facts.listed}, "
            f"transferred out {facts.transferred_out}, transferred in {facts.transferred_in})",
        )
    if p.ballots_issued > facts.checked_in:
        raise _reject(
            p,
            RECONCILIATION[1],
            f"{p.ballots_issued} ballots issued > {facts.checked_in} voters checked in (pollbook)",
        )
    out: list[Difference] = []
    if p.ballots_issued < facts.checked_in:
        out.append(
            Difference(
                RECONCILIATION[2],
                f"{facts.checked_in} voters checked in at the station, {p.ballots_issued} ballots issued",
                {"ballots_issued": p.ballots_issued},
                {"checked_in": facts.checked_in},
            )
        )
    if facts.decrypted is not None:
        options = sorted(set(p.votes) | set(facts.decrypted))
        tally = facts.decrypted
        differ = [o for o in options if p.votes.get(o, 0) != tally.get(o, 0)]
        if differ:
            out.append(
                Difference(
                    RECONCILIATION[3],
                    ", ".join(f"{o}: protocol {p.votes.get(o, 0)}, tally {tally.get(o, 0)}" for o in differ)
                    + f" ({facts.remote} remote voters' ballots are in the tally, not on paper)",
                    {o: p.votes.get(o, 0) for o in differ},
                    {**{o: tally.get(o, 0) for o in differ}, "remote_voters": facts.remote},
                )
            )
    return out

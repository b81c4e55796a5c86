"""Hypothesis-generated malformed ballots, sent to the cast API (both backends) and to the verifier's
admission checks (``saylau.record.verifier.admission``): each is refused with a 4xx (or ``InvalidBallot``)
whose message names the field or the check, and nothing is stored — the board, the ballot count and the
device's chain are as before, and the honest ballot the mutants came from is still accepted afterwards.

Kinds: off-curve points, wrong prefix bytes, wrong hex length, non-hex and upper-case hex, wrong JSON
types, scalars ≥ q, proofs copied from another election, contest or selection, two marks in a one-mark
contest, identity components, unknown styles, wrong ballot ids (device or sequence), wrong or foreign
devices, and replays of an accepted ballot. A mutant whose structure still parses is re-chained (its
tracking code recomputed), as a malicious device would, so the refusal is the check's, not the code's.

Example counts are bounded and derandomized in ``make test``; ``make test-slow`` runs many more, random.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import coincurve
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.conftest import VOTERS, Election, P, TestClient, manifest, register_devices, setup_election
from saylau.crypto import ElectionParameters, EncryptedBallot, encrypt_ballot, run_key_ceremony
from saylau.crypto.ballot_types import tracking_code
from saylau.crypto.hazmat.group import Q
from saylau.election.manifest import Manifest
from saylau.errors import InvalidBallot
from saylau.record.verifier.admission import (
    BallotRules,
    check_ballot_proofs,
    check_ballot_structure,
    check_position,
)
from saylau.store.models import Ballot, BoardEntryRow, Device
from saylau.voting.device import VotingDevice

P_FIELD = 2**256 - 2**32 - 977  # secp256k1's field prime (SEC 2, §2.4.1); the group order is Q
KIOSK, OTHER_KIOSK = "st-1-kiosk", "st-2-kiosk"

# per kind of mutant: every kind is sent in every run
FAST = settings(max_examples=5, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def two_contest_manifest() -> dict[str, Any]:
    """The API tests' manifest with a second one-mark contest in the same style (proofs to copy)."""
    doc = copy.deepcopy(manifest())
    name = {"kk": "x", "ru": "x", "en": "x"}
    doc["contests"].append({
        "contest_id": "referendum", "name": name, "votes_allowed": 1,
        "selections": [{"selection_id": s, "kind": "candidate", "name": name} for s in ("yes", "no")],
    })
    doc["ballot_styles"] = [{"style_id": "main", "contest_ids": ["president", "referendum"]}]
    return doc


CHOICE = {"president": ["cand-a"], "referendum": ["yes"]}


@dataclass
class Context:
    """What the mutations are made from: the honest next ballot and ballots to copy parts of."""

    honest: dict[str, Any]
    foreign: dict[str, Any]  # the same ballot id and choices under another election's parameters
    other_choice: dict[str, Any]  # the same ballot id and position, cand-b marked
    accepted: dict[str, Any] | None = None  # a ballot already on the board (replays)
    position: int = 0
    pending: Any = None  # the device's pending honest ballot, cast once the mutants are refused
    params: Any = None

    def paths(self, leaf: Callable[[str, Any], bool]) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []

        def walk(node: Any, path: tuple[Any, ...]) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, (*path, k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, (*path, i))
            elif leaf(str(path[-1]) if path else "", path):
                found.append(path)

        walk(self.honest, ())
        return found


@dataclass
class Mutant:
    """A malformed ballot, the device it is sent for, and the words its refusal must contain."""

    kind: str
    ballot: Any
    words: tuple[str, ...]
    device_id: str = KIOSK
    statuses: tuple[int, ...] = (400, 403, 404, 409, 422)
    api_only: bool = False  # a check of the server's state (devices, replays), not of the ballot alone
    extra: dict[str, Any] = field(default_factory=dict)


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = copy.deepcopy(doc)
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return doc


def rechain(doc: dict[str, Any]) -> dict[str, Any]:
    """Recompute the tracking code of a ballot that still parses (as a malicious device would)."""
    try:
        ballot = EncryptedBallot.from_dict(doc)
    except InvalidBallot:
        return doc
    return {**doc, "code": tracking_code(ballot.previous_code, ballot.crypto_hash()).hex()}


def _field_name(path: tuple[Any, ...]) -> str:
    """How the parsers name a leaf: its key, or the key of the list it is in (``challenges``)."""
    return str(path[-1]) if isinstance(path[-1], str) else str(path[-2])


def _is_point(key: str, path: tuple[Any, ...]) -> bool:
    return key in ("alpha", "beta")


def _is_scalar(key: str, path: tuple[Any, ...]) -> bool:
    return len(path) >= 2 and path[-2] in ("challenges", "responses")


def _is_hex(key: str, path: tuple[Any, ...]) -> bool:
    return _is_point(key, path) or _is_scalar(key, path) or key in ("code", "previous_code")


def _off_curve_x(x: int) -> bool:
    if x >= P_FIELD:
        return True
    try:
        coincurve.PublicKey(b"\x02" + x.to_bytes(32, "big"))
    except ValueError:
        return True
    return False


KINDS = ("off-curve", "prefix", "hex length", "non-hex", "type", "scalar >= q", "foreign election",
         "other selection", "other contest", "two marks", "identity", "unknown style", "ballot id", "device",
         "replay")

API_ONLY = ("device", "replay")  # checks of the server's state (devices, stored ballots), not of the ballot


@st.composite
def mutants(draw: st.DrawFn, ctx: Context, kind: str) -> Mutant:
    """One malformed ballot of the given kind."""
    honest = ctx.honest
    if kind == "off-curve":
        path = draw(st.sampled_from(ctx.paths(_is_point)))
        x = draw(st.integers(0, 2**256 - 1).filter(_off_curve_x))
        prefix = draw(st.sampled_from(["02", "03"]))
        return Mutant(kind, rechain(_set(honest, path, prefix + f"{x:064x}")), (path[-1],))
    if kind == "prefix":
        path = draw(st.sampled_from(ctx.paths(_is_point)))
        prefix = draw(st.integers(0, 255).filter(lambda b: b not in (2, 3)))
        rest = draw(st.binary(min_size=32, max_size=32).filter(lambda b: prefix or any(b)))
        return Mutant(kind, _set(honest, path, f"{prefix:02x}" + rest.hex()), (path[-1],))
    if kind == "hex length":
        path = draw(st.sampled_from(ctx.paths(_is_hex)))
        value = _get(honest, path)
        cut = draw(st.integers(1, len(value)))
        grown = value + draw(st.text("0123456789abcdef", min_size=1, max_size=70))
        bad = draw(st.sampled_from([value[:-cut], grown]))
        return Mutant(kind, _set(honest, path, bad), (_field_name(path),))
    if kind == "non-hex":
        path = draw(st.sampled_from(ctx.paths(_is_hex)))
        value = _get(honest, path)
        i = draw(st.integers(0, len(value) - 1))
        upper = value[i].upper() if value[i].isalpha() else "Z"
        bad_char = draw(st.sampled_from([*"gzGXx -+é\u0430", upper]))
        return Mutant(kind, _set(honest, path, value[:i] + bad_char + value[i + 1:]), (_field_name(path),))
    if kind == "type":
        containers = [("contests",), ("contests", 0), ("contests", 0, "proof")]
        path = draw(st.sampled_from([*ctx.paths(lambda k, p: True), *containers]))
        value = _get(honest, path)
        others = st.one_of(
            st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            st.text(max_size=5),
        )
        bad = draw(others.filter(lambda v: type(v) is not type(value)))
        name = _field_name(path) if path[-1] != 0 else "contests"
        return Mutant(kind, _set(honest, path, bad), (name,))
    if kind == "scalar >= q":
        path = draw(st.sampled_from(ctx.paths(_is_scalar)))
        big = draw(st.integers(Q, 2**256 - 1))
        return Mutant(kind, rechain(_set(honest, path, f"{big:064x}")), (_field_name(path),))
    if kind == "foreign election":
        c = draw(st.integers(0, len(honest["contests"]) - 1))
        contest = honest["contests"][c]
        which = draw(st.sampled_from(["selection proof", "whole selection", "contest proof", "whole ballot"]))
        if which == "whole ballot":
            return Mutant(kind, ctx.foreign, ("proof",))
        if which == "contest proof":
            doc = _set(honest, ("contests", c, "proof"), ctx.foreign["contests"][c]["proof"])
            return Mutant(kind, rechain(doc), (contest["contest_id"], "contest-limit proof"))
        s = draw(st.integers(0, len(contest["selections"]) - 1))
        sid = contest["selections"][s]["selection_id"]
        part = ("contests", c, "selections", s) + (("proof",) if which == "selection proof" else ())
        doc = _set(honest, part, _get(ctx.foreign, part))
        return Mutant(kind, rechain(doc), (f"selection {sid}",))
    if kind == "other selection":
        c = draw(st.integers(0, len(honest["contests"]) - 1))
        n = len(honest["contests"][c]["selections"])
        i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        sels = honest["contests"][c]["selections"]
        doc = _set(honest, ("contests", c, "selections", i, "proof"), sels[j]["proof"])
        doc = _set(doc, ("contests", c, "selections", j, "proof"), sels[i]["proof"])
        return Mutant(kind, rechain(doc), (f"contest {honest['contests'][c]['contest_id']}", "selection"))
    if kind == "other contest":
        which = draw(st.sampled_from(["contest proof", "selection proof"]))
        if which == "contest proof":
            doc = _set(honest, ("contests", 0, "proof"), honest["contests"][1]["proof"])
            return Mutant(kind, rechain(doc), ("contest president", "contest-limit proof"))
        s = draw(st.integers(0, 1))
        doc = _set(honest, ("contests", 0, "selections", s, "proof"),
                   honest["contests"][1]["selections"][s]["proof"])
        sid = honest["contests"][0]["selections"][s]["selection_id"]
        return Mutant(kind, rechain(doc), (f"selection {sid}",))
    if kind == "two marks":
        # cand-a marked (honest) and cand-b marked (another encryption), each range proof valid
        doc = _set(honest, ("contests", 0, "selections", 1), ctx.other_choice["contests"][0]["selections"][1])
        return Mutant(kind, rechain(doc), ("contest president", "contest-limit proof"))
    if kind == "identity":
        path = draw(st.sampled_from(ctx.paths(_is_point)))
        return Mutant(kind, rechain(_set(honest, path, "00" * 33)), ("identity", str(path[-1])))
    if kind == "unknown style":
        style = draw(st.text(min_size=0, max_size=30).filter(lambda s: s != "main"))
        return Mutant(kind, rechain({**honest, "style_id": style}), ("style_id",))
    if kind == "ballot id":
        seq = ctx.position
        bad = draw(st.one_of(
            st.integers(0, 10**7).filter(lambda n: n != seq).map(lambda n: f"{KIOSK}-{n:06d}"),
            st.sampled_from([f"{KIOSK}-{seq}", f"{KIOSK}-{seq:07d}", f"{OTHER_KIOSK}-{seq:06d}",
                             f"{KIOSK}{seq:06d}", f"{KIOSK}-{seq:06d}x", f"st-1-{seq:06d}"]),
            st.text(min_size=1, max_size=20).filter(lambda t: t != honest["ballot_id"]),
        ))
        # encrypted for that id (its proofs bind the id), chained after the device's last ballot
        ballot, _ = encrypt_ballot(ctx.params, bad, "main", CHOICE)
        doc = {**ballot.to_dict(), "previous_code": honest["previous_code"]}
        return Mutant(kind, rechain(doc), ("ballot_id",))
    assert kind in KINDS, kind
    if kind == "device":
        named = st.sampled_from([OTHER_KIOSK, "st-1-nowhere", "st-1-remote", "st-2-remote"])
        unregistered = st.from_regex(r"st-[12]-[a-z]{1,8}", fullmatch=True).filter(lambda d: d != KIOSK)
        device = draw(st.one_of(named, unregistered))
        return Mutant(kind, honest, ("device",), device_id=device, api_only=True)
    assert kind == "replay" and ctx.accepted is not None
    return Mutant(kind, ctx.accepted, ("tracking code",), api_only=True)


def _names(message: str, word: object) -> bool:
    """Whether ``message`` names ``word`` (a field ``ballot_id`` may be written "ballot id")."""
    return str(word).replace("_", " ") in message.replace("_", " ")


# -- the cast API ----------------------------------------------------------------------------------------


def _state(client: TestClient, election_id: str) -> tuple[int, int, Any, int]:
    """(board entries, ballots, the kiosk's last code, its ballot count) straight from the database."""
    state = client.app.state.saylau  # type: ignore[attr-defined]
    with state.sessions() as s:
        entries = s.scalar(select(func.count()).select_from(BoardEntryRow).where(
            BoardEntryRow.election_id == election_id))
        ballots = s.scalar(select(func.count()).select_from(Ballot).where(Ballot.election_id == election_id))
        device = s.get(Device, (election_id, KIOSK))
        assert device is not None
        count = s.scalar(select(func.count()).select_from(Ballot).where(  # ids are <device>-<sequence>
            Ballot.election_id == election_id, Ballot.id.like(f"{KIOSK}-%")))
        return int(entries or 0), int(ballots or 0), device.last_code, int(count or 0)


def _checkin(client: TestClient, el: Election, voter: int) -> dict[str, str]:
    r = client.post(f"{P}/elections/{el.id}/stations/st-1/checkin", json={"iin": VOTERS[voter]},
                    headers=el.h["station1"])
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['credential']}"}


def _context(params: ElectionParameters, device: VotingDevice, accepted: dict[str, Any] | None) -> Context:
    pending = device.encrypt(CHOICE, "main")
    honest = pending.ballot.to_dict()
    prev = bytes.fromhex(honest["previous_code"])
    foreign_params = ElectionParameters(hashlib.sha256(b"another election").digest(), params.joint_key,
                                        params.contests)
    foreign, _ = encrypt_ballot(foreign_params, honest["ballot_id"], "main", CHOICE)
    other, _ = encrypt_ballot(params, honest["ballot_id"], "main", {**CHOICE, "president": ["cand-b"]})
    ctx = Context(honest, {**foreign.to_dict(), "previous_code": prev.hex()}, other.to_dict(), accepted,
                  int(honest["ballot_id"].rsplit("-", 1)[1]))
    ctx.foreign = rechain(ctx.foreign)
    ctx.pending, ctx.params = pending, params
    return ctx


def _api_round(client: TestClient, el: Election, examples: settings) -> None:
    assert el.params is not None
    register_devices(client, el, KIOSK, OTHER_KIOSK)
    kiosk = VotingDevice(el.params, KIOSK, "st-1")
    first = kiosk.encrypt(CHOICE, "main")
    kiosk.cast(first)
    body = {"ballot": first.ballot.to_dict(), "device_id": KIOSK}
    r = client.post(f"{P}/elections/{el.id}/ballots", json=body, headers=_checkin(client, el, 0))
    assert r.status_code == 201, r.text
    ctx = _context(el.params, kiosk, first.ballot.to_dict())
    voter = _checkin(client, el, 2)
    before = _state(client, el.id)

    @examples
    @given(data=st.data())
    def refused(data: st.DataObject, kind: str) -> None:
        m = data.draw(mutants(ctx, kind), label="mutant")
        r = client.post(f"{P}/elections/{el.id}/ballots", json={"ballot": m.ballot, "device_id": m.device_id},
                        headers=voter)
        assert r.status_code in m.statuses, (m.kind, r.status_code, r.text)
        detail = str(r.json()["detail"])
        for w in m.words:
            assert _names(detail, w), (m.kind, m.words, detail)
        assert _state(client, el.id) == before, m.kind

    for kind in KINDS:
        refused(kind=kind)
    # the honest ballot the mutants came from is still accepted, by the same credential
    kiosk.cast(ctx.pending)
    r = client.post(f"{P}/elections/{el.id}/ballots", json={"ballot": ctx.honest, "device_id": KIOSK},
                    headers=voter)
    assert r.status_code == 201, r.text
    assert _state(client, el.id)[1] == before[1] + 1


def test_malformed_ballots_are_refused_by_the_cast_api_and_nothing_is_stored(client: TestClient) -> None:
    _api_round(client, setup_election(client, manifest_doc=two_contest_manifest()), FAST)


@pytest.mark.slow
def test_malformed_ballots_long_run(client: TestClient) -> None:
    _api_round(client, setup_election(client, manifest_doc=two_contest_manifest()), LONG)


# -- the verifier's admission checks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def verifier_setup() -> tuple[ElectionParameters, BallotRules]:
    doc = two_contest_manifest()
    m = Manifest.from_json_obj(doc)
    base = hashlib.sha256(b"saylau malformed ballots").digest()
    _, joint = run_key_ceremony(3, 2, base)
    params = ElectionParameters(base, joint, m.contest_specs())
    return params, BallotRules.from_manifest(m, params)


def _admission_round(setup: tuple[ElectionParameters, BallotRules], examples: settings) -> None:
    params, rules = setup
    kiosk = VotingDevice(params, KIOSK, "st-1")
    kiosk.cast(kiosk.encrypt(CHOICE, "main"))
    ctx = _context(params, kiosk, None)

    def admit(doc: Any, device_id: str) -> None:
        ballot = EncryptedBallot.from_dict(doc)
        named = check_ballot_structure(rules, ballot, device_id=device_id, region_id="r1", channel="booth",
                                       state="cast")
        check_position(ballot.ballot_id, named, ctx.position, device_id)  # cheap checks first, as the server
        check_ballot_proofs(rules, ballot)

    admit(ctx.honest, KIOSK)  # the honest ballot passes

    @examples
    @given(data=st.data())
    def rejected(data: st.DataObject, kind: str) -> None:
        m = data.draw(mutants(ctx, kind), label="mutant")
        assert not m.api_only
        with pytest.raises(InvalidBallot) as info:
            admit(m.ballot, m.device_id)
        for w in m.words:
            assert _names(str(info.value), w), (m.kind, m.words, str(info.value))

    for kind in KINDS:
        if kind not in API_ONLY:
            rejected(kind=kind)

def test_malformed_ballots_are_rejected_by_the_verifier_admission(
    verifier_setup: tuple[ElectionParameters, BallotRules],
) -> None:
    _admission_round(verifier_setup, FAST)


@pytest.mark.slow
def test_malformed_ballots_verifier_long_run(verifier_setup: tuple[ElectionParameters, BallotRules]) -> None:
    _admission_round(verifier_setup, LONG)

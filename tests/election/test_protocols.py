from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saylau.election.aggregation import aggregate
from saylau.election.protocols import (
    ProtocolBook,
    ProtocolFigures,
    SignedProtocol,
    check_protocol,
    sign_protocol,
)
from saylau.errors import ProtocolRejected

OPTS = ("a", "b", "aa")
AT = datetime(2022, 11, 20, 21, 0, tzinfo=UTC)


def good(**kw) -> ProtocolFigures:
    base = dict(
        station="s1",
        registered=1000,
        ballots_received=1000,
        ballots_issued=700,
        ballots_unused=298,
        ballots_spoiled=2,
        ballots_in_boxes=700,
        valid=680,
        invalid=20,
        votes={"a": 500, "b": 130, "aa": 50},
    )
    base.update(kw)
    return ProtocolFigures(**base)


def test_good_protocol_accepted() -> None:
    check_protocol(good(), OPTS)


@pytest.mark.parametrize(
    ("change", "relation", "numbers"),
    [
        ({"ballots_unused": -1, "ballots_received": 701}, "no negative figures", "ballots_unused = -1"),
        ({"votes": {"a": 500, "b": 180}}, "options match the scenario", "missing \\['aa'\\]"),
        (
            {"votes": {"a": 500, "b": 130, "aa": 40, "zz": 10}},
            "options match the scenario",
            "unknown \\['zz'\\]",
        ),
        (
            {"ballots_received": 1001},
            "ballots received = issued \\+ unused \\+ spoiled",
            "1001 != 700 \\+ 298 \\+ 2",
        ),
        ({"invalid": 21}, "valid \\+ invalid = ballots in boxes", "680 \\+ 21 \\(= 701\\) != 700"),
        ({"votes": {"a": 501, "b": 130, "aa": 50}}, "sum of options = valid", "= 681 != 680"),
        (
            {"registered": 600, "ballots_received": 1000},
            "voted <= registered",
            "700 > 600",
        ),
        (
            {"ballots_in_boxes": 710, "valid": 690, "votes": {"a": 510, "b": 130, "aa": 50}},
            "ballots in boxes <= ballots issued",
            "710 > 700",
        ),
    ],
)
def test_each_relation_rejects(change: dict, relation: str, numbers: str) -> None:
    with pytest.raises(ProtocolRejected, match=f"station 's1': relation '{relation}' fails: .*{numbers}"):
        check_protocol(good(**change), OPTS)


@pytest.fixture
def book_and_key(tmp_path: Path):
    key = Ed25519PrivateKey.generate()
    book = ProtocolBook("e1", OPTS, {"s1": key.public_key()}, journal=tmp_path / "journal.jsonl")
    return book, key, tmp_path / "journal.jsonl"


def test_signed_submission_and_correction_keep_history(book_and_key) -> None:
    book, key, journal = book_and_key
    v1 = sign_protocol(good(), key, election_id="e1", signed_at=AT)
    book.submit(v1)
    fixed = good(valid=679, invalid=21, votes={"a": 499, "b": 130, "aa": 50})
    v2 = sign_protocol(
        fixed, key, election_id="e1", signed_at=AT, version=2, supersedes=v1.protocol_hash(), reason="recount"
    )
    book.submit(v2)
    assert book.current("s1").figures.votes["a"] == 499
    assert [p.version for p in book.history("s1")] == [1, 2]
    assert book.history("s1")[0].figures.votes["a"] == 500
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert SignedProtocol.model_validate_json(lines[1]) == v2
    t = book.table({"s1": ("d1", "r1")})
    assert aggregate(t, "country").row("country")["a"] == 499


def test_correction_must_name_previous_and_reason(book_and_key) -> None:
    book, key, _ = book_and_key
    v1 = book.submit(sign_protocol(good(), key, election_id="e1", signed_at=AT))
    with pytest.raises(ProtocolRejected, match="supersedes None"):
        book.submit(sign_protocol(good(), key, election_id="e1", signed_at=AT, version=2, reason="x"))
    with pytest.raises(ProtocolRejected, match="must give a reason"):
        book.submit(
            sign_protocol(
                good(), key, election_id="e1", signed_at=AT, version=2, supersedes=v1.protocol_hash()
            )
        )
    with pytest.raises(ProtocolRejected, match="expected version 2"):
        book.submit(sign_protocol(good(), key, election_id="e1", signed_at=AT, version=3))
    assert len(book.rejections) == 3
    assert len(book.history("s1")) == 1


def test_failing_relation_is_rejected_and_logged(book_and_key) -> None:
    book, key, journal = book_and_key
    with pytest.raises(ProtocolRejected, match="sum of options = valid"):
        book.submit(sign_protocol(good(valid=681, invalid=19), key, election_id="e1", signed_at=AT))
    assert book.rejections[0].station == "s1"
    assert not journal.exists()
    with pytest.raises(ProtocolRejected, match="no accepted protocol"):
        book.current("s1")


def test_signature_checks(book_and_key) -> None:
    book, key, _ = book_and_key
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ProtocolRejected, match="signer is not the station's key"):
        book.submit(sign_protocol(good(), other, election_id="e1", signed_at=AT))
    signed = sign_protocol(good(), key, election_id="e1", signed_at=AT)
    tampered = signed.model_copy(
        update={"figures": good(registered=1001, ballots_received=1001, ballots_unused=299)}
    )
    with pytest.raises(ProtocolRejected, match="signature does not verify"):
        book.submit(tampered)
    with pytest.raises(ProtocolRejected, match="not registered"):
        book.submit(sign_protocol(good(station="s9"), key, election_id="e1", signed_at=AT))
    with pytest.raises(ProtocolRejected, match="election 'e2'"):
        book.submit(sign_protocol(good(), key, election_id="e2", signed_at=AT))


def test_simulated_protocols_pass_every_relation() -> None:
    from saylau.election.scenario import load_scenario
    from saylau.sim.paper import simulate_paper

    sc = load_scenario("kz-2022")
    sim = simulate_paper(sc, scale=0.05, seed=2)
    opts = [o.id for o in sc.options]
    for i in range(len(sim.table)):
        check_protocol(sim.protocol(i), opts)


def test_book_results_directory_round_trip(tmp_path: Path) -> None:
    from saylau.election.results_io import load_results, write_book_results
    from saylau.election.scenario import load_scenario
    from saylau.sim.paper import simulate_paper

    sc = load_scenario("kz-2022")
    sim = simulate_paper(sc, scale=0.01, seed=9)
    keys = {s: Ed25519PrivateKey.generate() for s in sim.table.station}
    book = ProtocolBook(sc.election_id, sim.table.options, {s: k.public_key() for s, k in keys.items()})
    for i, sid in enumerate(sim.table.station):
        book.submit(sign_protocol(sim.protocol(i), keys[sid], election_id=sc.election_id, signed_at=AT))
    # one correction: a vote moved from Tokayev to against all after a recount
    first = sim.table.station[0]
    old = book.current(first)
    votes = dict(old.figures.votes)
    votes["tokayev"] -= 1
    votes["against_all"] += 1
    fixed = old.figures.model_copy(update={"votes": votes})
    book.submit(
        sign_protocol(
            fixed, keys[first], election_id=sc.election_id, signed_at=AT, version=2,
            supersedes=old.protocol_hash(), reason="recount",
        )
    )  # fmt: skip
    write_book_results(tmp_path / "r", sc, book)
    res = load_results(tmp_path / "r")
    nat = res.national_json()
    assert nat["took_part"] == int(sim.table.voted.sum())
    assert nat["options"]["Against all"] == int(sim.table.votes[:, -1].sum()) + 1
    assert res.summary["protocol_versions"] == {first: 2}

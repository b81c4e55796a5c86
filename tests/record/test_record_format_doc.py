"""A second, minimal verifier written from docs/record-format.md and docs/board-format.md alone (hashlib +
coincurve, and cryptography for Ed25519; no saylau code): if the documents' byte-level description drifts
from the implementation, this fails."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from coincurve import PublicKey
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from saylau.record.demo import DemoResult

Q = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = PublicKey.from_secret((1).to_bytes(32, "big"))


def H(tag: str, *parts: Any) -> bytes:
    """Section 1: SHA-256 over the tag and type-and-length-prefixed parts."""
    t = tag.encode()
    out = bytearray(len(t).to_bytes(4, "big") + t)
    for p in parts:
        if isinstance(p, Point):
            out += b"P" + p.enc
        elif isinstance(p, bytes):
            out += b"B" + len(p).to_bytes(4, "big") + p
        elif isinstance(p, int):
            out += b"I" + p.to_bytes(32, "big")
        else:
            s = p.encode()
            out += b"S" + len(s).to_bytes(4, "big") + s
    return hashlib.sha256(bytes(out)).digest()


def Hq(tag: str, *parts: Any) -> int:
    return int.from_bytes(H(tag, *parts), "big") % Q


class Point:
    """A secp256k1 point with the record's 33-byte encoding (33 zero bytes = identity)."""

    def __init__(self, enc: bytes) -> None:
        self.enc = enc

    @classmethod
    def hex(cls, text: str) -> Point:
        return cls(bytes.fromhex(text))

    def _key(self) -> PublicKey | None:
        return None if self.enc == bytes(33) else PublicKey(self.enc)

    def __mul__(self, other: Point) -> Point:
        keys = [k for k in (self._key(), other._key()) if k is not None]
        if not keys:
            return Point(bytes(33))
        if len(keys) == 1:
            return Point(keys[0].format())
        try:
            return Point(PublicKey.combine_keys(keys).format())
        except ValueError:  # P + (-P)
            return Point(bytes(33))

    def __pow__(self, k: int) -> Point:
        k %= Q
        key = self._key()
        if key is None or k == 0:
            return Point(bytes(33))
        return Point(key.multiply(k.to_bytes(32, "big")).format())


g = Point(G.format())


def verify_range(K: Point, alpha: Point, beta: Point, proof: dict[str, Any], allowed: list[int],
                 context: tuple[Any, ...]) -> bool:
    """Section 6.3: disjunctive Chaum-Pedersen range proof."""
    cs = [int(c, 16) for c in proof["challenges"]]
    vs = [int(v, 16) for v in proof["responses"]]
    commitments: list[Point] = []
    for m, c, v in zip(allowed, cs, vs, strict=True):
        commitments += (g**v * alpha**c, K ** (v - m * c) * beta**c)
    return sum(cs) % Q == Hq("saylau/v1/range", *context, K, alpha, beta, *allowed, *commitments)


def scalars(proof: dict[str, Any]) -> list[int]:
    return [int(x, 16) for x in proof["challenges"]] + [int(x, 16) for x in proof["responses"]]


def ballot_hash(b: dict[str, Any]) -> bytes:
    """Section 6.5 (a remote ballot's revote tag is a bytes part right after the style id)."""
    tag = [bytes.fromhex(b["revote_tag"])] if "revote_tag" in b else []
    parts: list[Any] = [b["ballot_id"], b["style_id"], *tag, len(b["contests"])]
    for c in b["contests"]:
        parts += [c["contest_id"], len(c["selections"])]
        parts += scalars(c["proof"])
        for s in c["selections"]:
            parts += [s["selection_id"], bytes.fromhex(s["alpha"]), bytes.fromhex(s["beta"])]
            parts += [len(s["proof"]["challenges"])]
            parts += scalars(s["proof"])
    return H("saylau/v1/ballot-hash", *parts)


def test_an_independent_reading_of_the_format_doc(small_record: DemoResult) -> None:
    d: Path = small_record.out_dir
    # section 10: file hashes and the record hash
    files = json.loads((d / "files.json").read_bytes())
    for f in files["files"]:
        assert hashlib.sha256((d / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    assert H("saylau/record-hash/v1", (d / "files.json").read_bytes()) == small_record.record_hash
    # section 4: manifest hash, base hash, extended base hash, joint key
    h_m = hashlib.sha256((d / "manifest.json").read_bytes()).digest()
    params = json.loads((d / "parameters.json").read_bytes())
    n, k = params["guardians"], params["quorum"]
    h_b = H("saylau/base-hash/v1", "secp256k1", n, k, h_m)
    assert params["election"]["base_hash"] == h_b.hex()
    key = params["election"]["joint_key"]
    commitments = [Point.hex(c) for gr in key["guardians"] for c in gr["commitments"]]
    K = Point.hex(key["K"])
    product = Point(bytes(33))
    for gr in key["guardians"]:
        product = product * Point.hex(gr["commitments"][0])
    assert product.enc == K.enc
    h_e = H("saylau/v1/extended-base-hash", h_b, K, n, k, *commitments)
    assert params["election"]["extended_base_hash"] == h_e.hex()
    # section 4.5: one Schnorr proof
    gr = key["guardians"][0]
    K0, proof = Point.hex(gr["commitments"][0]), gr["proofs"][0]
    c, v = int(proof["challenge"], 16), int(proof["response"], 16)
    assert c == Hq("saylau/v1/schnorr", h_b, "coefficient", gr["index"], 0, K0, g**v * K0**c)
    # sections 5 and 6: chains of every device, and the proofs of the first ballot
    devices = json.loads((d / "devices.json").read_bytes())["devices"]
    lines = [json.loads(x) for x in gzip.decompress((d / "ballots.jsonl.gz").read_bytes()).splitlines()]
    for dev in devices:
        assert dev["opening_code"] == H("saylau/v1/chain-open", h_b, dev["device_id"]).hex()
        prev = bytes.fromhex(dev["opening_code"])
        mine = [x["ballot"] for x in lines if x["device_id"] == dev["device_id"]]
        for b in mine:
            assert b["previous_code"] == prev.hex()
            prev = H("saylau/v1/tracking-code", prev, ballot_hash(b))
            assert b["code"] == prev.hex()
        closing = H("saylau/v1/chain-close", h_b, dev["device_id"], prev, len(mine))
        assert dev["closing_code"] == closing.hex()
    b = lines[0]["ballot"]
    contest = b["contests"][0]
    total_a, total_b = Point(bytes(33)), Point(bytes(33))
    for s in contest["selections"]:
        alpha, beta = Point.hex(s["alpha"]), Point.hex(s["beta"])
        ctx = (h_e, b["ballot_id"], contest["contest_id"], s["selection_id"])
        assert verify_range(K, alpha, beta, s["proof"], [0, 1], ctx)
        total_a, total_b = total_a * alpha, total_b * beta
    limit_ctx = (h_e, b["ballot_id"], contest["contest_id"])
    assert verify_range(K, total_a, total_b, contest["proof"], [1], limit_ctx)
    # section 8.2: one partial-decryption proof of the nation's tally
    nation = json.loads((d / "tallies.jsonl").read_bytes().splitlines()[-1])
    enc = nation["encrypted"]["contests"][0]
    tparts: list[Any] = []
    for c_ in nation["encrypted"]["contests"]:
        tparts += [c_["contest_id"], c_["ballot_count"], len(c_["selections"])]
        for s in c_["selections"]:
            tparts += [s["selection_id"], Point.hex(s["alpha"]), Point.hex(s["beta"])]
    t_hash = H("saylau/v1/tally-hash", *tparts)
    partial = nation["plaintext"]["partials"][0]
    i = partial["guardian_index"]
    # V_i = prod_j (prod_l K_lj)^(i^j)
    V = Point(bytes(33))
    for j in range(k):
        col = Point(bytes(33))
        for gr in key["guardians"]:
            col = col * Point.hex(gr["commitments"][j])
        V = V * col ** (i**j)
    share = partial["shares"][0]
    A, B = Point.hex(enc["selections"][0]["alpha"]), Point.hex(enc["selections"][0]["beta"])
    M = Point.hex(share["share"])
    c, v = int(share["proof"]["challenge"], 16), int(share["proof"]["response"], 16)
    a_, b_ = g**v * V**c, A**v * M**c
    ctx2 = (h_e, "partial-decryption", t_hash, i, enc["contest_id"], share["selection_id"], B)
    assert c == Hq("saylau/v1/chaum-pedersen", *ctx2, V, A, M, a_, b_)


# --- docs/board-format.md and docs/record-format.md §3, §9, §11 -------------------------------------

BOARD_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$")


def jcs(obj: Any) -> bytes:
    """RFC 8785 for these documents (no floats; keys ASCII or BMP): sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def board_hash(tag: str, obj: Any) -> str:
    """board-format.md "Hashing": 8-byte big-endian lengths of the tag and of the canonical JSON."""
    t, j = tag.encode(), jcs(obj)
    return hashlib.sha256(len(t).to_bytes(8, "big") + t + len(j).to_bytes(8, "big") + j).hexdigest()


def ed25519_verifies(key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
    except InvalidSignature:
        return False
    return True


def voting_hours(manifest: dict[str, Any], time_zone: str) -> tuple[str, str]:
    """record-format.md §3: the local clock times of voting_opens / voting_closes, in the station's zone."""
    day = date.fromisoformat(manifest["election_date"])
    ends = []
    for field in ("voting_opens", "voting_closes"):
        clock = datetime.fromisoformat(manifest[field]).time()
        ends.append(datetime.combine(day, clock, ZoneInfo(time_zone)))
    if ends[1] <= ends[0]:
        ends[1] += timedelta(days=1)
    return tuple(e.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for e in ends)  # type: ignore[return-value]


def test_an_independent_reading_of_the_board_format_doc(small_record: DemoResult) -> None:
    d: Path = small_record.out_dir
    manifest = json.loads((d / "manifest.json").read_bytes())
    params = json.loads((d / "parameters.json").read_bytes())
    tallies = [json.loads(x) for x in (d / "tallies.jsonl").read_bytes().splitlines()]
    rows = [json.loads(x) for x in gzip.decompress((d / "board.jsonl.gz").read_bytes()).splitlines()]
    # record-format.md §3: every name is {kk, ru, en}; §9: results.json's format value
    named = [manifest, *manifest["regions"]]
    named += [x for r in manifest["regions"] for x in r["districts"]]
    named += [s for r in manifest["regions"] for x in r["districts"] for s in x["stations"]]
    assert all(set(x["name"]) == {"kk", "ru", "en"} and all(x["name"].values()) for x in named)
    assert json.loads((d / "results.json").read_bytes())["format"] == "saylau-record/2"
    # record-format.md §6, §7, §11: the k-th ballot or challenge entry (payload left out) is the k-th line
    # of ballots.jsonl; a challenge's opening is the next line of challenged.jsonl
    lines = iter(json.loads(x) for x in gzip.decompress((d / "ballots.jsonl.gz").read_bytes()).splitlines())
    openings = iter(json.loads(x) for x in (d / "challenged.jsonl").read_bytes().splitlines())
    # Rows: header, entries linked by hashes, checkpoints signed over the six fields, times in order
    header = rows[0]
    assert header["genesis_hash"] == board_hash("saylau/board/v1/genesis", {"board_id": header["board_id"]})
    prev, last_time, signed = header["genesis_hash"], "", 0
    entries = []
    for row in rows[1:]:
        assert BOARD_TIME.match(row["time"]) and row["time"] >= last_time
        last_time = row["time"]
        if row["type"] == "checkpoint":
            statement = {k: row[k] for k in ("board_id", "position", "count", "entry_hash", "time", "final")}
            assert set(row) == {*statement, "type", "signature"}
            message = b"saylau/board/v1/checkpoint\x00" + jcs(statement)
            assert ed25519_verifies(header["public_key"], row["signature"], message)
            signed += 1
            continue
        if row["kind"] in ("ballot", "challenge"):
            assert "payload" not in row
            x = next(lines)
            where = {"device_id": x["device_id"], "station_id": x["station_id"]}
            if row["kind"] == "ballot":
                assert x["state"] in ("cast", "superseded")
                row = {**row, "payload": {"ballot": x["ballot"], **where, "state": "cast"}}
            else:
                o = next(openings)
                assert x["state"] == "challenged" and o["ballot_id"] == x["ballot"]["ballot_id"]
                opened = {"ballot": x["ballot"], "ballot_nonce": o["ballot_nonce"], "choices": o["choices"]}
                row = {**row, "payload": {"challenged": opened, **where}}
            assert row["code"] == x["ballot"]["code"]
        assert row["payload_hash"] == board_hash("saylau/board/v1/payload", row["payload"])
        fields = {k: row[k] for k in ("position", "time", "kind", "code", "payload_hash", "prev_hash")}
        assert row["prev_hash"] == prev and row["entry_hash"] == board_hash("saylau/board/v1/entry", fields)
        prev = row["entry_hash"]
        entries.append(row)
    assert signed >= 1 and rows[-1]["type"] == "checkpoint" and rows[-1]["final"]
    assert next(lines, None) is None and next(openings, None) is None
    # Entry kinds: the payloads' fields, as listed
    kinds: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        kinds.setdefault(e["kind"], []).append(e["payload"])
    fields_of = {
        "manifest": {"manifest", "manifest_hash", "base_hash", "guardians", "quorum"},
        "guardian": {"index", "record"},
        "joint_key": {"parameters"},
        "ballot": {"ballot", "device_id", "station_id", "state"},
        "challenge": {"challenged", "device_id", "station_id"},
        "superseded": {"ballot_id", "code", "by"},
        "turnout": {"station_id", "at", "voted"},
        "tally": {"scopes", "ballots"},
        "partial_decryption": {"index", "partials"},
        "result": {"results"},
    }
    for kind, fields in fields_of.items():
        assert kinds[kind] and all(set(p) == fields for p in kinds[kind]), kind
    opened, closed = kinds["phase"]
    assert set(opened) == {"phase", "at"} and opened["phase"] == "open"
    assert set(closed) == {"phase", "at", "devices"} and closed["phase"] == "closed"
    assert kinds["manifest"][0]["manifest"] == manifest
    h_m = hashlib.sha256((d / "manifest.json").read_bytes()).hexdigest()
    assert kinds["manifest"][0]["manifest_hash"] == h_m
    assert kinds["manifest"][0]["base_hash"] == params["election"]["base_hash"]
    # record-format.md §11.8: guardian records and partial decryptions are the board's
    records = params["election"]["joint_key"]["guardians"]
    by_index = sorted(kinds["guardian"], key=lambda p: p["index"])
    assert by_index == [{"index": r["index"], "record": r} for r in records]
    present = [p["guardian_index"] for p in tallies[0]["plaintext"]["partials"]]
    expected = [
        {"index": i, "partials": [
            {"scope": t["scope"], "scope_id": t["scope_id"],
             "partial": next(p for p in t["plaintext"]["partials"] if p["guardian_index"] == i)}
            for t in tallies
        ]}
        for i in present
    ]
    assert sorted(kinds["partial_decryption"], key=str) == sorted(expected, key=str)
    # §11.7: every cast ballot's time within its station's voting hours
    zones = {s["station_id"]: s["time_zone"] for r in manifest["regions"] for x in r["districts"]
             for s in x["stations"]}
    for e in entries:
        if e["kind"] == "ballot":
            opens, closes = voting_hours(manifest, zones[e["payload"]["station_id"]])
            assert opens <= e["time"] <= closes
    # Protocols: signed by the station key noted earlier, version 1, control relations
    keys = {p["station_key"]["station_id"]: p["station_key"]["public_key"]
            for p in kinds["note"] if "station_key" in p}
    options = sorted(s["selection_id"] for c in manifest["contests"] for s in c["selections"])
    assert kinds["protocol"]
    for doc in kinds["protocol"]:
        f = doc["figures"]
        assert doc["signer"] == keys[f["station"]] and doc["version"] == 1 and doc["supersedes"] is None
        body = {k: v for k, v in doc.items() if k != "signature"}
        assert ed25519_verifies(doc["signer"], doc["signature"], b"saylau/protocol/1\x00" + jcs(body))
        assert sorted(f["votes"]) == options and sum(f["votes"].values()) == f["valid"]
        assert f["ballots_received"] == f["ballots_issued"] + f["ballots_unused"] + f["ballots_spoiled"]
        assert f["valid"] + f["invalid"] == f["ballots_in_boxes"] <= f["ballots_issued"] <= f["registered"]

"""A second, minimal verifier written from docs/record-format.md alone (hashlib + coincurve, no saylau
crypto code): if the document's byte-level description drifts from the implementation, this fails."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from coincurve import PublicKey

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
    lines = [json.loads(x) for x in (d / "ballots.jsonl").read_bytes().splitlines()]
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

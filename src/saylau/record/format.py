"""The election record's layout: file names, line shapes, canonical bytes and the hashes over them.

Everything here is documented byte by byte in ``docs/record-format.md``; the verifier relies on this
module and on the crypto layer's ``from_dict``/``verify_*`` only, never on the writer's state.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from typing import IO, Any, Final, cast

from saylau.crypto.hazmat.hashing import hash_bytes
from saylau.election.manifest import canonical_json
from saylau.errors import RecordError

__all__ = [
    "BALLOTS",
    "BALLOT_STATES",
    "BOARD",
    "CHALLENGED",
    "DATA_FILES",
    "DEVICES",
    "ELIDED_KINDS",
    "FILES",
    "GROUP_NAME",
    "MANIFEST",
    "OLD_RECORD_FORMATS",
    "PARAMETERS",
    "RECORD_FORMAT",
    "RECORD_HASH_TAG",
    "RESULTS",
    "TALLIES",
    "canonical_line",
    "election_base_hash",
    "fast_canonical",
    "file_sha256",
    "is_compressed",
    "open_lines",
    "open_lines_for_writing",
    "parse_canonical",
    "record_hash",
]

RECORD_FORMAT: Final = "saylau-record/2"
#: the formats this verifier recognises only to refuse them clearly (each ballot was held twice)
OLD_RECORD_FORMATS: Final = ("saylau-record/1",)
GROUP_NAME: Final = "secp256k1"

MANIFEST: Final = "manifest.json"
PARAMETERS: Final = "parameters.json"
DEVICES: Final = "devices.json"
BALLOTS: Final = "ballots.jsonl.gz"
CHALLENGED: Final = "challenged.jsonl"
TALLIES: Final = "tallies.jsonl"
RESULTS: Final = "results.json"
BOARD: Final = "board.jsonl.gz"
FILES: Final = "files.json"

#: every data file, in the order the manifest-of-files lists them
DATA_FILES: Final = (MANIFEST, PARAMETERS, DEVICES, BALLOTS, CHALLENGED, TALLIES, RESULTS, BOARD)

BALLOT_STATES: Final = ("cast", "challenged", "superseded")

#: board entry kinds whose payload the record's ``board.jsonl`` leaves out (``docs/record-format.md`` §11):
#: the payload is rebuilt from the ballot's line of ``ballots.jsonl`` and checked against ``payload_hash``
ELIDED_KINDS: Final = frozenset({"ballot", "challenge"})

_SAFE_INT: Final = 2**53 - 1

BASE_HASH_TAG: Final = "saylau/base-hash/v1"
RECORD_HASH_TAG: Final = "saylau/record-hash/v1"


def election_base_hash(manifest_hash: bytes, n: int, k: int) -> bytes:
    """The base hash H_B every proof is bound to (role of ElectionGuard 2.0 §3.1.3).

    ``hash_bytes("saylau/base-hash/v1", "secp256k1", n, k, manifest_hash)``: the group, the guardian
    count and quorum, and the manifest hash.
    """
    if len(manifest_hash) != 32:
        raise ValueError("manifest hash must be 32 bytes")
    return hash_bytes(BASE_HASH_TAG, GROUP_NAME, n, k, manifest_hash)


def canonical_line(obj: Any) -> bytes:
    """One JSON Lines line: the RFC 8785 bytes followed by a single newline byte (0x0A)."""
    return canonical_json(obj) + b"\n"


def parse_canonical(data: bytes, what: str) -> Any:
    """Parse JSON that must already be in RFC 8785 form; raises ``RecordError`` naming ``what``.

    Fast path: for ASCII text without floating-point numbers, RFC 8785 output is exactly
    ``json.dumps(sort_keys=True, separators=(",", ":"))`` (same key order, escapes and integers), so
    the pure-Python ``rfc8785`` serialiser is needed only for the other documents.
    """
    unusual: list[str] = []  # floats, or integers outside the IEEE-754 safe range

    def _constant(text: str) -> float:  # NaN, Infinity, -Infinity: not JSON (RFC 8259 §6)
        raise RecordError(f"{what}: {text} is not a JSON number")

    def _float(text: str) -> float:
        unusual.append(text)
        value = float(text)
        if not math.isfinite(value):
            raise RecordError(f"{what}: {text[:40]} overflows a 64-bit float")
        return value

    def _int(text: str) -> int:
        n = int(text)
        if abs(n) > _SAFE_INT:
            unusual.append(text)
        return n

    try:
        obj = json.loads(data, parse_float=_float, parse_int=_int, parse_constant=_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError(f"{what}: not valid JSON ({exc})") from exc
    if not unusual and data.isascii():
        again = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    else:
        try:
            again = canonical_json(obj)
        except (ValueError, TypeError) as exc:  # rfc8785 refuses e.g. integers beyond 2^53
            raise RecordError(f"{what}: not representable in RFC 8785 ({exc})") from exc
    if again != data:
        raise RecordError(f"{what}: not in canonical RFC 8785 form")
    return obj


def fast_canonical(obj: Any) -> bytes:
    """RFC 8785 bytes of a ballot-like object (``canonical_json``: the C encoder for plain ASCII JSON).

    Used to rebuild a board payload from a record line and hash it: were the bytes ever to differ from
    the canonical ones, the payload hash would differ and the record be refused, never wrongly accepted.
    """
    return canonical_json(obj)


#: gzip settings of the compressed files: fixed, so that one writer's bytes are reproducible
GZIP_LEVEL: Final = 6


def is_compressed(name: str) -> bool:
    """Whether a record file is stored gzip-compressed (its name ends in ``.gz``)."""
    return name.endswith(".gz")


def open_lines(path: Any) -> IO[bytes]:
    """Open a JSON Lines file of the record for reading its (decompressed) bytes; the caller closes it."""
    if is_compressed(str(path)):
        return cast(IO[bytes], gzip.GzipFile(path, "rb"))
    return open(path, "rb")


def open_lines_for_writing(path: Any) -> IO[bytes]:
    """Open a JSON Lines file of the record for writing; ``.gz`` names get the fixed gzip settings.

    The gzip header carries no file name and a zero time (RFC 1952), so the same lines give the same bytes.
    """
    if is_compressed(str(path)):
        raw = open(path, "wb")  # noqa: SIM115 - closed with the GzipFile by the caller (JsonLinesWriter)
        gz = gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=raw, mtime=0)
        return cast(IO[bytes], gz)
    return open(path, "wb")


def file_sha256(path: Any) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def record_hash(files_json_bytes: bytes) -> bytes:
    """The record hash: ``hash_bytes("saylau/record-hash/v1", <bytes of files.json>)``."""
    return hash_bytes(RECORD_HASH_TAG, files_json_bytes)

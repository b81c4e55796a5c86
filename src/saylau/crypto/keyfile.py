"""Passphrase-protected secret files: a guardian's ceremony state, a station commission's signing key.

Format ``saylau-secret/1`` (one JSON object, UTF-8; ``docs/crypto-api.md`` "Secret files")::

    {"format": "saylau-secret/1",
     "kind": "guardian" | "protocol-key",
     "public": {...},                       # what the file is for, readable without the passphrase
     "kdf": {"name": "scrypt", "log_n": 17, "r": 8, "p": 1, "salt": "<32 hex bytes>"},
     "cipher": "AES-256-GCM",
     "nonce": "<12 hex bytes>",
     "check": "<32 hex bytes>",              # tells a wrong passphrase from an altered file
     "ciphertext": "<base64>"}

scrypt (``cryptography``) turns the passphrase and salt into 64 bytes: the first 32 are the AES-256-GCM
key, the last 32 key ``check = HMAC-SHA-256(k2, "saylau-secret/1 passphrase check")``. The plaintext is
the RFC 8785 JSON of the secret; the associated data is the RFC 8785 JSON of every other field, so
``kind``, ``public`` and the KDF parameters cannot be changed without the tag failing. A wrong
passphrase fails the check value; a file edited after it was written passes the check and fails the
tag; both raise :class:`~saylau.errors.KeyFileError` with a one-line reason. The check value gives an
attacker nothing the tag does not (either tests a guessed passphrase at the cost of one scrypt).

The format is also read and written in the browser (``web/static/console/secret_file.js``, @noble/hashes'
scrypt and WebCrypto's AES-GCM): a file either side writes opens on the other.

Files are written with mode 0600, through a temporary file renamed into place (a crash leaves the old
file or the new one, never half of either). Every write draws a new salt and nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from saylau.errors import KeyFileError

__all__ = [
    "FORMAT",
    "MIN_LOG_N",
    "MIN_NEW_PASSPHRASE",
    "SecretFile",
    "default_log_n",
    "read_secret",
    "write_secret",
]

FORMAT = "saylau-secret/1"
KINDS = ("guardian", "protocol-key")
DEFAULT_LOG_N = 17
"""scrypt cost 2^17 (128 MiB, about half a second): the cost the scrypt paper advises for file keys."""
MIN_LOG_N = 14
"""The lowest cost a file may ask for (2^14, 16 MiB): ``SAYLAU_SCRYPT_LOG_N`` for tests and small machines."""
_MAX_LOG_N = 22
MIN_NEW_PASSPHRASE = 12
"""The fewest characters (code points) a new passphrase may have: the staff commands and the consoles."""
_CHECK_LABEL = b"saylau-secret/1 passphrase check"
_FIELDS = {"format", "kind", "public", "kdf", "cipher", "nonce", "check", "ciphertext"}


@dataclass(frozen=True)
class SecretFile:
    """An opened secret file: its kind, its public part and the decrypted secret."""

    kind: str
    public: dict[str, Any]
    secret: dict[str, Any]


def default_log_n() -> int:
    """The scrypt cost of new files: ``$SAYLAU_SCRYPT_LOG_N`` (14–22), else 17."""
    raw = os.environ.get("SAYLAU_SCRYPT_LOG_N", "")
    if not raw:
        return DEFAULT_LOG_N
    if not raw.isdigit() or not MIN_LOG_N <= int(raw) <= _MAX_LOG_N:
        raise KeyFileError(f"SAYLAU_SCRYPT_LOG_N={raw!r}: expected an integer {MIN_LOG_N}..{_MAX_LOG_N}")
    return int(raw)


def _keys(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    if not passphrase:
        raise KeyFileError("empty passphrase")
    derived = Scrypt(salt=salt, length=64, n=2**log_n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return derived[:32], derived[32:]


def _header_bytes(header: dict[str, Any]) -> bytes:
    return bytes(rfc8785.dumps({k: v for k, v in header.items() if k != "ciphertext"}))


def write_secret(
    path: Path,
    kind: str,
    public: dict[str, Any],
    secret: dict[str, Any],
    passphrase: str,
    log_n: int | None = None,
) -> None:
    """Encrypt ``secret`` under ``passphrase`` and write the file (mode 0600, atomically)."""
    if kind not in KINDS:
        raise ValueError(f"secret file kind {kind!r} is not one of {', '.join(KINDS)}")
    log_n = default_log_n() if log_n is None else log_n
    salt, nonce = secrets.token_bytes(32), secrets.token_bytes(12)
    key, check_key = _keys(passphrase, salt, log_n, 8, 1)
    header: dict[str, Any] = {
        "format": FORMAT,
        "kind": kind,
        "public": public,
        "kdf": {"name": "scrypt", "log_n": log_n, "r": 8, "p": 1, "salt": salt.hex()},
        "cipher": "AES-256-GCM",
        "nonce": nonce.hex(),
        "check": hmac.new(check_key, _CHECK_LABEL, hashlib.sha256).hexdigest(),
    }
    ciphertext = AESGCM(key).encrypt(nonce, bytes(rfc8785.dumps(secret)), _header_bytes(header))
    header["ciphertext"] = base64.b64encode(ciphertext).decode("ascii")
    text = json.dumps(header, indent=1, ensure_ascii=False) + "\n"
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _header(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise KeyFileError(f"{path}: not a saylau secret file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise KeyFileError(f"{path}: not a saylau secret file (not JSON: {exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise KeyFileError(f"{path}: not a saylau secret file (format {got!r}, expected {FORMAT!r})")
    if set(doc) != _FIELDS:
        raise KeyFileError(f"{path}: damaged secret file (fields {sorted(set(doc) ^ _FIELDS)})")
    return doc


def read_public(path: Path, kind: str) -> dict[str, Any]:
    """The public part of a secret file of ``kind``, without the passphrase (not authenticated yet)."""
    doc = _header(path)
    _want_kind(path, doc, kind)
    public = doc["public"]
    if not isinstance(public, dict):
        raise KeyFileError(f"{path}: damaged secret file (public part is not an object)")
    return public


def _want_kind(path: Path, doc: dict[str, Any], kind: str) -> None:
    if doc["kind"] != kind:
        names = {"guardian": "a guardian's key file", "protocol-key": "a station commission's protocol key"}
        raise KeyFileError(
            f"{path}: this is {names.get(str(doc['kind']), repr(doc['kind']))}, not {names.get(kind, kind)}"
        )


def read_secret(path: Path, kind: str, passphrase: str) -> SecretFile:
    """Open a secret file of ``kind``; ``KeyFileError`` for a wrong passphrase, an altered or foreign file."""
    doc = _header(path)
    _want_kind(path, doc, kind)
    kdf = doc["kdf"]
    try:
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or doc["cipher"] != "AES-256-GCM":
            raise ValueError("unknown KDF or cipher")
        log_n, r, p = int(kdf["log_n"]), int(kdf["r"]), int(kdf["p"])
        if not MIN_LOG_N <= log_n <= _MAX_LOG_N or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise ValueError(f"scrypt cost outside the allowed range (log_n {log_n}, r {r}, p {p})")
        salt, nonce, check = (
            bytes.fromhex(kdf["salt"]),
            bytes.fromhex(doc["nonce"]),
            bytes.fromhex(doc["check"]),
        )
        ciphertext = base64.b64decode(doc["ciphertext"], validate=True)
        if len(salt) < 16 or len(nonce) != 12 or len(check) != 32:
            raise ValueError("salt, nonce or check value of the wrong length")
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileError(f"{path}: damaged secret file ({exc})") from None
    key, check_key = _keys(passphrase, salt, log_n, r, p)
    if not hmac.compare_digest(hmac.new(check_key, _CHECK_LABEL, hashlib.sha256).digest(), check):
        raise KeyFileError(f"{path}: wrong passphrase")
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, _header_bytes(doc))
    except InvalidTag:
        raise KeyFileError(
            f"{path}: the file was altered after it was written (its authentication tag fails); "
            "use your backup copy"
        ) from None
    secret = json.loads(plain)
    if not isinstance(secret, dict) or not isinstance(doc["public"], dict):
        raise KeyFileError(f"{path}: damaged secret file (secret is not an object)")
    return SecretFile(str(doc["kind"]), doc["public"], secret)

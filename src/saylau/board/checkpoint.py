"""Signed checkpoints of the bulletin board (Ed25519, RFC 8032, via ``cryptography``).

A checkpoint is the board operator's signed statement "the board ``board_id`` had ``count`` entries and
its head was ``entry_hash`` at ``time``". Checkpoints are issued every N entries and when the board is
closed; anyone holding an old checkpoint can prove later that an entry up to that position was changed,
removed or reordered, and a final checkpoint fixes the end of the board so a dropped tail is detected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from saylau.board.hashing import TAG_CHECKPOINT, canonical_json
from saylau.errors import BoardError

__all__ = ["BoardSigner", "Checkpoint", "public_key_from_hex"]


def public_key_from_hex(hex_key: str) -> Ed25519PublicKey:
    """Parse a raw 32-byte Ed25519 public key given as hex; ``BoardError`` if it is malformed."""
    try:
        raw = bytes.fromhex(hex_key)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise BoardError(f"board public key {hex_key[:16]}…: not a raw Ed25519 key ({exc})") from exc


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the board's head at one position."""

    board_id: str
    position: int
    count: int
    entry_hash: str
    time: str
    final: bool
    signature: str

    def statement(self) -> dict[str, Any]:
        """The signed fields."""
        return {
            "board_id": self.board_id,
            "position": self.position,
            "count": self.count,
            "entry_hash": self.entry_hash,
            "time": self.time,
            "final": self.final,
        }

    def message(self) -> bytes:
        """The exact bytes signed: purpose tag, a zero byte, canonical JSON of the statement."""
        return TAG_CHECKPOINT + b"\x00" + canonical_json(self.statement())

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise ``BoardError`` naming the position if the signature does not verify."""
        try:
            public_key.verify(bytes.fromhex(self.signature), self.message())
        except (InvalidSignature, ValueError) as exc:
            msg = f"board checkpoint at position {self.position}: signature does not verify"
            raise BoardError(msg) from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**self.statement(), "signature": self.signature}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Parse; ``BoardError`` names the missing or mistyped field."""
        where = f"board checkpoint {d.get('position', '?')}"
        types: dict[str, type] = {
            "board_id": str,
            "position": int,
            "count": int,
            "entry_hash": str,
            "time": str,
            "final": bool,
            "signature": str,
        }
        for name, typ in types.items():
            if name not in d:
                raise BoardError(f"{where}: missing field {name!r}")
            value = d[name]
            if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
                raise BoardError(f"{where}: field {name!r} must be of type {typ.__name__}")
        return cls(**{k: d[k] for k in types})


class BoardSigner:
    """The board operator's Ed25519 key; the private key never leaves this object or its key file."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Wrap an existing private key."""
        self._key = private_key

    @classmethod
    def generate(cls) -> BoardSigner:
        """A fresh random key (``cryptography`` uses the OS random source)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_file(cls, path: Path, create: bool = True) -> BoardSigner:
        """Load a PEM (PKCS#8) key, creating it with mode 0600 if it is missing and ``create`` is set."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise BoardError(f"board key file {path}: not an Ed25519 private key")
            return cls(key)
        if not create:
            raise BoardError(f"board key file {path}: does not exist")
        signer = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = signer._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return signer

    @property
    def public_key_hex(self) -> str:
        """Raw 32-byte public key as hex (what the board header publishes)."""
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return raw.hex()

    def sign(self, board_id: str, position: int, entry_hash: str, time: str, final: bool) -> Checkpoint:
        """Sign the head of the board at ``position``."""
        unsigned = Checkpoint(board_id, position, position + 1, entry_hash, time, final, signature="")
        signature = self._key.sign(unsigned.message()).hex()
        return Checkpoint(board_id, position, position + 1, entry_hash, time, final, signature)

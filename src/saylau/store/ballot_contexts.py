"""The ``ballot_contexts`` table: what the ballots of one device share, stored once (``entry_codec``).

A context is named by its digest (content-addressed), so the process-wide cache of parsed contexts is
right for every database: a context read from a row is cached only after its digest is checked, and a
row whose bytes do not match its digest is an error (``saylau check`` names it). Writing a context
inserts its row once per database (in the transaction of the entry that first names it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from saylau.store.entry_codec import Context
from saylau.store.models import BallotContextRow

__all__ = ["CACHE_SIZE", "ContextError", "Contexts"]

#: parsed contexts kept in memory (a national election has a few per polling station)
CACHE_SIZE = 1 << 15

_cache: OrderedDict[bytes, Context] = OrderedDict()


class ContextError(ValueError):
    """A context a compact entry names is missing from ``ballot_contexts``, or its row is broken."""

_lock = threading.Lock()


def _cached(digest: bytes) -> Context | None:
    with _lock:
        ctx = _cache.get(digest)
        if ctx is not None:
            _cache.move_to_end(digest)
        return ctx


def _remember(digest: bytes, ctx: Context) -> None:
    with _lock:
        _cache[digest] = ctx
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


class Contexts:
    """The contexts of one session's database: read (``get``, for decoding) and written (``put``)."""

    def __init__(self, session: Session, cached: bool = True) -> None:
        """Bind to ``session``; ``cached=False`` reads every context from its row (``saylau check``)."""
        self.session = session
        self.cached = cached
        self._stored: set[bytes] = set()  # digests known to be rows of this database (this session)
        self._read: dict[bytes, Context] = {}

    def get(self, digest: bytes) -> Context:
        """The context named ``digest``; ``ValueError`` if the database has none or its row is broken."""
        ctx = self._read.get(digest) or (_cached(digest) if self.cached else None)
        if ctx is not None:
            return ctx
        row = self.session.get(BallotContextRow, digest)
        if row is None:
            raise ContextError(f"ballot context {digest.hex()}: not in table ballot_contexts")
        try:
            ctx = Context.from_bytes(row.context)
        except ValueError as exc:
            raise ContextError(f"ballot context {digest.hex()}: {exc}") from None
        if ctx.digest() != digest:
            raise ContextError(f"ballot context {digest.hex()}: its bytes do not match its digest")
        self._read[digest] = ctx
        self._stored.add(digest)
        if self.cached:
            _remember(digest, ctx)
        return ctx

    def put(self, ctx: Context) -> bool:
        """Make sure the database has ``ctx`` (adds its row to the session if not); ``False`` on a clash.

        A clash is another context under the same digest (a 64-bit collision): the caller then stores
        the entry in a form that names no context.
        """
        digest = ctx.digest()
        if digest in self._stored:
            return self._read.get(digest, ctx) == ctx
        row = self.session.get(BallotContextRow, digest)
        if row is None:
            self.session.add(BallotContextRow(digest=digest, context=ctx.to_bytes()))
        elif bytes(row.context) != ctx.to_bytes():
            return False
        self._stored.add(digest)
        self._read[digest] = ctx
        return True

    def preload(self, digests: set[bytes]) -> None:
        """Read the contexts named by ``digests`` in one query (a page of entries at a time)."""
        missing = [d for d in digests if d not in self._read and (not self.cached or _cached(d) is None)]
        if not missing:
            return
        for row in self.session.scalars(select(BallotContextRow).where(BallotContextRow.digest.in_(missing))):
            self.get(bytes(row.digest))

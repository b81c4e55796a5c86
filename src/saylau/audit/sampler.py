"""Rivest's consistent sampler: SHA-256 ticket numbers from a public seed and each object's id.

Every object (a ballot or a polling station) gets a *ticket number* in (0, 1) computed from the seed
and its id alone; the sample is the objects in increasing ticket order. Sampling with replacement
gives a drawn object a new, larger ticket derived from the previous one. Anyone holding the seed and
the ids re-derives the sample, and a sample of the first ``k`` tickets extends to ``k + m`` by taking
the next ``m`` (escalation without redrawing).

The arithmetic follows R. L. Rivest's ``consistent_sampler`` (github.com/ron-rivest/consistent_sampler,
used by VotingWorks' Arlo), re-implemented here from its description:

* ``H(s)`` = SHA-256 of the UTF-8 of ``s``, as 64 hex digits;
* ``uniform(s)`` = ``"0."`` followed by the 64-digit zero-padded *decimal* of ``H(s)``, reversed;
* the first ticket of ``id`` is ``uniform(H(seed) + str(id))``;
* the next ticket after ``x`` keeps ``x``'s leading run of 9s and appends the digits of
  ``uniform(x + ":" + str(i))`` for ``i = 1, 2, …`` until the result exceeds ``x``;
* shown ticket numbers are truncated to ``digits`` significant digits after the leading 9s.

Ticket numbers are decimal strings of the form ``0.ddd…``; comparing them as strings orders them as
numbers. The tests reproduce the published vectors of both repositories.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Ticket",
    "TicketStream",
    "consistent_sample",
    "draw_from_firsts",
    "first_ticket_number",
    "next_ticket_number",
    "sha256_hex",
    "sha256_uniform",
    "smallest_first_tickets",
    "trim",
]


@dataclass(frozen=True, order=True)
class Ticket:
    """One draw: its ticket number (full precision), the object's id and its generation (1, 2, …)."""

    number: str
    id: str
    generation: int

    def shown(self, digits: int = 18) -> str:
        """The ticket number as published (truncated after ``digits`` significant digits)."""
        return trim(self.number, digits)


def sha256_hex(text: str) -> str:
    """SHA-256 of the UTF-8 encoding of ``text`` as 64 lowercase hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_uniform(text: str) -> str:
    """The hash of ``text`` as a decimal fraction in (0, 1): the 64-digit decimal, digits reversed.

    Reversing puts the unbiased low-order decimal digits first (the high-order digit of a 256-bit
    number written in 64 decimal digits is biased toward small values).
    """
    return "0." + f"{int(sha256_hex(text), 16):064d}"[::-1]


def _nines(x: str) -> int:
    """Index of the first digit of ``x`` after the leading run of 9s (``x`` starts with ``0.``)."""
    i = 2
    while i < len(x) and x[i] == "9":
        i += 1
    return i


def trim(x: str, digits: int = 9) -> str:
    """``x`` truncated to ``digits`` significant digits after its leading run of 9s."""
    return x[: _nines(x) + digits]


def first_ticket_number(id_text: str, seed_hash: str) -> str:
    """The generation-1 ticket number of an object, from ``sha256_hex(seed)`` and ``str(id)``."""
    return sha256_uniform(seed_hash + id_text)


def next_ticket_number(x: str) -> str:
    """A pseudo-random ticket number in (x, 1), a function of ``x`` only."""
    if not x.startswith("0."):
        raise ValueError(f"ticket number {x!r} does not start with '0.'")
    keep = x[: _nines(x + "0")]
    i = 0
    y = keep
    while y <= x:
        i += 1
        y = keep + sha256_uniform(f"{x}:{i}")[2:]
    return y


def consistent_sample(
    ids: Iterable[Hashable],
    seed: str,
    take: int,
    *,
    drop: int = 0,
    with_replacement: bool = True,
) -> list[Ticket]:
    """Draws ``drop + 1 … drop + take`` of the consistent sample of ``ids`` under ``seed``.

    Only the ``drop + take`` smallest first tickets can appear among the first ``drop + take`` draws
    (every later-generation ticket of an object is larger than its first one), so memory stays
    ``O(drop + take)`` however many ballots the manifest holds. Ids are hashed as ``str(id)``;
    distinct ids must have distinct strings.
    """
    if take < 0 or drop < 0:
        raise ValueError("take and drop must be non-negative")
    want = drop + take
    if want == 0:
        return []
    return draw_from_firsts(
        smallest_first_tickets(ids, seed, want), take, drop=drop, with_replacement=with_replacement
    )


def smallest_first_tickets(ids: Iterable[Hashable], seed: str, k: int) -> list[tuple[str, str]]:
    """The ``k`` smallest ``(first ticket number, id)`` pairs of the frame (duplicates refused)."""
    seed_hash = sha256_hex(str(seed))
    seen: set[str] = set()

    def numbered() -> Iterable[tuple[str, str]]:
        for obj in ids:
            text = str(obj)
            if text in seen:
                raise ValueError(f"duplicate id {text!r} in the sampling frame")
            seen.add(text)
            yield first_ticket_number(text, seed_hash), text

    return heapq.nsmallest(k, numbered())


def draw_from_firsts(
    firsts: Sequence[tuple[str, str]], take: int, *, drop: int = 0, with_replacement: bool = True
) -> list[Ticket]:
    """Draws ``drop + 1 … drop + take`` given at least the ``drop + take`` smallest first tickets."""
    heap: list[tuple[str, str, int]] = [(n, text, 1) for n, text in firsts]
    heapq.heapify(heap)
    out: list[Ticket] = []
    while heap and len(out) < drop + take:
        number, text, gen = heapq.heappop(heap)
        out.append(Ticket(number, text, gen))
        if with_replacement:
            heapq.heappush(heap, (next_ticket_number(number), text, gen + 1))
    return out[drop:]


class TicketStream:
    """Draws in order from the ``k`` smallest first tickets, extended lazily (valid for ``k`` draws)."""

    def __init__(self, firsts: Sequence[tuple[str, str]], with_replacement: bool = True) -> None:
        """Start the heap from the first tickets."""
        self.capacity = len(firsts)
        self.with_replacement = with_replacement
        self._heap: list[tuple[str, str, int]] = [(n, text, 1) for n, text in firsts]
        heapq.heapify(self._heap)
        self.drawn: list[Ticket] = []

    def upto(self, n: int) -> list[Ticket]:
        """The first ``n`` draws (``n`` must not exceed ``capacity`` unless the frame is exhausted)."""
        while len(self.drawn) < n and self._heap:
            number, text, gen = heapq.heappop(self._heap)
            self.drawn.append(Ticket(number, text, gen))
            if self.with_replacement:
                heapq.heappush(self._heap, (next_ticket_number(number), text, gen + 1))
        return self.drawn[:n]


def sample_ids(tickets: Sequence[Ticket]) -> list[str]:
    """The ids of ``tickets`` in draw order."""
    return [t.id for t in tickets]

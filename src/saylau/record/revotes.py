"""Revote links checked against revote tags and board order (``docs/record-format.md`` §6.7).

Every remote ballot carries its voter's revote tag inside the ballot hash (``EncryptedBallot.revote_tag``).
Ordering a tag group's cast and superseded ballots by their board positions, exactly the last one may
count and each earlier one must be superseded by the next. A "superseded by" pointer moved to another
voter's ballot, or a counted ballot swapped for an earlier one, breaks this, and the tags cannot be
edited without changing the tracking codes. Memory grows with the number of remote ballots only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from saylau.errors import VerificationFailed

__all__ = ["RevoteLinks"]


@dataclass
class RevoteLinks:
    """Collects remote ballots during the ballot pass, then checks every tag group."""

    tagged: dict[str, tuple[str, str, str | None, str]] = field(default_factory=dict)
    untagged_successors: dict[str, str] = field(default_factory=dict)  # successor -> predecessor
    untagged_links: int = 0

    def add(self, d: dict[str, Any]) -> None:
        """Note one ``ballots.jsonl`` line (parsed, already structurally checked)."""
        ballot = d["ballot"]
        tag = ballot.get("revote_tag")
        self.add_line(ballot["ballot_id"], d["state"], tag, d["superseded_by"], d["station_id"])

    def add_line(
        self, ballot_id: str, state: str, tag: str | None, superseded_by: str | None, station_id: str
    ) -> None:
        """``add`` from a line's fields: its ballot id, state, revote tag (hex), successor and station."""
        if state == "challenged":
            return
        if tag is not None:
            self.tagged[ballot_id] = (tag, state, superseded_by, station_id)
        elif superseded_by is not None:
            self.untagged_successors[superseded_by] = ballot_id
            self.untagged_links += 1

    def dump(self) -> dict[str, Any]:
        """JSON form (an incremental verification's saved state)."""
        return {
            "tagged": {k: list(v) for k, v in self.tagged.items()},
            "untagged_successors": dict(self.untagged_successors),
            "untagged_links": self.untagged_links,
        }

    def restore(self, d: dict[str, Any]) -> None:
        """Take the links back from ``dump``'s form."""
        self.tagged = {k: (v[0], v[1], v[2], v[3]) for k, v in d["tagged"].items()}
        self.untagged_successors = dict(d["untagged_successors"])
        self.untagged_links = int(d["untagged_links"])

    def check(self, positions: dict[str, int]) -> tuple[int, int]:
        """Raise ``VerificationFailed`` naming the ballot; return (tag groups, tagged links checked)."""
        for succ, pred in self.untagged_successors.items():
            if succ in self.tagged:
                raise VerificationFailed(
                    f"ballot {pred}: untagged, but superseded by {succ}, which carries a revote tag"
                )
        groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for bid, entry in self.tagged.items():
            tag = entry[0]
            pos = positions.get(bid)
            if pos is None:
                raise VerificationFailed(f"ballot {bid}: carries a revote tag but has no tagged board entry")
            groups[tag].append((pos, bid))
        links = 0
        for members in groups.values():
            members.sort()
            stations = {self.tagged[bid][3] for _, bid in members}
            if len(stations) != 1:
                raise VerificationFailed(
                    f"ballot {members[0][1]}: its revote tag is shared by stations {sorted(stations)}"
                )
            for (_pos, bid), nxt in zip(members, [*members[1:], None], strict=True):
                state, successor = self.tagged[bid][1], self.tagged[bid][2]
                if nxt is None:
                    if state != "cast":
                        raise VerificationFailed(
                            f"ballot {bid}: the last ballot of its revote tag on the board is {state}, "
                            "not cast"
                        )
                    continue
                if state != "superseded" or successor != nxt[1]:
                    raise VerificationFailed(
                        f"ballot {bid}: a later ballot of the same voter (revote tag) is {nxt[1]}, but this "
                        f"one is {state}" + (f" and superseded by {successor}" if successor else "")
                    )
                links += 1
        return len(groups), links

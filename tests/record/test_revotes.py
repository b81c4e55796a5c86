"""Revote links against revote tags and board order, across devices (unit level)."""

from __future__ import annotations

from typing import Any

import pytest

from saylau.errors import VerificationFailed
from saylau.record.revotes import RevoteLinks

T1, T2 = "11" * 32, "22" * 32


def line(
    bid: str, state: str, by: str | None = None, tag: str | None = T1, station: str = "st-1"
) -> dict[str, Any]:
    ballot: dict[str, Any] = {"ballot_id": bid}
    if tag is not None:
        ballot["revote_tag"] = tag
    return {"ballot": ballot, "state": state, "superseded_by": by, "station_id": station}


def links(*lines: dict[str, Any]) -> RevoteLinks:
    r = RevoteLinks()
    for d in lines:
        r.add(d)
    return r


def test_last_ballot_of_each_voter_counts_across_devices() -> None:
    r = links(
        line("phone-0", "superseded", "laptop-0"),
        line("laptop-0", "superseded", "phone-1"),
        line("phone-1", "cast"),
        line("phone-2", "cast", tag=T2),
        line("phone-3", "challenged", tag=T2),
        line("booth-0", "cast", tag=None),
    )
    assert r.check({"phone-0": 3, "laptop-0": 8, "phone-1": 20, "phone-2": 4}) == (2, 2)


def test_board_order_decides_which_ballot_is_last() -> None:
    r = links(line("phone-0", "superseded", "laptop-0"), line("laptop-0", "cast"))
    with pytest.raises(
        VerificationFailed, match=r"ballot laptop-0: a later ballot of the same voter .* is phone-0"
    ):
        r.check({"phone-0": 9, "laptop-0": 5})


def test_link_redirected_to_another_voter_is_caught() -> None:
    r = links(line("a", "superseded", "c"), line("b", "cast"), line("c", "cast", tag=T2))
    with pytest.raises(
        VerificationFailed, match=r"ballot a: a later ballot .* is b, but this one is superseded"
    ):
        r.check({"a": 1, "b": 2, "c": 3})


def test_untagged_ballot_superseded_by_a_tagged_one_is_caught() -> None:
    r = links(line("a", "superseded", "b", tag=None), line("b", "cast"))
    with pytest.raises(VerificationFailed, match="ballot a: untagged, but superseded by b"):
        r.check({"b": 2})


def test_untagged_links_are_counted_not_checked() -> None:
    r = links(line("a", "superseded", "b", tag=None), line("b", "cast", tag=None))
    assert r.check({}) == (0, 0) and r.untagged_links == 1


def test_tag_shared_by_two_stations_is_caught() -> None:
    r = links(line("a", "superseded", "b"), line("b", "cast", station="st-2"))
    with pytest.raises(VerificationFailed, match="shared by stations"):
        r.check({"a": 1, "b": 2})


def test_tagged_ballot_without_a_board_position_is_caught() -> None:
    with pytest.raises(VerificationFailed, match="no tagged board entry"):
        links(line("a", "cast")).check({})

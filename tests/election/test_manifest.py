from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.election.manifest import LocalizedText, Manifest, canonical_json
from saylau.errors import ScenarioError


def small_manifest_obj() -> dict[str, Any]:
    def name(t: str) -> dict[str, str]:
        return {"kk": t + " kk", "ru": t + " ru", "en": t}

    return {
        "election_id": "kz-test",
        "name": name("Test election"),
        "election_date": "2022-11-20",
        "voting_opens": "2022-11-20T07:00:00+06:00",
        "voting_closes": "2022-11-20T20:00:00+06:00",
        "contests": [
            {
                "contest_id": "president",
                "name": name("President"),
                "votes_allowed": 1,
                "selections": [
                    {"selection_id": "a", "kind": "candidate", "name": name("A")},
                    {"selection_id": "b", "kind": "candidate", "name": name("B")},
                    {"selection_id": "against-all", "kind": "against_all", "name": name("Against all")},
                ],
            }
        ],
        "ballot_styles": [{"style_id": "national", "contest_ids": ["president"]}],
        "regions": [
            {
                "region_id": "astana",
                "name": name("Astana"),
                "districts": [
                    {
                        "district_id": "astana-1",
                        "name": name("Astana 1"),
                        "stations": [
                            {"station_id": "s1", "name": name("S1"), "time_zone": "Asia/Almaty"},
                            {"station_id": "s2", "name": name("S2"), "time_zone": "Asia/Almaty"},
                        ],
                    }
                ],
            },
            {
                "region_id": "abroad",
                "name": name("Abroad"),
                "districts": [
                    {
                        "district_id": "abroad-1",
                        "name": name("Abroad 1"),
                        "stations": [
                            {
                                "station_id": "s3",
                                "name": name("Berlin"),
                                "time_zone": "Europe/Berlin",
                                "abroad": True,
                            }
                        ],
                    }
                ],
            },
        ],
    }


def test_parses_and_exposes_geography() -> None:
    m = Manifest.from_json_obj(small_manifest_obj())
    assert m.election_date == date(2022, 11, 20)
    idx = m.station_index()
    assert list(idx) == ["s1", "s2", "s3"]
    assert idx["s3"].region_id == "abroad" and idx["s3"].station.abroad
    assert m.contest("president").votes_allowed == 1
    assert m.style_for_region("astana").style_id == "national"
    assert LocalizedText.same("x").get("ru") == "x"


def test_hash_is_stable_and_independent_of_key_order() -> None:
    obj = small_manifest_obj()
    h1 = Manifest.from_json_obj(obj).manifest_hash()
    reordered = dict(reversed(list(obj.items())))
    h2 = Manifest.from_json_obj(reordered).manifest_hash()
    assert h1 == h2 and len(h1) == 32
    # the canonical bytes round-trip to the same manifest
    import json

    again = Manifest.from_json_obj(json.loads(Manifest.from_json_obj(obj).canonical_bytes()))
    assert again.manifest_hash() == h1


def _leaf_paths(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaf_paths(v, (*path, i))]
    return [path]


LEAVES = _leaf_paths(Manifest.from_json_obj(small_manifest_obj()).to_json_obj())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(LEAVES))
def test_hash_changes_when_any_leaf_changes(path: tuple[Any, ...]) -> None:
    m = Manifest.from_json_obj(small_manifest_obj())
    obj = m.to_json_obj()
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    if old is None:
        new: Any = {"kk": "n", "ru": "n", "en": "n"}
    elif isinstance(old, bool):
        new = not old
    elif isinstance(old, int):
        new = old + 1
    elif path[-1] == "time_zone":
        new = "Asia/Aqtobe" if old != "Asia/Aqtobe" else "Asia/Almaty"
    elif path[-1] in ("voting_opens",):
        new = "2022-11-20T06:00:00+06:00"
    elif path[-1] in ("voting_closes",):
        new = "2022-11-20T21:00:00+06:00"
    elif path[-1] == "election_date":
        new = "2022-11-21"
    elif path[-1] == "kind":
        new = "against_all" if old == "candidate" else "candidate"
    elif path[-1] == "format":
        return  # a single allowed value
    elif path[-2:] == ("contest_ids", 0):
        return  # must reference the one contest
    else:
        new = old + "x"
    parent[path[-1]] = new
    try:
        changed = Manifest.from_json_obj(obj)
    except ScenarioError:
        return  # the change made the manifest invalid: also refused
    assert changed.manifest_hash() != m.manifest_hash()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda o: o["contests"][0].update(votes_allowed=4), "votes_allowed"),
        (lambda o: o["contests"][0]["selections"][1].update(selection_id="a"), "duplicate selection"),
        (lambda o: o["regions"][1]["districts"][0]["stations"][0].update(station_id="s1"), "s1"),
        (lambda o: o["regions"][0]["districts"][0]["stations"][0].update(time_zone="Mars/Olympus"), "zone"),
        (lambda o: o["ballot_styles"][0].update(contest_ids=["senate"]), "unknown contest"),
        (lambda o: o.update(voting_closes="2022-11-20T06:00:00+06:00"), "before"),
        (lambda o: o.update(voting_opens="2022-11-20T07:00:00"), "UTC offset"),
        (lambda o: o.update(surprise=1), "surprise"),
        (lambda o: o.update(election_id="has space"), "election_id"),
    ],
)
def test_invalid_manifests_are_refused_with_a_reason(mutate: Any, message: str) -> None:
    obj = small_manifest_obj()
    mutate(obj)
    with pytest.raises(ScenarioError, match=message):
        Manifest.from_json_obj(obj)


def test_models_are_frozen() -> None:
    m = Manifest.from_json_obj(small_manifest_obj())
    with pytest.raises(Exception, match="frozen"):
        m.election_id = "other"  # type: ignore[misc]


def test_canonical_json_is_rfc8785() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "é"]}) == b'{"a":[1,"\xc3\xa9"],"b":1}'
    assert datetime(2022, 1, 1, tzinfo=UTC).isoformat()  # sanity for timezone-aware fields


def test_contest_specs_for_the_crypto_layer() -> None:
    from saylau.crypto import ContestSpec

    m = Manifest.from_json_obj(small_manifest_obj())
    assert m.contest_specs() == (ContestSpec("president", ("a", "b", "against-all"), 1),)
    obj = small_manifest_obj()
    obj["contests"][0]["selections"].reverse()
    assert Manifest.from_json_obj(obj).contest_specs()[0].selection_ids == ("against-all", "b", "a")

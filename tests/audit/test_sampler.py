"""The consistent sampler against the published vectors of Rivest's and Arlo's repositories."""

from __future__ import annotations

import pytest

from saylau.audit.sampler import (
    consistent_sample,
    first_ticket_number,
    next_ticket_number,
    sha256_hex,
    sha256_uniform,
    trim,
)

# Origin: ron-rivest/consistent_sampler, code/consistent_sampler.py doctests (exact strings, tolerance 0).
RIVEST = "ron-rivest/consistent_sampler code/consistent_sampler.py doctest"


def test_hash_and_uniform_vectors() -> None:
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", RIVEST
    assert sha256_uniform("abc") == (
        "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    ), RIVEST
    assert trim("0.9991234567890", 4) == "0.9991234", RIVEST


def test_first_and_next_ticket_vectors() -> None:
    seed_hash = sha256_hex("01382438112797316654")
    assert first_ticket_number("AB-130", seed_hash) == (
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    ), RIVEST
    assert next_ticket_number("0.25471") == (
        "0.642853261655004694691182528114375607701032283189922170593838029306715548381901"
    ), RIVEST
    first = "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    assert next_ticket_number(first) == (
        "0.8232357229934205790595761924514048157652891124687533667363938813600770093316"
    ), RIVEST


def test_sampler_doctest_vectors() -> None:
    draws = consistent_sample(["A#2", "B#7", "C#1", "D#4"], "314159", take=8)
    assert [t.id for t in draws] == ["D#4", "C#1", "C#1", "B#7", "A#2", "C#1", "D#4", "B#7"], RIVEST
    without = consistent_sample(["ab-1", "ab-2", "cd-1", "ef-3"], "314159", take=4, with_replacement=False)
    assert [(t.shown(9), t.id, t.generation) for t in without] == [
        ("0.317685817", "cd-1", 1),
        ("0.832984519", "ef-3", 1),
        ("0.9098039269", "ab-1", 1),
        ("0.9231549043", "ab-2", 1),
    ], RIVEST
    # USAGE_EXAMPLES.md examples 4 and 5: drop extends a sample consistently
    assert [t.id for t in consistent_sample(range(100), "41", take=5, with_replacement=False)] == [
        "73",
        "51",
        "17",
        "58",
        "38",
    ], "ron-rivest/consistent_sampler USAGE_EXAMPLES.md example 4"
    later = consistent_sample(range(100), "41", take=5, drop=5, with_replacement=False)
    assert [t.id for t in later] == ["42", "39", "20", "11", "67"], "USAGE_EXAMPLES.md example 5"


# Origin: votingworks/arlo server/tests/audit_math/snapshots/snap_test_sampler.py, "test_draw_sample 1"
# (commit 8d86156c72aad7ab2bdf896fae0357eedbed2b5b): ballots (batch, position) of a 4 × 25 manifest,
# 20 draws with replacement, ticket numbers shown to 18 digits. Exact strings, tolerance 0.
ARLO_SEED = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"
ARLO_DRAW_SAMPLE = [
    ("0.000617786129909912", ("pct 2", 3), 1),
    ("0.002991631653037245", ("pct 3", 24), 1),
    ("0.012057030610635061", ("pct 1", 25), 1),
    ("0.017930028930651931", ("pct 4", 19), 1),
    ("0.025599454926985137", ("pct 3", 15), 1),
    ("0.045351055354441163", ("pct 1", 7), 1),
    ("0.063913979803461405", ("pct 1", 8), 1),
    ("0.064553852798863609", ("pct 1", 22), 1),
    ("0.078998835671540970", ("pct 1", 20), 1),
    ("0.090240829778172783", ("pct 3", 12), 1),
    ("0.096136506157297637", ("pct 1", 20), 2),
    ("0.104280162683637014", ("pct 4", 17), 1),
    ("0.108948480696023984", ("pct 1", 25), 2),
    ("0.111195681310332785", ("pct 1", 4), 1),
    ("0.114438612046531251", ("pct 4", 3), 1),
    ("0.130457464320709301", ("pct 2", 1), 1),
    ("0.133484785501449819", ("pct 1", 12), 1),
    ("0.134519219670087860", ("pct 3", 20), 1),
    ("0.135840440920085144", ("pct 3", 10), 1),
    ("0.138772253094235762", ("pct 4", 20), 1),
]


def test_arlo_draw_sample_snapshot() -> None:
    ballots = [(f"pct {b}", k) for b in range(1, 5) for k in range(1, 26)]
    draws = consistent_sample(ballots, ARLO_SEED, take=20)
    assert [(t.shown(18), t.id, t.generation) for t in draws] == [
        (n, str(i), g) for n, i, g in ARLO_DRAW_SAMPLE
    ], "votingworks/arlo snap_test_sampler.py test_draw_sample 1"
    # Arlo's second round (test_draw_more_samples): draws 11-20 are the continuation
    assert [t.id for t in consistent_sample(ballots, ARLO_SEED, take=10, drop=10)] == [
        str(i) for _, i, _ in ARLO_DRAW_SAMPLE[10:]
    ]


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate id 'a'"):
        consistent_sample(["a", "b", "a"], "1", take=2)

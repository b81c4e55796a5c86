from __future__ import annotations

import numpy as np
import pytest

from saylau.forensics.data import StationResults
from saylau.sim.fraud import FRAUD_KINDS, inject


@pytest.mark.parametrize("kind", FRAUD_KINDS)
def test_fraud_only_touches_chosen_stations(kind: str, clean_one: StationResults) -> None:
    rng = np.random.default_rng(11)
    fraud, mask = inject(kind, clean_one, rng, 0.1, 0.8)  # type: ignore[arg-type]
    assert mask.sum() == round(0.1 * clean_one.n)
    same = ~mask
    assert np.array_equal(fraud.votes[same], clean_one.votes[same])
    assert np.array_equal(fraud.voted[same], clean_one.voted[same])
    w = clean_one.winner_index
    assert np.all(fraud.votes[:, w] >= clean_one.votes[:, w])
    assert np.all(fraud.votes >= 0)
    assert np.all(fraud.valid <= fraud.voted)
    assert fraud.national_shares()[clean_one.winner] > clean_one.national_shares()[clean_one.winner]


def test_shifting_keeps_turnout_and_valid(clean_one: StationResults) -> None:
    fraud, _ = inject("shifting", clean_one, np.random.default_rng(12), 0.5, 0.3)
    assert np.array_equal(fraud.voted, clean_one.voted)
    assert np.array_equal(fraud.valid, clean_one.valid)


def test_stuffing_arrives_late(clean_one: StationResults) -> None:
    fraud, _ = inject("stuffing", clean_one, np.random.default_rng(13), 0.2, 0.5)
    assert fraud.snapshots is not None and clean_one.snapshots is not None
    assert np.array_equal(fraud.snapshots.voted[:, :-1], clean_one.snapshots.voted[:, :-1])
    assert np.array_equal(fraud.snapshots.voted[:, -1], fraud.voted)


def test_bad_fraction() -> None:
    res = StationResults.from_arrays([100], [50], [[30, 20]], ["A", "B"])
    with pytest.raises(ValueError):
        inject("stuffing", res, np.random.default_rng(0), 1.5, 0.1)
    with pytest.raises(ValueError):
        inject("nonsense", res, np.random.default_rng(0), 0.5, 0.1)  # type: ignore[arg-type]

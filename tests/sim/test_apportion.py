import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saylau.sim.apportion import apportion, apportion_matrix


def test_largest_remainder_simple() -> None:
    assert apportion(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert apportion(7, [0.5, 0.25, 0.25]).tolist() == [3, 2, 2]  # 3.5, 1.75, 1.75
    assert apportion(0, [1, 2]).tolist() == [0, 0]


def test_caps_are_respected_and_rest_respread() -> None:
    out = apportion(100, [10, 1, 1], caps=[50, 100, 100])
    assert out.tolist() == [50, 25, 25]


def test_zero_weights_fall_back_to_capacity() -> None:
    assert apportion(3, [0, 0], caps=[1, 5]).sum() == 3


def test_errors() -> None:
    with pytest.raises(ValueError, match="caps hold 3 < total 4"):
        apportion(4, [1, 1], caps=[1, 2])
    with pytest.raises(ValueError, match="negative"):
        apportion(-1, [1])
    with pytest.raises(ValueError, match="non-negative"):
        apportion(3, [1, -1])


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 10_000),
    w=st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=40),
    extra=st.integers(0, 500),
)
def test_apportion_properties(total: int, w: list[float], extra: int) -> None:
    caps = np.array([total // len(w) + 1 + extra] * len(w))
    out = apportion(total, w, caps)
    assert out.sum() == total
    assert (out >= 0).all() and (out <= caps).all()


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.integers(0, 500), min_size=1, max_size=30), k=st.integers(1, 6), seed=st.integers(0, 99)
)
def test_matrix_margins_exact(rows: list[int], k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = np.array(rows)
    c = apportion(int(r.sum()), rng.random(k) + 0.01)
    m = apportion_matrix(r, c, rng.random((len(r), k)))
    assert (m >= 0).all()
    assert m.sum(axis=1).tolist() == r.tolist()
    assert m.sum(axis=0).tolist() == c.tolist()


def test_matrix_follows_expected() -> None:
    r = np.array([1000, 1000])
    c = np.array([1100, 900])
    e = np.array([[0.8, 0.2], [0.3, 0.7]]) * 1000
    m = apportion_matrix(r, c, e)
    assert m[0, 0] > m[1, 0] and m[1, 1] > m[0, 1]

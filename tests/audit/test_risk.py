"""Sample sizes and risks against published reference values (Arlo's BRAVO test cases) and hand maths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from saylau.audit.assertions import Assertion
from saylau.audit.estimate import bravo_asn, bravo_quantile
from saylau.audit.manifest import BallotManifest, Batch
from saylau.audit.risk import alpha_martingale, bravo_risk, comparison_risk, comparison_scale, risk_from
from saylau.errors import AuditError

# Origin of every ARLO value: votingworks/arlo, server/tests/audit_math/test_bravo.py at commit
# 8d86156c72aad7ab2bdf896fae0357eedbed2b5b (BRAVO as in Lindeman, Stark & Yates, EVT/WOTE 2012).
ARLO = "votingworks/arlo server/tests/audit_math/test_bravo.py @8d86156"


def pairwise(w: str = "w", lo: str = "l") -> Assertion:
    return Assertion(id=f"{w}>{lo}", kind="pairwise", text="", support=(w,), against=(lo,), threshold=0.5)


@pytest.mark.parametrize(
    ("reported", "loser", "expected"),
    [
        ({"w": 600, "l": 400}, "l", 119),  # Arlo "test1", alpha 0.1, tolerance 0 (integer ASN)
        ({"w": 600, "l": 200, "o": 100}, "l", 22),  # Arlo "test2": the closest pair cand1-cand2
        ({"w": 300, "l": 200, "o": 200, "x": 300}, "l", 238),  # Arlo "test6": 300/200/200 of 1000 ballots
    ],
)
def test_bravo_asn_matches_arlo(reported: dict[str, int], loser: str, expected: int) -> None:
    assert bravo_asn(pairwise("w", loser), reported, 0.1) == expected, ARLO


@pytest.mark.parametrize(
    ("p_w", "p_r", "q", "expected"),
    [
        (0.40, 0.32, 0.9, 1599),  # Arlo test_bravo_sample_sizes
        (0.36, 0.32, 0.9, 6067),
        (0.36, 0.32, 0.6, 2476),
        (0.52, 0.47, 0.9, 5657),
        (0.40, 0.32, 0.4, 409),  # Arlo test_bravo_sample_sizes_small_prob
    ],
)
def test_bravo_round_size_matches_arlo(p_w: float, p_r: float, q: float, expected: int) -> None:
    # Arlo solves a normal approximation, then checks a binomial quantile and divides by p_w + p_r;
    # we compute the stopping probability exactly from both binomials. Tolerance: 0.5% relative.
    total = 10000
    reported = {
        "w": round(p_w * total),
        "l": round(p_r * total),
        "o": total - round(p_w * total) - round(p_r * total),
    }
    got = bravo_quantile(pairwise(), reported, 0.1, q)
    assert abs(got - expected) <= 0.005 * expected, (ARLO, got, expected)


@pytest.mark.parametrize(
    ("reported", "sample", "expected"),
    [
        # Arlo test_compute_risk "test1": sample 72 for cand1, 47 for cand2 -> 0.07
        ({"w": 600, "l": 400}, {"w": 72, "l": 47}, 0.07),
        # "test6": 72 / 48 / 48 of a 300 / 200 / 200 contest -> 0.08 for both pairs
        ({"w": 300, "l": 200, "o": 200}, {"w": 72, "l": 48, "o": 48}, 0.08),
        # "test_small_third_candidate": 10000 / 9000 / 200, sample 1200 / 1000 / 10 -> 0.000561
        ({"w": 10000, "l": 9000, "o": 200}, {"w": 1200, "l": 1000, "o": 10}, 0.000561),
    ],
)
def test_bravo_risk_matches_arlo(reported: dict[str, int], sample: dict[str, int], expected: float) -> None:
    # Arlo reports 1/T at the end of the sample; losers first, then winners, makes that T the maximum.
    # Tolerance: Arlo's own, |difference| < 0.01.
    cats = [c for c in ("l", "o", "w") for _ in range(sample.get(c, 0))]
    assert abs(bravo_risk(pairwise(), reported, cats) - expected) < 0.01, ARLO


def test_bravo_supermajority_by_hand() -> None:
    # reported winner share s = 0.8 of the base, threshold 0.5: a winner ballot multiplies T by 1.6,
    # any other ballot in the base by 0.4, an invalid ballot by 1 (BRAVO paper §5).
    a = Assertion(id="sm", kind="supermajority", text="", support=("w",), against=("l",), threshold=0.5)
    cats = ["l"] * 2 + ["invalid"] * 3 + ["w"] * 10  # T is largest at the end
    expected = 1 / (1.6**10 * 0.4**2)
    assert bravo_risk(a, {"w": 800, "l": 200, "invalid": 30}, cats) == pytest.approx(expected, rel=1e-12)


def _alpha_loop(x: list[float], u: float, eta0: float, d: float) -> list[float]:
    """ALPHA (Stark 2023, eq. 8 with the truncated shrinkage of §2.5.2), written out as a plain loop."""
    mu, t, s, out = 0.5, 1.0, 0.0, []
    for i, xi in enumerate(x, start=1):
        eps = (eta0 - mu) / 2 / math.sqrt(d + i - 1)
        eta = min(u * (1 - 1e-6), max((d * eta0 + s) / (d + i - 1), mu + eps))
        t *= (xi * eta / mu + (u - xi) * (u - eta) / (u - mu)) / u
        s += xi
        out.append(t)
    return out


def test_alpha_matches_an_independent_loop() -> None:
    rng = np.random.default_rng(5)
    x = rng.choice([0.0, 0.5, 1.0], size=300, p=[0.3, 0.1, 0.6])
    got = np.exp(alpha_martingale(x, 1.0, 0.65, d=100))
    assert np.allclose(got, _alpha_loop(list(x), 1.0, 0.65, 100), rtol=1e-10)


def test_alpha_half_values_give_risk_one() -> None:
    # SHANGRLA tests/core/test_NonnegMean.py test_alpha_mart: all values 1/2 -> p-value 1
    assert risk_from(alpha_martingale(np.full(5, 0.5), 1.0, 0.6)) == 1.0


def _manifest(rows: dict[str, tuple[int, int, int]]) -> BallotManifest:
    return BallotManifest(
        election_id="e",
        options=("w", "l"),
        batches=tuple(
            Batch(
                station=s,
                region="r",
                storage="x",
                ballots=w + lo + inv,
                reported={"w": w, "l": lo, "invalid": inv},
            )
            for s, (w, lo, inv) in rows.items()
        ),
    )


def test_comparison_assorter_by_hand() -> None:
    # two batches of 100: reported 70/30 and 60/40; assorter of "w > 50% of valid": 1, 0, 1/2 (u = 1)
    m = _manifest({"a": (70, 30, 0), "b": (60, 40, 0)})
    a = Assertion(id="sm", kind="supermajority", text="", support=("w",), against=("l",), threshold=0.5)
    sc = comparison_scale(a, m)
    # P = 2, N = 200, u_bar = 1 * 2 * 100 / 200 = 1; v = 2 * 130/200 - 1 = 0.3; B0 = 1 / (2 - 0.3)
    assert (sc.u_bar, sc.v, sc.no_error) == pytest.approx((1.0, 0.3, 1 / 1.7))
    # batch "a" hand-counted 50/50: overstatement 20, B = (1 - (2/200) * 20 / 1) / 1.7 = 0.8 / 1.7
    hand = {"a": {"w": 50, "l": 50, "invalid": 0}, "b": {"w": 60, "l": 40, "invalid": 0}}
    # every sampled protocol right: B = 1/1.7, u_B = 2/1.7, eta = 0.5 + 0.8 (u_B - 0.5); each draw multiplies
    # T by (B eta / 0.5 + (u_B - B)(u_B - eta) / (u_B - 0.5)) / u_B = 1.1411765 (exact: 1.14117647…), 30 draws
    risk_ok = comparison_risk(a, m, ["b"] * 30, hand)
    risk_bad = comparison_risk(a, m, ["a"] * 30, hand)
    assert risk_ok == pytest.approx(1 / (97 / 85) ** 30, rel=1e-9)
    assert risk_ok < 0.05 < risk_bad
    with pytest.raises(AuditError, match="finds 101 ballots"):
        comparison_risk(a, m, ["a"], {"a": {"w": 51, "l": 50, "invalid": 0}})

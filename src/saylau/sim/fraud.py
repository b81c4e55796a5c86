"""Inject known fraud into clean station results, so the forensic tests' detection power can be measured.

Three mechanisms, each applied to a random ``fraction`` of stations at a given ``intensity``:

* ballot stuffing — a share of the registered non-voters is added as ballots for the winner, in the
  last reporting hours (the mechanism of Klimek et al., PNAS 2012, "incremental fraud");
* vote shifting — a share of every other option's votes is rewritten to the winner (turnout unchanged);
* protocol rewriting — the turnout and the winner's share are set to whole percentages (rounded up),
  the human preference for round numbers that Kobak, Shpilkin & Pshenichnikov (AoAS 2016) detect.

* fabricated protocols — the winner's count and the ballots issued are written as invented round
  numbers (multiples of 50 with probability ``intensity``, else of 10), the digit signature that the
  last-digit (Beber & Scacco 2012) and second-digit (Mebane) tests look for.

Every function returns a new :class:`StationResults` and the boolean mask of altered stations.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from saylau.forensics.data import IntArray, StationResults, TurnoutSnapshots

__all__ = [
    "FRAUD_KINDS",
    "FraudKind",
    "fabricate_counts",
    "inject",
    "round_protocols",
    "shift_votes",
    "stuff_ballots",
]

FraudKind = Literal["stuffing", "shifting", "rounding", "fabrication"]
BoolArray = npt.NDArray[np.bool_]
FRAUD_KINDS: tuple[FraudKind, ...] = ("stuffing", "shifting", "rounding", "fabrication")


def _pick(rng: np.random.Generator, n: int, fraction: float) -> BoolArray:
    """A random mask selecting ``round(fraction * n)`` stations."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    mask = np.zeros(n, dtype=np.bool_)
    mask[rng.choice(n, size=round(fraction * n), replace=False)] = True
    return mask


def _add_late(results: StationResults, extra: IntArray, last_reports: int = 1) -> TurnoutSnapshots | None:
    """Snapshots with ``extra`` ballots arriving in the last ``last_reports`` reporting intervals."""
    snaps = results.snapshots
    if snaps is None:
        return None
    pos = {s: i for i, s in enumerate(results.stations.tolist())}
    rows = np.array([pos[s] for s in snaps.stations.tolist()], dtype=np.int64)
    add = extra[rows]
    voted = snaps.voted.copy()
    steps = min(last_reports, voted.shape[1])
    for j in range(steps):
        col = voted.shape[1] - steps + j
        voted[:, col] += (add * (j + 1)) // steps
    return TurnoutSnapshots(snaps.stations, snaps.hours, voted)


def stuff_ballots(
    results: StationResults, rng: np.random.Generator, fraction: float, intensity: float
) -> tuple[StationResults, BoolArray]:
    """Add ``intensity`` × (registered − voted) × U(0.5, 1) ballots for the winner at chosen stations."""
    mask = _pick(rng, results.n, fraction)
    room = np.maximum(results.registered - results.voted, 0)
    extra = np.where(mask, np.floor(room * intensity * rng.uniform(0.5, 1.0, results.n)), 0).astype(np.int64)
    votes = results.votes.copy()
    votes[:, results.winner_index] += extra
    out = results.with_counts(results.voted + extra, votes)
    snaps = _add_late(results, extra)
    if snaps is not None:
        out = StationResults(
            out.stations, out.regions, out.registered, out.voted, out.votes, out.options, snaps
        )
    return out, mask


def shift_votes(
    results: StationResults, rng: np.random.Generator, fraction: float, intensity: float
) -> tuple[StationResults, BoolArray]:
    """Move a Binomial(votes, ``intensity``) part of every other option's votes to the winner."""
    mask = _pick(rng, results.n, fraction)
    w = results.winner_index
    moved = rng.binomial(results.votes, intensity) * mask[:, None]
    moved[:, w] = 0
    votes = results.votes - moved
    votes[:, w] += moved.sum(axis=1)
    return results.with_counts(results.voted.copy(), votes), mask


def round_protocols(
    results: StationResults, rng: np.random.Generator, fraction: float, intensity: float = 1.0
) -> tuple[StationResults, BoolArray]:
    """Rewrite turnout and the winner's share to whole percentages at the chosen stations.

    The turnout is raised to the next whole percentage (the extra ballots go to the winner); then the
    winner's share of valid votes is raised to the next whole percentage, taking the votes from the
    other options in proportion. ``intensity`` is the probability that each altered station also has
    its winner's share rewritten (1.0: both figures).
    """
    mask = _pick(rng, results.n, fraction)
    reg = results.registered
    w = results.winner_index
    target_t = np.ceil(100.0 * results.voted / reg - 1e-9)
    new_voted = np.minimum(np.rint(target_t * reg / 100.0).astype(np.int64), reg)
    new_voted = np.where(mask, np.maximum(new_voted, results.voted), results.voted)
    votes = results.votes.copy()
    votes[:, w] += new_voted - results.voted
    valid = votes.sum(axis=1)
    share_mask = mask & (rng.uniform(size=results.n) < intensity) & (valid > 0)
    target_s = np.ceil(100.0 * votes[:, w] / np.maximum(valid, 1) - 1e-9)
    new_w = np.minimum(np.rint(target_s * valid / 100.0).astype(np.int64), valid)
    need = np.where(share_mask, np.maximum(new_w - votes[:, w], 0), 0)
    others = votes.copy()
    others[:, w] = 0
    pool = others.sum(axis=1)
    need = np.minimum(need, pool)
    take = np.floor(others * (need / np.maximum(pool, 1))[:, None]).astype(np.int64)
    short = need - take.sum(axis=1)
    # settle the remainder from the largest other option, which always has enough left
    largest = np.argmax(others - take, axis=1)
    take[np.arange(results.n), largest] += short
    votes = votes - take
    votes[:, w] += take.sum(axis=1)
    return results.with_counts(new_voted, votes), mask


def fabricate_counts(
    results: StationResults, rng: np.random.Generator, fraction: float, intensity: float = 1.0
) -> tuple[StationResults, BoolArray]:
    """Write the winner's votes and the ballots issued as round numbers at the chosen stations.

    Each altered count is rounded up to a multiple of 50 (probability ``intensity``) or of 10; the
    difference is added to the winner, and the ballots issued never fall below the valid votes nor
    exceed the registered voters.
    """
    mask = _pick(rng, results.n, fraction)
    w = results.winner_index
    step = np.where(rng.uniform(size=results.n) < intensity, 50, 10)
    votes = results.votes.copy()
    new_w = -(-votes[:, w] // step) * step
    votes[:, w] = np.where(mask, new_w, votes[:, w])
    valid = votes.sum(axis=1)
    ballots = np.maximum(results.voted + (valid - results.valid), valid)
    new_v = np.minimum(-(-ballots // step) * step, results.registered)
    new_v = np.where(mask, np.maximum(new_v, valid), results.voted)
    return results.with_counts(new_v, votes), mask


def inject(
    kind: FraudKind, results: StationResults, rng: np.random.Generator, fraction: float, intensity: float
) -> tuple[StationResults, BoolArray]:
    """Apply one fraud mechanism by name."""
    if kind == "stuffing":
        return stuff_ballots(results, rng, fraction, intensity)
    if kind == "shifting":
        return shift_votes(results, rng, fraction, intensity)
    if kind == "rounding":
        return round_protocols(results, rng, fraction, intensity)
    if kind == "fabrication":
        return fabricate_counts(results, rng, fraction, intensity)
    raise ValueError(f"unknown fraud kind {kind!r}")

from __future__ import annotations

import numpy as np
import pytest

from saylau.forensics.data import StationResults
from saylau.forensics.synthetic import clean_election


@pytest.fixture(scope="session")
def clean_small() -> list[StationResults]:
    """Ten clean 3,000-station elections from the generic generator (seeded)."""
    rng = np.random.default_rng(20221120)
    return [clean_election(rng, n_stations=3000) for _ in range(10)]


@pytest.fixture(scope="session")
def clean_one(clean_small: list[StationResults]) -> StationResults:
    return clean_small[0]

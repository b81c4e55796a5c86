"""The group wrapper is safe to use from several threads (cffi releases the GIL during library calls)."""

from concurrent.futures import ThreadPoolExecutor

from saylau.crypto import ElectionParameters, encrypt_ballot, verify_ballot
from saylau.crypto.hazmat.group import Point, g_pow


def test_parallel_encoding_and_verification(params: ElectionParameters) -> None:
    ballots = [encrypt_ballot(params, f"th-{i}", "s", {"president": [f"cand-{i % 6}"]})[0] for i in range(8)]

    def work(i: int) -> list[str]:
        verify_ballot(params, ballots[i % len(ballots)])
        points = [g_pow(i * 1000 + j) for j in range(1, 200)]
        return [p.hex() for p in points if Point.from_hex(p.hex()) == p]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(8)))
    for i, hexes in enumerate(results):
        assert hexes == [g_pow(i * 1000 + j).hex() for j in range(1, 200)]

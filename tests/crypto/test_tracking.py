import pytest

from saylau.crypto import (
    DeviceChain,
    ElectionParameters,
    EncryptedBallot,
    encrypt_ballot,
    verify_device_chain,
)
from saylau.errors import InvalidBallot


@pytest.fixture(scope="module")
def chain(params: ElectionParameters, base_hash: bytes) -> tuple[list[EncryptedBallot], bytes]:
    device = DeviceChain("station-7/device-1", base_hash)
    ballots = [encrypt_ballot(params, f"c-{i}", "s", {"president": ["cand-0"]}, device)[0] for i in range(4)]
    return ballots, device.close()


def test_honest_chain_verifies(chain, base_hash: bytes) -> None:
    ballots, closing = chain
    verify_device_chain("station-7/device-1", base_hash, ballots, closing)


def test_empty_chain(base_hash: bytes) -> None:
    device = DeviceChain("d", base_hash)
    verify_device_chain("d", base_hash, [], device.close())
    with pytest.raises(ValueError):
        device.next(b"x" * 32)


@pytest.mark.parametrize(
    ("name", "mutate", "match"),
    [
        ("drop last", lambda b: b[:-1], "closing hash"),
        ("drop first", lambda b: b[1:], "ballot c-1"),
        ("drop middle", lambda b: [b[0], *b[2:]], "ballot c-2"),
        ("reorder", lambda b: [b[0], b[2], b[1], b[3]], "ballot c-2"),
        ("duplicate", lambda b: [*b[:2], b[1], *b[2:]], "ballot c-1"),
    ],
)
def test_chain_catches_changes(chain, base_hash: bytes, name: str, mutate, match: str) -> None:
    ballots, closing = chain
    with pytest.raises(InvalidBallot, match=match):
        verify_device_chain("station-7/device-1", base_hash, mutate(ballots), closing)


def test_chain_catches_wrong_device_and_added_ballot(chain, params, base_hash: bytes) -> None:
    ballots, closing = chain
    with pytest.raises(InvalidBallot):
        verify_device_chain("station-7/device-2", base_hash, ballots, closing)
    extra, _ = encrypt_ballot(params, "c-extra", "s", {"president": ["cand-1"]})
    with pytest.raises(InvalidBallot):
        verify_device_chain("station-7/device-1", base_hash, [*ballots, extra], closing)


def test_resumed_chain_continues(params, base_hash: bytes) -> None:
    device = DeviceChain("d2", base_hash)
    first, _ = encrypt_ballot(params, "r-0", "s", {"president": ["cand-0"]}, device)
    resumed = DeviceChain.resume("d2", base_hash, device.last_code, device.count)
    second, _ = encrypt_ballot(params, "r-1", "s", {"president": ["cand-0"]}, resumed)
    verify_device_chain("d2", base_hash, [first, second], resumed.close())

import pytest

from saylau.crypto.hazmat.dlog import BABY_STEPS, discrete_log
from saylau.crypto.hazmat.group import IDENTITY, G, g_pow
from saylau.errors import DecryptionError

K = g_pow(0xDEC0DE)


@pytest.mark.parametrize("value", [0, 1, 2, BABY_STEPS - 1, BABY_STEPS, 123_457, 8_300_000, 12_000_000])
def test_discrete_log_finds_values(value: int) -> None:
    assert discrete_log(K**value, K, 12_000_000) == value


def test_discrete_log_with_generator_base() -> None:
    assert discrete_log(g_pow(8_299_999), G, 8_300_000) == 8_299_999
    assert discrete_log(IDENTITY, G, 0) == 0


def test_discrete_log_refuses_out_of_range() -> None:
    with pytest.raises(DecryptionError):
        discrete_log(K**101, K, 100)
    with pytest.raises(DecryptionError):
        discrete_log(g_pow(5), K, 10_000)
    with pytest.raises(ValueError):
        discrete_log(K, IDENTITY, 5)

"""The executor interface: every form runs every item once and reports it with its index."""

from __future__ import annotations

import pytest

from saylau.parallel import ProcessExecutor, SerialExecutor, ThreadExecutor, make_executor
from saylau.parallel.dask import DaskExecutor


def square(x: int) -> int:
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def _run(executor, items, window=None):
    with executor:
        return sorted(executor.imap_unordered(square, items, window))


def test_serial_runs_in_order() -> None:
    assert list(SerialExecutor().imap_unordered(square, [3, 1, 2])) == [(0, 9), (1, 1), (2, 4)]


@pytest.mark.parametrize("window", [1, 3, None])
def test_process_pool_gives_every_result_with_its_index(window) -> None:
    items = list(range(10))
    assert _run(ProcessExecutor(2), iter(items), window) == [(i, i * i) for i in items]


def test_local_cluster_gives_the_same_results() -> None:
    items = list(range(7))
    got = _run(DaskExecutor(None, workers=1, processes=False), items, window=2)
    assert got == [(i, i * i) for i in items]


def test_errors_reach_the_caller() -> None:
    with ProcessExecutor(2) as ex, pytest.raises(ValueError, match="three"):
        list(ex.imap_unordered(fail_on_three, range(6)))


def test_make_executor_chooses_by_options() -> None:
    assert isinstance(make_executor(1), SerialExecutor)
    assert isinstance(make_executor(2), ProcessExecutor)
    with pytest.raises(ValueError, match="not both"):
        make_executor(2, scheduler="tcp://127.0.0.1:1", local_cluster=True)
    with pytest.raises(ValueError, match="at least 1"):
        make_executor(0)


def test_empty_input() -> None:
    assert _run(ProcessExecutor(1), []) == []
    assert _run(DaskExecutor(None, workers=1, processes=False), []) == []


@pytest.mark.parametrize(
    "make",
    [SerialExecutor, lambda: ThreadExecutor(2), lambda: ProcessExecutor(1),
     lambda: DaskExecutor(None, workers=1, processes=False)],
    ids=["serial", "threads", "processes", "dask"],
)
def test_submit_gives_a_future_with_the_result_or_the_error(make) -> None:
    with make() as ex:
        assert ex.submit(square, 7).result(60) == 49
        with pytest.raises(ValueError, match="three"):
            ex.submit(fail_on_three, 3).result(60)
        assert sorted(i for _, i in ex.imap_unordered(square, [1, 2])) == [1, 4]

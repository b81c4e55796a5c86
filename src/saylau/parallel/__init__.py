"""saylau.parallel — one executor interface for all parallel work.

Work is a picklable top-level function applied to independent items (in saylau: one polling station,
or a batch of tally scopes), so the same call runs inline (:class:`SerialExecutor`), in a local
process pool (:class:`ProcessExecutor`, the default) or on a Dask ``distributed`` cluster
(:class:`DaskExecutor`: ``--scheduler ADDRESS``, or a ``LocalCluster`` on this machine). Results come
back with their item's index, in completion order (``imap_unordered``), or one task's in a future
(``submit``, for the server's proof verification), and callers combine them in item order, so the
output never depends on the executor. See ``docs/scale.md``.
"""

from saylau.parallel.executor import (
    Executor,
    ProcessExecutor,
    SerialExecutor,
    ThreadExecutor,
    make_executor,
)

__all__ = ["Executor", "ProcessExecutor", "SerialExecutor", "ThreadExecutor", "make_executor"]

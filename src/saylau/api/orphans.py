"""Verification processes exit with the server, even when it is killed with SIGKILL.

The verification pool's forkserver is a child of the server and its workers are children of the
forkserver; each holds pipes of the others, so neither sees end-of-file when the server dies without
shutting the pool down, and before this module they lived on as orphans, holding memory and the
database file's directory. Now:

* the forkserver imports this module first (``set_forkserver_preload``): if the server has marked
  itself in ``$SAYLAU_SERVER_PID`` and is the forkserver's parent, a watchdog thread ends the
  forkserver when the server exits;
* each worker's initializer (:func:`exit_with_server`) asks Linux to kill it when its parent (the
  forkserver) dies (``PR_SET_PDEATHSIG``) and starts the same watchdog on the server itself.

The watchdog waits on a pidfd (Linux ≥ 5.3: no polling, no pid reuse); elsewhere it checks the parent
once a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time

__all__ = ["SERVER_PID_ENV", "exit_with_server", "watch"]

SERVER_PID_ENV = "SAYLAU_SERVER_PID"
_PR_SET_PDEATHSIG = 1


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or too old a kernel: poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            if os.getppid() == 1 and pid != 1:
                return
            time.sleep(1.0)
    else:
        select.select([fd], [], [])
        os.close(fd)


def watch(pid: int) -> None:
    """End this process (``os._exit``) as soon as process ``pid`` exits (a daemon thread waits)."""

    def run() -> None:
        _wait_for_exit(pid)
        os._exit(0)

    threading.Thread(target=run, name=f"saylau-exit-with-{pid}", daemon=True).start()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def exit_with_server(server_pid: int) -> None:
    """Worker initializer: die with the parent (SIGKILL from the kernel) and with the server."""
    _die_with_parent()
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)
    watch(server_pid)


def _forkserver_guard() -> None:
    """In the forkserver (its parent is the marked server): exit when the server does."""
    marked = os.environ.get(SERVER_PID_ENV, "")
    if marked.isdigit() and int(marked) == os.getppid():
        watch(int(marked))


_forkserver_guard()

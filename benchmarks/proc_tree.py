"""Run a command and measure its whole process tree: wall time, CPU seconds, peak RSS (summed and largest).

A verifier's or a simulation's workers are not always its reaped children (a forkserver's pool, a Dask
LocalCluster's nanny processes), so ``getrusage`` misses them: this samples every process of the tree
with psutil (every ``interval`` seconds) and keeps each process's last CPU times and the peaks of the
tree's summed RSS and of its largest process's.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil


@dataclass
class TreeFigures:
    """What one command cost."""

    wall_s: float
    cpu_s: float  # user + system, every process of the tree
    root_cpu_s: float  # the command's own process (its serial part)
    peak_rss_sum_mb: float
    peak_rss_max_mb: float
    processes: int
    returncode: int
    stdout: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (without the output)."""
        d = asdict(self)
        del d["stdout"]
        return d


def run_measured(cmd: list[str], interval: float = 0.2, env: dict[str, str] | None = None) -> TreeFigures:
    """Run ``cmd`` to its end; its figures (the caller checks ``returncode``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    root = psutil.Process(proc.pid)
    cpu: dict[int, float] = {}
    peak_sum = peak_max = 0.0
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else ""))
    reader.start()
    status, rusage_cpu = None, 0.0
    while status is None:
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:  # reaped: its rusage counts its own reaped descendants too
            status, rusage_cpu = os.waitstatus_to_exitcode(st), ru.ru_utime + ru.ru_stime
            break
        total = 0.0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                with p.oneshot():
                    rss = p.memory_info().rss / 2**20
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            total += rss
            peak_max = max(peak_max, rss)
        peak_sum = max(peak_sum, total)
        time.sleep(interval)
    reader.join()
    wall = time.perf_counter() - t0
    # sampling misses each process's last interval; the root's rusage misses unreaped grandchildren
    cpu_s = max(sum(cpu.values()), rusage_cpu)
    text = out[0] if out else ""
    return TreeFigures(wall, cpu_s, cpu.get(proc.pid, 0.0), peak_sum, peak_max, len(cpu), int(status), text)

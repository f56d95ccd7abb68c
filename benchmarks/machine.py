"""The machine the benchmark shares (2 cores, with whatever else runs): CPU accounting from /proc.

Who used the CPU during a wrk run (the server's processes, wrk, everything else), whether the
machine is quiet enough to start, and a fixed pure-Python loop that gives the machine's speed.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import Server, admin_query, log, pgrep


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user/nice
    return total - idle, total


def busy_percent(before: tuple[int, int], after: tuple[int, int], excluded_jiffies: int = 0) -> float:
    """The busy share (%) of all CPUs between two `cpu_jiffies()` readings, less `excluded_jiffies`."""
    busy = after[0] - before[0] - excluded_jiffies
    return max(0.0, busy / max(1, after[1] - before[1]) * 100)


def process_jiffies(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def server_pids(server: Server) -> set[int]:
    """The gunicorn master and workers, the PostgreSQL backends connected to the bench database, and
    the Redis server (the throttles' counters live there)."""
    pids = {server.process.pid, *pgrep("-g", str(server.process.pid)), *pgrep("-x", "redis-server")}
    rows = admin_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (server.db_name,)
    )
    pids.update(row[0] for row in rows)
    return pids


def worker_pids(server: Server) -> list[int]:
    """The gunicorn workers: the master's children."""
    return pgrep("-P", str(server.process.pid))


@contextmanager
def machine_cpu(server: Server) -> Iterator[dict[str, float]]:
    """During the block: the share of the whole machine's CPU (all cores) used by processes other
    than ours (wrk, a child: RUSAGE_CHILDREN; gunicorn, the PostgreSQL backends of the bench
    database and Redis), and the busiest gunicorn worker's share of all the workers' CPU."""
    figures: dict[str, float] = {"foreign_pct": 0.0, "busiest_worker_share": 0.0, "server_cpu_ms": 0.0}
    pids = server_pids(server)
    ours_before = {pid: process_jiffies(pid) for pid in pids}
    workers = worker_pids(server)
    workers_before = {pid: process_jiffies(pid) for pid in workers}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = cpu_jiffies()
    yield figures
    machine_after = cpu_jiffies()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    pids |= server_pids(server)
    ours = sum(max(0, process_jiffies(pid) - ours_before.get(pid, 0)) for pid in pids)
    hertz = os.sysconf("SC_CLK_TCK")
    figures["server_cpu_ms"] = ours / hertz * 1000
    ours += round(
        (children_after.ru_utime + children_after.ru_stime - children_before.ru_utime - children_before.ru_stime)
        * hertz
    )
    figures["foreign_pct"] = busy_percent(machine_before, machine_after, excluded_jiffies=ours)
    per_worker = [max(0, process_jiffies(pid) - workers_before[pid]) for pid in workers]
    if sum(per_worker):
        figures["busiest_worker_share"] = max(per_worker) / sum(per_worker)


def reference_loop_seconds(repeats: int = 3) -> float:
    """CPU seconds of a fixed pure-Python loop (best of `repeats`): the machine's speed, so that
    figures from different machines (or one machine on a slow day) can be compared."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for number in range(10_000_000):
            total += number
        best = min(best, time.process_time() - started)
    return best


def wait_for_quiet_machine(max_wait: float, busy_below: float = 25.0) -> float:
    """Wait up to `max_wait` seconds for the machine's CPU to be mostly idle; return the last busy %."""
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_jiffies()
        time.sleep(2)
        busy = busy_percent(before, cpu_jiffies())
        if busy < busy_below or time.monotonic() >= deadline:
            return busy
        log(f"the machine is {busy:.0f}% busy with other work; waiting for it to calm down (--wait-idle)")

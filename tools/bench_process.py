"""Measuring a child process as `make bench` does: wall time from its start to its exit,
the largest single process of its tree (wait4 rusage), the sampled RSS and PSS summed over
its process tree, and the CPU used meanwhile by everything else on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import PROJECT_ROOT

MiB = 1024 * 1024


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields start after the last ")".
        parent = int(stat[stat.rfind(")") + 2 :].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS shares each page among the processes mapping it, so the
    sum over a tree of forked workers counts the model once."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


class TreeMemorySampler(threading.Thread):
    """Samples the summed RSS and PSS of all the descendants of a process."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.samples: list[tuple[float, int]] = []  # (time.time(), summed RSS)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree = _children_by_parent()
            # The root is the launcher: only what it started counts.
            pids, pending = [], list(tree.get(self.pid, []))
            while pending:
                pid = pending.pop()
                pids.append(pid)
                pending += tree.get(pid, [])
            sizes = [_memory_of(pid) for pid in pids]
            self.samples.append((time.time(), sum(s[0] for s in sizes)))
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class ChildRun:
    wall_seconds: float
    started_at: float  # time.time() when the process was started
    max_process_rss: int  # bytes: the largest single process of the tree (getrusage)
    tree_rss: int  # bytes: peak of the sampled sum over the tree
    tree_pss: int
    processes: int
    returncode: int
    log: Path
    cpu_seconds: float  # user + system of the tree (wait4)
    other_cores: float  # CPU used meanwhile by everything else on the machine, in cores
    samples: list[tuple[float, int]]

    def peak_rss_between(self, start: float, end: float) -> int:
        return max((rss for at, rss in self.samples if start <= at <= end), default=0)


def _busy_seconds() -> float:
    """CPU time spent by the whole machine so far (every core, all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# Starts the measured command and reports its own wait4 rusage. The bench process is not
# the direct parent because ru_maxrss keeps the high-water mark of the process before exec,
# and a child forked from the bench (which has loaded Dagster, DuckDB and a corpus) would
# start from the bench's size; this launcher imports only the standard library (-S).
LAUNCHER = """
import json, os, subprocess, sys, time
started_at, start = time.time(), time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump({"started_at": started_at, "wall_seconds": wall, "maxrss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "returncode": os.waitstatus_to_exitcode(status)}, report)
"""


def run_child(argv: Sequence[str], env: dict[str, str], log: Path) -> ChildRun:
    """Run a command to completion and measure it, workers included: wall time from its
    start to its exit, ru_maxrss of its wait4 rusage (the largest single process among it
    and the descendants it reaped), and the sampled sum over its process tree."""
    report = log.with_suffix(".rusage.json")
    busy_before = _busy_seconds()
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        sampler = TreeMemorySampler(launcher.pid)
        sampler.start()
        launcher.wait()
        sampler.stop()
    busy = _busy_seconds() - busy_before
    measured = json.loads(report.read_text(encoding="utf-8"))
    wall = max(measured["wall_seconds"], 1e-9)
    return ChildRun(
        wall_seconds=measured["wall_seconds"],
        started_at=measured["started_at"],
        max_process_rss=measured["maxrss_kib"] * 1024,
        tree_rss=sampler.peak_rss,
        tree_pss=sampler.peak_pss,
        processes=sampler.peak_processes,
        returncode=measured["returncode"],
        log=log,
        cpu_seconds=measured["cpu_seconds"],
        other_cores=max(0.0, busy - measured["cpu_seconds"]) / wall,
        samples=sampler.samples,
    )

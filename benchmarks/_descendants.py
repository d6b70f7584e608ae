"""Peak memory and CPU time of a process's descendants (workers, a fork server and its children), from /proc.

A reader's worker processes may be forked, started as subprocesses, or forked by a fork
server that is itself a child: all are descendants of the reading process. Their peak
resident memory (``VmHWM`` in ``/proc/<pid>/status``) must be read while they live, so
the benchmark reads it twice: the driver samples the contender's descendants while it
runs (catching processes that end during the read), and the contender reads its own
descendants after the read, before it exits (workers idle for a while after a read).
Processes are keyed by pid and start time, so a reused pid is not mistaken for another.

Linux only; where ``/proc/<pid>/task/<tid>/children`` is missing (a kernel without
``CONFIG_PROC_CHILDREN``) the tree comes from one walk of ``/proc`` by parent pid.

Examples
--------
>>> import os, subprocess, sys
>>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
>>> peaks = descendant_peaks(os.getpid())
>>> [p["pid"] for p in peaks.values()] == [child.pid] and peaks[next(iter(peaks))]["peak_mb"] > 0
True
>>> child.kill(); child.wait() != 0
True
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

Key = tuple[int, int]  # (pid, start time in clock ticks since boot)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = text.rsplit(b")", 1)[1].split()  # the command name may hold spaces and ")"
    return int(fields[1]), int(fields[19])


#: Whether this kernel lists each thread's children (CONFIG_PROC_CHILDREN).
CHILDREN_FILES = Path(f"/proc/self/task/{os.getpid()}/children").exists()


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a process may fork from any thread)."""
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(k) for k in (task / "children").read_text().split()]
    except OSError:  # gone meanwhile
        pass
    return kids


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of ``pid`` (children, grandchildren, ...)."""
    if CHILDREN_FILES:
        children = _children
    else:
        parents: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
                parents.setdefault(stat[0], []).append(int(entry.name))

        def children(parent: int) -> list[int]:
            return parents.get(parent, [])

    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def _peak_mb(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None  # a zombie has no memory lines


def _command(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode(errors="replace") for w in words if w)[:120]


def descendant_peaks(pid: int) -> dict[str, dict]:
    """``{"<pid>:<start>": {"pid", "command", "peak_mb"}}`` for the live descendants of ``pid``."""
    peaks: dict[str, dict] = {}
    for kid in descendants(pid):
        stat, peak = _stat(kid), _peak_mb(kid)
        if stat is not None and peak is not None:
            peaks[f"{kid}:{stat[1]}"] = {"pid": kid, "command": _command(kid), "peak_mb": peak}
    return peaks


_TICKS = os.sysconf("SC_CLK_TCK")


def descendant_cpu(pid: int) -> dict[str, float]:
    """``{"<pid>:<start>": seconds}``: the CPU time (user + system) each live descendant of
    ``pid`` has used so far. The difference of two readings is what they used between.

    Examples
    --------
    >>> import os
    >>> descendant_cpu(os.getpid()) == {} or all(s >= 0 for s in descendant_cpu(os.getpid()).values())
    True
    """
    used: dict[str, float] = {}
    for kid in descendants(pid):
        try:
            fields = Path(f"/proc/{kid}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        used[f"{kid}:{int(fields[19])}"] = (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def merge_peaks(*samples: dict[str, dict]) -> dict[str, dict]:
    """The union of several readings, each process at its highest ``peak_mb``."""
    merged: dict[str, dict] = {}
    for sample in samples:
        for key, item in sample.items():
            if key not in merged or item["peak_mb"] > merged[key]["peak_mb"]:
                merged[key] = item
    return merged


class PeakSampler:
    """Sample the descendants of ``pid`` every ``interval`` seconds in a thread, until ``stop()``.

    Examples
    --------
    >>> import os
    >>> sampler = PeakSampler(os.getpid(), interval=0.01)
    >>> sampler.stop()
    {}
    """

    def __init__(self, pid: int, *, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peaks: dict[str, dict] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.peaks = merge_peaks(self.peaks, descendant_peaks(self.pid))
            if self._done.wait(self.interval):
                return

    def stop(self) -> dict[str, dict]:
        """Stop sampling; the peaks seen, keyed as :func:`descendant_peaks`."""
        self._done.set()
        self._thread.join()
        return self.peaks

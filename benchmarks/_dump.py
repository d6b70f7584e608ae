"""The large synthetic dump the analysis and browser benchmarks share, made once and cached."""

from __future__ import annotations

import time
from pathlib import Path

import ftkit
from ftkit.synth import write_dump

OUT = Path(__file__).resolve().parent / "out"


def cached_dump(jobs: int, seed: int) -> Path:
    """``benchmarks/out/jobs-<jobs>-seed<seed>.ndjson``, written by ``ftkit.synth`` if missing."""
    OUT.mkdir(parents=True, exist_ok=True)
    dump = OUT / f"jobs-{jobs}-seed{seed}.ndjson"
    if not dump.exists():
        start = time.perf_counter()
        write_dump(dump, jobs, seed=seed)
        print(f"wrote {dump} in {time.perf_counter() - start:.1f} s")
    return dump


def read_with_frames(dump: Path, *, note: str = "") -> ftkit.JobSet:
    """Read the dump and build its four frames (untimed by the callers), saying how long it took."""
    start = time.perf_counter()
    js = ftkit.read_jobs(dump)
    frames = {name: getattr(js, name) for name in ("jobs", "checkpoints", "events", "targets")}
    print(
        f"read {len(js):,} jobs and built the frames in {time.perf_counter() - start:.1f} s "
        f"({frames['checkpoints'].height:,} checkpoints, {frames['events'].height:,} events{note})"
    )
    return js

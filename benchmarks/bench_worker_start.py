"""Time cold and warm reads of one dump under several reader settings, side by side.

Made to tune how workers start and when they are used (``MIN_PARALLEL_BYTES``,
``MIN_CHUNK_BYTES``) and to compare with another checkout of ftkit in the same run::

    python benchmarks/bench_worker_start.py DUMP --repeat 3 \\
        --variant old=/work/main --variant new=. --variant new-4mb=.:4:2 --variant polars=polars

A variant is ``NAME=CHECKOUT[:MIN_PARALLEL_MB[:MIN_CHUNK_MB[:WORKERS[:START]]]]``
(``WORKERS`` sets ``FTKIT_WORKERS``, ``START`` sets ``ftkit.read.processes.START``: fork,
forkserver or subprocess; empty fields keep the defaults), or ``NAME=polars`` for ``pl.read_ndjson`` with an explicit
schema into the same two frames (``benchmarks/bench_read.py``). Each run of a variant
is a fresh Python process; imports are excluded from the time. A run reads the dump
and builds the ``jobs`` and ``checkpoints`` frames (cold: workers started by this read),
then does it again (warm: the same workers). The runs go round-robin over the variants,
so that a busy machine slows them alike; the medians and ranges are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, os, sys, time
checkout, min_parallel, min_chunk, start, path = sys.argv[1:6]
if checkout == "polars":
    sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
    import bench_read, polars
    from pathlib import Path
    times = []
    for _ in range(2):
        start = time.perf_counter()
        bench_read.run_polars(Path(path), explicit=True)
        times.append(time.perf_counter() - start)
    print(json.dumps(times))
    raise SystemExit
# this checkout's ftkit, not the one of the current directory ("-c" puts it first on the path)
sys.path.insert(0, os.path.abspath(checkout))
import ftkit
if not os.path.abspath(ftkit.__file__).startswith(os.path.join(os.path.abspath(checkout), "")):
    sys.exit(f"imported {ftkit.__file__}, not the checkout {checkout}")
try:
    from ftkit.read import chunks, reader
    settings = (reader, chunks)
except ImportError:  # a checkout from before the read package
    import ftkit.parallel as parallel
    settings = (parallel, parallel)
if start != "-":
    from ftkit.read import processes
    processes.START = start
if min_parallel != "-":
    settings[0].MIN_PARALLEL_BYTES = int(float(min_parallel) * (1 << 20))
if min_chunk != "-":
    settings[1].MIN_CHUNK_BYTES = int(float(min_chunk) * (1 << 20))
times = []
for _ in range(2):
    start = time.perf_counter()
    js = ftkit.read_jobs(path)
    js.jobs, js.checkpoints
    times.append(time.perf_counter() - start)
    del js
print(json.dumps(times))
"""


def _parse(variant: str) -> tuple[str, str, str, str, str | None, str]:
    name, _, spec = variant.partition("=")
    parts = spec.split(":") + ["", "", "", ""]
    checkout, min_parallel, min_chunk, workers, start = parts[0], parts[1] or "-", parts[2] or "-", parts[3] or None, parts[4] or "-"
    return name, checkout, min_parallel, min_chunk, workers, start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump", type=Path)
    parser.add_argument("--variant", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    variants = [_parse(v) for v in args.variant]
    results: dict[str, list[list[float]]] = {v[0]: [] for v in variants}
    for _ in range(args.repeat):
        for name, checkout, min_parallel, min_chunk, workers, start in variants:
            env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
            if checkout != "polars":
                env["PYTHONPATH"] = str(Path(checkout).resolve())
            if workers is not None:
                env["FTKIT_WORKERS"] = workers
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, checkout, min_parallel, min_chunk, start, str(args.dump)],
                capture_output=True, text=True, env=env,
            )
            if proc.returncode != 0:
                sys.exit(f"{name} failed:\n{proc.stderr}")
            results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    size = args.dump.stat().st_size / 1e6
    print(f"{args.dump.name} ({size:.0f} MB), {args.repeat} runs each; seconds: median [min-max]")
    reference = results.get("polars")
    for name, runs in results.items():
        row = []
        for which in (0, 1):
            values = [run[which] for run in runs]
            cell = f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"
            if reference:
                cell += f" {statistics.median(r[which] for r in reference) / statistics.median(values):.2f}x polars"
            row.append(cell)
        print(f"  {name:<14} cold {row[0]:<40} warm {row[1]}")


if __name__ == "__main__":
    main()

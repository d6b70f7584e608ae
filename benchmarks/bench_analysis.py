"""Time the analysis helpers on a 100,000-job dump, once the JobSet's frames exist.

Run from the repository root::

    python benchmarks/bench_analysis.py            # 100,000 jobs
    python benchmarks/bench_analysis.py --jobs 20000 --repeat 5

The dump is generated once with :func:`ftkit.synth.write_dump` and cached under
``benchmarks/out/``. Reading it and building the frames is timed separately (it is not
part of the analysis budget); each helper is then timed ``--repeat`` times and the best
and median wall-clock times are printed. The target is under one second each for
``checkpoint_summary``, ``compare_hyperparameters``, ``lifecycle`` and ``token_usage``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftkit import analysis  # noqa: E402
from _dump import cached_dump, read_with_frames  # noqa: E402

BUDGET_S = 1.0
TIMED = ("checkpoint_summary", "compare_hyperparameters", "lifecycle", "token_usage")
EXTRA = ("checkpoints_with_axes", "token_usage_totals", "pareto")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the dump (default 100000)")
    parser.add_argument("--seed", type=int, default=2024, help="synth seed (default 2024)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per helper (default 3)")
    args = parser.parse_args(argv)

    dump = cached_dump(args.jobs, args.seed)
    js = read_with_frames(dump)

    failed = []
    print(f"{'helper':<26}{'best':>9}{'median':>9}  rows")
    for name in TIMED + EXTRA:
        function = getattr(analysis, name)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = function(js)
            times.append(time.perf_counter() - start)
        best, median = min(times), statistics.median(times)
        over = name in TIMED and best >= BUDGET_S
        failed += [name] if over else []
        note = "  OVER BUDGET" if over else ""
        print(f"{name:<26}{best:>8.3f}s{median:>8.3f}s  {out.height:,}{note}")
    if failed:
        print(f"over the {BUDGET_S:.0f} s budget: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

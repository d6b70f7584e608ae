"""Time reading job dumps of three sizes and two shapes into a jobs frame and a checkpoints frame.

Run from the repository root::

    python benchmarks/bench_read.py      # 1,000, 10,000 and 100,000 jobs; shapes standard and events
    python benchmarks/bench_read.py --jobs 1000,10000 --only ftkit,ftkit-warm,polars-schema   # quick
    python benchmarks/bench_read.py --jobs 100000 --shape standard --only ftkit,sdk --repeat 1

Each dump is generated once by :func:`ftkit.synth.write_dump` (``sdk_readable=True``, so
that the official SDK can read every job) and cached in ``benchmarks/out/``. The
``standard`` shape has about 30 checkpoints and 4.5 events a job; the ``events`` shape
about 8 checkpoints and 60 events a job that trained. Every contender runs in a fresh
Python process; its time covers reading the file to having both frames (imports
excluded); its peak memory is its own ``VmHWM`` and, apart, the sum of the peaks of its
descendant processes (workers, a fork server and its children). Ratios against
polars-with-schema and the SDK are checked against the goals of issue #15. Results go
to the terminal and to ``benchmarks/out/results.json``; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
REPO = HERE.parent
SAMPLE = REPO / "data" / "sample-jobs.ndjson.gz"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from _descendants import PeakSampler, descendant_cpu, descendant_peaks, merge_peaks  # noqa: E402
from _read_contenders import DESCRIPTIONS, ENV, RUNNERS  # noqa: E402

# The contenders lived here before: scripts that call bench_read.run_polars etc. still can.
from _read_contenders import run_ftkit, run_iter_jobs, run_msgspec_floor, run_orjson, run_polars, run_sdk  # noqa: E402, F401

CONTENDERS = tuple(RUNNERS)
#: Dump shapes: options of ftkit.synth.write_dump besides n, seed and sdk_readable.
SHAPES = {
    "standard": {"checkpoints_per_job": 30.0, "events_per_job": None},
    "events": {"checkpoints_per_job": 8.0, "events_per_job": 60.0},
}
LARGE = 100_000  # from here on: the SDK, iter_jobs and the large-dump goals
EVERY_SIZE = ("ftkit", "ftkit-warm", "ftkit-1proc", "polars-schema")
AT_LARGE = ("sdk", "iter_jobs")
#: Run once (not best of 2) above 10,000 jobs unless --repeat says otherwise: slow, and
#: what their goal needs is an order of magnitude (SDK) or memory (iter_jobs).
ONCE_WHEN_LARGE = frozenset({"sdk", "orjson", "polars-infer", "iter_jobs", "iter_jobs-1pass"})
WARM = frozenset({"ftkit-warm"})  # read once untimed, then time the second read
FTKIT_NAMES = ("ftkit", "ftkit-warm", "ftkit-1proc")
ITER_JOBS_RSS_GOAL_MB = 400


def default_repeat(name: str, jobs: int) -> int:
    """Best of 5 up to 10,000 jobs (a read takes well under a second), else of 2 (or 1)."""
    if jobs <= 10_000:
        return 5
    return 1 if name in ONCE_WHEN_LARGE else 2


def goals(jobs: int) -> list[tuple[str, str, float]]:
    """Issue #15's goals at this size: (contender, against, least speed-up)."""
    return [
        ("ftkit", "polars-schema", 2.5 if jobs >= LARGE else 1.5),
        ("ftkit-warm", "polars-schema", 2.5),
        *([("ftkit", "sdk", 8.0)] if jobs >= LARGE else []),
        ("ftkit", "msgspec-floor", 2 / 3),  # from the earlier issue "Read every job dump fast"
    ]


# --- one contender, in its own process ---------------------------------------------


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_one(name: str, path: Path) -> None:
    """In a fresh process: run one contender, print one JSON line of its measures."""
    import ftkit  # noqa: F401  -- imports are not timed
    import msgspec  # noqa: F401
    import polars  # noqa: F401

    if name == "sdk":
        import mistralai.models  # noqa: F401
    runner = RUNNERS[name]
    first = None
    if name in WARM:
        start = time.perf_counter()
        runner(path)
        first = time.perf_counter() - start
    own_cpu, kids_cpu = time.process_time(), descendant_cpu(os.getpid())
    start = time.perf_counter()
    n_jobs, n_checkpoints, extra = runner(path)
    seconds = time.perf_counter() - start
    own_cpu = time.process_time() - own_cpu
    # Read the descendants now: idle workers end a while after a read, or at exit.
    kids_cpu = sum(used - kids_cpu.get(key, 0.0) for key, used in descendant_cpu(os.getpid()).items())
    descendants = descendant_peaks(os.getpid())
    record = {"name": name, "seconds": seconds, "jobs": n_jobs, "checkpoints": n_checkpoints}
    record["cpu_seconds"] = own_cpu + kids_cpu
    record |= {"peak_rss_mb": _vm_hwm_mb(), "descendants": descendants, **extra}
    if first is not None:
        record["first_read_seconds"] = first
    print(json.dumps(record))


def measure(name: str, path: Path, repeat: int) -> dict[str, Any]:
    """The fastest of ``repeat`` fresh-process runs; memory the highest of them."""
    runs = []
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), **ENV.get(name, {})}
    for _ in range(repeat):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--run-one", name, "--path", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        sampler = PeakSampler(proc.pid)  # catches descendants that end before the read does
        stdout, stderr = proc.communicate()
        sampled = sampler.stop()
        if proc.returncode != 0:
            raise SystemExit(f"{name} on {path.name} failed:\n{stderr}")
        result = json.loads(stdout.strip().splitlines()[-1])
        workers = merge_peaks(sampled, result.pop("descendants"))
        result["workers"] = sorted(workers.values(), key=lambda w: w["pid"])
        result["workers_peak_mb_sum"] = sum(w["peak_mb"] for w in workers.values())
        runs.append(result)
    best = min(runs, key=lambda r: r["seconds"])
    return {
        **best,
        "runs_seconds": [r["seconds"] for r in runs],
        "cpu_seconds": min(r["cpu_seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "workers_peak_mb_sum": max(r["workers_peak_mb_sum"] for r in runs),
    }


# --- the driver ---------------------------------------------------------------------


def ensure_dump(n_jobs: int, shape: dict[str, Any], *, regenerate: bool) -> Path:
    """The cached dump of ``n_jobs`` jobs of this shape, written if missing."""
    from ftkit.synth import write_dump

    OUT.mkdir(parents=True, exist_ok=True)
    events = shape["events_per_job"]
    name = f"jobs-{n_jobs}-c{shape['checkpoints_per_job']:g}{'' if events is None else f'-e{events:g}'}-seed0-sdk.ndjson"
    path = OUT / name
    if regenerate or not path.exists():
        print(f"generating {path.name} ...", flush=True)
        start = time.perf_counter()
        write_dump(path, n_jobs, seed=0, sdk_readable=True, **shape)
        print(f"  {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def sdk_failures_on_real_quirks() -> dict[str, int]:
    """How many jobs of the quirky 300-job sample the SDK's models reject (not timed)."""
    import gzip

    from mistralai.models import ClassifierDetailedJobOut, CompletionDetailedJobOut

    lines = [line for line in gzip.decompress(SAMPLE.read_bytes()).splitlines() if line]
    failures = 0
    for line in lines:
        cls = ClassifierDetailedJobOut if b"classifier_targets" in line else CompletionDetailedJobOut
        try:
            cls.model_validate_json(line)
        except ValueError:
            failures += 1
    return {"jobs": len(lines), "rejected": failures}


def bench_one_dump(path: Path, jobs: int, names: list[str], repeat: int | None) -> dict[str, Any]:
    """Run the contenders on one dump, check they agree, and add ratios and goals."""
    size_mb = path.stat().st_size / 1e6
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        times = repeat or default_repeat(name, jobs)
        print(f"  {name} (best of {times}) ...", flush=True)
        results[name] = r = measure(name, path, times)
        r["repeat"] = times
        r["mb_per_s"] = size_mb / r["seconds"]
    reference = next(results[n] for n in names if n in FTKIT_NAMES)
    for name, r in results.items():
        same = (r["jobs"], r["checkpoints"]) == (reference["jobs"], reference["checkpoints"])
        assert same, f"{name} gave {r['jobs']} jobs and {r['checkpoints']} checkpoints; ftkit {reference['jobs']} and {reference['checkpoints']}"
        for key in ("jobs_columns", "checkpoints_columns"):
            assert r.get(key, reference[key]) == reference[key], f"{name}: {key} {r[key]} != ftkit's {reference[key]}"
        for against in ("polars-schema", "sdk"):
            if against in results:
                r[f"x_{against}"] = results[against]["seconds"] / r["seconds"]
    checked = []
    for who, against, least in goals(jobs):
        if who in results and against in results:
            x = results[against]["seconds"] / results[who]["seconds"]
            checked.append({"contender": who, "against": against, "goal": least, "measured": x, "met": x >= least})
    if jobs >= LARGE and "iter_jobs" in results:
        peak = results["iter_jobs"]["peak_rss_mb"]
        checked.append({"contender": "iter_jobs", "against": "peak RSS MB", "goal": ITER_JOBS_RSS_GOAL_MB,
                        "measured": peak, "met": peak < ITER_JOBS_RSS_GOAL_MB})  # fmt: skip
    return {
        "dump": {"path": str(path), "mb": size_mb, "checkpoints": reference["checkpoints"]},
        "results": results,
        "goals": checked,
    }


def print_run(run: dict[str, Any]) -> None:
    dump = run["dump"]
    print(f"\n{run['shape']}, {run['jobs']:,} jobs: {dump['mb']:,.0f} MB, {dump['checkpoints']:,} checkpoints")
    header = f"{'contender':<16}{'best of':>8}{'seconds':>9}{'CPU s':>8}{'MB/s':>8}{'parent MB':>11}{'workers MB (n)':>16}{'x polars':>10}{'x sdk':>8}"
    print(header)
    for name, r in run["results"].items():
        workers = f"{r['workers_peak_mb_sum']:.0f} ({len(r['workers'])})"
        xp = f"{r['x_polars-schema']:.2f}" if "x_polars-schema" in r else "-"
        xs = f"{r['x_sdk']:.1f}" if "x_sdk" in r else "-"
        print(f"{name:<16}{r['repeat']:>8}{r['seconds']:>9.3f}{r['cpu_seconds']:>8.2f}{r['mb_per_s']:>8.0f}{r['peak_rss_mb']:>11.0f}{workers:>16}{xp:>10}{xs:>8}")


def print_goals(runs: list[dict[str, Any]]) -> None:
    rows = [(run["shape"], run["jobs"], g) for run in runs for g in run["goals"]]
    if not rows:
        return
    print(f"\n{'goal':<42}{'shape':<10}{'jobs':>9}{'measured':>10}  met")
    for shape, jobs, g in rows:
        if g["against"] == "peak RSS MB":
            text, measured = f"iter_jobs peak RSS < {g['goal']} MB", f"{g['measured']:.0f} MB"
        else:
            label = {"ftkit": "ftkit cold", "ftkit-warm": "ftkit warm"}[g["contender"]]
            text, measured = f"{label} >= {g['goal']:.3g}x {g['against']}", f"{g['measured']:.2f}x"
        print(f"{text:<42}{shape:<10}{jobs:>9,}{measured:>10}  {'met' if g['met'] else 'NOT met'}")


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default="1000,10000,100000", help="comma-separated dump sizes (default 1000,10000,100000)")
    parser.add_argument("--shape", default=",".join(SHAPES), help=f"comma-separated dump shapes, of {list(SHAPES)}")
    parser.add_argument("--checkpoints", type=float, default=30, help="average checkpoints per job of the standard shape (30)")
    parser.add_argument("--only", help=f"comma-separated contenders, run at every size (default {', '.join(EVERY_SIZE)} "
                        f"at every size and {', '.join(AT_LARGE)} from {LARGE:,} jobs); of {list(CONTENDERS)}")  # fmt: skip
    parser.add_argument("--repeat", type=int, help="runs per contender, the fastest kept (default: 5 up to 10,000 jobs, else 2; 1 for sdk and iter_jobs)")
    parser.add_argument("--regenerate", action="store_true", help="write the dumps again even if cached")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one, Path(args.path))
        return

    try:
        sizes = [int(size.replace("_", "")) for size in _csv(args.jobs)]
    except ValueError:
        parser.error(f"--jobs takes comma-separated whole numbers, got {args.jobs!r}")
    shapes = _csv(args.shape)
    if unknown := sorted(set(shapes) - set(SHAPES)):
        parser.error(f"unknown shapes {unknown}; choose from {list(SHAPES)}")
    only = _csv(args.only) if args.only else None
    if unknown := sorted(set(only or ()) - set(CONTENDERS)):
        parser.error(f"unknown contenders {unknown}; choose from {list(CONTENDERS)}")
    if only is not None and not set(only) & set(FTKIT_NAMES):
        only.insert(0, "ftkit")  # the reference for row counts
    options = {**SHAPES, "standard": {**SHAPES["standard"], "checkpoints_per_job": args.checkpoints}}

    started = time.perf_counter()
    runs = []
    for jobs in sizes:
        names = only or [*EVERY_SIZE, *(AT_LARGE if jobs >= LARGE else ())]
        for shape in shapes:
            path = ensure_dump(jobs, options[shape], regenerate=args.regenerate)
            print(f"{shape}, {jobs:,} jobs:", flush=True)
            run = bench_one_dump(path, jobs, names, args.repeat)
            runs.append({"shape": shape, "jobs": jobs, **run, "dump": {**run["dump"], **options[shape]}})

    print(f"\nmachine: {os.cpu_count()} cores, Python {platform.python_version()}; {time.perf_counter() - started:.0f} s in all")
    for run in runs:
        print_run(run)
    print("\nx polars = polars-schema's seconds / the contender's (above 1: faster than polars); x sdk the same for the SDK.")
    print("parent MB = the contender's process's peak RSS (VmHWM); workers MB = the sum of the peaks of its descendant")
    print("processes (n of them: workers, a fork server...), forked ones counting pages shared with the parent again.")
    print("CPU s = CPU seconds (user + system) of the timed read: the contender's threads and its descendants' (the")
    print("least of the runs); less disturbed than seconds by other work on a shared machine, and what a read costs")
    print("whatever the cores. ftkit-warm: the second read in one process, the first untimed. Timings are noisy.")
    used = {name for run in runs for name in run["results"]}
    for name in CONTENDERS:
        if name in used:
            print(f"  {name}: {DESCRIPTIONS[name]}")
    print_goals(runs)

    quirks = None
    if "sdk" in used:
        quirks = sdk_failures_on_real_quirks()
        rejected = sum(run["results"]["sdk"].get("sdk_failures", 0) for run in runs if "sdk" in run["results"])
        print(
            f"The SDK's models reject {quirks['rejected']} of the {quirks['jobs']} jobs of data/sample-jobs.ndjson.gz "
            "(job_type 'FT', no auto_start, classifier targets without weight/loss_function); the timed dumps "
            f"were generated sdk_readable, and the SDK rejected {rejected} of their jobs."
        )
    report = {
        "command": [Path(sys.executable).name, *sys.argv],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "seconds_in_all": time.perf_counter() - started,
        "runs": runs,
        "sdk_on_real_quirks": quirks,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()

"""Time building the four frames from decoded jobs: ftkit's builders against the previous ones.

Run from the repository root::

    python benchmarks/bench_frames.py                          # 10,000 and 100,000 jobs
    python benchmarks/bench_frames.py --jobs 10000 --repeat 5

Each size runs in a fresh process: the dump (``ftkit.synth.write_dump``, seed 0, cached
under ``benchmarks/out/``) is decoded into wire Structs once, as the in-process reader and
the workers do; then each repeat times ``jobs_frame``, ``checkpoints_frame``,
``events_frame``, ``targets_frame`` and ``frames_with_positions`` (what a worker builds),
first with the straightforward builders ftkit had before (``tests/reference_frames.py``)
and then with ftkit's, alternating, and checks once that both give equal frames. The
figures are the fastest of the repeats, in CPU seconds of the process with one polars
thread (``POLARS_MAX_THREADS=1``, as in the workers): on a shared machine, CPU time is far
steadier than wall-clock time. ``--chunk-mb`` also times building the frames chunk by chunk
right after decoding each chunk, as a reader could, against building them at the end.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("jobs_frame", "checkpoints_frame", "events_frame", "targets_frame", "frames_with_positions")


def _reference():
    spec = importlib.util.spec_from_file_location("reference_frames", ROOT / "tests" / "reference_frames.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(jobs_n: int, repeat: int, chunk_mb: float) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import msgspec
    from polars.testing import assert_frame_equal

    from _dump import cached_dump
    from ftkit import frames
    from ftkit.schema import WireJob

    gc.disable()  # as ftkit's readers do while they decode and build
    data = cached_dump(jobs_n, 0).read_bytes()
    decode = msgspec.json.Decoder(WireJob).decode
    start = time.process_time()
    jobs = [decode(line) for line in data.splitlines()]
    decoded = time.process_time() - start
    reference = _reference()
    best: dict[tuple[str, str], float] = {}
    for round_ in range(repeat):
        for label, module in (("before", reference), ("after", frames)):
            for name in FUNCTIONS:
                start = time.process_time()
                out = getattr(module, name)(jobs)
                spent = time.process_time() - start
                best[label, name] = min(best.get((label, name), float("inf")), spent)
                if round_ == 0 and label == "after":
                    expected = getattr(reference, name)(jobs)
                    if isinstance(out, dict):
                        for key in out:
                            assert_frame_equal(out[key], expected[key])
                    else:
                        assert_frame_equal(out, expected)
                del out
    print(f"{jobs_n:,} jobs ({len(data) / 1e6:.0f} MB), decoding {decoded:.2f} s; best of {repeat}, CPU s:")
    print(f"  {'frame':24s} {'before':>7s} {'after':>7s} {'speed-up':>8s}")
    for name in FUNCTIONS:
        before, after = best["before", name], best["after", name]
        print(f"  {name:24s} {before:7.3f} {after:7.3f} {before / after:7.2f}x")
    if chunk_mb:
        del jobs
        _chunked(data, decode, frames, chunk_mb, repeat)


def _chunked(data: bytes, decode, frames, chunk_mb: float, repeat: int) -> None:
    lines = data.splitlines()
    per_chunk = max(1, int(len(lines) * chunk_mb * 1e6 / len(data)))
    whole = chunked = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        jobs = [decode(line) for line in lines]
        frames.frames_with_positions(jobs)
        whole = min(whole, time.process_time() - start)
        del jobs
        start = time.process_time()
        for at in range(0, len(lines), per_chunk):
            frames.frames_with_positions([decode(line) for line in lines[at : at + per_chunk]])
        chunked = min(chunked, time.process_time() - start)
    print(f"  decode + frames_with_positions, all at once: {whole:.3f}; per {chunk_mb:g} MB chunk: {chunked:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="10000,100000", help="dump sizes, comma-separated (default 10000,100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each builder (default 3)")
    parser.add_argument("--chunk-mb", type=float, default=0.0, help="also time building per chunk of this size")
    parser.add_argument("--run-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        run_one(args.run_one, args.repeat, args.chunk_mb)
        return 0
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for n in (int(part) for part in args.jobs.split(",")):
        command = [sys.executable, __file__, "--run-one", str(n), "--repeat", str(args.repeat)]
        subprocess.run([*command, "--chunk-mb", str(args.chunk_mb)], check=True, env=env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where a worker's CPU goes on a chunk, stage by stage, against polars on the same bytes.

    python benchmarks/bench_chunk_stages.py benchmarks/out/jobs-100000-c8-e60-seed0-sdk.ndjson [--chunks 6] [--turns 4]

On the dump's first ``--chunks`` chunks of 8 MB (as ``bench_chunk_ab.py`` cuts them),
times in one process, stage after stage over all the chunks, the order reversed every
turn, the CPU milliseconds per chunk of:

- ``decode``: msgspec decoding every line into a :class:`ftkit.schema.FrameJob`, each
  freed before the next, as a worker does: the floor of any reader built on msgspec;
- ``+ columns``: the same, each job's values gathered into Python lists
  (:func:`ftkit.mistral_frames.mistral_columns`);
- ``+ parts``: the same, the lists made into the four polars frame parts
  (:func:`ftkit.frames.mistral_frame_parts`);
- ``decode_chunk``: :func:`ftkit.read.decode.decode_chunk`, what a worker runs (the
  above, and the byte range of each job's line);
- ``+ arrow``: the same, and the parts written as Arrow IPC streams (what a worker sends);
- ``polars-schema``: the benchmark's polars contender (``pl.read_ndjson`` with an
  explicit schema, then explode/unnest into the jobs and checkpoints frames) on the same
  chunks, its threads' CPU included, in a process of its own: polars' idle threads spin
  for a while after a query, which would be counted against the stage timed next.

What the stages cost beyond ``decode`` is one Python visit per value (``+ columns``)
and polars' conversion of the lists; ``polars-schema / + arrow`` is roughly the ratio a
read of many chunks reaches on equal cores, before the reading process's own work.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

STAGES = ("decode", "+ columns", "+ parts", "decode_chunk", "+ arrow")


def stage_functions(spill: Path) -> dict[str, object]:
    """Each stage as a function of a chunk's bytes."""
    import msgspec

    from ftkit.frames import mistral_frame_parts
    from ftkit.mistral_frames import mistral_columns
    from ftkit.read.decode import decode_chunk, line_spans
    from ftkit.schema import FrameJob

    decode = msgspec.json.Decoder(FrameJob).decode

    def jobs(chunk: bytes):
        """The chunk's jobs, decoded from slices of it (no copy of a line), as decode_chunk does."""
        view = memoryview(chunk)
        for start, end, _last in line_spans(chunk):
            if end > start:
                yield decode(view[start:end])

    def decode_only(chunk: bytes) -> None:
        for _job in jobs(chunk):
            pass

    def with_arrow(chunk: bytes) -> None:
        _reply, parts = decode_chunk(chunk, source="chunk", errors="raise")
        for name, part in parts.items():
            path = spill / f"{name}.arrows"
            part.write_ipc_stream(path, compression="uncompressed")
            path.unlink()

    return {
        "decode": decode_only,
        "+ columns": lambda chunk: mistral_columns(jobs(chunk)),
        "+ parts": lambda chunk: mistral_frame_parts(jobs(chunk)),
        "decode_chunk": lambda chunk: decode_chunk(chunk, source="chunk", errors="raise"),
        "+ arrow": with_arrow,
    }


def polars_ms(chunks: list[bytes], turns: int, spill: Path) -> float:
    """The polars contender's CPU milliseconds per chunk (all its threads), the first untimed."""
    from _read_contenders import run_polars

    paths = []
    for at, chunk in enumerate(chunks):
        paths.append(spill / f"chunk-{at}.ndjson")
        paths[-1].write_bytes(chunk)
    run_polars(paths[0], explicit=True)
    began = time.process_time()
    for _turn in range(turns):
        for path in paths:
            run_polars(path, explicit=True)
    return (time.process_time() - began) / (len(paths) * turns) * 1000


def main(argv: list[str] | None = None) -> int:
    from bench_chunk_ab import chunks_of

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--polars-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.dump.is_file():
        parser.error(f"{args.dump}: no such file (benchmarks/bench_read.py writes the dumps to benchmarks/out/)")
    chunks = chunks_of(args.dump, args.chunks)
    if not chunks:
        parser.error(f"{args.dump} is empty")
    if args.polars_only:  # the child process that times polars
        with tempfile.TemporaryDirectory(prefix="ftkit-stages-") as tmp:
            print(polars_ms(chunks, args.turns, Path(tmp)))
        return 0
    command = [sys.executable, __file__, str(args.dump), "--chunks", str(args.chunks), "--turns", str(args.turns)]
    polars = float(subprocess.run([*command, "--polars-only"], capture_output=True, text=True, check=True).stdout)
    spent = dict.fromkeys(STAGES, 0.0)
    with tempfile.TemporaryDirectory(prefix="ftkit-stages-") as tmp:
        stages = stage_functions(Path(tmp))
        for chunk in chunks[:1]:  # once untimed: first calls (polars' thread pool, ...)
            for stage in STAGES:
                stages[stage](chunk)
        gc.disable()  # as in a worker
        for turn in range(args.turns):
            # stage by stage over all the chunks: polars' threads spin a while after a
            # query, which would be counted against a stage timed right after another
            for stage in STAGES if turn % 2 == 0 else STAGES[::-1]:
                began = time.process_time()
                for chunk in chunks:
                    stages[stage](chunk)
                spent[stage] += time.process_time() - began
        gc.enable()
    runs = len(chunks) * args.turns
    mb = sum(map(len, chunks)) / len(chunks) / 1e6
    print(f"{args.dump.name}: {len(chunks)} chunks of {mb:.1f} MB x {args.turns} turns, CPU ms per chunk")
    for stage in STAGES:
        print(f"  {stage:14s} {spent[stage] / runs * 1000:7.1f}")
    print(f"  {'polars-schema':14s} {polars:7.1f}")
    print(f"  polars-schema / + arrow = {polars / (spent['+ arrow'] / runs * 1000):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The CPU a worker spends on a chunk, in this checkout and another, in one process, in turns.

    python benchmarks/bench_chunk_ab.py benchmarks/out/jobs-100000-c30-seed0-sdk.ndjson \\
        --other /path/to/another/checkout [--chunks 10] [--turns 4]

Times ``ftkit.read.decode.decode_chunk`` (what a worker does with a chunk, all but the
Arrow write) on the dump's first ``--chunks`` chunks of 8 MB, once in this checkout and
once in the other, chunk by chunk, the order swapped every turn. On a shared machine
whose speed drifts from one second to the next, two fresh processes run one after the
other can differ by half; two versions timed a chunk apart in one process drift alike.
The other checkout's ``ftkit`` package is copied under the name ``ftkit_other`` (its
read path imports its own modules by relative imports) into a temporary directory,
removed afterwards.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK_BYTES = 8 << 20


def chunks_of(path: Path, count: int, size: int = CHUNK_BYTES) -> list[bytes]:
    """The first ``count`` chunks of about ``size`` bytes of an NDJSON file, each cut
    after a newline (the last may be smaller: the end of the file)."""
    with path.open("rb") as file:
        data = file.read(size * count + (1 << 20))
    out = []
    start = 0
    while len(out) < count and start < len(data):
        end = data.find(b"\n", start + size)
        end = len(data) - 1 if end < 0 else end
        out.append(data[start : end + 1])
        start = end + 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--other", type=Path, required=True, help="another checkout of ftkit (its root)")
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--turns", type=int, default=4)
    args = parser.parse_args(argv)
    if not args.dump.is_file():
        parser.error(f"{args.dump}: no such file (benchmarks/bench_read.py writes the dumps to benchmarks/out/)")
    if not (args.other / "ftkit" / "read" / "decode.py").is_file():
        parser.error(f"{args.other} is not a checkout of ftkit (no ftkit/read/decode.py)")
    with tempfile.TemporaryDirectory(prefix="ftkit-ab-") as tmp:
        shutil.copytree(args.other / "ftkit", Path(tmp) / "ftkit_other", ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, tmp)
        import ftkit_other.read.decode as other
        import ftkit.read.decode as this

        for module, root in ((this, ROOT / "ftkit"), (other, Path(tmp) / "ftkit_other")):
            if not Path(module.__file__).is_relative_to(root):
                print(f"{module.__name__} comes from {module.__file__}, not {root}", file=sys.stderr)
                return 1
        chunks = chunks_of(args.dump, args.chunks)
        if not chunks:
            parser.error(f"{args.dump} is empty")
        sides = {"this": this.decode_chunk, "other": other.decode_chunk}
        spent = dict.fromkeys(sides, 0.0)
        gc.disable()  # as in a worker
        for turn in range(args.turns):
            order = list(sides) if turn % 2 == 0 else list(sides)[::-1]
            for chunk in chunks:
                for name in order:
                    began = time.process_time()
                    result = sides[name](chunk, source=str(args.dump), errors="raise")
                    del result
                    spent[name] += time.process_time() - began
    runs = len(chunks) * args.turns
    print(f"{args.dump.name}: {len(chunks)} chunks of ~8 MB x {args.turns} turns, CPU ms per chunk")
    for name, seconds in spent.items():
        print(f"  {name:6s} {seconds / runs * 1000:7.1f}")
    print(f"  this / other = {spent['this'] / spent['other']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

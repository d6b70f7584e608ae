"""``python -m ftkit``: the command line; with no arguments, the summary of the shipped sample.

The sample, ``data/sample-jobs.ndjson.gz``, ships with a checkout of the repository (it is
not part of an installed wheel), so it is looked for beside the package directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .cli import PROG, main

#: Where the shipped sample lives in a repository checkout.
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample-jobs.ndjson.gz"


def run(argv: list[str]) -> int:
    """Run the command line; no arguments means ``summary`` of the shipped sample."""
    if argv:
        return main(argv)
    if not SAMPLE.is_file():
        print(
            f"{PROG}: error: the shipped sample {SAMPLE} was not found (it comes with a checkout"
            f" of the ftkit repository, not with an installed package); run"
            f" `python -m ftkit summary DUMP` on a dump of your own, or `python -m ftkit --help`",
            file=sys.stderr,
        )
        return 2
    print(f"Summary of the shipped sample {SAMPLE} (`python -m ftkit --help` lists the commands)\n")
    return main(["summary", str(SAMPLE)])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

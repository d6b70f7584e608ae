"""Many synthetic Mistral fine-tuning jobs, as job Structs, JSON bytes or dump files.

The generator writes the job JSON that the API and its SDKs produced between May 2024
and October 2025, quirks included, so that tests, notebooks and benchmarks can use many
jobs without shipping anyone's real dumps. What one job looks like (its era's keys, its
events and checkpoints, its loss curves) is :mod:`ftkit.synth_job`'s business; this
module makes ``n`` of them (:func:`make_job_dicts`, :func:`make_jobs`,
:func:`iter_job_lines`), lays them out as a dump's bytes (:func:`make_jobs_bytes`) or
writes them to a file (:func:`write_dump`, and ``python -m ftkit.synth``).

OpenAI jobs (with their events and checkpoints lists) come from
:mod:`ftkit.synth_openai`, re-exported here: :func:`make_openai_jobs_bytes`,
:func:`make_openai_documents`, :func:`write_openai_dump`.

Everything is deterministic: job ``i`` of seed ``s`` depends only on ``(s, i)`` and
the options, so ``make_jobs(10, seed=s)`` is the first ten jobs of
``make_jobs(300, seed=s)``, and the bytes are the same on every run. Job ids are unique.
Jobs are created between :data:`START` and :data:`END` (UNIX seconds, from
:mod:`ftkit.synth_job`).

Examples
--------
>>> import ftkit
>>> from ftkit.synth import make_jobs, make_jobs_bytes
>>> jobs = make_jobs(300, seed=0)
>>> sorted({job.kind for job in jobs})
['classifier', 'completion']
>>> ftkit.read_jobs(make_jobs_bytes(300, seed=0)).jobs.height
300
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import msgspec

from .schema import Job, WireJob, to_job
from .synth_job import END, START, job_dict, step_weights
from .synth_openai import make_openai_documents, make_openai_jobs_bytes, write_openai_dump

__all__ = [
    "make_jobs",
    "make_job_dicts",
    "make_jobs_bytes",
    "iter_job_lines",
    "write_dump",
    "make_openai_documents",
    "make_openai_jobs_bytes",
    "write_openai_dump",
    "START",
    "END",
]

Layout = Literal["ndjson", "array", "list"]


def make_job_dicts(
    n: int,
    *,
    seed: int,
    checkpoints_per_job: float | None = None,
    sdk_readable: bool = False,
    events_per_job: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the wire dicts of ``n`` synthetic jobs, one at a time.

    Parameters
    ----------
    n
        Number of jobs.
    seed
        Seed; job ``i`` depends only on ``(seed, i)`` and the options.
    checkpoints_per_job
        Average number of checkpoints per job (default about 30), reached by tilting
        the distribution of ``training_steps`` over its grid of 10..500 (possible from
        about 7 to about 380); ``0`` writes no checkpoints at all.
    sdk_readable
        Mend the quirks that the official ``mistralai`` 1.x pydantic models reject:
        ``job_type`` ``"FT"`` or absent, ``auto_start`` absent, classifier targets without
        ``weight``/``loss_function``. For benchmarks against the SDK.
    events_per_job
        Average number of events per job that trained (without it, one per status change:
        three to five); the extra ones are ``RUNNING`` status updates during training,
        drawn apart from the rest of the job so that everything else stays as without.
        For a dump shaped unlike the default (the read benchmark's ``events`` shape).

    Examples
    --------
    >>> from ftkit.synth import make_job_dicts
    >>> for job in make_job_dicts(3, seed=0):
    ...     print(job["model"], job["status"], job.get("job_type", "(absent)"), "auto_start" in job)
    open-mistral-7b QUEUED FT False
    mistral-small-latest SUCCESS (absent) True
    open-mistral-7b SUCCESS FT True
    """
    if n < 0:
        msg = f"n must be a non-negative number of jobs, got {n}"
        raise ValueError(msg)
    weights = step_weights(checkpoints_per_job)
    with_checkpoints = checkpoints_per_job is None or checkpoints_per_job > 0
    for index in range(n):
        yield job_dict(
            index,
            seed=seed,
            weights=weights,
            sdk_readable=sdk_readable,
            checkpoints=with_checkpoints,
            events_per_job=events_per_job,
        )


def make_jobs(
    n: int,
    *,
    seed: int,
    checkpoints_per_job: float | None = None,
    sdk_readable: bool = False,
    events_per_job: float | None = None,
) -> list[Job]:
    """``n`` realistic synthetic jobs of both types, as job Structs.

    Jobs are :class:`~ftkit.schema.ClassifierJob` and :class:`~ftkit.schema.CompletionJob`
    Structs, exactly what :func:`ftkit.read_jobs` gives for
    ``make_jobs_bytes(n, seed=seed)``: ``job_type`` ``"FT"`` stays ``"FT"``, placeholder
    ``0.0`` metrics stay ``0.0``. Options are those of :func:`make_job_dicts`.

    Examples
    --------
    >>> from collections import Counter
    >>> from ftkit.synth import make_jobs
    >>> jobs = make_jobs(300, seed=0)
    >>> len({job.id for job in jobs})
    300
    >>> Counter(job.status for job in jobs).most_common(2)
    [('SUCCESS', 192), ('FAILED', 23)]
    >>> sorted({job.job_type for job in jobs}, key=str)
    ['FT', None, 'classifier', 'completion']
    >>> make_jobs(3, seed=0) == jobs[:3]
    True
    """
    convert = msgspec.convert
    return [
        to_job(convert(job, WireJob))
        for job in make_job_dicts(
            n, seed=seed, checkpoints_per_job=checkpoints_per_job, sdk_readable=sdk_readable, events_per_job=events_per_job
        )
    ]


def iter_job_lines(
    n: int,
    *,
    seed: int,
    checkpoints_per_job: float | None = None,
    sdk_readable: bool = False,
    events_per_job: float | None = None,
) -> Iterator[bytes]:
    """Yield the compact JSON of each job, without newline. Options as :func:`make_job_dicts`.

    Examples
    --------
    >>> from ftkit.synth import iter_job_lines
    >>> next(iter_job_lines(1, seed=0))[:48]
    b'{"id":"f3a420cd-7f0a-4f26-8073-719181c805b4","hy'
    """
    encode = msgspec.json.Encoder().encode
    for job in make_job_dicts(
        n, seed=seed, checkpoints_per_job=checkpoints_per_job, sdk_readable=sdk_readable, events_per_job=events_per_job
    ):
        yield encode(job)


def make_jobs_bytes(
    n: int,
    *,
    seed: int = 0,
    layout: Layout = "ndjson",
    checkpoints_per_job: float | None = None,
    sdk_readable: bool = False,
    events_per_job: float | None = None,
) -> bytes:
    """The wire bytes of ``make_jobs(n, seed=seed)`` in one of the dump layouts.

    Parameters
    ----------
    n, seed, checkpoints_per_job, sdk_readable, events_per_job
        As in :func:`make_job_dicts`.
    layout
        ``"ndjson"``: one job per line (each line ends in a newline); ``"array"``: a JSON
        array of jobs; ``"list"``: a list response ``{"object": "list", "data": [...],
        "total": n}``. The jobs keep their events and checkpoints in every layout (a real
        list response drops them), so that all three read back to the same jobs.

    Examples
    --------
    >>> import ftkit
    >>> from ftkit.synth import make_jobs, make_jobs_bytes
    >>> data = make_jobs_bytes(50, seed=1, layout="list")
    >>> data[:30]
    b'{"object":"list","data":[{"id"'
    >>> list(ftkit.read_jobs(data)) == make_jobs(50, seed=1)
    True
    """
    options = {"checkpoints_per_job": checkpoints_per_job, "sdk_readable": sdk_readable, "events_per_job": events_per_job}
    lines = list(iter_job_lines(n, seed=seed, **options))
    if layout == "ndjson":
        return b"".join(line + b"\n" for line in lines)
    if layout == "array":
        return b"[" + b",".join(lines) + b"]"
    if layout == "list":
        return b'{"object":"list","data":[' + b",".join(lines) + b'],"total":' + str(n).encode() + b"}"
    msg = f"layout must be 'ndjson', 'array' or 'list', got {layout!r}"
    raise ValueError(msg)


def write_dump(
    path: str | os.PathLike,
    n: int,
    *,
    seed: int,
    checkpoints_per_job: float | None = None,
    sdk_readable: bool = False,
    events_per_job: float | None = None,
    compresslevel: int = 9,
) -> Path:
    """Write ``n`` synthetic jobs as NDJSON to ``path``, gzip-compressed if it ends in ``.gz``.

    Jobs are generated and written one at a time, so memory stays small whatever ``n``;
    100,000 jobs with 30 checkpoints each make about 500 MB. The file is written under a
    temporary name and moved into place when complete. The bytes depend only on the
    arguments (the gzip header carries no name or time).

    Parameters
    ----------
    path
        Where to write.
    n, seed, checkpoints_per_job, sdk_readable, events_per_job
        As in :func:`make_job_dicts`.
    compresslevel
        gzip level, for ``.gz`` paths.

    Examples
    --------
    >>> import ftkit, gzip, tempfile, pathlib
    >>> from ftkit.synth import write_dump, make_jobs_bytes
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_dump(pathlib.Path(tmp) / "jobs.ndjson.gz", 20, seed=0)
    ...     ftkit.read_jobs(out).jobs.height, gzip.decompress(out.read_bytes()) == make_jobs_bytes(20, seed=0)
    (20, True)
    """
    from .read.write import write_ndjson

    jobs = make_job_dicts(
        n, seed=seed, checkpoints_per_job=checkpoints_per_job, sdk_readable=sdk_readable, events_per_job=events_per_job
    )
    return write_ndjson(jobs, path, compresslevel=compresslevel)


def main(argv: list[str] | None = None) -> None:
    """``python -m ftkit.synth --out FILE --n N --seed S [--checkpoints C] [--sdk-readable]``."""
    parser = argparse.ArgumentParser(prog="python -m ftkit.synth", description="Write a synthetic NDJSON job dump.")
    parser.add_argument("--out", required=True, help="output path (.ndjson, or .ndjson.gz to compress)")
    parser.add_argument("--n", type=int, required=True, help="number of jobs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", type=float, default=None, help="average checkpoints per job (about 30)")
    parser.add_argument("--sdk-readable", action="store_true", help="mend the quirks the mistralai SDK rejects")
    parser.add_argument("--events", type=float, default=None, help="average events per job that trained (3 to 5)")
    parser.add_argument("--provider", choices=("mistral", "openai"), default="mistral",
                        help="openai: OpenAI jobs, each followed by its events and checkpoints lists")
    args = parser.parse_args(argv)
    if args.provider == "openai":
        write_openai_dump(args.out, args.n, seed=args.seed)
        return
    write_dump(
        args.out,
        args.n,
        seed=args.seed,
        checkpoints_per_job=args.checkpoints,
        sdk_readable=args.sdk_readable,
        events_per_job=args.events,
    )


if __name__ == "__main__":
    main()

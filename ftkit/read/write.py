"""Write jobs (or anything msgspec encodes) as NDJSON, atomically, plain or gzip.

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = write_ndjson([{"id": "a"}, {"id": "b"}], pathlib.Path(tmp) / "x.ndjson")
...     out.read_bytes()
b'{"id":"a"}\\n{"id":"b"}\\n'
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from ..atomic import atomic_write
from ..schema import Job

__all__ = ["write_jobs", "write_ndjson"]


def write_jobs(jobs: Iterable[Job], path: str | os.PathLike) -> Path:
    """Write jobs as NDJSON, one job per line; gzip-compressed if the name ends in ``.gz``.

    The file is written to a temporary name beside ``path`` and moved into place when
    complete, so a failure never leaves a partial dump. Reading it back gives equal jobs,
    with one exception: a :class:`~ftkit.ClassifierJob` built by hand with neither
    ``job_type`` nor ``classifier_targets`` has nothing on the wire that says
    "classifier", so it reads back as a completion job (jobs that ftkit read never have
    this shape: such JSON reads as a completion job in the first place).

    Examples
    --------
    >>> import ftkit, tempfile, pathlib
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=0))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = ftkit.write_jobs(js, pathlib.Path(tmp) / "jobs.ndjson.gz")
    ...     list(ftkit.read_jobs(out)) == list(js)
    True
    """
    return write_ndjson(jobs, path)


def write_ndjson(items: Iterable[Any], path: str | os.PathLike, *, compresslevel: int = 6) -> Path:
    """Write anything msgspec encodes as NDJSON, atomically; gzip if ``path`` ends in ``.gz``.

    The gzip header carries no file name or time, so the bytes depend on the items only.
    Used by :func:`write_jobs` and :func:`ftkit.synth.write_dump`.
    """
    path = Path(path)
    encode_into = msgspec.json.Encoder().encode_into
    buffer = bytearray()
    with atomic_write(path) as raw:
        out: Any = raw
        if path.name.endswith(".gz"):
            out = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0)
        for item in items:
            encode_into(item, buffer, -1)
            buffer += b"\n"
            if len(buffer) >= 1 << 20:
                out.write(buffer)
                buffer.clear()
        out.write(buffer)
        if out is not raw:
            out.close()
    return path

"""Reading a Parquet dataset of jobs: its layout, its manifest, and its tables scanned lazily.

A dataset (written by :func:`ftkit.convert_jobs`, see :mod:`ftkit.convert`) holds the
tables ``jobs``, ``checkpoints``, ``events`` and ``targets``, each in several Parquet
files, with the columns and dtypes of the in-memory frames (:data:`ftkit.frames.JOBS_SCHEMA`...),
one row per job id (and that job's checkpoints, events and targets). :func:`scan_tables`
gives the four tables back as polars LazyFrames; DuckDB and Spark read the same files
(see :mod:`ftkit.sql`). This module knows what a dataset looks like on disk (the
constants below, :func:`read_manifest`, :func:`table_files`); it writes nothing.

Layout of a dataset directory::

    manifest.json                 what it is: ftkit version, schema version, sources, counts
    .ftkit-convert.lock           there and locked while a convert writes the dataset
    jobs/part-00000-000000.parquet          one file per (generation, batch)
    checkpoints/part-00000-000000.parquet   a job's rows of every table share a file name
    ...
    jobs/created_month=2024-05/part-00000-000000.parquet    with partition_by="created_month"

Examples
--------
>>> import ftkit, pathlib, tempfile
>>> import polars as pl
>>> from ftkit.tables import read_manifest, scan_tables, table_files
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = pathlib.Path(tmp) / "tables"
...     _ = ftkit.convert_jobs(ftkit.synth.make_jobs_bytes(5, seed=0), out, batch_size=2)
...     manifest = read_manifest(out)
...     files = [path.name for path in table_files(out, "jobs")]
...     tables = scan_tables(out)
...     n = tables.jobs.select(pl.len()).collect().item()
>>> manifest["format"], manifest["schema_version"], manifest["rows"]["jobs"], n
('ftkit-tables', 1, 5, 5)
>>> files
['part-00000-000000.parquet', 'part-00000-000001.parquet', 'part-00000-000002.parquet']
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .frames import CHECKPOINTS_SCHEMA, EVENTS_SCHEMA, FRAME_NAMES, JOBS_SCHEMA, TARGETS_SCHEMA

__all__ = [
    "TABLES",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "MANIFEST",
    "FORMAT",
    "LOCK",
    "DatasetError",
    "Tables",
    "scan_tables",
    "table_files",
    "part_key",
    "read_manifest",
]

#: The tables of a dataset, in the order they are written: one per frame of a JobSet.
TABLES = FRAME_NAMES

#: Columns and dtypes of each table: those of the in-memory frames.
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "jobs": JOBS_SCHEMA,
    "checkpoints": CHECKPOINTS_SCHEMA,
    "events": EVENTS_SCHEMA,
    "targets": TARGETS_SCHEMA,
}

#: The version of the dataset layout and table schemas; bumped when either changes.
SCHEMA_VERSION = 1

#: The name of the manifest file at the top of a dataset.
MANIFEST = "manifest.json"
#: The manifest's ``format``: what says a directory holds an ftkit dataset.
FORMAT = "ftkit-tables"
#: The lock file a convert holds in the dataset directory while it writes, and removes
#: when done (the engines skip names that start with a dot).
LOCK = ".ftkit-convert.lock"

_PART = re.compile(r"^part-(\d{5,})-(\d{6,})\.parquet$")


def part_key(name: str) -> tuple[int, int] | None:
    """The (generation, batch) of a table's file name ``part-G-B.parquet``; None for any other.

    Examples
    --------
    >>> part_key("part-00001-000002.parquet"), part_key("notes.txt")
    ((1, 2), None)
    """
    match = _PART.match(name)
    return (int(match[1]), int(match[2])) if match else None


class DatasetError(ValueError):
    """A directory that is not (or cannot become) an ftkit dataset."""


@dataclass(frozen=True)
class Tables:
    """The four tables of a dataset as polars LazyFrames, and its manifest.

    Attributes ``jobs``, ``checkpoints``, ``events``, ``targets`` hold LazyFrames with
    the columns and dtypes of :func:`ftkit.jobs_frame` and the others; ``manifest`` is
    the parsed ``manifest.json``; ``path`` the directory. ``tables["jobs"]`` works too.
    """

    path: Path
    jobs: pl.LazyFrame
    checkpoints: pl.LazyFrame
    events: pl.LazyFrame
    targets: pl.LazyFrame
    manifest: dict[str, Any] = field(repr=False)

    def __getitem__(self, name: str) -> pl.LazyFrame:
        if name not in TABLES:
            msg = f"no table {name!r}; expected one of {list(TABLES)}"
            raise KeyError(msg)
        return getattr(self, name)

    def collect(self, **kwargs: Any) -> dict[str, pl.DataFrame]:
        """All four tables in memory, as a dict of DataFrames (``kwargs`` go to ``collect_all``)."""
        frames = pl.collect_all([getattr(self, name) for name in TABLES], **kwargs)
        return dict(zip(TABLES, frames))


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The parsed manifest of a dataset; :class:`DatasetError` if ``directory`` is none.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     read_manifest(tmp)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ftkit.tables.DatasetError: ...: not an ftkit dataset: no manifest.json (write one with `ftkit convert DUMP... -o DIR`)
    """
    directory = Path(directory)
    path = directory / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{directory}: not an ftkit dataset: no {MANIFEST} (write one with `ftkit convert DUMP... -o DIR`)"
        raise DatasetError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise DatasetError(msg) from None
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise DatasetError(msg) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        msg = f"{path}: $.format: expected {FORMAT!r}, found {manifest.get('format') if isinstance(manifest, dict) else manifest!r}"
        raise DatasetError(msg)
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        msg = (
            f"{path}: $.schema_version: this ftkit reads datasets of schema version {SCHEMA_VERSION},"
            f" found {version!r}; convert the dumps again with this version"
        )
        raise DatasetError(msg)
    return manifest


def table_files(directory: str | os.PathLike, name: str) -> list[Path]:
    """The Parquet files of one table, in the order the jobs were read (batch, then partition)."""
    root = Path(directory) / name
    keyed = []
    for path in root.rglob("part-*.parquet"):
        key = part_key(path.name)
        if key is not None:
            keyed.append((*key, str(path), path))
    return [path for *_, path in sorted(keyed)]


def scan_tables(directory: str | os.PathLike) -> Tables:
    """The four tables of a dataset written by :func:`ftkit.convert_jobs`, as polars LazyFrames.

    Nothing is read until a query is collected; ``.collect(engine="streaming")`` runs
    it over datasets larger than memory. Partition columns (``created_month``) are not
    added: each table has exactly the columns and dtypes of its in-memory frame.

    Parameters
    ----------
    directory
        A dataset directory (it holds ``manifest.json``).

    Returns
    -------
    Tables
        ``.jobs``, ``.checkpoints``, ``.events``, ``.targets`` (LazyFrames) and
        ``.manifest``.

    Raises
    ------
    DatasetError
        ``directory`` holds no ftkit dataset, or one of another schema version.

    Examples
    --------
    >>> import ftkit, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = ftkit.convert_jobs(ftkit.synth.make_jobs_bytes(4, seed=0), pathlib.Path(tmp) / "t")
    ...     tables = ftkit.scan_tables(pathlib.Path(tmp) / "t")
    ...     jobs = tables.jobs.collect(engine="streaming")
    ...     summary = ftkit.checkpoint_summary(tables)  # a LazyFrame too
    ...     best = summary.select("job_id", "best_step").collect(engine="streaming")
    >>> type(tables.jobs).__name__, jobs.height, jobs.schema == ftkit.frames.JOBS_SCHEMA
    ('LazyFrame', 4, True)
    >>> type(summary).__name__, best.height
    ('LazyFrame', 4)
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    frames = {}
    for name in TABLES:
        files = table_files(directory, name)
        if not files:
            msg = f"{directory / name}: no Parquet files; the dataset is incomplete (convert the dumps again)"
            raise DatasetError(msg)
        frames[name] = pl.scan_parquet(files, schema=SCHEMAS[name], hive_partitioning=False)
    return Tables(path=directory, manifest=manifest, **frames)



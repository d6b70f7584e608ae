"""Writing job dumps as a Parquet dataset, in bounded memory: new, replaced or appended to.

:func:`convert_jobs` streams dumps (with :func:`ftkit.iter_jobs`) into one Parquet
dataset per table, ``jobs``, ``checkpoints``, ``events`` and ``targets``, each in several
files (one per batch of jobs, so that engines read them in parallel), in the layout that
:mod:`ftkit.tables` describes and reads (:func:`ftkit.scan_tables`). Its peak memory
depends on the batch size, not on the size of the dumps.

The dataset holds one row per job id (and that job's checkpoints, events and targets):
the latest snapshot, as :func:`ftkit.read_jobs` keeps it. ``append=True`` adds dumps to
an existing dataset without rewriting it: new files are added, and only the files that
held a snapshot superseded by the new dumps are rewritten without it. Everything is
written in a staging directory beside the dataset and moved into place at the end,
while the dataset's lock file (:data:`ftkit.tables.LOCK`) is held.

Examples
--------
>>> import ftkit, pathlib, tempfile
>>> from ftkit.convert import convert_jobs
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = pathlib.Path(tmp) / "tables"
...     first = convert_jobs(ftkit.synth.make_jobs_bytes(5, seed=0), out)
...     more = convert_jobs(ftkit.synth.make_jobs_bytes(8, seed=0), out, append=True)
...     n = ftkit.scan_tables(out).jobs.collect().height
>>> first.rows["jobs"], more.jobs_read, more.replaced, more.rows["jobs"], n
(5, 8, 5, 8, 8)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from .atomic import directory_lock, make_temp_dir, unwritable_parent
from .tables import (
    FORMAT,
    LOCK,
    MANIFEST,
    SCHEMA_VERSION,
    SCHEMAS,
    TABLES,
    DatasetError,
    part_key,
    read_manifest,
    table_files,
)

__all__ = ["ConvertResult", "ConvertProgress", "PartitionBy", "convert_jobs", "staging_directory"]

PartitionBy = Literal["created_month"]
_PARTITIONS = ("created_month",)

#: Called with the number of jobs converted so far, after each batch.
ConvertProgress = Callable[[int], None]


@dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert_jobs` wrote.

    Attributes
    ----------
    path
        The dataset directory.
    rows
        Rows of each table in the whole dataset (after an append: old and new).
    jobs_read
        Jobs read from this call's sources (before duplicates across batches and with
        the existing dataset were resolved).
    replaced
        Rows of jobs in the dataset that a newer snapshot replaced (or that were
        duplicates within the sources).
    skipped
        Records left out as unreadable (with ``errors="skip"``).
    """

    path: Path
    rows: dict[str, int]
    jobs_read: int
    replaced: int
    skipped: int


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m")


def _batches(source: Any, *, batch_size: int, errors: str, strict: bool) -> Iterator[Any]:
    from .jobset import JobSet
    from .read import iter_jobs

    if isinstance(source, JobSet):
        yield source
        return
    yield from iter_jobs(source, batch_size=batch_size, errors=errors, strict=strict)


class _Writer:
    """Writes the batches of one generation into a (temporary) dataset directory."""

    def __init__(self, root: Path, generation: int, partition_by: str | None) -> None:
        self.root = root
        self.generation = generation
        self.partition_by = partition_by
        self.batch = 0
        for name in TABLES:
            (root / name).mkdir(exist_ok=True)

    def name(self) -> str:
        return f"part-{self.generation:05d}-{self.batch:06d}.parquet"

    def write(self, frames: dict[str, pl.DataFrame]) -> None:
        file = self.name()
        if self.partition_by is None:
            for name in TABLES:
                if frames[name].height:  # no empty files: fill_empty gives an empty table one
                    frames[name].write_parquet(self.root / name / file)
        else:
            months = frames["jobs"].select("job_id", _month("created_at").alias("_part"))
            for name in TABLES:
                frame = frames[name]
                keyed = frame.with_columns(months["_part"]) if name == "jobs" else frame.join(
                    months, on="job_id", how="left", maintain_order="left"
                )
                for (part,), rows in keyed.partition_by("_part", as_dict=True, maintain_order=True).items():
                    folder = self.root / name / f"{self.partition_by}={part}"
                    folder.mkdir(exist_ok=True)
                    rows.drop("_part").write_parquet(folder / file)
        self.batch += 1

    def fill_empty(self) -> None:
        """Give a table with no file one empty file (so that engines can read its schema):
        the only empty file a dataset holds."""
        for name in TABLES:
            if table_files(self.root, name):
                continue
            folder = self.root / name
            jobs = table_files(self.root, "jobs")
            if jobs:
                folder = folder / jobs[0].parent.name if self.partition_by else folder
                file = jobs[0].name
            else:
                file = f"part-{self.generation:05d}-000000.parquet"
            folder.mkdir(exist_ok=True)
            pl.DataFrame(schema=SCHEMAS[name]).write_parquet(folder / file)


def _superseded(directory: Path) -> dict[str, list[str]]:
    """For each file name (``part-G-B.parquet``), the job ids whose rows there lost.

    The winner among a job id's rows: the latest ``modified_at``; on a tie the richer
    snapshot (more checkpoints, then more events; a null count, from a list response,
    is the poorest), then the later file (generation, batch).
    """
    files = table_files(directory, "jobs")
    if not files:
        return {}
    index = (
        pl.scan_parquet(files, hive_partitioning=False, include_file_paths="_path")
        .select(
            "job_id",
            "modified_at",
            pl.col("n_checkpoints").fill_null(-1),
            pl.col("n_events").fill_null(-1),
            pl.col("_path").str.extract(r"(part-\d+-\d+\.parquet)$").alias("_file"),
            pl.col("_path").str.extract(r"part-(\d+)-\d+\.parquet$").cast(pl.Int64).alias("_generation"),
            pl.col("_path").str.extract(r"part-\d+-(\d+)\.parquet$").cast(pl.Int64).alias("_batch"),
        )
        .filter(pl.len().over("job_id") > 1)
        .sort("job_id", "modified_at", "n_checkpoints", "n_events", "_generation", "_batch")
        .filter(pl.col("job_id") == pl.col("job_id").shift(-1))  # all but the last of each id
        .collect()
    )
    out: dict[str, list[str]] = {}
    for file, job_id in zip(index["_file"].to_list(), index["job_id"].to_list()):
        out.setdefault(file, []).append(job_id)
    return out


def _drop_superseded(directory: Path, losers: dict[str, list[str]]) -> int:
    """Rewrite the files that hold superseded rows without them (remove those left with
    none, and a partition folder left empty); return how many jobs lost."""
    for name in TABLES:
        for path in table_files(directory, name):
            ids = losers.get(path.name)
            if not ids:
                continue
            frame = pl.read_parquet(path)
            kept = frame.filter(~pl.col("job_id").is_in(ids))
            if kept.height == frame.height:
                continue  # none of those jobs' rows in this table here
            if kept.height == 0:
                _remove_file(directory / name, path)
                continue
            tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
            try:
                kept.write_parquet(tmp)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
    return sum(len(ids) for ids in losers.values())


def _remove_file(table: Path, path: Path) -> None:
    """Remove a file of a table, and its partition folder if that is left empty (in a
    staging directory the file is a hard link: the old dataset's file is untouched)."""
    path.unlink()
    if path.parent != table and not any(path.parent.iterdir()):
        path.parent.rmdir()


def _drop_placeholders(directory: Path, old_rows: dict[str, int], generation: int) -> None:
    """Remove the empty file of a table that had no rows before this generation and has
    some now (fill_empty gave it one so that engines could read its columns)."""
    for name in TABLES:
        if old_rows.get(name) != 0:
            continue
        files = table_files(directory, name)
        older = [path for path in files if part_key(path.name)[0] < generation]
        if len(older) < len(files):
            for path in older:
                _remove_file(directory / name, path)


def _counts(directory: Path) -> dict[str, int]:
    """Rows of each table, from the Parquet footers (no data is read)."""
    return {
        name: pl.scan_parquet(table_files(directory, name), hive_partitioning=False).select(pl.len()).collect().item()
        for name in TABLES
    }


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _check_output(directory: Path, inputs: list[Path], *, append: bool) -> dict[str, Any] | None:
    """Refuse outputs that would replace something not ours; return the existing manifest."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        msg = f"{directory}: exists and is not a directory; give a directory for the Parquet dataset"
        raise DatasetError(msg)
    problem = unwritable_parent(directory)
    if problem is not None:
        raise DatasetError(f"{directory}: {problem}")
    resolved = directory.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        # The dataset is moved into place by renaming directories, which would leave the
        # current directory a deleted one.
        msg = f"{directory}: is or holds the current directory; give a directory inside it, e.g. {directory / 'tables'}"
        raise DatasetError(msg)
    for path in inputs:
        if path.resolve() == resolved or resolved in path.resolve().parents:
            msg = f"{directory}: holds the input {path}; give an output directory apart from the dumps"
            raise DatasetError(msg)
    if not directory.exists():
        if append:
            msg = f"{directory}: no dataset to append to (run without --append to create one)"
            raise DatasetError(msg)
        return None
    if (directory / MANIFEST).exists():
        return read_manifest(directory)
    if any(path.name != LOCK for path in directory.iterdir()):
        msg = (
            f"{directory}: exists and is not an ftkit dataset (no {MANIFEST}); give a new or empty"
            " directory, so that nothing of yours is replaced"
        )
        raise DatasetError(msg)
    if append:
        msg = f"{directory}: no dataset to append to (run without --append to create one)"
        raise DatasetError(msg)
    return None


def _source_names(source: Any) -> tuple[list[str], list[Path]]:
    """Display names of the inputs, and the paths among them."""
    from .jobset import JobSet
    from .read import expand_sources

    if isinstance(source, JobSet):
        return ["<JobSet>"], []
    inputs = expand_sources(source)
    return [item.name for item in inputs], [item.path for item in inputs if item.path is not None]


def convert_jobs(
    source: Any,
    directory: str | os.PathLike,
    *,
    partition_by: PartitionBy | None = None,
    append: bool = False,
    batch_size: int = 10_000,
    errors: Literal["raise", "skip"] = "raise",
    strict: bool = False,
    progress: ConvertProgress | None = None,
) -> ConvertResult:
    """Write dumps as a Parquet dataset, streaming: memory bounded by ``batch_size``.

    Parameters
    ----------
    source
        What :func:`ftkit.iter_jobs` reads (paths, directories, globs, bytes, a list of
        these), or a :class:`~ftkit.JobSet` already in memory.
    directory
        The dataset directory. It must not exist, be empty, or hold an ftkit dataset
        (which is replaced, or appended to with ``append=True``); a directory holding
        anything else is refused, as is one that holds an input.
    partition_by
        ``"created_month"``: each table in hive-style folders
        ``created_month=YYYY-MM`` by the job's ``created_at`` (UTC). Default: none.
    append
        Add the jobs to the existing dataset: new files are added; rows of a job that
        the new dumps hold a newer snapshot of are dropped from the old files, which
        are rewritten (only those). The partitioning of the dataset is kept.
    batch_size
        Jobs per batch: one Parquet file per table per batch, and the unit of memory.
    errors, strict
        As for :func:`ftkit.read_jobs`.
    progress
        Called with the number of jobs read so far, after each batch.

    Returns
    -------
    ConvertResult
        The directory, row counts, and how many jobs were read, replaced and skipped.

    Notes
    -----
    One row per job id: where several snapshots of a job are read (in one call, or one
    already in the dataset and one appended), the one with the latest ``modified_at``
    stays; on a tie, the one with more checkpoints, then more events, then the one read
    later. Everything is written into a temporary directory beside ``directory`` and
    moved into place at the end (files of the old dataset that did not change are hard
    links, not copies): a failure leaves the old dataset, or nothing, in place. No file
    is empty but the one a table without rows needs so that engines know its columns.

    One convert at a time writes a dataset: it holds the lock file :data:`ftkit.tables.LOCK` in
    ``directory`` (``flock``), and another convert or append into the same directory
    fails at once with :class:`DatasetError` instead of waiting or mixing their files.

    Examples
    --------
    >>> import ftkit, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp) / "tables"
    ...     first = ftkit.convert_jobs(ftkit.synth.make_jobs_bytes(3, seed=0), out)
    ...     again = ftkit.convert_jobs(ftkit.synth.make_jobs_bytes(3, seed=0), out, append=True)
    ...     manifest = ftkit.scan_tables(out).manifest
    >>> first.rows["jobs"], again.rows["jobs"], again.replaced, len(manifest["sources"])
    (3, 3, 3, 2)
    """
    if partition_by is not None and partition_by not in _PARTITIONS:
        msg = f"partition_by must be one of {list(_PARTITIONS)} or None, got {partition_by!r}"
        raise ValueError(msg)
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    directory = Path(directory)
    names, paths = _source_names(source)
    _check_output(directory, paths, append=append)
    def busy() -> DatasetError:
        return DatasetError(
            f"{directory}: another `ftkit convert` is writing this dataset (it holds {LOCK});"
            " wait for it to finish, then run again"
        )

    with directory_lock(directory, LOCK, busy=busy, keep=MANIFEST) as lock:
        return _convert(source, directory, lock, names, paths, partition_by=partition_by, append=append,
                        batch_size=batch_size, errors=errors, strict=strict, progress=progress)


def _convert(
    source: Any,
    directory: Path,
    lock: Callable[[Path], None],
    names: list[str],
    paths: list[Path],
    *,
    partition_by: PartitionBy | None,
    append: bool,
    batch_size: int,
    errors: Literal["raise", "skip"],
    strict: bool,
    progress: ConvertProgress | None,
) -> ConvertResult:
    """:func:`convert_jobs` once the dataset's lock is held (its manifest read again here)."""
    from . import __version__

    old = _check_output(directory, paths, append=append)
    if append:
        assert old is not None
        if partition_by is not None and partition_by != old.get("partition_by"):
            msg = f"{directory}: the dataset is partitioned by {old.get('partition_by')!r}, not {partition_by!r}"
            raise DatasetError(msg)
        partition_by = old.get("partition_by")
        generation = int(old.get("generations", 1))
    else:
        generation = 0
    with staging_directory(directory) as tmp:
        if append:
            for name in TABLES:
                for path in table_files(directory, name):
                    target = tmp / path.relative_to(directory)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(path, target)
        writer = _Writer(tmp, generation, partition_by)
        read = skipped = 0
        for batch in _batches(source, batch_size=batch_size, errors=errors, strict=strict):
            skipped += len(batch.decode_errors)
            if len(batch) == 0:
                continue
            writer.write({name: getattr(batch, name) for name in TABLES})
            read += len(batch)
            if progress is not None:
                progress(read)
        if append:
            _drop_placeholders(tmp, old.get("rows", {}), generation)
        replaced = _drop_superseded(tmp, _superseded(tmp))
        writer.fill_empty()
        rows = _counts(tmp)
        sources = list(old["sources"]) if append and old else []
        sources += [{"name": name, "generation": generation} for name in names]
        manifest = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "ftkit_version": __version__,
            "partition_by": partition_by,
            "generations": generation + 1,
            "sources": sources,
            "rows": rows,
            "skipped_records": int(old.get("skipped_records", 0) if append and old else 0) + skipped,
            "columns": {name: {c: str(t) for c, t in SCHEMAS[name].items()} for name in TABLES},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        lock(tmp)
        _move_into_place(tmp, directory)
    return ConvertResult(path=directory, rows=rows, jobs_read=read, replaced=replaced, skipped=skipped)


@contextlib.contextmanager
def staging_directory(directory: Path) -> Iterator[Path]:
    """A new temporary directory beside ``directory`` (see :func:`ftkit.atomic.make_temp_dir`:
    what a killed run left there is removed first), removed again on any exception."""
    tmp = make_temp_dir(directory)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, directory: Path) -> None:
    """Rename ``tmp`` to ``directory``, replacing an old dataset or an empty directory."""
    if not directory.exists():
        os.rename(tmp, directory)
        return
    if not any(directory.iterdir()):
        os.rename(tmp, directory)  # over an empty directory
        return
    old = directory.parent / f".{directory.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(directory, old)
    try:
        os.rename(tmp, directory)
    except BaseException:
        os.rename(old, directory)
        raise
    shutil.rmtree(old, ignore_errors=True)

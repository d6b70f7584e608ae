"""Assemble what was decoded into JobSets, one job per id by the snapshot rule.

The last stage before the public functions of :mod:`ftkit.read.reader`. For
:func:`ftkit.read_jobs` with worker processes, :func:`assemble` joins the chunks' frames
in input order, keeps each job's latest snapshot (:mod:`ftkit.snapshots`) on the frames
and leaves every Struct to be decoded on first access by a :class:`Loader`. For
:func:`ftkit.iter_jobs`, :func:`batches` cuts the decoded stream into JobSets, and
:func:`deduped_batches` applies the same rule in two passes over the inputs.

Examples
--------
>>> from ftkit.read.sources import expand_sources
>>> from ftkit.synth import make_jobs_bytes
>>> dump = make_jobs_bytes(3, seed=0)
>>> [len(b) for b in deduped_batches(expand_sources([dump, dump]), batch_size=2, errors="raise", strict=False, bounds={})]
[2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from ..errors import JobDecodeError
from ..frames import FRAME_NAMES, complete_frame_parts, mistral_frame_parts
from ..jobset import JobSet
from ..openai_reading import UnattachedList, attach, candidate_owners
from ..schema import Job, WireJob, to_job
from ..snapshots import merge_snapshots
from .decode import Decoded, DecodedChunk, Errors, OpenAIRecords, decode_listing, decode_wire_job
from .sources import Input, bytes_of, changed_error
from .stream import iter_input, paused

__all__ = ["Loader", "assemble", "batches", "deduped_batches", "resolve_snapshots", "snapshot_plan"]


# --- read_jobs: frames from chunks -------------------------------------------------------


def assemble(
    decoded: list[DecodedChunk],
    datas: list[Any],
    inputs: list[Input],
    read_errors: dict[int, list[JobDecodeError]],
    errors: str,
) -> JobSet:
    """Join the chunks' frame parts in input order, resolve snapshots of one job, build the JobSet.

    Each chunk holds :func:`~ftkit.frames.mistral_frame_parts`, which are completed once joined.

    ``datas``: per input, its bytes (or a :class:`~ftkit.read.sources.LazyFile`), from which
    the Structs are decoded on first access; ``read_errors``: per input, the errors found
    while reading it, listed after those of its records. Raises :class:`OpenAIRecords` if
    any chunk held OpenAI records (their lists attach across inputs: read them in-process).
    """
    if any(part.reply.openai for part in decoded):
        raise OpenAIRecords
    all_errors: list[JobDecodeError] = []
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in FRAME_NAMES}
    # Where each job's Struct comes from: (chunk, index within the chunk).
    origin: list[tuple[DecodedChunk, int]] = []
    by_input: dict[int, list[DecodedChunk]] = {}
    for part in decoded:
        by_input.setdefault(part.chunk.input_index, []).append(part)
    for index in range(len(inputs)):
        lines_before = 0
        for part in by_input.get(index, []):
            reply = part.reply
            for reason, source, line, idx, path in reply.errors:
                if line is not None:
                    line += lines_before
                all_errors.append(JobDecodeError(reason, source=source, line=line, index=idx, path=path))
            lines_before += reply.lines
            base = len(origin)
            frames = [part.frames[name] for name in FRAME_NAMES]
            part.frames = None
            n = frames[0].height
            origin += [(part, i) for i in range(n)]
            for name, frame in zip(FRAME_NAMES, frames):
                parts[name].append(frame.with_columns(pl.col("_position") + base) if base else frame)
        all_errors += read_errors.get(index, [])
    if errors == "raise" and all_errors:
        raise all_errors[0]
    frames = {
        # a chunk's parts leave out the columns null in all its rows (see mistral_frame_parts)
        name: pl.concat(chunks, how="diagonal") if chunks else None for name, chunks in parts.items()
    }
    if frames["jobs"] is None:
        return JobSet(errors=all_errors)
    jobs = frames["jobs"]
    ids_by_position = jobs["job_id"]
    loader = Loader(origin, datas)
    if ids_by_position.n_unique() < jobs.height:
        frames, kept, merged = resolve_snapshots(frames, loader)
        loader.origin = [origin[i] for i in kept]
        loader.overrides = merged
    frames = complete_frame_parts(frames, ids_by_position)
    ids = frames["jobs"]["job_id"].to_list()
    return JobSet.from_parts(ids=ids, loader=loader, frames=frames, errors=all_errors)


def resolve_snapshots(
    frames: dict[str, pl.DataFrame], loader: Loader
) -> tuple[dict[str, pl.DataFrame], list[int], dict[int, Job]]:
    """Keep one job per id by the rule of :mod:`ftkit.snapshots`, on the assembled frame parts.

    Returns the frames of the kept jobs, the positions kept (in order) and, by index
    among the kept, the jobs merged from tied records (their rows rebuilt).
    """
    latest = (
        frames["jobs"]
        .select("job_id", "modified_at", "_position")
        .filter(pl.col("modified_at") == pl.col("modified_at").max().over("job_id"))
        .group_by("job_id")
        .agg(pl.col("_position"))
        .with_columns(pl.col("_position").list.max().alias("kept"))
        .sort("kept")
    )
    kept = latest["kept"]
    merged: dict[int, Job] = {}
    tied = latest.filter(pl.col("_position").list.len() > 1)
    for positions, position in zip(tied["_position"].to_list(), tied["kept"].to_list()):
        job = merge_snapshots([loader(p) for p in sorted(positions)])
        if job != loader(position):
            merged[position] = job
    keep = kept.implode()
    frames = {name: frame.filter(pl.col("_position").is_in(keep)) for name, frame in frames.items()}
    if merged:
        rebuilt = mistral_frame_parts(list(merged.values()))
        at = pl.Series(list(merged), dtype=pl.Int64())
        replaced = at.implode()
        frames = {
            name: pl.concat(
                [
                    frame.filter(~pl.col("_position").is_in(replaced)),
                    rebuilt[name].with_columns(at.gather(rebuilt[name]["_position"]).alias("_position")),
                ],
                how="diagonal",
            ).sort("_position", maintain_order=True)
            for name, frame in frames.items()
        }
    kept_list = kept.to_list()
    index = {position: i for i, position in enumerate(kept_list)}
    return frames, kept_list, {index[p]: job for p, job in merged.items()}


class Loader:
    """Decodes the Struct of the job at a position, from the bytes kept for it."""

    def __init__(self, origin: list[tuple[DecodedChunk, int]], datas: list[Any]) -> None:
        self.origin = origin
        self.datas = datas
        #: Jobs merged from tied snapshots, by position.
        self.overrides: dict[int, Job] = {}
        self._listing: tuple[tuple[int, int], list[Any]] | None = None

    def __call__(self, position: int) -> Job:
        merged = self.overrides.get(position)
        if merged is not None:
            return merged
        part, i = self.origin[position]
        if part.jobs:  # decoded in this process and kept
            return to_job(part.jobs[i])
        chunk, reply = part.chunk, part.reply
        start = chunk.start + reply.starts[i]
        end = chunk.start + reply.ends[i]
        sub = reply.subs[i]
        raw = memoryview(bytes_of(self.datas, chunk.input_index))[start:end]
        if sub < 0:
            return to_job(decode_wire_job(raw))
        key = (chunk.input_index, start)
        if self._listing is None or self._listing[0] != key:
            # a line holding a list response: keep its jobs' raw bytes for the next call
            self._listing = (key, decode_listing(raw).data)
        return to_job(decode_wire_job(self._listing[1][sub]))


# --- iter_jobs: batches, and the snapshot rule in two passes -----------------------------


def batches(decoding: Iterator[Decoded], batch_size: int) -> Iterator[JobSet]:
    """Batches of at most ``batch_size`` jobs, each with the errors found while filling it."""
    jobs: list[WireJob] = []
    bad: list[JobDecodeError] = []
    lists: list[UnattachedList] = []
    for decoded in decoding:
        jobs += decoded.jobs
        bad += decoded.errors
        lists += decoded.lists
        while len(jobs) >= batch_size:
            batch, unattached = attach(jobs[:batch_size], lists)
            yield JobSet.from_wire(batch, errors=bad, unattached=unattached)
            jobs = jobs[batch_size:]
            bad = []
            lists = []
    if jobs or bad or lists:
        batch, unattached = attach(jobs, lists)
        yield JobSet.from_wire(batch, errors=bad, unattached=unattached)


def deduped_batches(
    inputs: list[Input], *, batch_size: int, errors: Errors, strict: bool, bounds: dict[str, Any]
) -> Iterator[JobSet]:
    """The two passes of :func:`iter_jobs` with ``dedupe=True``."""
    extents: list[tuple[int | None, int]] = []
    waits: dict[str, int] = {}
    keep, merges = snapshot_plan(inputs, errors=errors, strict=strict, extents=extents, bounds=bounds, waits=waits)
    chosen = _chosen(inputs, keep, merges, errors=errors, strict=strict, extents=extents, bounds=bounds, waits=waits)
    yield from batches(chosen, batch_size)


def snapshot_plan(
    inputs: list[Input],
    *,
    errors: Errors,
    strict: bool,
    extents: list[tuple[int | None, int]],
    bounds: dict[str, Any] | None = None,
    waits: dict[str, int] | None = None,
) -> tuple[bytearray, dict[int, tuple[frozenset[int], int]]]:
    """The first pass: which records to yield, by position in the stream of good records.

    Returns one flag per record (1: yield it as it comes) and, for the records to merge,
    by position, the positions of the job's tied records and the last of them. Identical
    tied records count once (the last of them), so that a dump read twice holds nothing
    back. ``extents`` receives, per input, the bytes read of a file and the records found;
    ``waits``, for each OpenAI job id a list of events or checkpoints may attach to (see
    :func:`~ftkit.openai_reading.candidate_owners`), the position reached when the last
    such list is read: the job waits for it.
    """
    #: id -> (modified_at, position, content hash), or (modified_at, {hash: position}) on a tie
    latest: dict[str, tuple[Any, ...]] = {}
    position = 0
    for item in inputs:
        seen: list[int] = []
        start = position
        fingerprints: list[int] = []
        decoding = iter_input(item, errors=errors, strict=strict, seen=seen, fingerprints=fingerprints, **(bounds or {}))
        for decoded in paused(decoding):
            for job, fingerprint in zip(decoded.jobs, fingerprints):
                entry = latest.get(job.id)
                if entry is None or job.modified_at > entry[0]:
                    latest[job.id] = (job.modified_at, position, fingerprint)
                elif job.modified_at == entry[0]:
                    if len(entry) == 3:
                        entry = latest[job.id] = (entry[0], {entry[2]: entry[1]})
                    entry[1][fingerprint] = position
                position += 1
            fingerprints.clear()
            if waits is not None:
                for part in decoded.lists:
                    for owner in candidate_owners(part):
                        waits[owner] = position
        extents.append((seen[0] if seen else None, position - start))
    keep = bytearray(position)
    merges: dict[int, tuple[frozenset[int], int]] = {}
    for entry in latest.values():
        if len(entry) == 3:
            keep[entry[1]] = 1
            continue
        positions = frozenset(entry[1].values())
        last = max(positions)
        if len(positions) == 1:
            keep[last] = 1
        else:
            for p in positions:
                merges[p] = (positions, last)
    return keep, merges


def _chosen(
    inputs: list[Input],
    keep: bytearray,
    merges: dict[int, tuple[frozenset[int], int]],
    *,
    errors: Errors,
    strict: bool,
    extents: list[tuple[int | None, int]],
    bounds: dict[str, Any],
    waits: dict[str, int],
) -> Iterator[Decoded]:
    """The second pass: the records the first pass chose, merged where they tie, with the
    OpenAI lists attached (a job whose lists come later is held until the last is read)."""
    waiting: dict[int, list[Any]] = {}  # last position of a merge -> the records so far
    held: dict[str, Any] = {}  # OpenAI jobs waiting for lists read later
    lists: list[UnattachedList] = []  # lists read whose job has not come yet
    position = 0
    for item, (extent, records) in zip(inputs, extents):
        end = position + records
        for decoded in paused(iter_input(item, errors=errors, strict=strict, limit=extent, **bounds)):
            if position + len(decoded.jobs) > end:
                raise changed_error(item)
            chosen = []
            for job in decoded.jobs:
                if keep[position]:
                    chosen.append(job)
                elif position in merges:
                    positions, last = merges[position]
                    waiting.setdefault(last, []).append(job)
                    if position == last:
                        chosen.append(merge_snapshots(waiting.pop(last)))
                position += 1
            if waits:
                lists += decoded.lists
                for job in chosen:
                    if waits.get(job.id, -1) > position:
                        held[job.id] = job
                chosen = [job for job in chosen if job.id not in held]
                chosen += [held.pop(job_id) for job_id in [j for j in held if waits[j] <= position]]
                if lists and chosen:
                    chosen, lists = attach(chosen, lists)
            yield Decoded(chosen, decoded.errors)
        if position != end:
            raise changed_error(item)
    if held or lists:
        rest, unattached = attach(list(held.values()), lists)
        yield Decoded(rest, [], unattached)

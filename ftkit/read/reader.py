"""Read job dumps: files, directories, globs and bytes, in every shape the API produced.

A *source* is a path (a file, a directory read recursively for ``*.json``, ``*.ndjson``,
``*.jsonl`` and their ``.gz`` forms, or a glob), bytes already in memory, a binary file
object (``open(p, "rb")``, ``io.BytesIO``, ``gzip.open(p)``), or a list of these. A file holds one job, one list response (``{"object": "list", "data": [...]}``),
a JSON array of either, or NDJSON with one job or list response per line; any of them may
be gzip-compressed (recognised by content, not by name). OpenAI fine-tuning jobs and their
events and checkpoints lists may stand among the Mistral jobs: they are recognised by shape
and read by :mod:`ftkit.openai_reading`.

This module holds the public functions, the last stage of the :mod:`ftkit.read` pipeline:
:func:`read_jobs` reads in this process (:func:`~ftkit.read.decode.decode_bytes` per input)
or, for large NDJSON, cuts chunks (:mod:`~ftkit.read.chunks`), has the workers decode them
(:mod:`~ftkit.read.workers`) and assembles the JobSet (:mod:`~ftkit.read.assemble`);
:func:`iter_jobs` streams each input (:mod:`~ftkit.read.stream`) into batches.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(5, seed=0))
>>> len(js)
5
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

from ..errors import JobDecodeError
from ..gc_pause import gc_paused
from ..jobset import JobSet
from ..openai_reading import UnattachedList, attach
from ..schema import WireJob
from ..snapshots import latest_snapshots
from . import chunks as chunking
from .assemble import assemble, batches, deduped_batches
from .chunks import Chunk, split_bytes, split_file
from .decode import Decoded, Errors, OpenAIRecords, decode_bytes
from .layout import layout, plain_ndjson, worth_decoding
from .sources import Input, LazyFile, Source, expand_sources, memory_budget
from .stream import iter_input, paused
from .workers import pool_pids, run_chunks, spill_directory, start_is_cheap, worker_count, worker_pool
from .write import write_jobs

__all__ = ["read_jobs", "iter_jobs", "write_jobs", "memory_budget", "Source"]

#: Called as reading goes on with (bytes done, bytes in all), of the input as read.
ProgressCallback = Callable[[int, int], None]


def read_jobs(
    source: Source,
    *,
    errors: Errors = "raise",
    strict: bool = False,
    progress: ProgressCallback | None = None,
    max_input_bytes: int | None = None,
) -> JobSet:
    """Read every job from a source into a :class:`~ftkit.JobSet`.

    Parameters
    ----------
    source
        A path (``str`` or ``pathlib.Path``) to a file or directory, a glob, bytes, a
        binary file object (read from where it stands), or a list of these. Files may
        be one job, a list response, a JSON array of either, or NDJSON of either, plain
        or gzip-compressed. A text-mode file object, a ``str`` holding JSON text, an
        empty string and a URL are refused (``TypeError``/``ValueError``); Mistral jobs, OpenAI jobs,
        or both. OpenAI events and checkpoints lists are attached to their job once every
        input is read (the rules are in :mod:`ftkit.openai_reading`); those whose job is
        absent are kept in ``JobSet.unattached``.
    errors
        ``"raise"`` (default): the first bad record raises :class:`~ftkit.JobDecodeError`
        naming the source, line or index, JSON path, and what was expected and found; a
        note under its traceback says how to go on. The last line of a dump still being
        written, cut short with no newline after it, is named as such ("the file ends in
        an incomplete line: still being written?").
        ``"skip"``: bad records are left out and listed in ``JobSet.errors``; every good
        record is still returned.
    strict
        Reject keys the schema does not know (they are tolerated by default, since the
        API adds keys over time), naming them.
    progress
        A function called with ``(done, total)`` bytes as the reading goes on (after each
        input, or each part of a large one), e.g. to draw a progress bar.
    max_input_bytes
        The most bytes one input may hold, decompressed (it is held in memory whole); by
        default half the memory available when the read starts (:func:`memory_budget`).
        A larger input is a :class:`~ftkit.JobDecodeError`; of a gzip bomb, decompression
        stops at the limit, and with ``errors="skip"`` the NDJSON lines before it are kept.

    Returns
    -------
    JobSet
        One job per id: where several records (snapshots over time) hold the same job,
        the one with the latest ``modified_at`` is kept, and records tied on it are merged
        key by key (see :mod:`ftkit.snapshots`); the result never depends on the order
        of the inputs.

    Notes
    -----
    Large NDJSON inputs are decoded in parallel by worker processes (one per core), which
    validate every record and build the frames; the job Structs themselves are then
    decoded on first access and cached. Smaller inputs are decoded in this process the
    same way (:func:`~ftkit.read.decode.decode_chunk`), save where they average under
    :data:`MIN_CHUNKED_BYTES` an input, hold OpenAI records or ``strict`` is set: those are
    decoded whole and their Structs kept. Workers are forked where that is safe, else come
    from a fork server (see :func:`ftkit.read.processes.start_method`); where they would
    start as new interpreters, inputs under :data:`MIN_COLD_PARALLEL_BYTES` are read here.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(b'[{"id": "a", "model": "m", "status": "QUEUED",'
    ...                      b' "created_at": 1, "modified_at": 1, "hyperparameters": {}},'
    ...                      b' {"id": "b", "model": "m", "status": 7}]', errors="skip")
    >>> len(js), js.errors.row(0)
    (1, ('<bytes>', None, 1, '$.status', 'Expected `str`, got `int`'))
    """
    if errors not in ("raise", "skip"):
        msg = f"errors must be 'raise' or 'skip', got {errors!r}"
        raise ValueError(msg)
    limit = _check_limit(max_input_bytes, "max_input_bytes") or memory_budget()
    inputs = expand_sources(source)
    try:
        with gc_paused():
            parallel = wants_parallel(inputs, strict=strict)
            if parallel or wants_chunks(inputs, strict=strict):
                try:
                    return read_parallel(inputs, errors=errors, progress=progress, limit=limit, workers=parallel)
                except OpenAIRecords:
                    pass  # their lists attach across inputs: read everything here
            return _read_here(inputs, errors=errors, strict=strict, progress=progress, limit=limit)
    except JobDecodeError as exc:
        raise _advised(exc, "read_jobs") from None


#: How to go on after a JobDecodeError, added to it as a note (shown under its traceback).
HOW_TO_GO_ON = (
    "To go on: {function}(..., errors=\"skip\") returns every good record and lists the bad "
    "ones in .errors; `ftkit validate FILE...` lists every bad record."
)


def _advised(error: JobDecodeError, function: str) -> JobDecodeError:
    """``error`` with a note saying how to go on (once, however many readers it crosses)."""
    if not any(note.startswith("To go on:") for note in getattr(error, "__notes__", ())):
        error.add_note(HOW_TO_GO_ON.format(function=function))
    return error


def _advising(batches: Iterator[JobSet]) -> Iterator[JobSet]:
    """The batches of :func:`iter_jobs`; a JobDecodeError gets the note on how to go on."""
    try:
        yield from batches
    except JobDecodeError as exc:
        raise _advised(exc, "iter_jobs") from None


def _check_limit(value: int | None, name: str) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        msg = f"{name} must be a positive number of bytes or None, got {value!r}"
        raise ValueError(msg)
    return value


def _read_here(
    inputs: list[Input], *, errors: Errors, strict: bool, progress: ProgressCallback | None, limit: int | None = None
) -> JobSet:
    """:func:`read_jobs` in this process."""
    jobs: list[WireJob] = []
    bad: list[JobDecodeError] = []
    lists: list[UnattachedList] = []
    sizes = [item.size() for item in inputs]
    total = sum(sizes)
    done = 0
    for item, size in zip(inputs, sizes):
        if progress is not None:
            progress(done, total)
            done += size
        damage: list[JobDecodeError] = []
        try:
            data = item.read(damage, limit)
            if worth_decoding(data, damage):
                decoded = decode_bytes(data, source=item.name, errors=errors, strict=strict)
                jobs += decoded.jobs
                bad += decoded.errors
                lists += decoded.lists
            if damage and errors == "raise":
                raise damage[0]
        except JobDecodeError as exc:
            if errors == "raise":
                raise
            bad.append(exc)
            continue
        bad += damage
    if progress is not None:
        progress(done, total)
    # one record per job first (lists attached from elsewhere never change which wins)
    jobs, unattached = attach(latest_snapshots(jobs) if lists else jobs, lists)
    return JobSet.from_wire(jobs, errors=bad, unattached=unattached)


def iter_jobs(
    source: Source,
    *,
    batch_size: int = 5_000,
    errors: Errors = "raise",
    strict: bool = False,
    dedupe: bool = True,
    max_line_bytes: int | None = 64 << 20,
    max_input_bytes: int | None = None,
) -> Iterator[JobSet]:
    """Read a source in batches of at most ``batch_size`` jobs, in bounded memory.

    NDJSON files (plain or gzip) are streamed block by block, so memory stays bounded
    whatever the dump's size; a file holding one JSON document or array is read whole,
    then yielded in batches. OpenAI events and checkpoints lists are attached to their
    job as in :func:`read_jobs` (see ``dedupe`` for where they can be found).

    Parameters
    ----------
    source, errors, strict
        As in :func:`read_jobs`.
    batch_size
        The most jobs in one batch (default 5,000: about 260 MB of peak memory on a
        dump of 100,000 jobs with 30 checkpoints each; 10,000 takes about 410 MB).
    dedupe
        ``True`` (default): each job id comes once in the whole stream, chosen by the
        same rule as :func:`read_jobs` (see :mod:`ftkit.snapshots`), whatever
        ``batch_size`` is, so that the batches together hold the jobs ``read_jobs``
        gives. The source is read twice: first to find each id's winning records (an
        index of a few bytes per record), then to yield them. A job comes in the batch
        where the last record it is made of is read; records tied on their latest
        ``modified_at`` but different are kept until then to be merged. With
        ``errors="raise"`` a bad record raises before the first batch. A file that
        grows between the two reads (a dump still being written) is read up to where
        the first read ended. ``False``: one pass, each record as it comes; a job with
        several records may come in several batches, and OpenAI events and
        checkpoints lists attach only to jobs of the batch they are read in (the others
        are in that batch's ``unattached``). With ``dedupe=True``, the first read also
        notes which OpenAI job each list belongs to (by the rules of
        :mod:`ftkit.openai_reading`), and a job comes in the batch where the last
        record it is made of, or the last of its lists, is read, with every list of it
        attached, whatever ``batch_size`` is; lists read before their job are held until
        it comes (memory: those lists and the jobs waiting), and lists whose job is not
        in the source come in the last batch's ``unattached``.
    max_line_bytes
        The longest NDJSON line read (default 64 MB), so that memory stays bounded by the
        batch whatever one line holds: a longer line is a :class:`~ftkit.JobDecodeError`
        (with ``errors="skip"``, listed and dropped as it is read). ``None``: no limit.
    max_input_bytes
        The most bytes of an input that is not NDJSON (one document or array, read
        whole), decompressed; by default half the memory available (:func:`memory_budget`).

    Examples
    --------
    >>> import ftkit
    >>> [len(batch) for batch in ftkit.iter_jobs(ftkit.synth.make_jobs_bytes(5, seed=0), batch_size=2)]
    [2, 2, 1]
    """
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    if errors not in ("raise", "skip"):
        msg = f"errors must be 'raise' or 'skip', got {errors!r}"
        raise ValueError(msg)
    bounds = {
        "max_line": _check_limit(max_line_bytes, "max_line_bytes"),
        "max_whole": _check_limit(max_input_bytes, "max_input_bytes") or memory_budget(),
    }
    inputs = expand_sources(source)
    if not dedupe:
        return _advising(batches(_decoded_stream(inputs, errors=errors, strict=strict, bounds=bounds), batch_size))
    return _advising(deduped_batches(inputs, batch_size=batch_size, errors=errors, strict=strict, bounds=bounds))


def _decoded_stream(inputs: list[Input], *, errors: Errors, strict: bool, bounds: dict[str, Any]) -> Iterator[Decoded]:
    for item in inputs:
        yield from paused(iter_input(item, errors=errors, strict=strict, **bounds))


# --- with worker processes ----------------------------------------------------------


#: Inputs smaller than this in total are decoded in this process, where the workers start
#: by a fork (about 0.05 s of CPU each): at 5 MB, forking them makes a cold read no faster
#: (benchmarks/bench_read.py, 1,000 jobs: 0.055-0.079 s against 0.050-0.066 s here).
MIN_PARALLEL_BYTES = 16 << 20
#: The same where the workers are running (a read soon after another): at 1-2 MB this
#: process is still faster (0.018 against 0.023 s at 1 MB, bench_worker_start.py); at 5 MB,
#: in one chunk per worker, the workers are (0.037-0.043 against 0.050-0.056 s here).
MIN_WARM_PARALLEL_BYTES = 4 << 20
#: The same where the workers would start as new interpreters (a new fork server, or
#: where fork is not available): about 0.4 s of CPU each for Python and the imports, so
#: that workers only win from about 60-90 MB on.
MIN_COLD_PARALLEL_BYTES = 64 << 20


#: Inputs averaging fewer bytes than this are decoded whole in this process, their
#: Structs kept, when no workers are used: the frame parts of an input cost about 1 ms of
#: polars work, more than a few dozen jobs cost to decode. Above it, decoding in chunks
#: (each job's values gathered as it is decoded, its Struct decoded again when asked
#: for) costs less: 15-20% at 10,000 jobs of the benchmarks' standard shape, 40% of the
#: shape with many events.
MIN_CHUNKED_BYTES = 256 << 10


def wants_chunks(inputs: list[Input], *, strict: bool) -> bool:
    """Whether these inputs are worth decoding in chunks in this process (see :data:`MIN_CHUNKED_BYTES`)."""
    return not strict and bool(inputs) and sum(item.size() for item in inputs) >= MIN_CHUNKED_BYTES * len(inputs)


#: The least a chunk holds where a read is cut into one chunk per worker (a read smaller
#: than :data:`~ftkit.read.chunks.MIN_CHUNK_BYTES` a worker).
MIN_SPLIT_BYTES = 1 << 20


def chunk_bytes(total: int, count: int) -> int:
    """The bytes a chunk of a read of ``total`` bytes holds at least, with ``count`` workers:
    :data:`~ftkit.read.chunks.MIN_CHUNK_BYTES`, or a smaller read's share for each worker
    (at least :data:`MIN_SPLIT_BYTES`), so that every worker has a chunk."""
    if count < 1:
        return chunking.MIN_CHUNK_BYTES
    return min(chunking.MIN_CHUNK_BYTES, max(MIN_SPLIT_BYTES, -(-total // count)))


def wants_parallel(inputs: list[Input], *, strict: bool) -> bool:
    """Whether these inputs are worth decoding in worker processes."""
    count = worker_count()
    if strict or count < 2:
        return False
    sizes = [item.size() for item in inputs]
    if len(pool_pids()) >= count:  # no start to pay for
        least = min(MIN_PARALLEL_BYTES, MIN_WARM_PARALLEL_BYTES)
    elif start_is_cheap(count):
        least = MIN_PARALLEL_BYTES
    else:
        least = max(MIN_PARALLEL_BYTES, MIN_COLD_PARALLEL_BYTES)
    # Inputs too small to be split are decoded here anyway, each on its own: many small
    # files are faster read in one go by the in-process path.
    return sum(sizes) >= least and max(sizes, default=0) >= chunk_bytes(sum(sizes), count)


def read_parallel(
    inputs: list[Input],
    *,
    errors: str,
    progress: ProgressCallback | None = None,
    limit: int | None = None,
    workers: bool = True,
) -> JobSet:
    """Read inputs in chunks, with worker processes unless ``workers=False``; see :func:`ftkit.read_jobs`.

    Each large NDJSON input is cut into chunks (a plain file is read by the workers
    themselves), the rest are read here and decoded whole; the chunks are decoded
    (:func:`~ftkit.read.workers.run_chunks`, here where there are no workers) and the
    results assembled into one JobSet. Raises :class:`~ftkit.read.decode.OpenAIRecords`
    if the inputs hold OpenAI records.
    """
    count = worker_count() if workers else 0
    with worker_pool(count) if count else nullcontext([]) as pool:
        datas: list[Any] = [None] * len(inputs)
        # Errors found while reading an input, listed after those of its records.
        read_errors: dict[int, list[JobDecodeError]] = {}
        chunks: list[Chunk] = []
        total = sum(item.size() for item in inputs)
        smallest = chunk_bytes(total, count)
        for index, item in enumerate(inputs):
            size = item.size()
            # chunks of about MIN_CHUNK_BYTES (fewer page faults, less memory per worker), at
            # least 4 per worker across the inputs where there is enough; a smaller read in
            # one chunk per worker
            share = max(1, round(4 * count * size / max(total, 1)), size // smallest)
            if item.path is not None and smallest <= size <= (limit or size) and plain_ndjson(item.path):
                # Workers read their share of the file themselves; this process reads it
                # only when a job's Struct is first asked for.
                chunks += split_file(item.path, size, index, share, smallest=smallest)
                datas[index] = LazyFile(item.path)
                continue
            damage: list[JobDecodeError] = []
            try:
                data = item.read(damage, limit)
            except JobDecodeError as exc:
                read_errors[index] = [exc]
                continue
            if damage:
                read_errors[index] = damage
            if not worth_decoding(data, damage):
                continue
            datas[index] = data
            # NDJSON goes in chunks: a large input across the workers; any, without workers,
            # for decode_chunk's way (each job's values gathered as it is decoded)
            if (len(data) >= smallest or not pool) and layout(data) == "ndjson":
                chunks += split_bytes(data, index, share, smallest=smallest)
            else:
                chunks.append(Chunk(index, 0, len(data), local=True))
        with spill_directory() if pool else nullcontext("") as spill:
            decoded = run_chunks(chunks, pool, datas, inputs, errors, spill, progress)
            return assemble(decoded, datas, inputs, read_errors, errors)

"""Read job dumps: files, directories, globs and bytes, in every shape the API produced.

A *source* is a path (a file, a directory read recursively for ``*.json``, ``*.ndjson``,
``*.jsonl`` and their ``.gz`` forms, or a glob), bytes already in memory, a binary file
object (``open(p, "rb")``, ``io.BytesIO``, ``gzip.open(p)``), or a list of these. A file holds one job, one list response (``{"object": "list", "data": [...]}``),
a JSON array of either, or NDJSON with one job or list response per line; any of them may
be gzip-compressed (recognised by content, not by name). OpenAI fine-tuning jobs and their
events and checkpoints lists may stand among the Mistral jobs: they are recognised by shape
and read by :mod:`ftkit.openai_reading`.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(5, seed=0))
>>> len(js)
5
"""

from __future__ import annotations

import gc
import itertools
import gzip
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..errors import JobDecodeError
from ..openai_reading import UnattachedList, attach, candidate_owners, decode_openai
from ..openai_schema import openai_shape
from ..schema import Job, WireJob, WireJobList
from ..snapshots import latest_snapshots, merge_snapshots
from .sources import (
    BOM,
    GZIP_MAGIC,
    STREAM_BLOCK,
    Input,
    Source,
    expand_sources,
    gunzip_blocks,
    memory_budget,
    strip_bom,
    too_large,
)

if TYPE_CHECKING:
    from ..jobset import JobSet

__all__ = ["read_jobs", "iter_jobs", "write_jobs", "memory_budget", "Source"]

Errors = Literal["raise", "skip"]


#: The reason given for the last line of an input when no newline ends it and it is not
#: whole JSON: a dump that ``ftkit export`` (or anything else) is still appending to.
INCOMPLETE_LINE = "the file ends in an incomplete line: still being written?"

_job_decoder = msgspec.json.Decoder(WireJob)
#: What decoding untrusted bytes can raise: msgspec's errors, invalid UTF-8 inside
#: strings, and nesting deeper than Python's recursion limit.
_DECODE_ERRORS = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)
_any_decoder = msgspec.json.Decoder()


class _ListProbe(msgspec.Struct):
    """A list response, its jobs left undecoded so that each is read on its own.

    ``id`` tells a bad job that happens to have a ``data`` key from a list response.
    """

    data: list[msgspec.Raw]
    id: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_list_decoder = msgspec.json.Decoder(_ListProbe)
_array_decoder = msgspec.json.Decoder(list[msgspec.Raw])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block.

    Decoding a dump allocates millions of containers (lists, event ``data`` dicts) that
    form no reference cycles; each automatic collection would walk all of them, which
    made decoding about 40% slower. Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- sources (see ftkit.sources) ---------------------------------------------

def worth_decoding(data: bytes, damage: list[JobDecodeError]) -> bool:
    """Whether what was read of an input is decoded: all of it when it was read whole, the
    complete lines before the damage of damaged NDJSON, nothing of a damaged single
    document (none of it can be trusted)."""
    return not damage or _layout(data) == "ndjson"


# --- decoding ---------------------------------------------------------------------


@dataclass
class Decoded:
    """What one input (or one chunk of it) decoded to."""

    jobs: list[WireJob]
    errors: list[JobDecodeError]
    #: OpenAI events and checkpoints lists, attached to their jobs once all is read.
    lists: list[UnattachedList] = field(default_factory=list)


def _layout(data: bytes) -> Literal["empty", "array", "object", "ndjson", "other"]:
    """Guess the layout of a document from its first bytes and first lines.

    NDJSON is told from one pretty-printed document by its first line (a whole JSON
    value) or, where the first line is malformed, by its second line (a line of NDJSON
    starts with ``{``; the second line of a pretty-printed document does not).
    """
    start = _SPACES.match(data, 3 if data[:3] == BOM else 0).end()
    if start == len(data):
        return "empty"
    first = data[start : start + 1]
    if first == b"[":
        return "array"
    if first != b"{":
        return "other"
    end = data.find(b"\n", start)
    if end == -1 or _blank(data, end):
        return "object"
    line = data[start:end].strip()
    if line == b"{":
        return "object"  # a pretty-printed document
    try:
        _any_decoder.decode(line)
    except _DECODE_ERRORS:
        # The first line is not a whole value: a document spread over lines (one whose
        # second line starts with "{", such as a pretty-printed list response, too) if
        # the whole parses as one value, else NDJSON with a bad first line.
        if _parses_whole(data[start:]):
            return "object"
        following = data[end + 1 : end + 1 + 4096].lstrip()
        return "ndjson" if following[:1] == b"{" else "object"
    return "ndjson"


_raw_decoder = msgspec.json.Decoder(msgspec.Raw)


def _parses_whole(data: bytes) -> bool:
    """Whether ``data`` is one JSON value (checked without building it)."""
    try:
        _raw_decoder.decode(data)
    except _DECODE_ERRORS:
        return False
    return True


def _blank(data: bytes, start: int) -> bool:
    """Whether ``data[start:]`` is only whitespace, without copying a large tail."""
    return _SPACES.match(data, start).end() == len(data)


#: A run of JSON whitespace, matched in C: a gigabyte of blanks is skipped in linear time.
_SPACES = re.compile(rb"[ \t\r\n]*")


def _describe_scalar(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        return "binary data, not JSON"
    try:
        value = _any_decoder.decode(data)
    except _DECODE_ERRORS as exc:
        return f"not JSON ({exc})"
    kind = _JSON_NAMES.get(type(value), type(value).__name__)
    return f"expected a job object, a list response or an array of them; found a top-level JSON {kind}"


_JSON_NAMES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string"}


_LIST_KEYS = frozenset(WireJobList.__struct_encode_fields__)


class _Decoding:
    """Decodes records of one input, collecting jobs and errors."""

    __slots__ = ("source", "errors_mode", "strict", "jobs", "errors", "subs", "lists", "last_openai")

    def __init__(self, source: str, errors_mode: Errors, strict: bool) -> None:
        self.source = source
        self.errors_mode = errors_mode
        self.strict = strict
        self.jobs: list[WireJob] = []
        self.errors: list[JobDecodeError] = []
        #: For each kept job, its index in a list response's ``data`` (-1: a bare job).
        self.subs: list[int] = []
        #: OpenAI events and checkpoints lists, and the id of the last OpenAI job read.
        self.lists: list[UnattachedList] = []
        self.last_openai: str | None = None

    def fail(self, error: JobDecodeError) -> None:
        if self.errors_mode == "raise":
            raise error
        self.errors.append(error)

    def record(
        self, raw: bytes | msgspec.Raw, *, line: int | None, index: int | None, unterminated: bool = False
    ) -> None:
        """Decode one record: a job, or a list response whose jobs are read one by one.

        ``unterminated``: the record is the input's last line and no newline ends it; if
        it is not whole JSON, it is named as an incomplete line (a dump being written).
        """
        try:
            job = _job_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            try:
                listing = _list_decoder.decode(raw)
            except _DECODE_ERRORS:
                listing = None
            if listing is None or listing.id is not msgspec.UNSET:
                if not self.openai(raw, line=line, index=index):
                    self.fail(JobDecodeError.from_msgspec(exc, source=self.source, line=line, index=index))
                return
            if listing.data and openai_shape(listing.data[0]) and self.openai(raw, line=line, index=index):
                return
            if self.strict:
                unknown = [f"$.{key}" for key in _any_decoder.decode(raw) if key not in _LIST_KEYS]
                if unknown:
                    reason = "unknown keys (strict=True): " + ", ".join(unknown)
                    self.fail(JobDecodeError(reason, source=self.source, line=line, index=index, path=unknown[0]))
                    return
            for i, item in enumerate(listing.data):
                self.job(item, line=line, index=index, sub=i)
            return
        except _DECODE_ERRORS as exc:
            error = JobDecodeError.from_msgspec(exc, source=self.source, line=line, index=index)
            if unterminated and isinstance(exc, msgspec.DecodeError):
                error = JobDecodeError(f"{INCOMPLETE_LINE} ({error.reason})", source=self.source, line=line, path="$")
            self.fail(error)
            return
        self.keep(job, raw, line=line, index=index, sub=-1)

    def openai(self, raw: bytes | msgspec.Raw, *, line: int | None, index: int | None) -> bool:
        """Decode an OpenAI record (see :mod:`ftkit.openai_reading`); False if it is not one."""
        shape = openai_shape(raw)
        if shape is None:
            return False
        decoded = decode_openai(
            raw, shape, source=self.source, line=line, index=index, strict=self.strict,
            fail=self.fail, unknown_keys=unknown_keys, after_job=self.last_openai,
        )
        self.jobs += decoded.jobs
        self.subs += decoded.subs
        self.lists += decoded.lists
        if decoded.jobs:
            self.last_openai = decoded.jobs[-1].id
        return True

    def job(self, raw: msgspec.Raw, *, line: int | None, index: int | None, sub: int) -> None:
        prefix = f"$.data[{sub}]"
        try:
            job = _job_decoder.decode(raw)
        except _DECODE_ERRORS as exc:
            self.fail(
                JobDecodeError.from_msgspec(exc, source=self.source, line=line, index=index, prefix=prefix)
            )
            return
        self.keep(job, raw, line=line, index=index, sub=sub)

    def keep(self, job: WireJob, raw: Any, *, line: int | None, index: int | None, sub: int) -> None:
        prefix = "$" if sub < 0 else f"$.data[{sub}]"
        if self.strict:
            unknown = unknown_keys(_any_decoder.decode(raw), WireJob, prefix)
            if unknown:
                reason = "unknown keys (strict=True): " + ", ".join(unknown)
                self.fail(JobDecodeError(reason, source=self.source, line=line, index=index, path=unknown[0]))
                return
        self.jobs.append(job)
        self.subs.append(sub)


def decode_bytes(
    data: bytes, *, source: str, errors: Errors = "raise", strict: bool = False, first_line: int = 1
) -> Decoded:
    """Decode one whole input (already decompressed) into wire jobs and errors."""
    state = _Decoding(source, errors, strict)
    layout = _layout(data)
    if layout == "empty":
        state.fail(JobDecodeError("empty input: no JSON found", source=source))
    elif layout == "ndjson":
        decode_lines(data, state, first_line=first_line)
    elif layout == "object":
        state.record(data, line=None, index=None)
    elif layout == "array":
        try:
            items = _array_decoder.decode(data)
        except _DECODE_ERRORS as exc:
            state.fail(JobDecodeError.from_msgspec(exc, source=source))
        else:
            for index, item in enumerate(items):
                state.record(item, line=None, index=index)
    else:
        state.fail(JobDecodeError(_describe_scalar(data), source=source, path="$"))
    return Decoded(state.jobs, state.errors, state.lists)


_LINES_PIECE = 8 << 20


def decode_lines(data: bytes, state: _Decoding, *, first_line: int = 1) -> None:
    """Decode NDJSON: one record per non-blank line.

    Large data is split into lines a few megabytes at a time, so that the list of lines
    stays small whatever the data (a gigabyte of newlines would be a billion lines).
    """
    if len(data) <= _LINES_PIECE:
        _decode_piece(data, state, first_line=first_line)
        return
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = data.find(b"\n", min(start + _LINES_PIECE, len(data)) - 1)
        end = len(data) if end == -1 else end + 1
        piece = bytes(view[start:end])
        _decode_piece(piece, state, first_line=first_line)
        first_line += piece.count(b"\n")
        start = end


def _decode_piece(data: bytes, state: _Decoding, *, first_line: int) -> None:
    decode = _job_decoder.decode
    keep = state.jobs.append
    strict = state.strict
    lines = data.split(b"\n")
    final = len(lines) - 1  # not blank only if no newline ends the data
    for offset, line in enumerate(lines):
        try:
            if strict:
                raise msgspec.ValidationError  # take the slow path, which checks keys
            keep(decode(line))
        except _DECODE_ERRORS:
            if line.strip():
                state.record(line, line=first_line + offset, index=None, unterminated=offset == final)


def _decode_lines_fingerprinted(data: bytes, state: _Decoding, fingerprints: list[int], *, first_line: int = 1) -> None:
    """:func:`decode_lines`, adding a hash of each job's content to ``fingerprints``."""
    decode = _job_decoder.decode
    jobs = state.jobs
    strict = state.strict
    lines = data.split(b"\n")
    final = len(lines) - 1
    for offset, line in enumerate(lines):
        try:
            if strict:
                raise msgspec.ValidationError  # take the slow path, which checks keys
            jobs.append(decode(line))
            fingerprints.append(hash(line.strip()))
        except _DECODE_ERRORS:
            if line.strip():
                before = len(jobs)
                state.record(line, line=first_line + offset, index=None, unterminated=offset == final)
                fingerprints += [hash(_encode(job)) for job in jobs[before:]]


_encode = msgspec.json.Encoder().encode


def unknown_keys(value: Any, struct: type, path: str = "$") -> list[str]:
    """JSON paths of the keys in ``value`` that ``struct`` (recursively) does not know.

    Examples
    --------
    >>> from ftkit.schema import WireJob
    >>> unknown_keys({"id": "x", "colour": 1, "metadata": {"cost": 1, "vat": 0.2}}, WireJob)
    ['$.colour', '$.metadata.vat']
    """
    found: list[str] = []
    _walk_unknown(value, struct, path, found)
    return found


def _field_types(struct: type) -> dict[str, Any]:
    cached = _FIELD_TYPES.get(struct)
    if cached is None:
        info = msgspec.inspect.type_info(struct)
        cached = {f.encode_name: f.type for f in info.fields}
        _FIELD_TYPES[struct] = cached
    return cached


_FIELD_TYPES: dict[type, dict[str, Any]] = {}


def _struct_of(info: Any) -> type | None:
    """The Struct class inside a field's type info (through Optional and list)."""
    if isinstance(info, msgspec.inspect.StructType):
        return info.cls
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            found = _struct_of(member)
            if found is not None:
                return found
    if isinstance(info, (msgspec.inspect.ListType,)):
        return _struct_of(info.item_type)
    if isinstance(info, msgspec.inspect.Metadata):
        return _struct_of(info.type)
    return None


def _walk_unknown(value: Any, struct: type, path: str, found: list[str]) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk_unknown(item, struct, f"{path}[{i}]", found)
        return
    if not isinstance(value, dict):
        return
    fields = _field_types(struct)
    for key, item in value.items():
        if key not in fields:
            found.append(f"{path}.{key}")
            continue
        child = _struct_of(fields[key])
        if child is not None:
            _walk_unknown(item, child, f"{path}.{key}", found)


# --- reading ------------------------------------------------------------------------


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
    decoded on first access and cached. Small inputs, and inputs holding OpenAI records,
    are decoded in this process.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(b'[{"id": "a", "model": "m", "status": "QUEUED",'
    ...                      b' "created_at": 1, "modified_at": 1, "hyperparameters": {}},'
    ...                      b' {"id": "b", "model": "m", "status": 7}]', errors="skip")
    >>> len(js), js.errors.row(0)
    (1, ('<bytes>', None, 1, '$.status', 'Expected `str`, got `int`'))
    """
    from .workers import OpenAIRecords, read_parallel, wants_parallel

    if errors not in ("raise", "skip"):
        msg = f"errors must be 'raise' or 'skip', got {errors!r}"
        raise ValueError(msg)
    limit = _check_limit(max_input_bytes, "max_input_bytes") or memory_budget()
    inputs = expand_sources(source)
    try:
        with gc_paused():
            if wants_parallel(inputs, strict=strict):
                try:
                    return read_parallel(inputs, errors=errors, progress=progress, limit=limit)
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
    from ..jobset import JobSet

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
        return _advising(_batches(_decoded_stream(inputs, errors=errors, strict=strict, bounds=bounds), batch_size))
    return _advising(_iter_deduped(inputs, batch_size=batch_size, errors=errors, strict=strict, bounds=bounds))


def _iter_deduped(
    inputs: list[Input], *, batch_size: int, errors: Errors, strict: bool, bounds: dict[str, Any]
) -> Iterator[JobSet]:
    """The two passes of :func:`iter_jobs` with ``dedupe=True``."""
    extents: list[tuple[int | None, int]] = []
    waits: dict[str, int] = {}
    keep, merges = _snapshot_plan(inputs, errors=errors, strict=strict, extents=extents, bounds=bounds, waits=waits)
    chosen = _chosen(inputs, keep, merges, errors=errors, strict=strict, extents=extents, bounds=bounds, waits=waits)
    yield from _batches(chosen, batch_size)


def _snapshot_plan(
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
        decoding = _iter_input(item, errors=errors, strict=strict, seen=seen, fingerprints=fingerprints, **(bounds or {}))
        for decoded in _paused(decoding):
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
        for decoded in _paused(_iter_input(item, errors=errors, strict=strict, limit=extent, **bounds)):
            if position + len(decoded.jobs) > end:
                raise _changed(item)
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
            raise _changed(item)
    if held or lists:
        rest, unattached = attach(list(held.values()), lists)
        yield Decoded(rest, [], unattached)


def _changed(item: Input) -> JobDecodeError:
    msg = "the file changed between the two reads of iter_jobs; read it again, or pass dedupe=False"
    return JobDecodeError(msg, source=item.name)


def _decoded_stream(inputs: list[Input], *, errors: Errors, strict: bool, bounds: dict[str, Any]) -> Iterator[Decoded]:
    for item in inputs:
        yield from _paused(_iter_input(item, errors=errors, strict=strict, **bounds))


def _batches(decoding: Iterator[Decoded], batch_size: int) -> Iterator[JobSet]:
    """Batches of at most ``batch_size`` jobs, each with the errors found while filling it."""
    from ..jobset import JobSet

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


#: The longest partial line gunzip_blocks holds back (to cut damaged data after a whole line).
_HELD_LINE = 8 << 20


def _iter_input(
    item: Input,
    *,
    errors: Errors,
    strict: bool,
    seen: list[int] | None = None,
    limit: int | None = None,
    fingerprints: list[int] | None = None,
    max_line: int | None = None,
    max_whole: int | None = None,
) -> Iterator[Decoded]:
    """Decode one input block by block where it is NDJSON, whole otherwise.

    ``limit``: read no more than this many bytes of a file; ``seen`` receives how many
    bytes of a file were read. ``fingerprints`` receives, per job yielded, a hash of its
    content (of its line, where the line is the job: the cheapest way to tell identical
    copies apart from different records). A line longer than ``max_line`` bytes (checked
    once it spans read blocks) is an error, and dropped as it is read; an input read whole
    (one document, not NDJSON) may hold at most ``max_whole`` bytes. Runs of blank bytes
    are skipped as they are read, never held.
    """
    damage: list[JobDecodeError] = []
    skipped = 0  # newlines in the blank blocks before the first JSON
    try:
        blocks = _blocks(item, damage, seen=seen, limit=limit)
        head = strip_bom(next(blocks, b""))
        while head and _blank(head, 0):
            skipped += head.count(b"\n")
            head = next(blocks, b"")
    except JobDecodeError as exc:
        if errors == "raise":
            raise
        yield Decoded([], [exc])
        return
    if _streamed_layout(head) != "ndjson":
        # read whole (bounded by max_whole), then decoded by its layout as a whole
        parts, size = [head], len(head)
        for block in blocks:
            size += len(block)
            if max_whole is not None and size > max_whole:
                error = JobDecodeError(too_large(max_whole), source=item.name)
                if errors == "raise":
                    raise error
                yield Decoded([], [error])
                return
            parts.append(block)
        data = b"".join(parts)
        del parts
        if worth_decoding(data, damage):
            decoded = _decode_guarded(data, item.name, errors, strict)
            if fingerprints is not None:
                fingerprints += [hash(_encode(job)) for job in decoded.jobs]
            yield decoded
    else:
        line = 1 + skipped
        last_openai = None  # the last OpenAI job read in this input, for the lists after it
        pending: list[bytes] = []  # the bytes after the last newline, no newline in them
        pending_size = 0
        dropping = False  # inside a line over max_line: dropped up to its newline
        for block in _chain_last(itertools.chain([head], (block for block in blocks if block))):
            if dropping:
                if not block:
                    break
                newline = block.find(b"\n")
                if newline == -1:
                    continue
                block, dropping = block[newline + 1 :], False
                line += 1
                if not block:
                    continue
            if block:
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    if not pending and _blank(block, 0):
                        continue  # blanks and no newline: nothing to keep
                    pending.append(block)
                    pending_size += len(block)
                    if max_line is not None and pending_size > max_line:
                        error = JobDecodeError(_line_too_long(max_line), source=item.name, line=line, path="$")
                        if errors == "raise":
                            raise error
                        yield Decoded([], [error])
                        pending, pending_size, dropping = [], 0, True
                    continue
                if max_line is not None and pending and pending_size + block.find(b"\n") > max_line:
                    error = JobDecodeError(_line_too_long(max_line), source=item.name, line=line, path="$")
                    if errors == "raise":
                        raise error
                    yield Decoded([], [error])
                    pending, pending_size = [], 0
                    block, cut, line = block[block.find(b"\n") + 1 :], cut - block.find(b"\n") - 1, line + 1
                data = b"".join([*pending, block[:cut]])
                pending = [block[cut:]] if cut < len(block) else []
                pending_size = len(block) - cut
            else:
                data = b"".join(pending)
                pending = []
            state = _Decoding(item.name, errors, strict)
            state.last_openai = last_openai
            if fingerprints is None:
                decode_lines(data, state, first_line=line)
            else:
                _decode_lines_fingerprinted(data, state, fingerprints, first_line=line)
            last_openai = state.last_openai
            yield Decoded(state.jobs, state.errors, state.lists)
            line += data.count(b"\n")
    if damage:
        if errors == "raise":
            raise damage[0]
        yield Decoded([], damage)


def _streamed_layout(head: bytes) -> str:
    """The layout of an input from its first block: as :func:`_layout`, except that a
    block holding one whole line of JSON and then nothing is NDJSON (more lines may
    follow in the next blocks; read as NDJSON, one line gives what one document gives),
    and that a first line which is not whole JSON leaves the question open ("unsure"):
    only the whole input tells a document spread over lines from NDJSON with a bad line."""
    layout = _layout(head)
    if layout == "ndjson":
        start = _SPACES.match(head).end()
        newline = head.find(b"\n", start)
        try:
            _any_decoder.decode(head[start:newline])
        except _DECODE_ERRORS:
            return "unsure"
    if layout == "object":
        start = _SPACES.match(head).end()
        newline = head.find(b"\n", start)
        if newline != -1 and _blank(head, newline):
            try:
                _any_decoder.decode(head[start:newline])
            except _DECODE_ERRORS:
                return layout
            return "ndjson"
    return layout


def _line_too_long(limit: int) -> str:
    return (
        f"a line longer than {limit:,} bytes (max_line_bytes); it is left out unread: pass a "
        "larger max_line_bytes to read it"
    )


def _paused(decoding: Iterator[Decoded]) -> Iterator[Decoded]:
    """Each step of a decoding generator with the garbage collector paused (not between)."""
    while True:
        with gc_paused():
            decoded = next(decoding, None)
        if decoded is None:
            return
        yield decoded


def _chain_last(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The blocks, then one empty block that marks the end."""
    yield from blocks
    yield b""


def _decode_guarded(data: bytes, source: str, errors: Errors, strict: bool) -> Decoded:
    try:
        return decode_bytes(data, source=source, errors=errors, strict=strict)
    except JobDecodeError as exc:
        if errors == "raise":
            raise
        return Decoded([], [exc])


def _blocks(
    item: Input, damage: list[JobDecodeError], *, seen: list[int] | None = None, limit: int | None = None
) -> Iterator[bytes]:
    """The input's decompressed bytes in blocks of about ``STREAM_BLOCK``.

    For a file: at most ``limit`` bytes of it are read, and their number is put in ``seen``.
    """
    stream = item.rewind() if item.stream is not None else None
    if stream is not None:
        raw_blocks = _read_blocks(stream, STREAM_BLOCK // 4, limit, seen, item)
        first = next(raw_blocks, b"")
        blocks = itertools.chain([first], raw_blocks)
        gzipped = first[:2] == GZIP_MAGIC
        yield from (gunzip_blocks(blocks, source=item.name, damage=damage) if gzipped else blocks)
        return
    if item.data is not None:
        raw_blocks: Iterable[bytes] = (item.data[i : i + STREAM_BLOCK] for i in range(0, len(item.data), STREAM_BLOCK))
        gzipped = item.data[:2] == GZIP_MAGIC
        yield from (gunzip_blocks(raw_blocks, source=item.name, damage=damage) if gzipped else raw_blocks)
        return
    try:
        file = open(item.path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise item.unreadable(exc) from None
    with file:
        gzipped = file.peek(2)[:2] == GZIP_MAGIC
        size = STREAM_BLOCK if not gzipped else STREAM_BLOCK // 4
        raw_blocks = _read_blocks(file, size, limit, seen, item)
        yield from (gunzip_blocks(raw_blocks, source=item.name, damage=damage) if gzipped else raw_blocks)


def _read_blocks(file: Any, size: int, limit: int | None, seen: list[int] | None, item: Input) -> Iterator[bytes]:
    """Blocks of ``size`` bytes of a file, up to ``limit`` bytes; the count read goes in ``seen``."""
    done = 0
    while limit is None or done < limit:
        try:
            block = file.read(size if limit is None else min(size, limit - done))
        except OSError as exc:
            raise item.unreadable(exc) from None
        if not isinstance(block, bytes):
            if not isinstance(block, (bytearray, memoryview)):
                msg = f"{item.name}: a file object gave {type(block).__name__}, not bytes; open the file in binary mode ('rb')"
                raise TypeError(msg)
            block = bytes(block)
        if not block:
            if limit is not None:  # shorter than at the first read
                raise _changed(item)
            break
        done += len(block)
        yield block
    if seen is not None:
        seen.append(done)


# --- writing ------------------------------------------------------------------------


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
    from ..atomic import atomic_write

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

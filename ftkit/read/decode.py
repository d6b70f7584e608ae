"""Decode bytes into wire jobs: a whole input by its layout, or a chunk of NDJSON lines.

:func:`decode_chunk` is the one function that turns a run of lines into wire jobs and
frame parts, called alike in this process and in a worker (:mod:`ftkit.read.workers`);
:func:`decode_bytes` decodes a whole input by its layout, and :class:`Decoding` holds
what one input decoded to so far (jobs, errors, OpenAI lists). Every record is validated
against :class:`~ftkit.schema.WireJob`; a bad one becomes a :class:`~ftkit.JobDecodeError`
naming the source, line or index and JSON path, raised or collected as asked.

Examples
--------
>>> decoded = decode_bytes(b'{"id": "a", "model": "m", "status": "QUEUED", "created_at": 1, "modified_at": 1}', source="<bytes>")
>>> [job.id for job in decoded.jobs], decoded.errors
(['a'], [])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
import polars as pl

from ..errors import JobDecodeError
from ..frames import mistral_frame_parts
from ..openai_reading import UnattachedList, decode_openai
from ..openai_schema import openai_shape
from ..schema import FrameJob, WireJob, WireJobList
from .chunks import Chunk
from .layout import DECODE_ERRORS, describe_scalar, layout

__all__ = [
    "INCOMPLETE_LINE",
    "ChunkReply",
    "Decoded",
    "DecodedChunk",
    "Decoding",
    "Errors",
    "OpenAIRecords",
    "decode_bytes",
    "decode_chunk",
    "decode_guarded",
    "decode_input",
    "decode_lines",
    "decode_listing",
    "decode_wire_job",
    "fingerprint",
    "line_spans",
    "unknown_keys",
]

Errors = Literal["raise", "skip"]

#: The reason given for the last line of an input when no newline ends it and it is not
#: whole JSON: a dump that ``ftkit export`` (or anything else) is still appending to.
INCOMPLETE_LINE = "the file ends in an incomplete line: still being written?"


_job_decoder = msgspec.json.Decoder(WireJob)


#: Jobs whose events hold nothing but a status, in the Structs frames are built from fastest.
_frame_job_decoder = msgspec.json.Decoder(FrameJob)


_any_decoder = msgspec.json.Decoder()


class _ListProbe(msgspec.Struct):
    """A list response, its jobs left undecoded so that each is read on its own.

    ``id`` tells a bad job that happens to have a ``data`` key from a list response.
    """

    data: list[msgspec.Raw]
    id: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_list_decoder = msgspec.json.Decoder(_ListProbe)


_array_decoder = msgspec.json.Decoder(list[msgspec.Raw])


#: Decode one job (bytes, or the raw bytes of one) into a :class:`~ftkit.schema.WireJob`.
decode_wire_job: Callable[[Any], WireJob] = _job_decoder.decode
#: Decode a list response, keeping its jobs as raw bytes (in ``.data``) to decode one by one.
decode_listing: Callable[[Any], _ListProbe] = _list_decoder.decode

@dataclass
class Decoded:
    """What one input (or one chunk of it) decoded to."""

    jobs: list[WireJob]
    errors: list[JobDecodeError]
    #: OpenAI events and checkpoints lists, attached to their jobs once all is read.
    lists: list[UnattachedList] = field(default_factory=list)


_LIST_KEYS = frozenset(WireJobList.__struct_encode_fields__)


class Decoding:
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
            except DECODE_ERRORS:
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
        except DECODE_ERRORS as exc:
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
        except DECODE_ERRORS as exc:
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
    state = Decoding(source, errors, strict)
    found = layout(data)
    if found == "empty":
        state.fail(JobDecodeError("empty input: no JSON found", source=source))
    elif found == "ndjson":
        decode_lines(data, state, first_line=first_line)
    elif found == "object":
        state.record(data, line=None, index=None)
    elif found == "array":
        try:
            items = _array_decoder.decode(data)
        except DECODE_ERRORS as exc:
            state.fail(JobDecodeError.from_msgspec(exc, source=source))
        else:
            for index, item in enumerate(items):
                state.record(item, line=None, index=index)
    else:
        state.fail(JobDecodeError(describe_scalar(data), source=source, path="$"))
    return Decoded(state.jobs, state.errors, state.lists)


def decode_guarded(data: bytes, source: str, errors: Errors, strict: bool) -> Decoded:
    """:func:`decode_bytes`; with ``errors="skip"``, an input that fails whole is one error."""
    try:
        return decode_bytes(data, source=source, errors=errors, strict=strict)
    except JobDecodeError as exc:
        if errors == "raise":
            raise
        return Decoded([], [exc])


def decode_lines(
    data: bytes, state: Decoding, *, first_line: int = 1, fingerprints: list[int] | None = None
) -> None:
    """Decode NDJSON: one record per non-blank line, each decoded from a slice of ``data``
    (no list of lines, no copy of a line that decodes).

    With ``fingerprints``, a hash of each job's content is added to it, in the order of
    ``state.jobs``.
    """
    decode = _job_decoder.decode
    jobs = state.jobs
    strict = state.strict
    view = memoryview(data)
    for line_number, (start, end, last) in enumerate(line_spans(data), first_line):
        try:
            if strict:
                raise msgspec.ValidationError  # take the slow path, which checks keys
            jobs.append(decode(view[start:end]))
            if fingerprints is not None:
                fingerprints.append(hash(data[start:end].strip()))
        except DECODE_ERRORS:
            line = data[start:end]
            if line.strip():
                before = len(jobs)
                state.record(line, line=line_number, index=None, unterminated=last)
                if fingerprints is not None:
                    fingerprints += [fingerprint(job) for job in jobs[before:]]


def line_spans(data: bytes) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, last)`` of every line of ``data`` and of what follows its last
    newline (``last``: no newline ends it; blank if one ended the data), without copying
    a line: the callers decode each from a memoryview slice.

    Examples
    --------
    >>> list(line_spans(b'{"a": 1}\\n\\n{"b": 2}\\n'))
    [(0, 8, False), (9, 9, False), (10, 18, False), (19, 19, True)]
    """
    find = data.find
    size = len(data)
    start = 0
    while True:
        end = find(b"\n", start)
        if end < 0:
            yield start, size, True
            return
        yield start, end, False
        start = end + 1


_encode = msgspec.json.Encoder().encode


def fingerprint(job: Any) -> int:
    """A hash of a job's content, to tell identical copies of a record from different ones."""
    return hash(_encode(job))


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


# --- chunks: the same in this process and in a worker ---------------------------------

class ChunkReply(msgspec.Struct, array_like=True):
    """What decoding a chunk gives besides its jobs and frames; a worker sends it back as msgpack.

    Per kept job, the byte range of its line in the chunk and, for a line holding a list
    response, its index in ``data`` (-1: a bare job): the calling process decodes a job's
    Struct from these bytes only when it is first asked for.
    """

    #: Lines in the chunk: line numbers in ``errors`` count from the chunk's start.
    lines: int
    errors: list[tuple[str, str, int | None, int | None, str | None]]
    starts: list[int]
    ends: list[int]
    subs: list[int]
    #: Arrow IPC stream files of the frame parts, in ``FRAME_NAMES`` order (from worker processes).
    files: list[str] = []
    #: OpenAI records met (jobs, events and checkpoints lists): read in-process instead.
    openai: int = 0


def decode_chunk(
    data: bytes | memoryview, *, source: str, errors: str, first_line: int = 1
) -> tuple[ChunkReply, dict[str, pl.DataFrame]]:
    """Decode a run of NDJSON lines: the reply for the caller and the frame parts.

    Each job goes straight into the columns of the frame parts
    (:func:`~ftkit.frames.mistral_frame_parts`) and is freed before the next is decoded:
    its values are gathered while they are in the CPU's cache, and the chunk's Structs
    never all live at once. Most jobs decode as :class:`~ftkit.schema.FrameJob` Structs,
    those whose events do not fit as :class:`~ftkit.schema.WireJob`. Each kept job gets
    the byte range of its line in ``data`` and, for a line holding a list response, its
    index in ``data``, from which the caller decodes a job when it is asked for. Decoding
    stops at the first OpenAI record (``reply.openai``): the caller then reads every input
    another way (:class:`OpenAIRecords`).

    Examples
    --------
    >>> from ftkit.synth import make_jobs_bytes
    >>> reply, parts = decode_chunk(make_jobs_bytes(3, seed=1) + b"{}\\n", source="<chunk>", errors="skip")
    >>> parts["jobs"].height, len(reply.starts), reply.errors[0][1:4]
    (3, 3, ('<chunk>', 4, None))
    """
    state = Decoding(source, errors, False)  # type: ignore[arg-type]
    starts: list[int] = []
    ends: list[int] = []
    raw = data if isinstance(data, bytes) else bytes(data)
    line_number = first_line
    openai = 0

    def jobs() -> Iterator[Any]:
        nonlocal line_number, openai
        # a line that does not decode as a FrameJob takes the way of any other record: a
        # WireJob (events with more in data), a list response, an OpenAI record or an error
        decode = _frame_job_decoder.decode
        subs = state.subs
        others = state.jobs  # only until yielded: the jobs are not kept
        view = memoryview(raw)
        try:
            for start, end, last in line_spans(raw):
                try:
                    job = decode(view[start:end])
                except DECODE_ERRORS:
                    line = raw[start:end]
                    if line.strip():
                        state.record(line, line=line_number, index=None, unterminated=last)
                        openai = openai_records(others, state.lists)
                        if openai:
                            return  # the caller reads OpenAI records another way: no need to go on
                        starts.extend([start] * len(others))
                        ends.extend([end] * len(others))
                        yield from others
                        others.clear()
                else:
                    subs.append(-1)
                    starts.append(start)
                    ends.append(end)
                    yield job
                line_number += 1
        except JobDecodeError as exc:  # errors="raise": the first bad record ends the chunk
            state.errors.append(exc)

    parts = mistral_frame_parts(jobs())
    reply = ChunkReply(
        lines=line_number - first_line - 1,
        errors=[(e.reason, e.source, e.line, e.index, e.path) for e in state.errors],
        starts=starts,
        ends=ends,
        subs=state.subs,
        openai=openai,
    )
    if reply.openai:
        return reply, mistral_frame_parts([])
    return reply, parts


class DecodedChunk:
    """What one chunk decoded to: its reply, its frame parts and, where decoded here and kept, its jobs."""

    __slots__ = ("chunk", "reply", "frames", "jobs")

    def __init__(
        self, chunk: Chunk, reply: ChunkReply, frames: dict[str, pl.DataFrame] | None, jobs: list[Any] | None = None
    ) -> None:
        self.chunk = chunk
        self.reply = reply
        self.frames = frames
        self.jobs = jobs or []


class OpenAIRecords(Exception):
    """Raised by :func:`ftkit.read.assemble.assemble` when the inputs hold OpenAI records, whose events
    and checkpoints attach across inputs: :func:`ftkit.read_jobs` then reads in-process."""


def openai_records(jobs: list[Any], lists: list[Any]) -> int:
    """How many OpenAI records (jobs, events and checkpoints lists) are among those decoded."""
    return len(lists) + sum(not isinstance(job, WireJob) for job in jobs)


def decode_input(data: bytes, *, source: str, errors: str) -> tuple[list[Any], ChunkReply, dict[str, pl.DataFrame]]:
    """Decode a whole input by its layout (not a run of NDJSON lines), as :func:`decode_chunk` does a chunk.

    The jobs are kept (no byte ranges to decode them again from); with ``errors="skip"``
    an input that fails whole is one error.
    """
    openai = 0
    try:
        decoded = decode_bytes(data, source=source, errors=errors)  # type: ignore[arg-type]
    except JobDecodeError as exc:
        jobs, failures = [], [exc]
    else:
        jobs, failures = decoded.jobs, decoded.errors
        openai = openai_records(decoded.jobs, decoded.lists)
    reply = ChunkReply(
        lines=0,
        errors=[(e.reason, e.source, e.line, e.index, e.path) for e in failures],
        starts=[],
        ends=[],
        subs=[],
        openai=openai,
    )
    return jobs, reply, mistral_frame_parts([] if openai else jobs)

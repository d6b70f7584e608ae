"""Read job dumps: files, directories, globs and bytes, in every shape the API produced.

A *source* is a path (a file, a directory read recursively for ``*.json``, ``*.ndjson``,
``*.jsonl`` and their ``.gz`` forms, or a glob), bytes already in memory, or a list of
these. A file holds one job, one list response (``{"object": "list", "data": [...]}``),
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
import glob as globlib
import gzip
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from .errors import JobDecodeError
from .openai_reading import UnattachedList, attach, decode_openai
from .openai_schema import openai_shape
from .schema import Job, WireJob, WireJobList

if TYPE_CHECKING:
    from .jobset import JobSet

__all__ = ["read_jobs", "iter_jobs", "write_jobs", "Source"]

Source = str | os.PathLike | bytes | bytearray | memoryview | Iterable[Any]
Errors = Literal["raise", "skip"]

_DUMP_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"

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


# --- sources ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    """One file or buffer to read: its display name and a path or the bytes."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def size(self) -> int:
        """The size as stored (compressed, for gzip), 0 if unknown."""
        if self.data is not None:
            return len(self.data)
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def unreadable(self, exc: OSError) -> JobDecodeError:
        """The error for a file that cannot be opened or read."""
        return JobDecodeError(f"cannot read file: {exc.strerror or exc}", source=self.name)

    def read_raw(self) -> bytes:
        """The bytes as stored, or a JobDecodeError naming the input."""
        if self.data is not None:
            return self.data
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise self.unreadable(exc) from None

    def read(self, damage: list[JobDecodeError]) -> bytes:
        """The decompressed bytes; see :func:`gunzip` for what ``damage`` receives."""
        raw = self.read_raw()
        if raw[:2] != _GZIP_MAGIC:
            return _strip_bom(raw)
        return _strip_bom(b"".join(gunzip_blocks([raw], source=self.name, damage=damage)))


def worth_decoding(data: bytes, damage: list[JobDecodeError]) -> bool:
    """Whether what was read of an input is decoded: all of it when it was read whole, the
    complete lines before the damage of damaged NDJSON, nothing of a damaged single
    document (none of it can be trusted)."""
    return not damage or _layout(data) == "ndjson"


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data[:3] == _BOM else data


def gunzip_blocks(
    compressed: Iterable[bytes], *, source: str, damage: list[JobDecodeError]
) -> Iterator[bytes]:
    """Decompress gzip data (one or more members) block by block, keeping all that is good.

    On truncated or corrupt data, everything decompressed before the damage is still
    yielded, cut after its last complete line, and a :class:`JobDecodeError` naming the
    line where the damage starts is appended to ``damage``.
    """
    decompressor = zlib.decompressobj(wbits=31)
    lines = 0
    tail = b""  # decompressed bytes after the last newline yielded

    def emit(out: bytes) -> bytes:
        nonlocal lines, tail
        data = tail + out
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        lines += data.count(b"\n", 0, cut)
        return data[:cut]

    try:
        for block in compressed:
            while block:
                out = decompressor.decompress(block)
                if out:
                    yield emit(out)
                if not decompressor.eof:
                    break
                block = decompressor.unused_data
                if block[:2] != _GZIP_MAGIC:
                    if block.strip(b"\x00"):
                        msg = "truncated or corrupt gzip data: unexpected bytes after the end of the gzip stream"
                        damage.append(JobDecodeError(msg, source=source, line=lines + 1))
                        if tail:
                            yield tail
                        return
                    block = b""
                    break
                decompressor = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        msg = f"truncated or corrupt gzip data from this line on ({exc})"
        damage.append(JobDecodeError(msg, source=source, line=lines + 1))
        return
    if not decompressor.eof:
        msg = "truncated or corrupt gzip data: the data ends in the middle of this line"
        if not tail and lines == 0 and not decompressor.unused_data:
            msg = "truncated or corrupt gzip data: the file ends before any complete line"
        damage.append(JobDecodeError(msg, source=source, line=lines + 1))
        return
    if tail:
        yield tail


def _is_dump_name(name: str) -> bool:
    return name.lower().endswith(_DUMP_SUFFIXES)


def expand_sources(source: Source) -> list[_Input]:
    """Resolve a source into the ordered list of inputs it names.

    Directories are read recursively in sorted order; globs are expanded in sorted
    order; bytes become one input named ``<bytes>`` (``<bytes #i>`` in a list).

    Raises
    ------
    FileNotFoundError
        A path that does not exist, or a glob or directory that matches no dump.
    TypeError
        A source of a type ftkit cannot read.
    """
    inputs: list[_Input] = []
    _expand(source, inputs, top=True)
    return inputs


def _expand(source: Any, inputs: list[_Input], *, top: bool) -> None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = "<bytes>" if top else f"<bytes #{len(inputs)}>"
        inputs.append(_Input(name, data=bytes(source)))
        return
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_dump_name(p.name))
            if not files:
                msg = f"{path}: directory holds no job dumps (*.json, *.ndjson, *.jsonl, optionally .gz)"
                raise FileNotFoundError(msg)
            inputs.extend(_Input(str(p), path=p) for p in files)
            return
        if path.is_file():
            inputs.append(_Input(str(path), path=path))
            return
        text = os.fspath(source)
        if globlib.has_magic(text):
            matches = sorted(m for m in globlib.glob(text, recursive=True) if Path(m).is_file())
            if not matches:
                msg = f"{text}: no file matches this pattern"
                raise FileNotFoundError(msg)
            inputs.extend(_Input(m, path=Path(m)) for m in matches)
            return
        msg = f"{text}: no such file or directory"
        raise FileNotFoundError(msg)
    if isinstance(source, Iterable) and not isinstance(source, dict):
        for item in source:
            _expand(item, inputs, top=False)
        return
    msg = (
        "source must be a path, a glob, bytes, or a list of these; "
        f"got {type(source).__name__}"
    )
    raise TypeError(msg)


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
    start = 3 if data[:3] == _BOM else 0
    while start < len(data) and data[start] in _WHITESPACE:
        start += 1
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
        following = data[end + 1 : end + 1 + 4096].lstrip()
        return "ndjson" if following[:1] == b"{" else "object"
    return "ndjson"


def _blank(data: bytes, start: int) -> bool:
    """Whether ``data[start:]`` is only whitespace, without copying a large tail."""
    if data[start : start + 4096].strip():
        return False
    return not data[start:].strip()


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

    def record(self, raw: bytes | msgspec.Raw, *, line: int | None, index: int | None) -> None:
        """Decode one record: a job, or a list response whose jobs are read one by one."""
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
            self.fail(JobDecodeError.from_msgspec(exc, source=self.source, line=line, index=index))
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


def decode_lines(data: bytes, state: _Decoding, *, first_line: int = 1) -> None:
    """Decode NDJSON: one record per non-blank line."""
    decode = _job_decoder.decode
    keep = state.jobs.append
    strict = state.strict
    for offset, line in enumerate(data.split(b"\n")):
        try:
            if strict:
                raise msgspec.ValidationError  # take the slow path, which checks keys
            keep(decode(line))
        except _DECODE_ERRORS:
            if line.strip():
                state.record(line, line=first_line + offset, index=None)


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
) -> JobSet:
    """Read every job from a source into a :class:`~ftkit.JobSet`.

    Parameters
    ----------
    source
        A path to a file or directory, a glob, bytes, or a list of these. Files may be
        one job, a list response, a JSON array of either, or NDJSON of either, plain or
        gzip-compressed; Mistral jobs, OpenAI jobs, or both. OpenAI events and
        checkpoints lists are attached to their job once every input is read (the rules
        are in :mod:`ftkit.openai_reading`); those whose job is absent are kept in
        ``JobSet.unattached``.
    errors
        ``"raise"`` (default): the first bad record raises :class:`~ftkit.JobDecodeError`
        naming the source, line or index, JSON path, and what was expected and found.
        ``"skip"``: bad records are left out and listed in ``JobSet.errors``; every good
        record is still returned.
    strict
        Reject keys the schema does not know (they are tolerated by default, since the
        API adds keys over time), naming them.
    progress
        A function called with ``(done, total)`` bytes as the reading goes on (after each
        input, or each part of a large one), e.g. to draw a progress bar.

    Returns
    -------
    JobSet
        One job per id: where several sources (snapshots over time) hold the same job,
        the one with the latest ``modified_at`` is kept, the later source winning ties.

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
    from .parallel import OpenAIRecords, read_parallel, wants_parallel

    if errors not in ("raise", "skip"):
        msg = f"errors must be 'raise' or 'skip', got {errors!r}"
        raise ValueError(msg)
    inputs = expand_sources(source)
    with gc_paused():
        if wants_parallel(inputs, strict=strict):
            try:
                return read_parallel(inputs, errors=errors, progress=progress)
            except OpenAIRecords:
                pass  # their lists attach across inputs: read everything here
        return _read_here(inputs, errors=errors, strict=strict, progress=progress)


def _read_here(
    inputs: list[_Input], *, errors: Errors, strict: bool, progress: ProgressCallback | None
) -> JobSet:
    """:func:`read_jobs` in this process."""
    from .jobset import JobSet

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
            data = item.read(damage)
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
    jobs, unattached = attach(jobs, lists)
    return JobSet.from_wire(jobs, errors=bad, unattached=unattached)


def iter_jobs(
    source: Source, *, batch_size: int = 10_000, errors: Errors = "raise", strict: bool = False
) -> Iterator[JobSet]:
    """Read a source in batches of at most ``batch_size`` jobs, in bounded memory.

    NDJSON files (plain or gzip) are streamed line by line, so memory stays bounded
    whatever the dump's size; a file holding one JSON document or array is read whole,
    then yielded in batches. Duplicate job ids are resolved within a batch only, and
    OpenAI events and checkpoints lists attach to jobs of the same batch only.

    Examples
    --------
    >>> import ftkit
    >>> [len(batch) for batch in ftkit.iter_jobs(ftkit.synth.make_jobs_bytes(5, seed=0), batch_size=2)]
    [2, 2, 1]
    """
    from .jobset import JobSet

    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    jobs: list[WireJob] = []
    bad: list[JobDecodeError] = []
    lists: list[UnattachedList] = []
    for item in expand_sources(source):
        for decoded in _paused(_iter_input(item, errors=errors, strict=strict)):
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


_STREAM_BLOCK = 2 << 20  # small blocks keep iter_jobs's peak memory low (360 MB vs 420 MB at 8 MB)


def _iter_input(item: _Input, *, errors: Errors, strict: bool) -> Iterator[Decoded]:
    """Decode one input block by block where it is NDJSON, whole otherwise."""
    damage: list[JobDecodeError] = []
    try:
        blocks = _blocks(item, damage)
        head = next(blocks, b"")
    except JobDecodeError as exc:
        if errors == "raise":
            raise
        yield Decoded([], [exc])
        return
    head = _strip_bom(head)
    if _layout(head) != "ndjson":
        data = head + b"".join(blocks)
        if worth_decoding(data, damage):
            yield _decode_guarded(data, item.name, errors, strict)
    else:
        line = 1
        pending = head
        last_openai = None
        for block in _chain_last(blocks):
            data = pending + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    pending = data
                    continue
                data, pending = data[:cut], data[cut:]
            state = _Decoding(item.name, errors, strict)
            state.last_openai = last_openai
            decode_lines(data, state, first_line=line)
            last_openai = state.last_openai
            yield Decoded(state.jobs, state.errors, state.lists)
            line += data.count(b"\n")
    if damage:
        if errors == "raise":
            raise damage[0]
        yield Decoded([], damage)


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


def _blocks(item: _Input, damage: list[JobDecodeError]) -> Iterator[bytes]:
    """The input's decompressed bytes in blocks of about ``_STREAM_BLOCK``."""
    if item.data is not None:
        raw_blocks: Iterable[bytes] = (item.data[i : i + _STREAM_BLOCK] for i in range(0, len(item.data), _STREAM_BLOCK))
        gzipped = item.data[:2] == _GZIP_MAGIC
        yield from (gunzip_blocks(raw_blocks, source=item.name, damage=damage) if gzipped else raw_blocks)
        return
    try:
        file = open(item.path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise item.unreadable(exc) from None
    with file:
        gzipped = file.peek(2)[:2] == _GZIP_MAGIC
        raw_blocks = iter(lambda: file.read(_STREAM_BLOCK if not gzipped else _STREAM_BLOCK // 4), b"")
        yield from (gunzip_blocks(raw_blocks, source=item.name, damage=damage) if gzipped else raw_blocks)


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
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    encode_into = msgspec.json.Encoder().encode_into
    buffer = bytearray()
    try:
        with open(tmp, "wb") as raw:
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
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

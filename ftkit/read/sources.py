"""Sources: what ftkit reads, resolved into inputs, and their bytes.

A *source* is a path (``str`` or ``pathlib.Path``: a file, a directory read recursively
for ``*.json``, ``*.ndjson``, ``*.jsonl`` and their ``.gz`` forms, or a glob), bytes
already in memory, a binary file object (``open(p, "rb")``, ``io.BytesIO``,
``gzip.open(p)``), or an iterable of these. :func:`expand_sources` turns one into the
ordered :class:`Input` list that :mod:`ftkit.read` decodes; what cannot be a source is
refused here, naming the argument and what to pass instead.

Examples
--------
>>> [item.name for item in expand_sources([b"{}", b"[]"])]
['<bytes #0>', '<bytes #1>']
"""

from __future__ import annotations

import glob as globlib
import gzip
import itertools
import io
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import JobDecodeError

__all__ = [
    "Source",
    "Input",
    "LazyFile",
    "bytes_of",
    "changed_error",
    "expand_sources",
    "gunzip_blocks",
    "input_blocks",
    "memory_budget",
    "read_blocks",
    "strip_bom",
]

Source = str | os.PathLike | bytes | bytearray | memoryview | io.IOBase | Iterable[Any]

_DUMP_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
#: Bytes read or decompressed at a time where an input is streamed.
STREAM_BLOCK = 2 << 20  # small blocks keep iter_jobs's peak memory low (360 MB vs 420 MB at 8 MB)

#: The longest partial line gunzip_blocks holds back (to cut damaged data after a whole line).
HELD_LINE = 8 << 20


@dataclass
class Input:
    """One file, buffer or binary file object to read: its display name and where it is."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    #: A binary file object, read from ``start`` (where it stood when it was given).
    stream: Any = None
    start: int = 0

    def size(self) -> int:
        """The size as stored (compressed, for gzip), 0 if unknown."""
        if self.data is not None:
            return len(self.data)
        if self.stream is not None:
            return _stream_size(self.stream, self.start)
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def unreadable(self, exc: OSError) -> JobDecodeError:
        """The error for a file that cannot be opened or read."""
        return JobDecodeError(f"cannot read file: {exc.strerror or exc}", source=self.name)

    def rewind(self) -> Any:
        """The file object, back where it stood when given; one that cannot seek is read
        into :attr:`data` on first use (so that it can be read again)."""
        stream = self.stream
        try:
            if stream.seekable():
                stream.seek(self.start)
                return stream
            self.data, self.stream = read_stream(stream), None
        except OSError as exc:
            raise self.unreadable(exc) from None
        return None

    def read_raw(self) -> bytes:
        """The bytes as stored, or a JobDecodeError naming the input."""
        if self.stream is not None:
            stream = self.rewind()
            if stream is not None:
                try:
                    return read_stream(stream)
                except OSError as exc:
                    raise self.unreadable(exc) from None
        if self.data is not None:
            return self.data
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise self.unreadable(exc) from None

    def read(self, damage: list[JobDecodeError], limit: int | None = None) -> bytes:
        """The decompressed bytes; see :func:`gunzip_blocks` for what ``damage`` receives.

        An input larger than ``limit`` bytes (stored or decompressed) raises, or for gzip
        gives what decompressed up to the limit, the error in ``damage``.
        """
        if limit is not None and self.size() > limit:
            raise JobDecodeError(too_large(limit), source=self.name)
        raw = self.read_raw()
        if raw[:2] != GZIP_MAGIC:
            if limit is not None and len(raw) > limit:
                raise JobDecodeError(too_large(limit), source=self.name)
            return strip_bom(raw)
        return strip_bom(b"".join(gunzip_blocks([raw], source=self.name, damage=damage, limit=limit)))


def read_stream(stream: Any) -> bytes:
    data = stream.read()
    if not isinstance(data, (bytes, bytearray)):
        msg = f"a file object gave {type(data).__name__}, not bytes; open the file in binary mode ('rb')"
        raise TypeError(msg)
    return bytes(data)


def _stream_size(stream: Any, start: int) -> int:
    """The bytes left in a file object, as stored, where cheap to know; else 0."""
    if isinstance(stream, io.BytesIO):
        return max(0, stream.getbuffer().nbytes - start)
    try:
        return max(0, os.fstat(stream.fileno()).st_size - (0 if isinstance(stream, gzip.GzipFile) else start))
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return 0


def strip_bom(data: bytes) -> bytes:
    return data[3:] if data[:3] == BOM else data


def gunzip_blocks(
    compressed: Iterable[bytes], *, source: str, damage: list[JobDecodeError], limit: int | None = None
) -> Iterator[bytes]:
    """Decompress gzip data (one or more members) block by block, keeping all that is good.

    On truncated or corrupt data, everything decompressed before the damage is still
    yielded, cut after its last complete line, and a :class:`JobDecodeError` naming the
    line where the damage starts is appended to ``damage``. Past ``limit`` decompressed
    bytes (a gzip bomb), decompression stops the same way, the error saying so.
    """
    decompressor = zlib.decompressobj(wbits=31)
    lines = 0
    tail: list[bytes] = []  # decompressed bytes after the last newline yielded
    held = 0  # their size

    def emit(out: bytes) -> bytes:
        nonlocal lines, held
        cut = out.rfind(b"\n") + 1
        if cut == 0:
            tail.append(out)
            held += len(out)
            if held <= HELD_LINE:
                return b""
            # a very long line: passed on as it comes, for the reader's line limit to judge
            cut = len(out)
        data = b"".join([*tail, out[:cut]])
        lines += out.count(b"\n", 0, cut)
        tail[:] = [out[cut:]] if cut < len(out) else []
        held = len(out) - cut
        return data

    produced = 0
    try:
        for block in compressed:
            while block:
                # at most a few megabytes out per call, however much a block inflates
                out = decompressor.decompress(block, STREAM_BLOCK)
                block = decompressor.unconsumed_tail
                while True:
                    produced += len(out)
                    if limit is not None and produced > limit:
                        kept = emit(out[: len(out) - (produced - limit)])  # the whole lines within it
                        if kept:
                            yield kept
                        damage.append(JobDecodeError(too_large(limit), source=source, line=lines + 1))
                        return
                    piece = emit(out) if out else b""
                    if piece:
                        yield piece
                    if block or len(out) < STREAM_BLOCK:
                        break
                    out = decompressor.decompress(b"", STREAM_BLOCK)  # output still pending
                if block:
                    continue
                if not decompressor.eof:
                    break
                block = decompressor.unused_data
                if block[:2] != GZIP_MAGIC:
                    if block.strip(b"\x00"):
                        msg = "truncated or corrupt gzip data: unexpected bytes after the end of the gzip stream"
                        damage.append(JobDecodeError(msg, source=source, line=lines + 1))
                        if tail:
                            yield b"".join(tail)
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
        yield b"".join(tail)


def memory_budget() -> int:
    """The default of ``max_input_bytes``: half the memory available now (8 GB if unknown).

    Examples
    --------
    >>> memory_budget() > 0
    True
    """
    try:
        with open("/proc/meminfo", "rb") as meminfo:
            for row in meminfo:
                if row.startswith(b"MemAvailable:"):
                    return int(row.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def too_large(limit: int) -> str:
    return (
        f"the input is larger than {limit:,} bytes once decompressed (max_input_bytes; by default half "
        "the memory available): pass a larger max_input_bytes, or stream NDJSON with ftkit.iter_jobs"
    )


def _is_dump_name(name: str) -> bool:
    return name.lower().endswith(_DUMP_SUFFIXES)


def expand_sources(source: Source) -> list[Input]:
    """Resolve a source into the ordered list of inputs it names.

    Directories are read recursively in sorted order; globs are expanded in sorted
    order; bytes become one input named ``<bytes>`` (``<bytes #i>`` in a list); a binary
    file object is named by its ``name`` (``<file object>`` if it has none).

    Raises
    ------
    FileNotFoundError
        A path that does not exist, or a glob or directory that matches no dump.
    TypeError
        A source of a type ftkit cannot read, or a text-mode file object.
    ValueError
        An empty string, a URL, a ``str`` holding JSON text, a closed file object.
    """
    inputs: list[Input] = []
    _expand(source, inputs, top=True)
    return inputs


def _expand(source: Any, inputs: list[Input], *, top: bool, where: str = "source") -> None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = "<bytes>" if top else f"<bytes #{len(inputs)}>"
        inputs.append(Input(name, data=bytes(source)))
        return
    if _is_file_object(source):
        inputs.append(_file_object_input(source, inputs, top=top, where=where))
        return
    if isinstance(source, (str, os.PathLike)):
        if isinstance(source, str):
            _refuse_str(source, where)
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _is_dump_name(p.name))
            if not files:
                msg = f"{path}: directory holds no job dumps (*.json, *.ndjson, *.jsonl, optionally .gz)"
                raise FileNotFoundError(msg)
            inputs.extend(Input(str(p), path=p) for p in files)
            return
        if path.is_file():
            inputs.append(Input(str(path), path=path))
            return
        text = os.fspath(source)
        if globlib.has_magic(text):
            matches = sorted(m for m in _glob(text) if Path(m).is_file())
            if not matches:
                msg = f"{text}: no file matches this pattern"
                raise FileNotFoundError(msg)
            inputs.extend(Input(m, path=Path(m)) for m in matches)
            return
        msg = f"{text}: no such file or directory"
        raise FileNotFoundError(msg)
    if isinstance(source, Iterable) and not isinstance(source, dict):
        for i, item in enumerate(source):
            _expand(item, inputs, top=False, where=f"{where}[{i}]")
        return
    msg = (
        f"{where} must be a path, a glob, bytes, a binary file object, or a list of these; "
        f"got {type(source).__name__}"
    )
    raise TypeError(msg)


def _glob(pattern: str) -> list[str]:
    """The paths a glob matches; ``**`` matches any depth but does not enter symlinked
    directories (as a directory source), so that a link loop cannot make it endless."""
    if "**" not in pattern:
        return globlib.glob(pattern)
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if globlib.has_magic(part))
    anchor = Path(*parts[:first]) if first else Path()
    rest = Path(*parts[first:])
    if rest.parts[-1] == "**":  # glob.glob's "dir/**" is everything below: pathlib's is directories only
        rest = rest / "*"
    hidden_ok = any(part.startswith(".") for part in rest.parts)
    found = []
    for match in anchor.glob(str(rest)):
        relative = match.relative_to(anchor).parts if first else match.parts
        if hidden_ok or not any(part.startswith(".") for part in relative):  # as glob.glob: no hidden files
            found.append(str(match))
    return found


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _refuse_str(text: str, where: str) -> None:
    """Refuse a str that cannot name a file: empty, a URL, JSON text (unless it is a file)."""
    stripped = text.strip()
    if not stripped:
        msg = f"{where} is an empty string, which names no file; pass a path, a glob, bytes, or a list of these"
        raise ValueError(msg)
    if os.path.exists(text):
        return
    if _URL.match(stripped):
        msg = (
            f"{where} is a URL ({stripped[:60]!r}); ftkit reads files, not URLs: download it first, "
            "or fetch jobs from the Mistral API with `ftkit export`"
        )
        raise ValueError(msg)
    if stripped[:1] in ("{", "["):
        msg = (
            f"{where} is a str that looks like JSON text ({stripped[:40]!r}...), not a path; "
            "pass JSON as bytes instead: ftkit.read_jobs(text.encode())"
        )
        raise ValueError(msg)


def _is_file_object(source: Any) -> bool:
    return isinstance(source, io.IOBase) or (callable(getattr(source, "read", None)) and not isinstance(source, type))


def _file_object_input(source: Any, inputs: list[Input], *, top: bool, where: str) -> Input:
    """An input for a binary file object; text-mode ones are refused, naming the argument."""
    mode = getattr(source, "mode", None)
    if isinstance(source, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
        msg = (
            f"{where} is a text-mode file object; job dumps are read as bytes: open the file in "
            "binary mode, open(path, 'rb'), or pass its path"
        )
        raise TypeError(msg)
    if getattr(source, "closed", False):
        msg = f"{where} is a closed file object; pass it open, or pass its path"
        raise ValueError(msg)
    name = getattr(source, "name", None)
    if not isinstance(name, (str, bytes, os.PathLike)) or isinstance(name, int):
        name = "<file object>" if top else f"<file object #{len(inputs)}>"
    name = os.fsdecode(name)
    try:
        start = source.tell() if source.seekable() else 0
    except (OSError, AttributeError, ValueError):
        start = 0
    return Input(name, stream=source, start=start)


# --- the bytes of an input, in blocks or whole ---------------------------------------


def changed_error(item: Input) -> JobDecodeError:
    """The error for a file that changed between two reads of it (see :func:`ftkit.iter_jobs`)."""
    msg = "the file changed between the two reads of iter_jobs; read it again, or pass dedupe=False"
    return JobDecodeError(msg, source=item.name)


def input_blocks(
    item: Input, damage: list[JobDecodeError], *, seen: list[int] | None = None, limit: int | None = None
) -> Iterator[bytes]:
    """The input's decompressed bytes in blocks of about ``STREAM_BLOCK``.

    For a file: at most ``limit`` bytes of it are read, and their number is put in ``seen``.
    """
    stream = item.rewind() if item.stream is not None else None
    if stream is not None:
        raw_blocks = read_blocks(stream, STREAM_BLOCK // 4, limit, seen, item)
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
        raw_blocks = read_blocks(file, size, limit, seen, item)
        yield from (gunzip_blocks(raw_blocks, source=item.name, damage=damage) if gzipped else raw_blocks)


def read_blocks(file: Any, size: int, limit: int | None, seen: list[int] | None, item: Input) -> Iterator[bytes]:
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
                raise changed_error(item)
            break
        done += len(block)
        yield block
    if seen is not None:
        seen.append(done)


class LazyFile:
    """A file's bytes, read on first use, refused if the file changed since it was decoded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stat = path.stat()
        self.stamp = (stat.st_size, stat.st_mtime_ns)
        self.data: bytes | None = None

    def get(self) -> bytes:
        if self.data is None:
            stat = self.path.stat()
            if (stat.st_size, stat.st_mtime_ns) != self.stamp:
                msg = (
                    f"{self.path}: the file changed after it was read; read it again "
                    "with ftkit.read_jobs to get its jobs"
                )
                raise RuntimeError(msg)
            self.data = self.path.read_bytes()
        return self.data


def bytes_of(datas: list[Any], index: int) -> bytes:
    """The bytes of input ``index``: kept in ``datas``, or read now from its :class:`LazyFile`."""
    data = datas[index]
    return data.get() if isinstance(data, LazyFile) else data

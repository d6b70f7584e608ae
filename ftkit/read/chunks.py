"""Cut inputs into chunks: runs of whole NDJSON lines, the unit that one decoder handles.

Two kinds. For a read with worker processes, an input already in memory or a plain file
is cut into a few large runs up front (:func:`split_bytes`, :func:`split_file`; a worker
reads its run of a file itself). For a streamed read (:func:`ftkit.iter_jobs`), the
blocks of an input are joined into runs as they arrive (:func:`line_runs`), holding only
the partial line at the end of each block. Nothing here decodes JSON.

Examples
--------
>>> [(c.start, c.end) for c in split_bytes(b'{"a":1}\\n{"b":2}\\n{"c":3}\\n', 0, pieces=2, smallest=4)]
[(0, 16), (16, 24)]
>>> list(line_runs([b'{"a":1}\\n{"b"', b':2}\\n'], source="<bytes>", first_line=1))
[(b'{"a":1}\\n', 1), (b'{"b":2}\\n', 2), (b'', 3)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import JobDecodeError
from .layout import is_blank
from .sources import BOM

__all__ = ["MIN_CHUNK_BYTES", "Chunk", "line_runs", "line_too_long", "read_range", "split_bytes", "split_file"]

#: The smallest run of lines sent to a worker.
MIN_CHUNK_BYTES = 8 << 20


@dataclass
class Chunk:
    """A run of whole lines of one input: bytes ``start`` to ``end`` of it."""

    input_index: int
    start: int
    end: int
    #: Read by the worker from this file (else sent the bytes over the pipe).
    path: str | None = None
    #: Decoded in the calling process, whole, by its layout (not a run of NDJSON lines).
    local: bool = False


def split_bytes(data: bytes, input_index: int, pieces: int, *, smallest: int | None = None) -> list[Chunk]:
    """Cut NDJSON bytes into about ``pieces`` runs of whole lines (each at least ``smallest``
    bytes, by default :data:`MIN_CHUNK_BYTES`, where there is enough)."""
    chunks = []
    start = 0
    step = max(MIN_CHUNK_BYTES if smallest is None else smallest, len(data) // max(pieces, 1) + 1)
    while start < len(data):
        end = data.find(b"\n", min(start + step, len(data)) - 1)
        end = len(data) if end == -1 else end + 1
        chunks.append(Chunk(input_index, start, end))
        start = end
    return chunks


def split_file(path: Path, size: int, input_index: int, pieces: int, *, smallest: int | None = None) -> list[Chunk]:
    """Cut an NDJSON file into about ``pieces`` runs of whole lines, reading only near the cuts."""
    chunks = []
    start = 0
    step = max(MIN_CHUNK_BYTES if smallest is None else smallest, size // max(pieces, 1) + 1)
    with open(path, "rb") as file:
        if file.read(3) == BOM:
            start = 3
        while start < size:
            end = min(start + step, size)
            if end < size:
                # the cut goes after the first newline at or past byte end - 1
                position = end - 1
                file.seek(position)
                while True:
                    window = file.read(1 << 16)
                    if not window:
                        end = size
                        break
                    newline = window.find(b"\n")
                    if newline != -1:
                        end = position + newline + 1
                        break
                    position += len(window)
            chunks.append(Chunk(input_index, start, end, path=str(path)))
            start = end
    return chunks


def read_range(path: str | Path, start: int, size: int) -> bytes:
    """The ``size`` bytes of a file from byte ``start`` on: a run cut by :func:`split_file`,
    read by whoever decodes it (a worker, or the reading process)."""
    with open(path, "rb") as file:
        file.seek(start)
        return file.read(size)


def line_runs(
    blocks: Iterable[bytes], *, source: str, first_line: int, max_line: int | None = None
) -> Iterator[tuple[bytes, int] | JobDecodeError]:
    """Join streamed blocks of NDJSON into runs of whole lines, each with its first line's number.

    A run ends at the last newline of a block; the bytes after it wait for the next
    block, and the rest after the last block is the final run (empty, or one line without
    a newline). A line longer than ``max_line`` bytes (checked once it spans blocks) is
    yielded as a :class:`~ftkit.JobDecodeError` and dropped up to its newline as it is
    read; runs of blanks without a newline are never held.
    """
    line = first_line
    pending: list[bytes] = []  # the bytes after the last newline, no newline in them
    pending_size = 0
    dropping = False  # inside a line over max_line: dropped up to its newline
    for block in itertools.chain((block for block in blocks if block), [b""]):  # b"": the end
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
                if not pending and is_blank(block, 0):
                    continue  # blanks and no newline: nothing to keep
                pending.append(block)
                pending_size += len(block)
                if max_line is not None and pending_size > max_line:
                    yield JobDecodeError(line_too_long(max_line), source=source, line=line, path="$")
                    pending, pending_size, dropping = [], 0, True
                continue
            if max_line is not None and pending and pending_size + block.find(b"\n") > max_line:
                yield JobDecodeError(line_too_long(max_line), source=source, line=line, path="$")
                pending, pending_size = [], 0
                block, cut, line = block[block.find(b"\n") + 1 :], cut - block.find(b"\n") - 1, line + 1
            data = b"".join([*pending, block[:cut]])
            pending = [block[cut:]] if cut < len(block) else []
            pending_size = len(block) - cut
        else:
            data = b"".join(pending)
            pending = []
        yield data, line
        line += data.count(b"\n")


def line_too_long(limit: int) -> str:
    """The reason given for a line longer than ``max_line_bytes``."""
    return (
        f"a line longer than {limit:,} bytes (max_line_bytes); it is left out unread: pass a "
        "larger max_line_bytes to read it"
    )

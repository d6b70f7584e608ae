"""Tell the layout of an input from its bytes: one document, an array, NDJSON, or not JSON.

The first stage after :mod:`ftkit.read.sources`: nothing here decodes jobs, only looks at
the first bytes and lines (and, where they leave it open, checks the whole parses).

Examples
--------
>>> layout(b'{"id": "a"}\\n{"id": "b"}\\n'), layout(b"[1, 2]"), layout(b"  "), layout(b"7")
('ndjson', 'array', 'empty', 'other')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import msgspec

from ..errors import JobDecodeError
from .sources import BOM, GZIP_MAGIC

__all__ = [
    "DECODE_ERRORS",
    "SPACES",
    "Layout",
    "describe_scalar",
    "is_blank",
    "layout",
    "plain_ndjson",
    "streamed_layout",
    "worth_decoding",
]

Layout = Literal["empty", "array", "object", "ndjson", "other"]

#: What decoding untrusted bytes can raise: msgspec's errors, invalid UTF-8 inside
#: strings, and nesting deeper than Python's recursion limit.
DECODE_ERRORS = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)


_any_decoder = msgspec.json.Decoder()
_raw_decoder = msgspec.json.Decoder(msgspec.Raw)


#: A run of JSON whitespace, matched in C: a gigabyte of blanks is skipped in linear time.
SPACES = re.compile(rb"[ \t\r\n]*")


_JSON_NAMES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string"}


def worth_decoding(data: bytes, damage: list[JobDecodeError]) -> bool:
    """Whether what was read of an input is decoded: all of it when it was read whole, the
    complete lines before the damage of damaged NDJSON, nothing of a damaged single
    document (none of it can be trusted)."""
    return not damage or layout(data) == "ndjson"


def layout(data: bytes) -> Layout:
    """Guess the layout of a document from its first bytes and first lines.

    NDJSON is told from one pretty-printed document by its first line (a whole JSON
    value) or, where the first line is malformed, by its second line (a line of NDJSON
    starts with ``{``; the second line of a pretty-printed document does not).
    """
    start = SPACES.match(data, 3 if data[:3] == BOM else 0).end()
    if start == len(data):
        return "empty"
    first = data[start : start + 1]
    if first == b"[":
        return "array"
    if first != b"{":
        return "other"
    end = data.find(b"\n", start)
    if end == -1 or is_blank(data, end):
        return "object"
    line = data[start:end].strip()
    if line == b"{":
        return "object"  # a pretty-printed document
    try:
        _any_decoder.decode(line)
    except DECODE_ERRORS:
        # The first line is not a whole value: a document spread over lines (one whose
        # second line starts with "{", such as a pretty-printed list response, too) if
        # the whole parses as one value, else NDJSON with a bad first line.
        if _parses_whole(data[start:]):
            return "object"
        following = data[end + 1 : end + 1 + 4096].lstrip()
        return "ndjson" if following[:1] == b"{" else "object"
    return "ndjson"


def _parses_whole(data: bytes) -> bool:
    """Whether ``data`` is one JSON value (checked without building it)."""
    try:
        _raw_decoder.decode(data)
    except DECODE_ERRORS:
        return False
    return True


def is_blank(data: bytes, start: int) -> bool:
    """Whether ``data[start:]`` is only whitespace, without copying a large tail."""
    return SPACES.match(data, start).end() == len(data)


def describe_scalar(data: bytes) -> str:
    """What an input that is no job, list or array holds, said for an error message.

    Examples
    --------
    >>> describe_scalar(b'"text"')
    'expected a job object, a list response or an array of them; found a top-level JSON string'
    """
    if b"\x00" in data[:4096]:
        return "binary data, not JSON"
    try:
        value = _any_decoder.decode(data)
    except DECODE_ERRORS as exc:
        return f"not JSON ({exc})"
    kind = _JSON_NAMES.get(type(value), type(value).__name__)
    return f"expected a job object, a list response or an array of them; found a top-level JSON {kind}"


def streamed_layout(head: bytes) -> str:
    """The layout of an input from its first block: as :func:`layout`, except that a
    block holding one whole line of JSON and then nothing is NDJSON (more lines may
    follow in the next blocks; read as NDJSON, one line gives what one document gives),
    and that a first line which is not whole JSON leaves the question open ("unsure"):
    only the whole input tells a document spread over lines from NDJSON with a bad line."""
    found = layout(head)
    if found == "ndjson":
        start = SPACES.match(head).end()
        newline = head.find(b"\n", start)
        try:
            _any_decoder.decode(head[start:newline])
        except DECODE_ERRORS:
            return "unsure"
    if found == "object":
        start = SPACES.match(head).end()
        newline = head.find(b"\n", start)
        if newline != -1 and is_blank(head, newline):
            try:
                _any_decoder.decode(head[start:newline])
            except DECODE_ERRORS:
                return found
            return "ndjson"
    return found


def plain_ndjson(path: Path) -> bool:
    """Whether a file is uncompressed NDJSON, judged from its first megabyte."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 20)
    except OSError:
        return False
    # "unsure" (a first line that is not whole JSON) is left to the whole-input reading
    return head[:2] != GZIP_MAGIC and streamed_layout(head) == "ndjson"

"""The errors ftkit raises: job JSON that cannot be read, and exports that cannot go on.

Messages hold text from the input (keys, file names), always with control characters
escaped, so that printing one cannot drive a terminal.

Examples
--------
>>> err = JobDecodeError(
...     "Expected `int`, got `str`", source="jobs.ndjson", line=3, path="$.checkpoints[0].step_number"
... )
>>> print(err)
jobs.ndjson: line 3: at $.checkpoints[0].step_number: Expected `int`, got `str`
>>> err.expected, err.found
('int', 'str')
"""

from __future__ import annotations

import re

from .escape import printable

__all__ = ["JobDecodeError", "ExportError", "ExportUsageError"]

_EXPECTED_FOUND = re.compile(r"Expected `(?P<expected>[^`]*)`, got `(?P<found>[^`]*)`")
_MSGSPEC_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)


class JobDecodeError(ValueError):
    """A record of job JSON that could not be read.

    Parameters
    ----------
    reason
        What was wrong, e.g. ``"Expected `int`, got `str`"``.
    source
        The file (or ``"<bytes>"``) the record came from.
    line
        1-based line number of the record, for NDJSON and single-document files.
    index
        0-based index of the record in a top-level JSON array.
    path
        JSON path inside the record, msgspec style (``$.checkpoints[0].step_number``).

    Attributes
    ----------
    expected, found : str or None
        The expected and found JSON types, where the reason names them.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str,
        line: int | None = None,
        index: int | None = None,
        path: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.index = index
        self.path = path
        match = _EXPECTED_FOUND.search(reason)
        self.expected = match["expected"] if match else None
        self.found = match["found"] if match else None
        super().__init__(self._message())

    def _message(self) -> str:
        """The message, with control characters escaped: keys and file names can hold any."""
        parts = [self.source]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.index is not None:
            parts.append(f"index {self.index}")
        if self.path:
            parts.append(f"at {self.path}")
        parts.append(self.reason)
        return printable(": ".join(parts))

    def __reduce__(self):
        return (_rebuild, (self.reason, self.source, self.line, self.index, self.path))

    @classmethod
    def from_msgspec(
        cls,
        exc: Exception,
        *,
        source: str,
        line: int | None = None,
        index: int | None = None,
        prefix: str = "$",
    ) -> JobDecodeError:
        """Wrap a msgspec error, moving its ``$.path`` into :attr:`path`.

        ``prefix`` replaces the leading ``$`` of msgspec's path, for records nested in a
        larger document (``$.data[3]``).
        """
        match = _MSGSPEC_PATH.match(str(exc))
        reason = match["reason"] if match else str(exc)
        path = match["path"] if match and match["path"] else "$"
        if prefix != "$":
            path = prefix + path[1:]
        return cls(reason, source=source, line=line, index=index, path=path)


def _rebuild(reason, source, line, index, path):
    return JobDecodeError(reason, source=source, line=line, index=index, path=path)


class ExportError(RuntimeError):
    """An export could not go on; the message says what was expected, found, and where."""


class ExportUsageError(ExportError):
    """An export was asked for wrongly (no key, a bad option or output path); nothing was requested."""

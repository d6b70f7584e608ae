"""Text from jobs and servers made safe to print on a terminal.

Job names, suffixes, ids, file names and server answers can hold any character; printed
raw, an escape sequence (``\\x1b[2J``) would drive the user's terminal. Everything ftkit
prints, and every ``repr`` of its objects, goes through :func:`printable`.

Examples
--------
>>> printable("run\\x1b]0;owned\\x07")
'run\\\\x1b]0;owned\\\\x07'
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

__all__ = ["printable", "escaped_warnings"]


def printable(text: str) -> str:
    r"""``text`` with control characters shown as escapes, so job text cannot drive a terminal.

    Examples
    --------
    >>> printable("ok\x1b[2Jgone\n")
    'ok\\x1b[2Jgone\\n'
    >>> printable("plain text, é and 日本")
    'plain text, é and 日本'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@contextlib.contextmanager
def escaped_warnings() -> Iterator[None]:
    r"""Re-issue the warnings raised inside with their control characters escaped.

    Matplotlib warns ``Glyph 27 (\x1b) missing from font(s)`` with the character itself
    when a label holds one; drawing job text inside this block keeps such warnings (and
    any other) from writing raw control characters to stderr.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     with escaped_warnings():
    ...         warnings.warn("Glyph 27 (\x1b) missing", UserWarning)
    >>> str(seen[0].message)
    'Glyph 27 (\\x1b) missing'
    """
    with warnings.catch_warnings(record=True) as caught:
        yield
    for warning in caught:
        message = warning.message
        text = printable(str(message))
        if text != str(message) or not isinstance(message, Warning):
            message = warning.category(text)
        warnings.warn_explicit(message, warning.category, warning.filename, warning.lineno)

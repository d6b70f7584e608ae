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

__all__ = ["printable"]


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

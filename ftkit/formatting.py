"""Numbers as text for people: enough significant digits to tell compared values apart.

A table that prints two different losses, ``0.000625`` and ``0.000641``, as ``0.0006``
says they are equal. :func:`distinct_digits` finds how many digits a column needs so
that values that differ print differently; :func:`format_float` prints with them.

Examples
--------
>>> values = [0.000625, 0.000641, 0.81234]
>>> digits = distinct_digits(values)
>>> digits, [format_float(v, digits) for v in values]
(4, ['0.000625', '0.000641', '0.8123'])
>>> close = [0.81234, 0.81231]
>>> [format_float(v, distinct_digits(close)) for v in close]
['0.81234', '0.81231']
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["distinct_digits", "format_float", "MIN_DIGITS", "MAX_DIGITS"]

#: Significant digits always shown (fewer only when the value has fewer).
MIN_DIGITS = 4
#: Significant digits never exceeded: values that differ beyond them print alike.
MAX_DIGITS = 15


def format_float(value: float, digits: int = MIN_DIGITS, *, decimals: bool = False) -> str:
    """``value`` with ``digits`` significant digits (``"g"`` format), or with ``digits``
    decimals and thousands separators when ``decimals`` (money).

    Examples
    --------
    >>> format_float(0.000625), format_float(1234.5678, 2, decimals=True), format_float(float("nan"))
    ('0.000625', '1,234.57', 'NaN')
    """
    if math.isnan(value):
        return "NaN"
    if decimals:
        return f"{value:,.{digits}f}"
    return f"{value:.{digits}g}"


def distinct_digits(values: Iterable[float | None], *, start: int = MIN_DIGITS, decimals: bool = False) -> int:
    """The fewest digits, from ``start`` up, at which the distinct values print distinctly.

    Nulls and NaN are ignored. With ``decimals``, digits count decimals (for money, e.g.
    ``start=2``). Stops at :data:`MAX_DIGITS`.
    """
    distinct = {v for v in values if v is not None and not math.isnan(v)}
    digits = start
    while digits < MAX_DIGITS and len({format_float(v, digits, decimals=decimals) for v in distinct}) < len(distinct):
        digits += 1
    return digits

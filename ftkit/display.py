"""How frames print in a notebook: ids, model names and URLs whole, on one line.

polars wraps long cells across table lines when a table is wider than its width setting
(100 characters outside a terminal) and cuts strings after 30 characters. A job id then
prints as ``0730677d-f`` / ``5be-458b-a`` / ``95d-78b132`` / ``…``: nothing can tell those
pieces from other text, so no sanitize rule can mask them safely when a notebook is
validated with nbval. :func:`display_config` makes polars print every id whole.

Examples
--------
>>> import ftkit, polars as pl
>>> frame = pl.DataFrame({"job_id": ["0730677d-f5be-458b-a95d-78b13297756f"], "trained_tokens": [12303500]})
>>> with ftkit.display_config():
...     print(frame)
shape: (1, 2)
┌──────────────────────────────────────┬────────────────┐
│ job_id                               ┆ trained_tokens │
│ ---                                  ┆ ---            │
│ str                                  ┆ i64            │
╞══════════════════════════════════════╪════════════════╡
│ 0730677d-f5be-458b-a95d-78b13297756f ┆ 12303500       │
└──────────────────────────────────────┴────────────────┘
"""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["display_config", "STR_LENGTH", "TABLE_WIDTH"]

#: Characters of a string cell printed before polars cuts it with "…": room for a W&B URL
#: or an OpenAI checkpoint model name (``ft:gpt-4o-mini-2024-07-18:org:suffix:AbCd1234:ckpt-step-80``).
STR_LENGTH = 100

#: Table width in characters: wide enough that polars never wraps a cell.
TABLE_WIDTH = 10_000


def display_config(**options: Any) -> pl.Config:
    """polars display options under which ids, model names and URLs print whole.

    Called on its own (first cell of a notebook), it sets the options for the rest of
    the session; in a ``with`` statement, for the block only. Only how text is laid out
    changes (string cells up to :data:`STR_LENGTH` characters, tables up to
    :data:`TABLE_WIDTH` wide, so never wrapped); numbers print as before.

    Parameters
    ----------
    **options
        More ``polars.Config`` options (``tbl_rows=20``), or these overridden.

    Returns
    -------
    polars.Config
        The applied configuration; leaving its ``with`` block restores the previous one.

    Examples
    --------
    >>> import ftkit, polars as pl
    >>> with ftkit.display_config(tbl_rows=5) as config:
    ...     pl.Config.state(if_set=True)["POLARS_FMT_STR_LEN"]
    '100'
    """
    settings: dict[str, Any] = {"fmt_str_lengths": STR_LENGTH, "tbl_width_chars": TABLE_WIDTH}
    settings.update(options)
    return pl.Config(**settings)

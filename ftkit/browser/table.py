"""The browser's table as pure functions: build, filter, sort and page it; format it as text.

Examples
--------
>>> import ftkit
>>> table = browser_table(ftkit.read_jobs(EXAMPLE_JOBS))
>>> filter_table(table, {"status": ["SUCCESS"], "text": "SUPPORT"})["job_id"].to_list()
['job-a']
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from .. import analysis
from ..formatting import MIN_DIGITS, distinct_digits, format_float
from ..jobset import JobSet

__all__ = [
    "EXAMPLE_JOBS", "FILTER_KEYS", "TABLE_COLUMNS", "ID_WIDTH", "SEARCH_COLUMN",
    "VALUE_FILTERS", "filter_values", "SORT_DIRECTIONS", "sort_spec", "RANKED_COLUMNS",
    "browser_table", "parse_bound", "filter_expr", "filter_table", "sort_table", "page_of", "page_count",
    "format_cell", "table_digits", "short_id", "format_cost", "px", "row_html", "summary_text", "summary_html",
]

#: Two jobs for the examples in the browser's docstrings.
EXAMPLE_JOBS = (
    b'{"id": "job-a", "model": "open-mistral-7b", "status": "SUCCESS", "job_type": "completion",'
    b' "created_at": 1717200000, "modified_at": 1717203600, "suffix": "support-bot",'
    b' "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001},'
    b' "metadata": {"cost": 1.5, "cost_currency": "USD"},'
    b' "checkpoints": [{"step_number": 10, "created_at": 1717203000,'
    b' "metrics": {"train_loss": 0.9, "valid_loss": 1.1, "valid_mean_token_accuracy": 1.7}},'
    b' {"step_number": 5, "created_at": 1717202000,'
    b' "metrics": {"train_loss": 1.2, "valid_loss": 1.3, "valid_mean_token_accuracy": 1.6}}]}\n'
    b'{"id": "job-b", "model": "ministral-3b-latest", "status": "FAILED",'
    b' "created_at": 1717300000, "modified_at": 1717300100, "suffix": "<b>x</b>",'
    b' "hyperparameters": {"training_steps": 20, "learning_rate": 0.0002},'
    b' "classifier_targets": [{"name": "intent", "labels": ["a", "b"]}]}\n'
)

#: The keys of ``JobBrowser.filters`` and of the ``filters`` mapping of :func:`filter_table`.
FILTER_KEYS = ("status", "job_type", "model", "text", "created_after", "created_before")

#: The table's columns: (column, header, width in characters). All are sortable.
TABLE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("status", "status", 11),
    ("job_type", "type", 11),
    ("model", "model", 21),
    ("suffix", "suffix", 17),
    ("created_at", "created (UTC)", 17),
    ("training_steps", "steps", 7),
    ("best_valid_loss", "best valid", 11),
    ("cost", "cost", 10),
)
ID_WIDTH = 12  # characters, the first column: the job id (a checkbox in the widget)
SEARCH_COLUMN = "_search"  # the lower-cased text the free-text filter looks in
_esc = html.escape


# --- pure functions: the table ------------------------------------------------------


def browser_table(jobs: JobSet) -> pl.DataFrame:
    """The frame the browser filters, sorts and pages: one row per job.

    The columns of ``jobs.jobs`` plus ``best_valid_loss`` and ``_search``, the
    lower-cased job id, suffix and fine-tuned model name that the free-text filter
    searches. The values follow :mod:`ftkit.analysis`, so the table never contradicts
    the compare pane: ``best_valid_loss`` is that of
    :func:`ftkit.analysis.checkpoint_summary` (a placeholder ``0.0`` never counts as
    measured; null where nothing was), and ``cost`` that of
    :func:`ftkit.analysis.token_usage` (null for the ``0.0`` without a currency a job
    carries right after creation).

    Examples
    --------
    >>> import ftkit
    >>> table = browser_table(ftkit.read_jobs(EXAMPLE_JOBS))
    >>> table.select("job_id", "status", "best_valid_loss", "cost")
    shape: (2, 4)
    ┌────────┬─────────┬─────────────────┬──────┐
    │ job_id ┆ status  ┆ best_valid_loss ┆ cost │
    │ ---    ┆ ---     ┆ ---             ┆ ---  │
    │ str    ┆ str     ┆ f64             ┆ f64  │
    ╞════════╪═════════╪═════════════════╪══════╡
    │ job-a  ┆ SUCCESS ┆ 1.1             ┆ 1.5  │
    │ job-b  ┆ FAILED  ┆ null            ┆ null │
    └────────┴─────────┴─────────────────┴──────┘
    """
    # Both analysis frames have one row per job of ``jobs.jobs``, in its order.
    best = analysis.checkpoint_summary(jobs)["best_valid_loss"]
    cost = analysis.token_usage(jobs)["cost"]
    search = pl.concat_str(
        [pl.col(name).fill_null("") for name in ("job_id", "suffix", "fine_tuned_model")],
        separator="\n",
    ).str.to_lowercase()
    return jobs.jobs.with_columns(cost, best, search.alias(SEARCH_COLUMN))


def parse_bound(value: Any) -> tuple[dt.datetime, bool] | None:
    """A filter bound as an aware UTC datetime, and whether it stands for a whole day."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)), False
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc), True
    msg = f"created_after/created_before: expected a date, a datetime or an ISO string, got {value!r}"
    raise TypeError(msg)


#: The filters that take a value or a list of values, as :meth:`ftkit.JobSet.filter` does.
VALUE_FILTERS = ("status", "job_type", "model")


def filter_values(value: Any) -> tuple[str, ...]:
    """A value filter as a tuple of accepted values: ``"a"`` -> ``("a",)``; None or empty -> ``()``.

    Examples
    --------
    >>> filter_values("SUCCESS"), filter_values(["SUCCESS", "FAILED"]), filter_values(None)
    (('SUCCESS',), ('SUCCESS', 'FAILED'), ())
    """
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(dict.fromkeys(v for v in value if v not in (None, "")))
    msg = f"filters: expected a value or a list of values, got {type(value).__name__} {value!r}"
    raise TypeError(msg)


def filter_expr(filters: Mapping[str, Any]) -> pl.Expr | None:
    """The polars predicate for ``filters`` (see :data:`FILTER_KEYS`; absent or empty = any).

    ``status``, ``job_type`` and ``model`` take what :meth:`ftkit.JobSet.filter` takes:
    one value, or a list (tuple, set) of accepted values, matched exactly (case
    included); an empty list or None accepts any. ``text`` is a case-insensitive
    substring of the job id, suffix or fine-tuned model name; ``created_after`` and
    ``created_before`` dates (both days included) or datetimes. None when nothing is
    filtered.
    """
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        msg = f"filters: unknown keys {sorted(unknown)}; expected some of {list(FILTER_KEYS)}"
        raise ValueError(msg)
    conditions: list[pl.Expr] = []
    for key in VALUE_FILTERS:
        accepted = filter_values(filters.get(key))
        if accepted:
            conditions.append(pl.col(key).is_in(pl.Series(list(accepted), dtype=pl.String()).implode()))
    text = (filters.get("text") or "").strip().lower()
    if text:
        conditions.append(pl.col(SEARCH_COLUMN).str.contains(text, literal=True))
    after = parse_bound(filters.get("created_after"))
    if after is not None:
        conditions.append(pl.col("created_at") >= after[0])
    before = parse_bound(filters.get("created_before"))
    if before is not None:
        moment, whole_day = before
        if whole_day:
            conditions.append(pl.col("created_at") < moment + dt.timedelta(days=1))
        else:
            conditions.append(pl.col("created_at") <= moment)
    if not conditions:
        return None
    return pl.all_horizontal(conditions).fill_null(False)


def filter_table(table: pl.DataFrame, filters: Mapping[str, Any]) -> pl.DataFrame:
    """The rows of ``table`` that pass ``filters``, in the same order.

    Examples
    --------
    >>> import ftkit, datetime
    >>> table = browser_table(ftkit.read_jobs(EXAMPLE_JOBS))
    >>> filter_table(table, {"created_after": datetime.date(2024, 6, 2)})["job_id"].to_list()
    ['job-b']
    >>> filter_table(table, {"text": "<B>"})["suffix"].to_list()
    ['<b>x</b>']
    """
    predicate = filter_expr(filters)
    return table if predicate is None else table.filter(predicate)


#: Columns whose sort ranks jobs: finished, successful jobs come first, the others after
#: them (each part sorted by the column, nulls last), so a running or failed job's loss
#: is never ranked among finished ones.
RANKED_COLUMNS = frozenset({"best_valid_loss"})

#: The directions ``JobBrowser.sort`` takes, and whether each is descending.
SORT_DIRECTIONS = {"ascending": False, "asc": False, "descending": True, "desc": True}


def sort_spec(sort: Any, columns: Sequence[str]) -> tuple[str, bool]:
    """``(column, descending)`` from a column name, ``(column, direction)`` or
    ``(column, descending)``; a ValueError says what is allowed otherwise.

    Examples
    --------
    >>> cols = ["cost", "created_at"]
    >>> sort_spec("cost", cols), sort_spec(("cost", "descending"), cols), sort_spec(("cost", True), cols)
    (('cost', False), ('cost', True), ('cost', True))
    >>> sort_spec("price", cols)
    Traceback (most recent call last):
    ...
    ValueError: sort: no column 'price'; sort by one of ['cost', 'created_at'], optionally with a direction: ('cost', 'descending') or ('cost', True)
    """
    if isinstance(sort, str):
        column, direction = sort, False
    elif isinstance(sort, (tuple, list)) and len(sort) == 2:
        column, direction = sort
    else:
        column, direction = None, None
    allowed = f"sort by one of {list(columns)}, optionally with a direction: ({columns[0]!r}, 'descending') or ({columns[0]!r}, True)"
    if not isinstance(column, str):
        msg = f"sort: expected a column name or (column, direction), got {sort!r}; {allowed}"
        raise ValueError(msg)
    if column not in columns:
        msg = f"sort: no column {column!r}; {allowed}"
        raise ValueError(msg)
    if isinstance(direction, str):
        if direction.lower() not in SORT_DIRECTIONS:
            msg = f"sort: direction must be one of {sorted(SORT_DIRECTIONS)} or a bool (descending), got {direction!r}"
            raise ValueError(msg)
        return column, SORT_DIRECTIONS[direction.lower()]
    if not isinstance(direction, bool):
        msg = f"sort: direction must be one of {sorted(SORT_DIRECTIONS)} or a bool (descending), got {direction!r}"
        raise ValueError(msg)
    return column, direction


def sort_table(table: pl.DataFrame, by: str, *, descending: bool = False) -> pl.DataFrame:
    """``table`` sorted by one column, nulls last; ties keep their order in ``table``.

    The browser keeps its table in job id order, so that ties are broken by job id.
    A stable sort on one column is several times faster than sorting on two. By a
    column of :data:`RANKED_COLUMNS` (``best_valid_loss``), finished, successful jobs
    come first, then the others with a value, then the jobs without one.

    Examples
    --------
    >>> import ftkit
    >>> table = browser_table(ftkit.read_jobs(EXAMPLE_JOBS))
    >>> sort_table(table, "best_valid_loss", descending=True)["job_id"].to_list()
    ['job-a', 'job-b']
    """
    if by not in table.columns:
        msg = f"sort: no column {by!r}; columns are {table.columns}"
        raise ValueError(msg)
    if by in RANKED_COLUMNS:
        unfinished = (pl.col("status") != "SUCCESS").fill_null(True)
        return table.sort(pl.col(by).is_null(), unfinished, pl.col(by), descending=[False, False, descending],
                          nulls_last=True, maintain_order=True)
    return table.sort(by, descending=descending, nulls_last=True, maintain_order=True)


def page_of(table: pl.DataFrame, page: int, *, page_size: int) -> pl.DataFrame:
    """Rows ``page * page_size`` up to the next page (pages count from 0)."""
    return table.slice(page * page_size, page_size)


def page_count(n_rows: int, *, page_size: int) -> int:
    """How many pages ``n_rows`` fill; at least one, so that an empty table has page 1 of 1."""
    return max(1, math.ceil(n_rows / page_size))


# --- pure functions: formatting -------------------------------------------------------


def format_cell(value: Any, column: str = "", *, digits: int | None = None) -> str:
    """A value as short plain text (not yet escaped): ``—`` for null.

    Examples
    --------
    >>> import datetime
    >>> [format_cell(v) for v in (None, 0.000123456, 12345, [1, 2], "a<b")]
    ['—', '0.0001235', '12,345', '1, 2', 'a<b']
    >>> format_cell(datetime.datetime(2024, 6, 1, 12, 30, 5), "created_at")
    '2024-06-01 12:30'
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return format_float(value, digits or MIN_DIGITS)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_cell(v) for v in value)
    return str(value)


def short_id(job_id: str) -> str:
    """A job id short enough for the first column: uuids keep their first 8 characters."""
    return job_id if len(job_id) <= ID_WIDTH - 1 else job_id[:8] + "…"


def format_cost(row: Mapping[str, Any]) -> str:
    """A row's cost with its currency, ``—`` when it has none."""
    cost = row.get("cost")
    if cost is None:
        return "—"
    currency = row.get("cost_currency") or ""
    return f"{cost:,.2f} {currency}".strip()


def _cell_text(row: Mapping[str, Any], column: str, digits: Mapping[str, int] | None = None) -> str:
    if column == "cost":
        return format_cost(row)
    return format_cell(row.get(column), column, digits=(digits or {}).get(column))


def table_digits(table: pl.DataFrame) -> dict[str, int]:
    """Significant digits for the float columns of ``table`` (costs aside, which show
    cents), enough that its values that differ print differently (see
    :mod:`ftkit.formatting`). The browser gives it the page shown: the values a person
    compares at a glance."""
    return {
        column: distinct_digits(table[column].to_list())
        for column, _, _ in TABLE_COLUMNS
        if column in table.columns and column != "cost" and table.schema[column].is_float()
    }


def px(width: int) -> str:
    """A column width in characters as CSS pixels: ``ch`` differs between the fonts of the
    header buttons, the checkboxes and the cells, pixels do not."""
    return f"{width * 8}px"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width - 1 else text[: width - 2] + "…"


def row_html(row: Mapping[str, Any], *, digits: Mapping[str, int] | None = None) -> str:
    """One table row as HTML cells of fixed width, every value escaped.

    Examples
    --------
    >>> for cell in row_html({"status": "SUCCESS", "suffix": "<img src=x>"}).split("</span>")[:4]:
    ...     print(cell)
    <div class="ftkit-cells"><span class="ftkit-cell" style="width:88px" title="SUCCESS">SUCCESS
    <span class="ftkit-cell" style="width:88px" title="—">—
    <span class="ftkit-cell" style="width:168px" title="—">—
    <span class="ftkit-cell" style="width:136px" title="&lt;img src=x&gt;">&lt;img src=x&gt;
    """
    cells = []
    for column, _, width in TABLE_COLUMNS:
        text = _cell_text(row, column, digits)
        cells.append(
            f'<span class="ftkit-cell" style="width:{px(width)}" title="{_esc(text)}">'
            f"{_esc(_clip(text, width))}</span>"
        )
    return '<div class="ftkit-cells">' + "".join(cells) + "</div>"


def _text_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return " ".join(_clip(text, width).ljust(width - 1) for text, width in zip(cells, widths)).rstrip()


def _sort_phrase(sort: tuple[str, bool]) -> str:
    column, descending = sort
    return f"sorted by {column}, {'descending' if descending else 'ascending'}"


def summary_text(
    page: pl.DataFrame,
    *,
    n_jobs: int,
    n_matching: int,
    page_number: int,
    page_size: int,
    sort: tuple[str, bool],
    selected: Sequence[str],
    digits: Mapping[str, int] | None = None,
) -> str:
    """The browser as plain text: counts, sort, selection and one page of the table.

    It depends on nothing but its arguments, so that a notebook's stored output is the
    same on every run.
    """
    pages = page_count(n_matching, page_size=page_size)
    digits = table_digits(page) if digits is None else digits
    lines = [
        f"JobBrowser: {n_matching:,} of {n_jobs:,} jobs match the filters, "
        f"{_sort_phrase(sort)}; page {page_number + 1} of {pages}",
        f"selected: {', '.join(selected) if selected else 'none'}",
        "",
    ]
    widths = [ID_WIDTH + 26] + [width for _, _, width in TABLE_COLUMNS]
    lines.append(_text_row(["job_id"] + [header for _, header, _ in TABLE_COLUMNS], widths))
    for row in page.iter_rows(named=True):
        cells = [row["job_id"]] + [_cell_text(row, column, digits) for column, _, _ in TABLE_COLUMNS]
        lines.append(_text_row(cells, widths))
    if page.height < n_matching:
        lines.append(f"… {n_matching - page.height:,} more")
    return "\n".join(lines)


def summary_html(
    page: pl.DataFrame,
    *,
    n_jobs: int,
    n_matching: int,
    page_number: int,
    page_size: int,
    sort: tuple[str, bool],
    selected: Sequence[str],
    digits: Mapping[str, int] | None = None,
) -> str:
    """The browser as static HTML, the same content as :func:`summary_text`, escaped."""
    pages = page_count(n_matching, page_size=page_size)
    digits = table_digits(page) if digits is None else digits
    head = "".join(f"<th>{_esc(header)}</th>" for _, header, _ in TABLE_COLUMNS)
    body = []
    for row in page.iter_rows(named=True):
        mark = " style='font-weight:bold'" if row["job_id"] in selected else ""
        cells = "".join(f"<td>{_esc(_cell_text(row, column, digits))}</td>" for column, _, _ in TABLE_COLUMNS)
        body.append(f"<tr{mark}><td><code>{_esc(row['job_id'])}</code></td>{cells}</tr>")
    more = f"<p>… {n_matching - page.height:,} more</p>" if page.height < n_matching else ""
    chosen = ", ".join(f"<code>{_esc(j)}</code>" for j in selected) if selected else "none"
    return (
        '<div class="ftkit-browser-static">'
        f"<p><strong>JobBrowser</strong>: {n_matching:,} of {n_jobs:,} jobs match the filters, "
        f"{_esc(_sort_phrase(sort))}; page {page_number + 1} of {pages}<br>selected: {chosen}</p>"
        f"<table><thead><tr><th>job_id</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{more}</div>"
    )


"""JobBrowser: find, inspect and compare fine-tuning jobs in a notebook, with ipywidgets.

The browser is a plain class holding the state (filters, sort, page, selection by job
id) that composes child widgets; ``browser.widget`` is the root. The work is done by the
pure functions of this module, which take and return polars frames and HTML strings and
can be used and tested without widgets:

- :func:`browser_table`: the jobs frame plus ``best_valid_loss`` and a search column;
- :func:`filter_table`, :func:`sort_table`, :func:`page_of`: one view of it;
- :func:`detail_html`, :func:`compare_html`: the detail and compare panes;
- :func:`summary_text`, :func:`summary_html`: the static view shown where widgets cannot
  render (nbval, HTML exports, terminals).

Everything that comes from a job is HTML-escaped.

Examples
--------
>>> import ftkit
>>> from ftkit.browser import browser_table, filter_table
>>> js = ftkit.read_jobs(_EXAMPLE)
>>> table = browser_table(js)
>>> filter_table(table, {"status": ["SUCCESS"], "text": "SUPPORT"})["job_id"].to_list()
['job-a']
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from . import analysis
from .jobset import JobSet

__all__ = [
    "JobBrowser",
    "FILTER_KEYS",
    "TABLE_COLUMNS",
    "browser_table",
    "filter_table",
    "sort_table",
    "page_of",
    "format_cell",
    "row_html",
    "detail_html",
    "compare_html",
    "summary_text",
    "summary_html",
]

# Two jobs for the examples in this module's docstrings.
_EXAMPLE = (
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
_ID_WIDTH = 12  # characters, the first column: the job id (a checkbox in the widget)
_HYPERPARAMETERS = (
    "learning_rate",
    "training_steps",
    "epochs",
    "weight_decay",
    "warmup_fraction",
    "seq_len",
    "fim_ratio",
    "n_epochs",  # OpenAI's
    "batch_size",
    "learning_rate_multiplier",
)
_SEARCH = "_search"  # the lower-cased text the free-text filter looks in
_MAX_CURVES = 12  # compare mode draws at most this many jobs' curves
_STATUS_COLOURS = {
    "QUEUED": "#9e9e9e",
    "STARTED": "#90caf9",
    "VALIDATING": "#80deea",
    "VALIDATED": "#4dd0e1",
    "RUNNING": "#1e88e5",
    "SUCCESS": "#43a047",
    "FAILED": "#e53935",
    "FAILED_VALIDATION": "#e53935",
    "CANCELLATION_REQUESTED": "#fb8c00",
    "CANCELLED": "#fb8c00",
}
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
    >>> table = browser_table(ftkit.read_jobs(_EXAMPLE))
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
    return jobs.jobs.with_columns(cost, best, search.alias(_SEARCH))


def _bound(value: Any) -> tuple[dt.datetime, bool] | None:
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


def filter_expr(filters: Mapping[str, Any]) -> pl.Expr | None:
    """The polars predicate for ``filters`` (see :data:`FILTER_KEYS`; absent or empty = any).

    ``status`` is a collection of accepted statuses; ``job_type`` and ``model`` one value
    each; ``text`` a case-insensitive substring of the job id, suffix or fine-tuned model
    name; ``created_after`` and ``created_before`` dates (both days included) or datetimes.
    None when nothing is filtered.
    """
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        msg = f"filters: unknown keys {sorted(unknown)}; expected some of {list(FILTER_KEYS)}"
        raise ValueError(msg)
    conditions: list[pl.Expr] = []
    status = filters.get("status") or ()
    if isinstance(status, str):
        status = (status,)
    if status:
        conditions.append(pl.col("status").is_in(pl.Series(list(status), dtype=pl.String()).implode()))
    for key in ("job_type", "model"):
        if filters.get(key):
            conditions.append(pl.col(key) == filters[key])
    text = (filters.get("text") or "").strip().lower()
    if text:
        conditions.append(pl.col(_SEARCH).str.contains(text, literal=True))
    after = _bound(filters.get("created_after"))
    if after is not None:
        conditions.append(pl.col("created_at") >= after[0])
    before = _bound(filters.get("created_before"))
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
    >>> table = browser_table(ftkit.read_jobs(_EXAMPLE))
    >>> filter_table(table, {"created_after": datetime.date(2024, 6, 2)})["job_id"].to_list()
    ['job-b']
    >>> filter_table(table, {"text": "<B>"})["suffix"].to_list()
    ['<b>x</b>']
    """
    predicate = filter_expr(filters)
    return table if predicate is None else table.filter(predicate)


def sort_table(table: pl.DataFrame, by: str, *, descending: bool = False) -> pl.DataFrame:
    """``table`` sorted by one column, nulls last; ties keep their order in ``table``.

    The browser keeps its table in job id order, so that ties are broken by job id.
    A stable sort on one column is several times faster than sorting on two.

    Examples
    --------
    >>> import ftkit
    >>> table = browser_table(ftkit.read_jobs(_EXAMPLE))
    >>> sort_table(table, "best_valid_loss", descending=True)["job_id"].to_list()
    ['job-a', 'job-b']
    """
    if by not in table.columns:
        msg = f"sort: no column {by!r}; columns are {table.columns}"
        raise ValueError(msg)
    return table.sort(by, descending=descending, nulls_last=True, maintain_order=True)


def page_of(table: pl.DataFrame, page: int, *, page_size: int) -> pl.DataFrame:
    """Rows ``page * page_size`` up to the next page (pages count from 0)."""
    return table.slice(page * page_size, page_size)


def page_count(n_rows: int, *, page_size: int) -> int:
    """How many pages ``n_rows`` fill; at least one, so that an empty table has page 1 of 1."""
    return max(1, math.ceil(n_rows / page_size))


# --- pure functions: formatting -------------------------------------------------------


def format_cell(value: Any, column: str = "") -> str:
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
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_cell(v) for v in value)
    return str(value)


def short_id(job_id: str) -> str:
    """A job id short enough for the first column: uuids keep their first 8 characters."""
    return job_id if len(job_id) <= _ID_WIDTH - 1 else job_id[:8] + "…"


def _cost(row: Mapping[str, Any]) -> str:
    cost = row.get("cost")
    if cost is None:
        return "—"
    currency = row.get("cost_currency") or ""
    return f"{cost:,.2f} {currency}".strip()


def _cell_text(row: Mapping[str, Any], column: str) -> str:
    if column == "cost":
        return _cost(row)
    return format_cell(row.get(column), column)


def _px(width: int) -> str:
    """A column width in characters as CSS pixels: ``ch`` differs between the fonts of the
    header buttons, the checkboxes and the cells, pixels do not."""
    return f"{width * 8}px"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width - 1 else text[: width - 2] + "…"


def row_html(row: Mapping[str, Any]) -> str:
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
        text = _cell_text(row, column)
        cells.append(
            f'<span class="ftkit-cell" style="width:{_px(width)}" title="{_esc(text)}">'
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
) -> str:
    """The browser as plain text: counts, sort, selection and one page of the table.

    It depends on nothing but its arguments, so that a notebook's stored output is the
    same on every run.
    """
    pages = page_count(n_matching, page_size=page_size)
    lines = [
        f"JobBrowser: {n_matching:,} of {n_jobs:,} jobs match the filters, "
        f"{_sort_phrase(sort)}; page {page_number + 1} of {pages}",
        f"selected: {', '.join(selected) if selected else 'none'}",
        "",
    ]
    widths = [_ID_WIDTH + 26] + [width for _, _, width in TABLE_COLUMNS]
    lines.append(_text_row(["job_id"] + [header for _, header, _ in TABLE_COLUMNS], widths))
    for row in page.iter_rows(named=True):
        cells = [row["job_id"]] + [_cell_text(row, column) for column, _, _ in TABLE_COLUMNS]
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
) -> str:
    """The browser as static HTML, the same content as :func:`summary_text`, escaped."""
    pages = page_count(n_matching, page_size=page_size)
    head = "".join(f"<th>{_esc(header)}</th>" for _, header, _ in TABLE_COLUMNS)
    body = []
    for row in page.iter_rows(named=True):
        mark = " style='font-weight:bold'" if row["job_id"] in selected else ""
        cells = "".join(f"<td>{_esc(_cell_text(row, column))}</td>" for column, _, _ in TABLE_COLUMNS)
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


# --- pure functions: detail and compare panes -------------------------------------------

_PANE_STYLE = """<style>
.ftkit-pane {overflow-x: auto; max-width: 100%;}
.ftkit-pane h4 {margin: 0.8em 0 0.3em 0; font-size: 1em;}
.ftkit-pane table {border-collapse: collapse; font-size: 0.92em;}
.ftkit-pane th, .ftkit-pane td {padding: 1px 10px 1px 0; text-align: left; vertical-align: top;}
.ftkit-pane th {font-weight: 600; color: var(--jp-ui-font-color1, #333);}
.ftkit-pane .ftkit-kv th {font-weight: normal; color: var(--jp-ui-font-color2, #666);}
.ftkit-pane code {font-size: 0.95em;}
.ftkit-pane .ftkit-sections {display: flex; flex-wrap: wrap; gap: 0 2.5em; align-items: flex-start;}
.ftkit-pane td, .ftkit-pane th {line-height: 1.35;}
.ftkit-timeline {display: flex; height: 14px; width: 100%; max-width: 640px; margin: 4px 0; border-radius: 3px; overflow: hidden;}
.ftkit-timeline div {height: 100%; min-width: 2px;}
</style>"""


def _subset(jobs: JobSet, job_ids: Sequence[str]) -> JobSet:
    """A JobSet of just these jobs, built from their Structs (cheap, whatever ``len(jobs)``)."""
    return JobSet([jobs[job_id] for job_id in job_ids])


def _kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th>{_esc(key)}</th><td>{_esc(format_cell(value, key))}</td></tr>" for key, value in pairs
    )
    return f'<table class="ftkit-kv">{rows}</table>'


def _wandb_html(row: Mapping[str, Any]) -> str:
    url, project, run = row.get("wandb_url"), row.get("wandb_project"), row.get("wandb_run_name")
    if not (url or project or run):
        return ""
    label = " / ".join(_esc(x) for x in (project, run) if x) or "run"
    if url and url.lower().startswith(("https://", "http://")):
        link = f'<a href="{_esc(url, quote=True)}" target="_blank" rel="noopener noreferrer">{label}</a>'
    else:
        link = label + (f" (<code>{_esc(url)}</code>)" if url else "")
    return f"<h4>Weights &amp; Biases</h4><p>{link}</p>"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _timeline_html(events: pl.DataFrame) -> str:
    if events.height == 0:
        return "<h4>Events</h4><p>No events recorded.</p>"
    rows = list(events.iter_rows(named=True))
    start = rows[0]["created_at"]
    total = max((rows[-1]["created_at"] - start).total_seconds(), 0.0)
    bar = []
    for row, following in zip(rows, rows[1:]):
        seconds = (following["created_at"] - row["created_at"]).total_seconds()
        if total > 0 and seconds > 0:
            colour = _STATUS_COLOURS.get(row["status"] or "", "#bdbdbd")
            tip = f"{row['status'] or row['name']}: {_duration(seconds)}"
            bar.append(
                f'<div style="flex:{seconds / total:.6f};background:{colour}" title="{_esc(tip)}"></div>'
            )
    table = []
    previous = None
    for row in rows:
        since = "" if previous is None else "+" + _duration((row["created_at"] - previous).total_seconds())
        previous = row["created_at"]
        colour = _STATUS_COLOURS.get(row["status"] or "", "#bdbdbd")
        table.append(
            f"<tr><td>{_esc(format_cell(row['created_at']))}</td><td>{_esc(since)}</td>"
            f'<td><span style="color:{colour}">&#9679;</span> {_esc(row["status"] or "—")}</td>'
            f"<td>{_esc(row['name'] or '')}</td><td><code>{_esc(row['data'] or '')}</code></td></tr>"
        )
    bar_html = f'<div class="ftkit-timeline">{"".join(bar)}</div>' if bar else ""
    return (
        f"<h4>Events ({len(rows)}, {_esc(_duration(total))} from first to last)</h4>{bar_html}"
        "<table><thead><tr><th>time (UTC)</th><th>after</th><th>status</th><th>event</th>"
        f"<th>data</th></tr></thead><tbody>{''.join(table)}</tbody></table>"
    )


def _targets_html(targets: pl.DataFrame) -> str:
    if targets.height == 0:
        return ""
    rows = "".join(
        f"<tr><td>{_esc(row['name'])}</td><td>{_esc(', '.join(row['labels'] or []))}</td>"
        f"<td>{_esc(format_cell(row['weight']))}</td><td>{_esc(format_cell(row['loss_function']))}</td></tr>"
        for row in targets.iter_rows(named=True)
    )
    return (
        "<h4>Classifier targets</h4><table><thead><tr><th>name</th><th>labels</th><th>weight</th>"
        f"<th>loss function</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def detail_html(jobs: JobSet, job_id: str) -> str:
    """The detail pane of one job: identity, hyperparameters, targets, tokens and cost,
    checkpoints, the events as a timeline and the W&B link; every value escaped.

    Examples
    --------
    >>> import ftkit
    >>> pane = detail_html(ftkit.read_jobs(_EXAMPLE), "job-b")
    >>> "&lt;b&gt;x&lt;/b&gt;" in pane and "<b>x</b>" not in pane
    True
    """
    one = _subset(jobs, [job_id])
    # Cost and checkpoint figures as ftkit.analysis gives them (and the table and the
    # compare pane show): placeholder 0.0 costs and validation metrics are null.
    row = browser_table(one).row(0, named=True)
    summary = analysis.checkpoint_summary(one).row(0, named=True)
    checkpoints = one.checkpoints
    identity = [
        ("job id", row["job_id"]),
        ("provider", row["provider"]),
        ("status", row["status"]),
        *([("status as written", row["status_raw"])] if row["status_raw"] != row["status"] else []),
        ("type", row["job_type"]),
        ("base model", row["model"]),
        ("suffix", row["suffix"]),
        ("fine-tuned model", row["fine_tuned_model"]),
        ("created (UTC)", row["created_at"]),
        ("modified (UTC)", row["modified_at"]),
        ("training files", row["training_files"]),
        ("validation files", row["validation_files"]),
    ]
    hyper = [
        (name, "auto" if row[name] is None else row[name])
        for name in _HYPERPARAMETERS
        if row[name] is not None or row.get(f"{name}_auto")
    ]
    tokens = [
        ("trained tokens", row["trained_tokens"]),
        ("train tokens (metadata)", row["train_tokens"]),
        ("data tokens", row["data_tokens"]),
        ("tokens per step", row["train_tokens_per_step"]),
        ("cost", _cost(row)),
    ]
    progress = [
        ("checkpoints", checkpoints.height),
        ("evaluated", summary["n_evaluated"] or 0),
        ("last step", summary["last_step"]),
        ("best step", summary["best_step"]),
        ("best valid loss", summary["best_valid_loss"]),
        ("final train loss", summary["final_train_loss"]),
    ]
    title = f"{row['suffix'] or ''} {row['job_id']}".strip()
    return (
        f'{_PANE_STYLE}<div class="ftkit-pane ftkit-detail-html">'
        f"<h4>Job <code>{_esc(title)}</code></h4>"
        '<div class="ftkit-sections">'
        f"<div>{_kv_table(identity)}</div>"
        f"<div><h4>Hyperparameters</h4>{_kv_table(hyper) if hyper else '<p>None recorded.</p>'}</div>"
        f"<div><h4>Tokens and cost</h4>{_kv_table(tokens)}"
        f"<h4>Checkpoints</h4>{_kv_table(progress)}</div></div>"
        f"{_targets_html(one.targets)}{_timeline_html(one.events)}{_wandb_html(row)}</div>"
    )


def varying_hyperparameters(jobs: JobSet) -> pl.DataFrame:
    """``job_id`` and the hyperparameter columns whose values differ between the jobs."""
    return analysis.compare_hyperparameters(jobs, varying_only=True)


def checkpoint_summaries(jobs: JobSet) -> pl.DataFrame:
    """One row per job summarising its checkpoints (``ftkit.analysis.checkpoint_summary``)."""
    return analysis.checkpoint_summary(jobs)


def _side_by_side(frame: pl.DataFrame, ids: Sequence[str], headers: Sequence[str]) -> str:
    """A per-job frame turned sideways: one row per column, one column per job."""
    by_id = {row["job_id"]: row for row in frame.iter_rows(named=True)}
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    rows = []
    for name in frame.columns:
        if name == "job_id":
            continue
        cells = "".join(f"<td>{_esc(format_cell(by_id.get(j, {}).get(name), name))}</td>" for j in ids)
        rows.append(f"<tr><th>{_esc(name)}</th>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def compare_html(jobs: JobSet, job_ids: Sequence[str]) -> str:
    """The compare pane of several jobs, side by side: the hyperparameters that differ,
    tokens and cost, and their checkpoint summaries; every value escaped.

    Examples
    --------
    >>> import ftkit
    >>> pane = compare_html(ftkit.read_jobs(_EXAMPLE), ["job-a", "job-b"])
    >>> "learning_rate" in pane, "weight_decay" in pane, "<b>x" in pane
    (True, False, False)
    """
    ids = list(job_ids)
    subset = _subset(jobs, ids)
    frame = subset.jobs
    by_id = {row["job_id"]: row for row in frame.iter_rows(named=True)}
    headers = [f"{short_id(j)} {by_id[j]['suffix'] or ''}".strip() for j in ids]
    identity = frame.select(
        "job_id", "status", "job_type", "model", "created_at", "fine_tuned_model"
    )
    hyper = varying_hyperparameters(subset)
    hyper_html = (
        _side_by_side(hyper, ids, headers)
        if hyper.width > 1
        else "<p>Every hyperparameter is the same.</p>"
    )
    tokens = analysis.token_usage(subset).select(
        "job_id",
        "trained_tokens",
        "train_tokens",
        "data_tokens",
        pl.struct("cost", "cost_currency")
        .map_elements(lambda s: _cost(s), return_dtype=pl.String())
        .alias("cost"),
    )
    return (
        f'{_PANE_STYLE}<div class="ftkit-pane ftkit-compare-html">'
        f"<h4>Comparing {len(ids)} jobs</h4>{_side_by_side(identity, ids, headers)}"
        f"<h4>Hyperparameters that differ</h4>{hyper_html}"
        f"<h4>Tokens and cost</h4>{_side_by_side(tokens, ids, headers)}"
        f"<h4>Checkpoint summaries</h4>{_side_by_side(checkpoint_summaries(subset), ids, headers)}"
        "</div>"
    )


# --- plots ----------------------------------------------------------------------


def _plot_module() -> Any:
    try:
        from . import plot
    except ImportError:
        return None
    return plot


class DetailPlot:
    """One job's train and valid loss by step, best checkpoint starred, as PNG bytes.

    The Figure and its lines are made once and only their data change from job to job:
    making Axes and laying them out is most of matplotlib's time, and the detail pane
    has 300 ms to draw. The Figure never goes through pyplot.
    """

    def __init__(self, *, size: tuple[float, float] = (8.5, 2.8), dpi: int = 80) -> None:
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=size, dpi=dpi)
        self.figure.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.88)
        ax = self.axes = self.figure.add_subplot()
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(True, alpha=0.3)
        (self.train,) = ax.plot([], [], color="C0", linewidth=1.2, label="train loss")
        (self.valid,) = ax.plot([], [], color="C1", linewidth=1.2, marker="o", markersize=3, label="valid loss")
        (self.best,) = ax.plot([], [], linestyle="", marker="*", markersize=11, color="C3", label="best checkpoint")
        self.title = ax.set_title("", fontsize="medium", parse_math=False)
        ax.legend(loc="upper right", fontsize="small", frameon=False)

    def png(self, checkpoints: pl.DataFrame, *, title: str) -> bytes:
        """The PNG of these checkpoints (one job's rows of a checkpoints frame).

        Placeholder validation values are left out as :mod:`ftkit.analysis` leaves them
        out, so the star marks the step :func:`~ftkit.analysis.checkpoint_summary` calls
        best (the lowest measured ``valid_loss``, the earliest step winning ties).
        """
        points = analysis._measured(checkpoints).sort("step_number", maintain_order=True)
        train = points.filter(pl.col("train_loss").is_not_null())
        valid = points.filter(pl.col("valid_loss").is_not_null())
        self.train.set_data(train["step_number"].to_numpy(), train["train_loss"].to_numpy())
        self.valid.set_data(valid["step_number"].to_numpy(), valid["valid_loss"].to_numpy())
        best = valid.sort("valid_loss", "step_number").head(1)
        self.best.set_data(best["step_number"].to_numpy(), best["valid_loss"].to_numpy())
        self.title.set_text(title)
        self.axes.relim()
        self.axes.autoscale_view()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def compare_figure(jobs: JobSet, job_ids: Sequence[str]) -> Any:
    """A new matplotlib Figure (outside pyplot) with the jobs' valid and train loss curves
    overlaid, drawn by :func:`ftkit.plot.plot_loss_curves`; at most 12 jobs."""
    from matplotlib.figure import Figure

    subset = _subset(jobs, list(job_ids)[:_MAX_CURVES])
    fig = Figure(figsize=(11, 3.2), dpi=80)
    fig.subplots_adjust(left=0.07, right=0.8, bottom=0.16, top=0.9, wspace=0.22)
    axes = fig.subplots(1, 2)
    plot = _plot_module()
    for ax, metric in zip(axes, ("valid_loss", "train_loss")):
        if plot is not None:
            plot.plot_loss_curves(subset, metric=metric, x="step", ax=ax)
        else:  # pragma: no cover - ftkit.plot ships with ftkit
            _draw_curves(ax, subset.checkpoints, metric)
        ax.set_title(metric.replace("_", " "), fontsize="medium")
    legend = axes[0].get_legend()
    if legend is not None:
        legend.remove()
    return fig


def _draw_curves(ax: Any, checkpoints: pl.DataFrame, metric: str) -> None:
    for (job_id,), points in checkpoints.filter(pl.col(metric).is_not_null()).group_by(
        "job_id", maintain_order=True
    ):
        ax.plot(points["step_number"].to_numpy(), points[metric].to_numpy(), label=short_id(job_id))
    ax.set_xlabel("step")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes; a pyplot figure is closed, so it is not shown again."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    return buffer.getvalue()


# --- the widget ---------------------------------------------------------------------

_ROW_CSS = """<style>
.ftkit-browser .ftkit-cells {display: flex; white-space: nowrap; font-size: var(--jp-widgets-font-size, 13px); line-height: 28px;}
.ftkit-browser .ftkit-cell {display: inline-block; overflow: hidden; text-overflow: ellipsis; padding-right: 1ch; box-sizing: border-box;}
.ftkit-browser .ftkit-row-box:nth-child(even) {background: var(--jp-layout-color2, #f5f5f5);}
.ftkit-browser .ftkit-row-box.ftkit-selected {background: var(--jp-brand-color3, #bbdefb);}
.ftkit-browser .ftkit-row input {cursor: pointer;}
.ftkit-browser .ftkit-row {font-family: var(--jp-code-font-family, monospace);}
.ftkit-browser button.ftkit-sort {padding: 0 1ch 0 0; justify-content: flex-start !important; text-align: left !important; font-weight: 600; box-sizing: border-box;}
</style>"""


def _mark(box: Any, selected: bool) -> None:
    """Highlight a table row as selected, or not."""
    if selected:
        box.add_class("ftkit-selected")
    else:
        box.remove_class("ftkit-selected")


class JobBrowser:
    """Find, inspect and compare fine-tuning jobs in a notebook.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, or any source :func:`ftkit.read_jobs` accepts.
    page_size
        Rows per page of the table; only one page is ever rendered.
    filters
        Initial filters, as for :attr:`filters`.
    sort
        Initial sort: ``(column, descending)``; newest first by default.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root widget; displaying the browser displays it.

    Notes
    -----
    State lives on the browser, apart from the view: :attr:`filters`, :attr:`sort`,
    :attr:`page` and :attr:`selected` (job ids) can be read and set from code, and the
    widgets follow. Ticking a row selects its job: one job shows its detail pane, two or
    more switch to compare mode. The selection is kept by job id across filtering,
    sorting and paging.

    Examples
    --------
    >>> import ftkit
    >>> browser = ftkit.browser.JobBrowser(ftkit.read_jobs(_EXAMPLE))
    >>> browser.matching
    ['job-b', 'job-a']
    >>> browser.filters = {"status": ["SUCCESS"]}
    >>> browser.matching
    ['job-a']
    >>> browser.selected = ["job-a"]
    >>> browser.mode
    'detail'
    """

    def __init__(
        self,
        jobs: Any,
        *,
        page_size: int = 15,
        filters: Mapping[str, Any] | None = None,
        sort: tuple[str, bool] = ("created_at", True),
    ) -> None:
        import ipywidgets as widgets

        if not isinstance(jobs, JobSet):
            from .reading import read_jobs

            jobs = read_jobs(jobs)
        if page_size < 1:
            msg = f"page_size: expected a positive number of rows, got {page_size}"
            raise ValueError(msg)
        self._jobs = jobs
        self._page_size = page_size
        self._table = (
            browser_table(jobs)
            .select("job_id", *[c for c, _, _ in TABLE_COLUMNS], "cost_currency", "fine_tuned_model", _SEARCH)
            .sort("job_id")  # so that sorting on one column breaks ties by job id
        )
        self._ids = frozenset(self._table["job_id"].to_list())
        self._sort = (sort[0], bool(sort[1]))
        self._sorted = sort_table(self._table, self._sort[0], descending=self._sort[1])
        self._view = self._sorted
        self._page = 0
        self._page_ids: list[str] = []
        self._selected: list[str] = []
        self._hold = False  # set while code moves several widgets at once
        self._detail_plot: DetailPlot | None = None  # made on the first selection

        def values(column: str) -> list[str]:
            return sorted(self._table[column].drop_nulls().unique().to_list())

        self._statuses, self._types, self._models = values("status"), values("job_type"), values("model")
        label = {"description_width": "initial"}
        self._status = widgets.SelectMultiple(
            options=self._statuses, rows=min(max(len(self._statuses), 2), 5),
            description="status", style=label, layout=widgets.Layout(width="220px"),
        )
        self._job_type = widgets.Dropdown(
            options=[("any", "")] + [(t, t) for t in self._types], value="",
            description="type", style=label, layout=widgets.Layout(width="170px"),
        )
        self._model = widgets.Dropdown(
            options=[("any", "")] + [(m, m) for m in self._models], value="",
            description="model", style=label, layout=widgets.Layout(width="270px"),
        )
        self._text = widgets.Text(
            placeholder="job id, suffix or fine-tuned model", description="search",
            style=label, layout=widgets.Layout(width="300px"),
        )
        self._created_after = widgets.DatePicker(description="created from", style=label)
        self._created_before = widgets.DatePicker(description="to", style=label)
        for child in (self._status, self._job_type, self._model, self._text,
                      self._created_after, self._created_before):
            child.observe(self._on_filter, names="value")
        self._count = widgets.HTML()
        self._count.add_class("ftkit-count")

        self._sort_buttons: dict[str, Any] = {}
        fixed = {"margin": "0", "flex": "0 0 auto"}
        header = [widgets.Button(description="job id", layout=widgets.Layout(width=_px(_ID_WIDTH + 2), **fixed))]
        self._sort_buttons["job_id"] = header[0]
        for column, title, width in TABLE_COLUMNS:
            button = widgets.Button(description=title, tooltip=f"sort by {column}",
                                    layout=widgets.Layout(width=_px(width), **fixed))
            self._sort_buttons[column] = button
            header.append(button)
        for column, button in self._sort_buttons.items():
            button.add_class("ftkit-sort")
            button.on_click(self._on_sort_click)
        self._header = widgets.HBox(header, layout=widgets.Layout(overflow="hidden"))

        self._row_checks = []
        self._row_cells = []
        self._row_boxes = []
        for _ in range(page_size):
            check = widgets.Checkbox(
                value=False, indent=False, layout=widgets.Layout(width=_px(_ID_WIDTH + 2), **fixed)
            )
            check.add_class("ftkit-row")
            check.observe(self._on_row, names="value")
            cells = widgets.HTML(layout=widgets.Layout(**fixed))
            box = widgets.HBox([check, cells], layout=widgets.Layout(overflow="hidden"))
            box.add_class("ftkit-row-box")
            self._row_checks.append(check)
            self._row_cells.append(cells)
            self._row_boxes.append(box)
        self._rows = widgets.VBox(self._row_boxes)
        self._prev = widgets.Button(description="◀ prev", layout=widgets.Layout(width="80px"))
        self._next = widgets.Button(description="next ▶", layout=widgets.Layout(width="80px"))
        self._prev.on_click(self._on_prev_click)
        self._next.on_click(self._on_next_click)
        self._page_label = widgets.Label()
        self._clear = widgets.Button(description="clear selection", layout=widgets.Layout(width="130px"))
        self._clear.on_click(self._on_clear_click)
        self._selection_label = widgets.HTML()
        pager = widgets.HBox([self._prev, self._page_label, self._next, self._clear, self._selection_label],
                             layout=widgets.Layout(align_items="center"))

        self._detail_html = widgets.HTML()
        self._plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none"))
        self._plot.add_class("ftkit-detail-plot")
        self._detail = widgets.VBox([self._plot, self._detail_html], layout=widgets.Layout(align_items="flex-start"))
        self._detail.add_class("ftkit-detail")

        keep = widgets.Layout(flex="0 0 auto")
        filters_box = widgets.VBox([
            widgets.HBox(
                [self._status, widgets.VBox([self._job_type, self._model], layout=keep),
                 widgets.VBox([self._text, widgets.HBox([self._created_after, self._created_before])], layout=keep)],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            self._count,
        ])
        self.widget = widgets.VBox(
            [widgets.HTML(_ROW_CSS), filters_box, self._header, self._rows, pager, self._detail]
        )
        self.widget.add_class("ftkit-browser")
        self._show_sort()
        if filters:
            self.filters = filters
        else:
            self._refresh()
        self._show_selection()

    # --- state -------------------------------------------------------------------

    @property
    def jobs(self) -> JobSet:
        """The JobSet being browsed."""
        return self._jobs

    @property
    def filters(self) -> dict[str, Any]:
        """The filters, as a new dict: ``status`` (tuple of statuses, empty = any),
        ``job_type`` and ``model`` (a value or None), ``text`` (searched in the job id,
        suffix and fine-tuned model name), ``created_after`` and ``created_before``
        (dates, both days included, or None).

        Setting it sets every filter; keys left out are reset to "any".
        """
        return {
            "status": tuple(self._status.value),
            "job_type": self._job_type.value or None,
            "model": self._model.value or None,
            "text": self._text.value,
            "created_after": self._created_after.value,
            "created_before": self._created_before.value,
        }

    @filters.setter
    def filters(self, filters: Mapping[str, Any]) -> None:
        filter_expr(filters)  # rejects unknown keys
        status = filters.get("status") or ()
        status = (status,) if isinstance(status, str) else tuple(status)
        for name, value, known in (
            ("status", status, self._statuses),
            ("job_type", (filters.get("job_type"),), self._types),
            ("model", (filters.get("model"),), self._models),
        ):
            unknown = [v for v in value if v and v not in known]
            if unknown:
                msg = f"filters[{name!r}]: no job has {unknown}; known values are {known}"
                raise ValueError(msg)
        dates = {}
        for key in ("created_after", "created_before"):
            bound = _bound(filters.get(key))
            dates[key] = None if bound is None else bound[0].date()
        self._hold = True
        try:
            self._status.value = status
            self._job_type.value = filters.get("job_type") or ""
            self._model.value = filters.get("model") or ""
            self._text.value = filters.get("text") or ""
            self._created_after.value = dates["created_after"]
            self._created_before.value = dates["created_before"]
        finally:
            self._hold = False
        self._page = 0
        self._refresh()

    @property
    def sort(self) -> tuple[str, bool]:
        """The table's order: ``(column, descending)``. Setting it re-sorts the table."""
        return self._sort

    @sort.setter
    def sort(self, sort: tuple[str, bool]) -> None:
        column, descending = sort
        self._sorted = sort_table(self._table, column, descending=bool(descending))
        self._sort = (column, bool(descending))
        self._show_sort()
        self._page = 0
        self._refresh()

    @property
    def page(self) -> int:
        """The page of the table shown, counted from 0."""
        return self._page

    @page.setter
    def page(self, page: int) -> None:
        last = page_count(self._view.height, page_size=self._page_size) - 1
        self._page = min(max(int(page), 0), last)
        self._show_page()

    @property
    def matching(self) -> list[str]:
        """The ids of the jobs that pass the filters, in table order."""
        return self._view["job_id"].to_list()

    @property
    def page_ids(self) -> list[str]:
        """The ids of the jobs on the page shown, top to bottom."""
        return list(self._page_ids)

    @property
    def selected(self) -> list[str]:
        """The selected job ids, in the order they were selected; set it to select jobs.

        Jobs stay selected when filters, sort or page hide them.
        """
        return list(self._selected)

    @selected.setter
    def selected(self, job_ids: Iterable[str]) -> None:
        if isinstance(job_ids, str):
            job_ids = [job_ids]
        chosen = list(dict.fromkeys(job_ids))
        unknown = [j for j in chosen if j not in self._ids]
        if unknown:
            msg = f"selected: no job with id {unknown[:5]} among the {len(self._ids):,} jobs browsed"
            raise KeyError(msg)
        self._selected = chosen
        self._sync_checks()
        self._show_selection()

    @property
    def mode(self) -> str:
        """What the lower pane shows: ``"none"``, ``"detail"`` (one job) or ``"compare"``."""
        return ("none", "detail")[len(self._selected)] if len(self._selected) < 2 else "compare"

    @property
    def pane_html(self) -> str:
        """The HTML the detail or compare pane shows."""
        return self._detail_html.value

    @property
    def plot_png(self) -> bytes:
        """The PNG of the curves the pane shows, empty when it shows none."""
        return bytes(self._plot.value)

    # --- handlers -------------------------------------------------------------------

    def _on_filter(self, change: dict) -> None:
        if self._hold:
            return
        self._page = 0
        self._refresh()

    def _on_sort_click(self, button: Any) -> None:
        column = next(c for c, b in self._sort_buttons.items() if b is button)
        descending = not self._sort[1] if column == self._sort[0] else False
        self.sort = (column, descending)

    def _on_prev_click(self, button: Any) -> None:
        self.page = self._page - 1

    def _on_next_click(self, button: Any) -> None:
        self.page = self._page + 1

    def _on_clear_click(self, button: Any) -> None:
        self.selected = []

    def _on_row(self, change: dict) -> None:
        if self._hold:
            return
        position = next(i for i, c in enumerate(self._row_checks) if c is change["owner"])
        job_id = self._page_ids[position]
        if change["new"] and job_id not in self._selected:
            self._selected.append(job_id)
        elif not change["new"] and job_id in self._selected:
            self._selected.remove(job_id)
        _mark(self._row_boxes[position], change["new"])
        self._show_selection()

    # --- view -------------------------------------------------------------------

    def _refresh(self) -> None:
        """Filter the sorted table, then show the count and the current page."""
        self._view = filter_table(self._sorted, self.filters)
        self._count.value = (
            f"<b>{self._view.height:,}</b> of {self._table.height:,} jobs match"
        )
        last = page_count(self._view.height, page_size=self._page_size) - 1
        self._page = min(self._page, last)
        self._show_page()

    def _page_frame(self) -> pl.DataFrame:
        return page_of(self._view, self._page, page_size=self._page_size)

    def _show_page(self) -> None:
        page = self._page_frame()
        rows = list(page.iter_rows(named=True))
        self._page_ids = [row["job_id"] for row in rows]
        chosen = set(self._selected)
        self._hold = True
        try:
            for position, box in enumerate(self._row_boxes):
                check = self._row_checks[position]
                if position < len(rows):
                    row = rows[position]
                    check.description = short_id(row["job_id"])
                    check.tooltip = row["job_id"]
                    check.value = row["job_id"] in chosen
                    self._row_cells[position].value = row_html(row)
                    box.layout.display = "flex"
                    _mark(box, check.value)
                else:
                    box.layout.display = "none"
                    check.value = False
        finally:
            self._hold = False
        pages = page_count(self._view.height, page_size=self._page_size)
        self._page_label.value = f"page {self._page + 1} of {pages:,}"
        self._prev.disabled = self._page == 0
        self._next.disabled = self._page >= pages - 1
        self._show_selection_count()

    def _sync_checks(self) -> None:
        chosen = set(self._selected)
        self._hold = True
        try:
            for position, job_id in enumerate(self._page_ids):
                self._row_checks[position].value = job_id in chosen
                _mark(self._row_boxes[position], job_id in chosen)
        finally:
            self._hold = False

    def _show_sort(self) -> None:
        column, descending = self._sort
        titles = {"job_id": "job id", **{c: t for c, t, _ in TABLE_COLUMNS}}
        for name, button in self._sort_buttons.items():
            arrow = (" ▼" if descending else " ▲") if name == column else ""
            button.description = titles[name] + arrow

    def _show_selection_count(self) -> None:
        n = len(self._selected)
        hidden = len(set(self._selected) - set(self._page_ids))
        note = f", {hidden} not on this page" if hidden else ""
        self._selection_label.value = f"&nbsp;{n} selected{note}" if n else ""

    def _show_selection(self) -> None:
        """The selection count, and the detail (one job) or compare (several) pane."""
        self._show_selection_count()
        n = len(self._selected)
        if n == 0:
            self._detail_html.value = (
                '<p class="ftkit-hint">Tick a job to see its details; tick two or more to compare them.</p>'
            )
            self._plot.value = b""
            self._plot.layout.display = "none"
            return
        if n == 1:
            job_id = self._selected[0]
            self._detail_html.value = detail_html(self._jobs, job_id)
            one = _subset(self._jobs, [job_id])
            checkpoints = one.checkpoints
            png = b""
            if checkpoints.height:
                if self._detail_plot is None:
                    self._detail_plot = DetailPlot()
                suffix = one.jobs["suffix"][0]  # the frame's: OpenAI jobs' user_provided_suffix
                png = self._detail_plot.png(checkpoints, title=f"{short_id(job_id)} {suffix or ''}".strip())
        else:
            self._detail_html.value = compare_html(self._jobs, self._selected)
            png = figure_png(compare_figure(self._jobs, self._selected))
        self._plot.value = png
        self._plot.layout.display = "" if png else "none"

    # --- display -------------------------------------------------------------------

    def _summary_args(self) -> dict[str, Any]:
        return {
            "n_jobs": self._table.height,
            "n_matching": self._view.height,
            "page_number": self._page,
            "page_size": self._page_size,
            "sort": self._sort,
            "selected": self._selected,
        }

    def __repr__(self) -> str:
        return summary_text(self._page_frame(), **self._summary_args())

    def _repr_html_(self) -> str:
        return summary_html(self._page_frame(), **self._summary_args())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The root widget's view, with a static summary for frontends without widgets."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle

"""Summaries of a set of jobs: as text for the terminal, and as one self-contained HTML file.

:func:`summary_tables` computes the tables both share (jobs by status, type and model;
the best jobs by best valid loss with their varying hyperparameters; tokens and cost per
currency); :func:`summary_text` lays them out for ``ftkit summary``; :func:`write_report`
writes the HTML report of ``ftkit report``: those tables, the loss curves of the best
jobs, the effect of each varying hyperparameter, cost against quality, the timeline and
a table of every job.

The report is one file with no external resources: plots are PNG ``data:`` URIs, styles
are inline, and there is no JavaScript at all (a Content-Security-Policy forbids it, as
a second line of defence). Every piece of text that comes from the jobs (ids, suffixes,
model names, event data, error messages) goes through :func:`html.escape`.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(6, seed=0))
>>> tables = summary_tables(js, top=3)
>>> sorted(tables)
['best', 'by_model', 'by_provider', 'by_status', 'by_type', 'cost']
>>> tables["by_status"]["jobs"].sum() == len(js)
True
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from . import __version__
from .analysis.inputs import DEFAULT_BY, By
from .atomic import atomic_write
from .escape import escaped_warnings, printable
from .formatting import MIN_DIGITS, distinct_digits, format_float
from .jobset import JobSet

__all__ = [
    "summary_tables", "summary_text", "write_report", "render_report", "format_value", "column_digits",
    "best_jobs", "unranked_jobs",
]

#: Column headers that read better than the column names.
_HEADERS = {
    "job_id": "job id",
    "job_type": "type",
    "best_valid_loss": "best valid loss",
    "best_step": "best step",
    "best_train_loss": "train loss at best",
    "best_valid_mean_token_accuracy": "valid accuracy at best",
    "trained_tokens": "trained tokens",
    "cost_currency": "currency",
    "cost_per_million_tokens": "cost per 1M tokens",
    "n_jobs": "jobs",
    "n_priced": "priced",
    "n_checkpoints": "checkpoints",
    "learning_rate": "learning rate",
    "training_steps": "training steps",
    "weight_decay": "weight decay",
    "warmup_fraction": "warmup fraction",
    "seq_len": "seq len",
    "fim_ratio": "fim ratio",
    "created_at": "created (UTC)",
}


def _as_jobset(jobs: Any) -> JobSet:
    if isinstance(jobs, JobSet):
        return jobs
    from .analysis import as_jobset

    return as_jobset(jobs)


# --- tables -------------------------------------------------------------------------


def _counts(frame: pl.DataFrame, column: str, label: str) -> pl.DataFrame:
    return (
        frame.select(pl.col(column).fill_null("(none)").alias(label))
        .group_by(label)
        .agg(pl.len().cast(pl.Int64).alias("jobs"))
        .sort(["jobs", label], descending=[True, False])
    )


def varying_hyperparameters(jobs: JobSet) -> list[str]:
    """The hyperparameters that vary across ``jobs``, as :func:`ftkit.analysis.compare_hyperparameters` decides.

    Examples
    --------
    >>> import ftkit
    >>> varying_hyperparameters(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(4, seed=0)))
    ['learning_rate', 'training_steps', 'epochs', 'weight_decay', 'warmup_fraction', 'seq_len']
    """
    from .analysis import compare_hyperparameters

    return compare_hyperparameters(jobs, varying_only=True).columns[1:]


#: The status of a finished, successful job: the only jobs "best jobs" rank.
FINISHED = "SUCCESS"


def best_jobs(jobs: JobSet, *, top: int | None = 10, by: By = DEFAULT_BY) -> pl.DataFrame:
    """The finished, successful jobs with a measured valid loss, best first in each group.

    Columns: the ``by`` columns, ``job_id, suffix, model, status, best_valid_loss,
    best_step``, then each hyperparameter that varies across ``jobs``. Jobs are ranked
    only against jobs of their group (by default ``"job_type"``: a classifier's loss
    and a completion job's loss are not comparable; ``["provider", "job_type"]`` where
    the jobs come from several providers, see :func:`ftkit.analysis.inputs.resolve_by`;
    a ``by`` given is used as given; ``None`` ranks all together) and
    only when they ended in ``SUCCESS``: running, failed or cancelled jobs are listed
    apart by :func:`unranked_jobs`. ``top`` jobs per group; ``None`` keeps them all.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(40, seed=3))
    >>> best = best_jobs(js, top=2)
    >>> best.columns[:7], set(best["status"])
    (['job_type', 'job_id', 'suffix', 'model', 'status', 'best_valid_loss', 'best_step'], {'SUCCESS'})
    """
    from .analysis import checkpoint_summary, compare_hyperparameters
    from .analysis.inputs import group_columns, resolve_by

    by = resolve_by(by, jobs)
    groups = group_columns(by, where="best_jobs")
    hyper = compare_hyperparameters(jobs, varying_only=True)
    varying = hyper.columns[1:]
    summary = checkpoint_summary(jobs).select("job_id", "best_valid_loss", "best_step")
    table = (
        jobs.jobs.select(*dict.fromkeys([*groups, "job_id", "suffix", "model", "status"]))
        .join(summary, on="job_id", how="inner")
        .join(hyper, on="job_id", how="inner")
        .filter(pl.col("best_valid_loss").is_not_null() & (pl.col("status") == FINISHED))
        .sort(*groups, "best_valid_loss", "job_id", nulls_last=True)
        .select(*dict.fromkeys([*groups, "job_id", "suffix", "model", "status", "best_valid_loss", "best_step",
                                *varying]))
    )
    if top is None:
        return table
    rank = pl.int_range(pl.len())
    return table.filter((rank.over(groups) if groups else rank) < top)


def unranked_jobs(jobs: JobSet) -> pl.DataFrame:
    """The jobs with a measured valid loss that did not finish successfully (running,
    failed, cancelled...): never ranked among the best jobs, listed apart.

    Columns: ``job_type, job_id, suffix, model, status, best_valid_loss``, by type,
    status, then loss.
    """
    from .analysis import checkpoint_summary

    summary = checkpoint_summary(jobs).select("job_id", "best_valid_loss")
    return (
        jobs.jobs.select("job_type", "job_id", "suffix", "model", "status")
        .join(summary, on="job_id", how="inner")
        .filter(pl.col("best_valid_loss").is_not_null() & (pl.col("status") != FINISHED).fill_null(True))
        .sort("job_type", "status", "best_valid_loss", "job_id", nulls_last=True)
    )


def cost_by_currency(jobs: JobSet) -> pl.DataFrame:
    """Jobs, tokens and cost per currency (never added across currencies)."""
    from .analysis import token_usage_totals

    return token_usage_totals(jobs).select(
        pl.col("cost_currency").fill_null("(none)"),
        "n_jobs",
        "n_priced",
        "trained_tokens",
        "cost",
        "cost_per_million_tokens",
    )


def summary_tables(jobs: Any, *, top: int = 10) -> dict[str, pl.DataFrame]:
    """The summary tables: ``by_status``, ``by_type``, ``by_model``, ``by_provider``, ``best``
    and ``cost`` (the summaries show ``by_provider`` where the jobs come from several).

    ``best`` holds the ``top`` finished, successful jobs of each job type by best valid
    loss (see :func:`best_jobs`), ``cost`` the tokens and cost per currency
    (:func:`ftkit.analysis.token_usage_totals`).
    """
    js = _as_jobset(jobs)
    frame = js.jobs
    return {
        "by_status": _counts(frame, "status", "status"),
        "by_type": _counts(frame, "job_type", "type"),
        "by_model": _counts(frame, "model", "model"),
        "by_provider": _counts(frame, "provider", "provider"),
        "best": best_jobs(js, top=top),
        "cost": cost_by_currency(js),
    }


def _count_tables(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """The count tables to show and their captions: by provider only where there are several."""
    shown = {"by_status": "By status", "by_type": "By type", "by_model": "By model"}
    if tables["by_provider"].height > 1:
        shown["by_provider"] = "By provider"
    return shown


# --- values -------------------------------------------------------------------------


def format_value(column: str, value: Any, *, missing: str = "-", digits: int | None = None) -> str:
    """A cell as text: costs with 2 decimals, other numbers with 4 significant digits
    (``digits`` more when the column needs them to tell its values apart, see
    :func:`column_digits`), tokens with thousands separators.

    Examples
    --------
    >>> format_value("cost", 12.5), format_value("best_valid_loss", 0.81234), format_value("trained_tokens", 1234567)
    ('12.50', '0.8123', '1,234,567')
    >>> format_value("learning_rate", 0.0001), format_value("suffix", None), format_value("best_valid_loss", 0.000641)
    ('0.0001', '-', '0.000641')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if column.startswith("cost"):
            return format_float(value, digits or 2, decimals=True)
        return format_float(value, digits or MIN_DIGITS)
    if isinstance(value, int):
        return f"{value:,}" if "tokens" in column else str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def column_digits(frame: pl.DataFrame) -> dict[str, int]:
    """For each float column, the digits :func:`format_value` needs so that values that
    differ print differently (decimals for costs, significant digits otherwise).

    Examples
    --------
    >>> import polars as pl
    >>> column_digits(pl.DataFrame({"best_valid_loss": [0.81234, 0.81231], "cost": [2.621, 2.624], "n": [1, 2]}))
    {'best_valid_loss': 5, 'cost': 3}
    """
    out = {}
    for column, dtype in frame.schema.items():
        if dtype.is_float():
            values = frame[column].to_list()
            money = column.startswith("cost")
            out[column] = distinct_digits(values, start=2 if money else MIN_DIGITS, decimals=money)
    return out


def _header(column: str) -> str:
    return _HEADERS.get(column, column.replace("_", " "))


def _is_numeric(frame: pl.DataFrame, column: str) -> bool:
    return frame.schema[column].is_numeric()


def _drop_empty(frame: pl.DataFrame, keep: Sequence[str] = ("job_id",)) -> pl.DataFrame:
    """Leave out columns that are null on every row (e.g. ``suffix`` when no job has one)."""
    if frame.height == 0:
        return frame
    return frame.select([c for c in frame.columns if c in keep or frame[c].null_count() < frame.height])


# --- text ---------------------------------------------------------------------------


def text_table(frame: pl.DataFrame) -> list[str]:
    """The lines of a plain-text table: header, rule, rows; numbers right-aligned.

    Examples
    --------
    >>> import polars as pl
    >>> print("\\n".join(text_table(pl.DataFrame({"status": ["SUCCESS", "FAILED"], "jobs": [12, 3]}))))
    status   jobs
    -------  ----
    SUCCESS    12
    FAILED      3
    """
    headers = [printable(_header(c)) for c in frame.columns]
    digits = column_digits(frame)
    cells = [
        [printable(format_value(c, v, digits=digits.get(c))) for c, v in zip(frame.columns, row)]
        for row in frame.iter_rows()
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    right = [_is_numeric(frame, c) for c in frame.columns]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _side_by_side(blocks: Sequence[list[str]], gap: int = 4) -> list[str]:
    widths = [max((len(line) for line in block), default=0) for block in blocks]
    height = max((len(block) for block in blocks), default=0)
    out = []
    for i in range(height):
        parts = [(block[i] if i < len(block) else "").ljust(w) for block, w in zip(blocks, widths)]
        out.append((" " * gap).join(parts).rstrip())
    return out


def _date_range(frame: pl.DataFrame) -> str:
    created = frame["created_at"].drop_nulls()
    if created.len() == 0:
        return ""
    first, last = created.min(), created.max()
    return f", created {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def _groups(table: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, pl.DataFrame]]:
    """(label, rows) of each group of ``table``, in its order; one unlabelled group when no ``by``."""
    if not by:
        return [("", table)]
    return [
        (" · ".join(format_value(c, v, missing="(none)") for c, v in zip(by, part.select(*by).row(0))), part)
        for part in table.partition_by(list(by), maintain_order=True)
    ]


def _best_text(js: JobSet, *, top: int) -> list[str]:
    """The best jobs of each type, then the jobs with a loss that are not ranked."""
    from .analysis.inputs import group_columns, resolve_by

    groups = group_columns(resolve_by(DEFAULT_BY, js), where="summary_text")
    ranked = best_jobs(js, top=None, by=groups)
    lines: list[str] = []
    for label, part in _groups(ranked, groups):
        shown = part.head(top).drop(*groups, "status")
        lines.append(
            f"Best {shown.height} of {part.height} successful {printable(label)} jobs with a measured valid loss,"
            " lowest first:"
        )
        lines += text_table(_drop_empty(shown))
        lines.append("")
    if not ranked.height:
        lines += ["No finished, successful job has a measured valid loss.", ""]
    unranked = unranked_jobs(js)
    if unranked.height:
        counts = ", ".join(f"{printable(str(s))} {n}" for s, n in unranked.group_by("status", maintain_order=True)
                           .len().sort("len", "status", descending=[True, False]).iter_rows())
        jobs_ = "1 job" if unranked.height == 1 else f"{unranked.height} jobs"
        lines.append(f"Not ranked: {jobs_} with a measured valid loss did not finish successfully ({counts}):")
        lines += text_table(_drop_empty(unranked.head(top)))
        if unranked.height > top:
            lines.append(f"... and {unranked.height - top} more")
        lines.append("")
    return lines


def summary_text(jobs: Any, *, top: int = 10, sources: Sequence[str] = ()) -> str:
    """The ``ftkit summary`` text: counts, best jobs, tokens and cost.

    The best jobs are the finished, successful ones, ranked within their job type; jobs
    with a loss that are running, failed or cancelled are listed apart. Numbers carry
    enough digits to tell the values of a column apart (:func:`column_digits`).

    Examples
    --------
    >>> import ftkit
    >>> print(summary_text(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(4, seed=0)), top=2))
    ... # doctest: +ELLIPSIS
    4 jobs, created 2024-07-04 to 2025-08-20
    <BLANKLINE>
    status   jobs    type        jobs    model                 jobs
    -------  ----    ----------  ----    --------------------  ----
    SUCCESS     2    completion     4    open-mistral-7b          3
    FAILED      1                        mistral-small-latest     1
    QUEUED      1
    <BLANKLINE>
    Best 2 of 2 successful completion jobs with a measured valid loss, lowest first:
    job id ... best valid loss  best step  learning rate ...
    0730677d-f5be-458b-a95d-78b13297756f  -       mistral-small-latest            0.706         70 ...
    c5a9a231-b620-4372-8700-3d8ddfb9f4c3  intent  open-mistral-7b                0.9116         20 ...
    <BLANKLINE>
    Not ranked: 1 job with a measured valid loss did not finish successfully (FAILED 1):
    type        job id                                model            status  best valid loss
    ----------  ------------------------------------  ---------------  ------  ---------------
    completion  b40eedff-f56c-430c-ac94-17212bd3cbd9  open-mistral-7b  FAILED            1.093
    <BLANKLINE>
    Tokens and cost per currency:
    currency  jobs  priced  trained tokens   cost  cost per 1M tokens
    --------  ----  ------  --------------  -----  ------------------
    EUR          1       1      12,303,500  73.82                6.00
    USD          2       2       7,602,176  15.73                2.07
    (none)       1       0               -      -                   -
    """
    js = _as_jobset(jobs)
    tables = summary_tables(js, top=top)
    where = f" in {printable(', '.join(sources))}" if sources else ""
    lines = [f"{len(js)} jobs{where}{_date_range(js.jobs)}"]
    if js.decode_errors:
        lines[0] += f" ({len(js.decode_errors)} unreadable records left out)"
    lines.append("")
    lines += _side_by_side([text_table(tables[k]) for k in _count_tables(tables)])
    lines.append("")
    lines += _best_text(js, top=top)
    lines.append("Tokens and cost per currency:")
    lines += text_table(tables["cost"])
    return "\n".join(lines) + "\n"


# --- HTML ---------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --band: #f5f7fa; --accent: #3558a8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 64px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header p { margin: 0; color: var(--muted); }
nav { margin: 16px 0 8px; padding: 8px 0; border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); text-decoration: none; margin-right: 18px; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
section { margin-top: 34px; }
h2 { font-size: 19px; font-weight: 650; margin: 0 0 4px; }
p.note { color: var(--muted); margin: 0 0 12px; max-width: 80ch; }
.row { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; white-space: nowrap; }
th { background: var(--band); font-weight: 600; white-space: normal; vertical-align: bottom; min-width: 4em; }
td.num, th.num { text-align: right; }
td.id { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
td.missing { color: #a0a7b4; }
tbody tr:nth-child(even) td { background: #fafbfc; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
details > summary { cursor: pointer; color: var(--accent); margin-bottom: 10px; }
.status { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
footer { margin-top: 48px; color: var(--muted); font-size: 12.5px; }
"""

#: How many of the most recent jobs the timeline shows.
_TIMELINE_JOBS = 40

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_ID_COLUMNS = frozenset({"job_id", "fine_tuned_model"})
_esc = html.escape


def html_table(
    frame: pl.DataFrame, *, caption: str | None = None, table_id: str | None = None, compared: bool = True
) -> str:
    """A ``<table>`` of ``frame``: every cell escaped, numbers right-aligned, ids monospaced.

    ``compared`` (default): the rows are compared, so each float column gets the digits
    that tell its values apart (:func:`column_digits`); ``False`` for long lists (every
    job) printed with the usual 4 significant digits.

    Examples
    --------
    >>> import polars as pl
    >>> html_table(pl.DataFrame({"job_id": ["<b>"], "jobs": [2]}))  # doctest: +NORMALIZE_WHITESPACE
    '<table><thead><tr><th>job id</th><th class="num">jobs</th></tr></thead><tbody><tr><td class="id">&lt;b&gt;</td><td class="num">2</td></tr></tbody></table>'
    """
    numeric = {c: _is_numeric(frame, c) for c in frame.columns}
    digits = column_digits(frame) if compared else {}
    head = "".join(
        f'<th class="num">{_esc(_header(c))}</th>' if numeric[c] else f"<th>{_esc(_header(c))}</th>" for c in frame.columns
    )
    rows = []
    for row in frame.iter_rows():
        cells = []
        for column, value in zip(frame.columns, row):
            classes = []
            if numeric[column]:
                classes.append("num")
            if column in _ID_COLUMNS:
                classes.append("id")
            if value is None:
                classes.append("missing")
            text = format_value(column, value, missing="\u2014", digits=digits.get(column))
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{_esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{_esc(table_id)}"' if table_id else ""
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table{ident}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure_html(fig: Any, *, alt: str, caption: str | None = None, dpi: int = 144) -> str:
    """A ``<figure>`` with ``fig`` as a PNG data URI, shown at 96 px per inch."""
    buffer = io.BytesIO()
    with escaped_warnings():  # missing-glyph warnings quote the job's text
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")  # constrained layout already fits it
    data = buffer.getvalue()
    width, height = _png_size(data)
    scale = 96 / dpi
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure><img src="{uri}" alt="{_esc(alt)}" width="{round(width * scale)}"'
        f' height="{round(height * scale)}">{cap}</figure>'
    )


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class _Plots:
    """Draws the report's figures one by one, without pyplot (no global state, no GUI)."""

    def __init__(self, progress: Any = None) -> None:
        self.progress = progress

    def figure(self, width: float, height: float, *, ncols: int = 1) -> tuple[Any, list[Any]]:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=False)[0]
        return fig, list(axes)

    def done(self) -> None:
        if self.progress is not None:
            self.progress.advance()


def _section(anchor: str, title: str, body: str, note: str | None = None) -> str:
    text = f'<p class="note">{_esc(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{_esc(title)}</h2>{text}{body}</section>'


def _all_jobs_table(js: JobSet) -> pl.DataFrame:
    from .analysis import checkpoint_summary, token_usage

    summary = checkpoint_summary(js).select("job_id", "n_checkpoints", "best_valid_loss", "best_step")
    usage = token_usage(js).select("job_id", "trained_tokens", "cost", "cost_currency")
    return (
        js.jobs.select("job_id", "suffix", "model", "job_type", "status", "created_at")
        .join(summary, on="job_id", how="left", maintain_order="left")
        .join(usage, on="job_id", how="left", maintain_order="left")
        .sort("created_at", "job_id", nulls_last=True)
    )


def _errors_table(js: JobSet) -> pl.DataFrame:
    return _drop_empty(js.errors, keep=("source", "path", "message"))


def _effect_panels(
    js: JobSet, params: Sequence[str], groups: Sequence[str]
) -> tuple[list[tuple[str, JobSet, str]], dict[str, list[str]]]:
    """The effect panels worth drawing, (group label, the group's jobs, parameter), and
    per group the parameters left out: those with fewer than two values that have a
    measured best validation loss (one value shows no effect; none shows nothing)."""
    from .analysis import HYPERPARAMETER_PROVIDERS, HYPERPARAMETERS, effect

    panels: list[tuple[str, JobSet, str]] = []
    skipped: dict[str, list[str]] = {}
    frame = js.jobs
    keys = frame.select(*groups).unique(maintain_order=True).sort(*groups, nulls_last=True).rows() if groups else [()]
    for key in keys:
        label = " · ".join(format_value(g, v, missing="(none)") for g, v in zip(groups, key))
        subset = js.filter(*(pl.col(g).eq_missing(v) for g, v in zip(groups, key))) if groups else js
        types = set(subset.jobs["job_type"].drop_nulls().to_list())
        providers = set(subset.jobs["provider"].to_list())
        for param in params:
            if types and not types & HYPERPARAMETERS.get(param, types):
                continue  # e.g. fim_ratio among classifiers, which have none
            if HYPERPARAMETER_PROVIDERS.get(param, "") not in providers | {""}:
                continue  # e.g. n_epochs among Mistral jobs, which have none
            measured = effect(subset, param, metric="best_valid_loss", by=None).filter(
                pl.col(param).is_not_null() & (pl.col("count") > 0)
            )
            if measured.height >= 2:
                panels.append((label, subset, param))
            else:
                skipped.setdefault(label, []).append(param)
    return panels, skipped


def render_report(
    jobs: Any,
    *,
    title: str = "Fine-tuning jobs",
    top: int = 10,
    by: By = DEFAULT_BY,
    progress: Any = None,
) -> str:
    """The report's HTML, as a string; see :func:`write_report`."""
    from . import plot
    from .analysis.inputs import group_columns, resolve_by
    from .plot.common import plain as plot_text

    js = _as_jobset(jobs)
    by = resolve_by(by, js)
    tables = summary_tables(js, top=top)
    frame = js.jobs
    varying = varying_hyperparameters(js)
    best = tables["best"]
    plots = _Plots(progress)
    n_plots = 6 + (1 if varying else 0)
    if progress is not None:
        progress.set_label("drawing plots", total=n_plots)

    sections: list[tuple[str, str, str]] = []  # anchor, nav label, html

    # Overview: counts by status, type and model, and the status bar chart.
    fig, (ax,) = plots.figure(6.0, 2.8)
    plot.plot_status_counts(js, ax=ax)
    plots.done()
    counts = "".join(
        f'<div class="scroll">{html_table(tables[key], caption=caption, table_id=key.replace("_", "-"))}</div>'
        for key, caption in _count_tables(tables).items()
    )
    body = f'<div class="row">{counts}{_figure_html(fig, alt="Number of jobs in each status")}</div>'
    sections.append(("overview", "Overview", _section("overview", "Jobs by status, type and model", body)))

    # The best jobs: finished, successful, ranked only within their group.
    ranked = best_jobs(js, top=None, by=by)
    groups = group_columns(by, where="render_report")
    blocks = []
    for i, (label, part) in enumerate(_groups(ranked, groups), start=1):
        shown = _drop_empty(part.head(top).drop(*groups, "status"))
        caption = f"Best {shown.height} of {part.height} successful {label} jobs".replace("  ", " ")
        blocks.append(f'<div class="scroll">{html_table(shown, caption=caption, table_id=f"best-jobs-{i}")}</div>')
    unranked = unranked_jobs(js)
    if unranked.height:
        caption = f"Not ranked: {unranked.height} jobs with a measured validation loss that did not finish successfully"
        blocks.append(f'<div class="scroll">{html_table(_drop_empty(unranked), caption=caption, table_id="unranked-jobs", compared=False)}</div>')
    if ranked.height:
        grouped = f", ranked within each {' · '.join(g.replace('_', ' ') for g in groups)}" if groups else ""
        note = (
            "The finished, successful jobs with the lowest best validation loss (the lowest loss over their"
            f" evaluated checkpoints){grouped}, with the hyperparameters that vary across the jobs."
            " Jobs still running, failed or cancelled are listed apart, never ranked."
        )
    else:
        note = "No finished, successful job has a measured validation loss."
    body = "".join(blocks)
    sections.append(("best", "Best jobs", _section("best", "Best jobs by validation loss", body, note)))

    # Tokens and cost.
    body = f'<div class="scroll">{html_table(tables["cost"], table_id="cost")}</div>'
    note = "Totals per currency; costs in different currencies are never added. Priced: jobs with a cost."
    sections.append(("cost", "Tokens and cost", _section("cost", "Tokens and cost per currency", body, note)))

    # Loss curves of the best jobs, one row per group.
    figures = []
    n_curves = 0
    for label, part in _groups(best_jobs(js, top=top, by=by), groups) or [("", best)]:
        ids = part["job_id"].to_list()
        subset = js.filter(pl.col("job_id").is_in(ids)) if ids else js.filter(pl.lit(False))
        n_curves += len(subset)
        fig, axes = plots.figure(13.0, 4.2, ncols=2)
        for ax, metric in zip(axes, ("valid_loss", "train_loss")):
            plot.plot_loss_curves(subset, metric, ax=ax)
            if label:
                ax.set_title(plot_text(label if len(label) <= 40 else label[:39] + "…"), loc="right", fontsize="medium")
        figures.append(_figure_html(fig, alt=f"Loss curves of the best {label} jobs".replace("  ", " ")))
    plots.done()
    plots.done()
    note = (
        f"Validation and training loss per checkpoint of the {n_curves} best jobs above"
        f"{', one row per ' + ' · '.join(g.replace('_', ' ') for g in groups) if groups else ''};"
        " stars mark each job's best checkpoint."
    )
    sections.append(("curves", "Loss curves", _section("curves", "Loss curves of the best jobs", "".join(figures), note)))

    # Effects of the hyperparameters that vary: one panel per group and parameter with
    # at least two values measured; the others are named in one line.
    if varying:
        panels, skipped = _effect_panels(js, varying, groups)
        figures = []
        for start in range(0, len(panels), 3):
            chunk = panels[start : start + 3]
            fig, axes = plots.figure(4.3 * 3, 3.3, ncols=3)
            for ax, (label, subset, param) in zip(axes, chunk):
                plot.plot_effect(subset, param, metric="best_valid_loss", by=by, ax=ax)
            for ax in axes[len(chunk) :]:
                ax.set_visible(False)
            figures.append(_figure_html(
                fig, alt="Best validation loss against " + ", ".join(
                    f"{p.replace('_', ' ')} ({label})" if label else p.replace("_", " ") for label, _, p in chunk)))
        plots.done()
        note = (
            "Each job's best validation loss against each hyperparameter that varies"
            + (f", one panel per {' · '.join(g.replace('_', ' ') for g in groups)}" if groups else "")
            + "; the line joins the mean per value."
        )
        if skipped:
            note += " Not drawn (fewer than two values with a measured loss): " + "; ".join(
                f"{label + ': ' if label else ''}{', '.join(p.replace('_', ' ') for p in params)}"
                for label, params in skipped.items()
            ) + "."
        body = "".join(figures)
        sections.append(("effects", "Effects", _section("effects", "Effect of the hyperparameters", body, note)))

    # Cost against quality.
    fig, (ax,) = plots.figure(9.0, 4.8)
    plot.plot_cost_quality(js, by=by, ax=ax)
    plots.done()
    note = (
        "Each job's cost against its best validation loss; each line is a Pareto front (no job is both cheaper"
        " and better)" + (f", one per {' · '.join(g.replace('_', ' ') for g in groups)} and currency" if groups
                          else ", one per currency") + "."
    )
    body = _figure_html(fig, alt="Cost against best validation loss")
    sections.append(("cost-quality", "Cost vs quality", _section("cost-quality", "Cost against quality", body, note)))

    # Timeline of the most recent jobs: over months, hundreds of jobs would be specks.
    recent_ids = frame.sort("created_at", "job_id", nulls_last=True).tail(_TIMELINE_JOBS)["job_id"]
    recent = js.filter(pl.col("job_id").is_in(recent_ids.implode()))
    fig, (ax,) = plots.figure(13.0, max(2.5, 0.17 * len(recent) + 1.2))
    plot.plot_timeline(recent, align=True, ax=ax)
    plots.done()
    shown = f"the {len(recent)} most recent jobs" if len(recent) < len(js) else f"all {len(js)} jobs"
    note = (
        f"How long {shown} spent queued, validating and running, each from its creation,"
        " from their status events; coloured by their current status."
    )
    body = _figure_html(fig, alt=f"Timeline of {shown}")
    sections.append(("timeline", "Timeline", _section("timeline", "Timeline", body, note)))

    # Every job.
    everything = _all_jobs_table(js)
    body = (
        f"<details><summary>Show all {len(js)} jobs</summary>"
        f'<div class="scroll">{html_table(_drop_empty(everything), table_id="all-jobs", compared=False)}</div></details>'
    )
    sections.append(("jobs", "All jobs", _section("jobs", "All jobs", body, "Oldest first.")))

    if js.decode_errors:
        body = f'<div class="scroll">{html_table(_errors_table(js), table_id="errors")}</div>'
        note = f"{len(js.decode_errors)} records could not be read and are left out of everything above."
        sections.append(("errors", "Unreadable records", _section("errors", "Unreadable records", body, note)))

    nav = "".join(f'<a href="#{anchor}">{_esc(label)}</a>' for anchor, label, _ in sections)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{len(js)} jobs{_date_range(frame)}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n<body><main>"
        f"<header><h1>{_esc(title)}</h1><p>{_esc(meta)}</p></header>"
        f"<nav>{nav}</nav>\n"
        + "\n".join(section for _, _, section in sections)
        + f"\n<footer>Generated by ftkit {_esc(__version__)} on {generated}.</footer>"
        "</main></body></html>\n"
    )


def write_report(
    jobs: Any,
    path: str | os.PathLike,
    *,
    title: str = "Fine-tuning jobs",
    top: int = 10,
    by: By = DEFAULT_BY,
    progress: Any = None,
) -> Path:
    """Write a self-contained HTML report on ``jobs`` to ``path``.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    path
        The ``.html`` file to write. It is written to a temporary name beside it and
        moved into place when complete, so a failure leaves nothing at ``path`` (and an
        existing file there untouched).
    title
        The report's heading and page title.
    top
        How many best jobs to list and draw the loss curves of, in each group.
    by
        The jobs frame column, or list of columns, whose groups are never pooled, joined
        or ranked together: best jobs are ranked within each group, the loss curves and
        each effect panel drawn per group, each group has its own Pareto front.
        ``"job_type"`` by default (classifier and completion losses are not comparable),
        ``["provider", "job_type"]`` where the jobs come from several providers (OpenAI
        and Mistral losses are not comparable either); a ``by`` given is used exactly as
        given; ``None`` pools all the jobs.
    progress
        Optional :class:`ftkit.progress.Progress` advanced as the plots are drawn.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import ftkit, tempfile, pathlib
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(6, seed=0))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_report(js, pathlib.Path(tmp) / "report.html", title="<Demo>")
    ...     text = out.read_text()
    >>> "<h1>&lt;Demo&gt;</h1>" in text, text.count("data:image/png;base64,") >= 4
    (True, True)
    """
    path = Path(path)
    document = render_report(jobs, title=title, top=top, by=by, progress=progress)
    with atomic_write(path) as f:
        f.write(document.encode("utf-8"))
    return path

"""The HTML report of a set of jobs: one self-contained file (``ftkit report``).

:func:`write_report` writes the summary tables of :mod:`ftkit.summary`, the loss curves
of the best jobs, the effect of each varying hyperparameter, cost against quality, the
timeline and a table of every job.

The report is one file with no external resources: plots are PNG ``data:`` URIs, styles
are inline, and there is no JavaScript at all (a Content-Security-Policy forbids it, as
a second line of defence). Every piece of text that comes from the jobs (ids, suffixes,
model names, event data, error messages) goes through :func:`html.escape`.

The summary's functions (:func:`~ftkit.summary.summary_text`,
:func:`~ftkit.summary.best_jobs`, ...) can still be imported from here.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(6, seed=0))
>>> page = render_report(js, title="Demo")
>>> page.startswith("<!DOCTYPE html>"), page.count('<section id="')
(True, 8)
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from . import __version__
from .analysis.inputs import DEFAULT_BY, By, as_jobset
from .atomic import atomic_write
from .escape import escaped_warnings
from .jobset import JobSet
from .summary import (
    FINISHED,
    best_jobs,
    column_digits,
    column_header,
    count_tables,
    cost_by_currency,
    date_range_text,
    drop_empty_columns,
    format_value,
    summary_tables,
    summary_text,
    table_groups,
    text_table,
    unranked_jobs,
    varying_hyperparameters,
)

__all__ = [
    "write_report", "render_report", "html_table",
    # the summary's, from ftkit.summary
    "summary_tables", "summary_text", "format_value", "column_digits", "best_jobs", "unranked_jobs",
    "cost_by_currency", "varying_hyperparameters", "text_table", "FINISHED",
]

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
    numeric = {c: frame.schema[c].is_numeric() for c in frame.columns}
    digits = column_digits(frame) if compared else {}
    head = "".join(
        f'<th class="num">{_esc(column_header(c))}</th>' if numeric[c] else f"<th>{_esc(column_header(c))}</th>" for c in frame.columns
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
    return drop_empty_columns(js.errors, keep=("source", "path", "message"))


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

    js = as_jobset(jobs)
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
        for key, caption in count_tables(tables).items()
    )
    body = f'<div class="row">{counts}{_figure_html(fig, alt="Number of jobs in each status")}</div>'
    sections.append(("overview", "Overview", _section("overview", "Jobs by status, type and model", body)))

    # The best jobs: finished, successful, ranked only within their group.
    ranked = best_jobs(js, top=None, by=by)
    groups = group_columns(by, where="render_report")
    blocks = []
    for i, (label, part) in enumerate(table_groups(ranked, groups), start=1):
        shown = drop_empty_columns(part.head(top).drop(*groups, "status"))
        caption = f"Best {shown.height} of {part.height} successful {label} jobs".replace("  ", " ")
        blocks.append(f'<div class="scroll">{html_table(shown, caption=caption, table_id=f"best-jobs-{i}")}</div>')
    unranked = unranked_jobs(js)
    if unranked.height:
        caption = f"Not ranked: {unranked.height} jobs with a measured validation loss that did not finish successfully"
        blocks.append(f'<div class="scroll">{html_table(drop_empty_columns(unranked), caption=caption, table_id="unranked-jobs", compared=False)}</div>')
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
    for label, part in table_groups(best_jobs(js, top=top, by=by), groups) or [("", best)]:
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
        f'<div class="scroll">{html_table(drop_empty_columns(everything), table_id="all-jobs", compared=False)}</div></details>'
    )
    sections.append(("jobs", "All jobs", _section("jobs", "All jobs", body, "Oldest first.")))

    if js.decode_errors:
        body = f'<div class="scroll">{html_table(_errors_table(js), table_id="errors")}</div>'
        note = f"{len(js.decode_errors)} records could not be read and are left out of everything above."
        sections.append(("errors", "Unreadable records", _section("errors", "Unreadable records", body, note)))

    nav = "".join(f'<a href="#{anchor}">{_esc(label)}</a>' for anchor, label, _ in sections)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{len(js)} jobs{date_range_text(frame)}"
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

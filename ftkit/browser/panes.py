"""The browser's lower pane: one job's details, or several jobs compared, with their curves."""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from .. import analysis
from ..analysis.inputs import measured
from ..escape import escaped_warnings
from ..formatting import distinct_digits
from ..jobset import JobSet
from .table import EXAMPLE_JOBS, browser_table, format_cell, format_cost, short_id  # noqa: F401 (EXAMPLE_JOBS: the docstring examples)

__all__ = [
    "detail_html", "compare_html", "subset_of", "varying_hyperparameters", "checkpoint_summaries",
    "DetailPlot", "compare_figure", "figure_png",
]

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


def subset_of(jobs: JobSet, job_ids: Sequence[str]) -> JobSet:
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
    >>> pane = detail_html(ftkit.read_jobs(EXAMPLE_JOBS), "job-b")
    >>> "&lt;b&gt;x&lt;/b&gt;" in pane and "<b>x</b>" not in pane
    True
    """
    one = subset_of(jobs, [job_id])
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
        ("cost", format_cost(row)),
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
        values = [by_id.get(j, {}).get(name) for j in ids]
        digits = distinct_digits(values) if frame.schema[name].is_float() else None
        cells = "".join(f"<td>{_esc(format_cell(value, name, digits=digits))}</td>" for value in values)
        rows.append(f"<tr><th>{_esc(name)}</th>{cells}</tr>")
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def compare_html(jobs: JobSet, job_ids: Sequence[str]) -> str:
    """The compare pane of several jobs, side by side: the hyperparameters that differ,
    tokens and cost, and their checkpoint summaries; every value escaped.

    Examples
    --------
    >>> import ftkit
    >>> pane = compare_html(ftkit.read_jobs(EXAMPLE_JOBS), ["job-a", "job-b"])
    >>> "learning_rate" in pane, "weight_decay" in pane, "<b>x" in pane
    (True, False, False)
    """
    ids = list(job_ids)
    subset = subset_of(jobs, ids)
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
        .map_elements(lambda s: format_cost(s), return_dtype=pl.String())
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
        from .. import plot
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
        best (the lowest measured ``valid_loss``, the earliest step winning ties). As in
        :func:`ftkit.plot.plot_job`, losses that are NaN or not above 0 are not drawn, and
        losses spanning a factor of 10 or more get a log axis, so that losses near the
        float limits (``1e308``, ``5e-324``) still draw.
        """
        points = measured(checkpoints).sort("step_number", maintain_order=True)

        def drawable(name: str) -> pl.Expr:
            value = pl.col(name)
            return value.is_not_null() & value.is_not_nan() & (value > 0)

        train = points.filter(drawable("train_loss"))
        valid = points.filter(drawable("valid_loss"))
        self.train.set_data(train["step_number"].to_numpy(), train["train_loss"].to_numpy())
        self.valid.set_data(valid["step_number"].to_numpy(), valid["valid_loss"].to_numpy())
        best = valid.sort("valid_loss", "step_number").head(1)
        self.best.set_data(best["step_number"].to_numpy(), best["valid_loss"].to_numpy())
        self.title.set_text(title)
        losses = pl.concat([train["train_loss"], valid["valid_loss"]])
        finite = losses.filter(losses.is_finite())
        spread = finite.len() > 0 and (finite.max() >= 10.0 * finite.min() or finite.len() < losses.len())
        self.axes.set_yscale("log" if spread else "linear")
        self.axes.relim()
        self.axes.autoscale_view()
        buffer = io.BytesIO()
        with escaped_warnings():  # missing-glyph warnings quote the job's text
            self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def compare_figure(jobs: JobSet, job_ids: Sequence[str]) -> Any:
    """A new matplotlib Figure (outside pyplot) with the jobs' valid and train loss curves
    overlaid, drawn by :func:`ftkit.plot.plot_loss_curves`; at most 12 jobs."""
    from matplotlib.figure import Figure

    subset = subset_of(jobs, list(job_ids)[:_MAX_CURVES])
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
    if any(text.get_gid() == "left-out" for ax in axes for text in ax.texts):
        fig.set_size_inches(11, 3.8)
        fig.subplots_adjust(bottom=0.3)  # room for the note naming the jobs left out
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
    with escaped_warnings():  # missing-glyph warnings quote the job's text
        fig.savefig(buffer, format="png")
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    return buffer.getvalue()


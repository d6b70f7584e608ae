"""What the plots share: jobs in, labels and colours from job text, the "no data" note."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import msgspec
import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.axes import Axes

from ..escape import printable
from ..analysis import as_jobset, checkpoint_summary, lifecycle, token_usage
from ..jobset import JobSet

__all__ = [
    "MAX_NAMED", "group_label", "left_out_note",
    "STATUS_COLORS", "OTHER_STATUS_COLOR", "STATUS_ORDER", "METRIC_LABELS", "NO_DATA",
    "to_jobset", "get_ax", "no_data", "plain", "truncate", "short_ids", "job_labels", "metric_label",
    "format_value", "status_color", "job_colors", "legend_outside", "job_table", "per_job_column",
    "metric_mode", "maybe_log",
]

#: Colour of each job status (final statuses are the strong ones).
STATUS_COLORS: dict[str, str] = {
    "SUCCESS": "#2ca02c",
    "FAILED": "#d62728",
    "FAILED_VALIDATION": "#ff7f0e",
    "CANCELLED": "#7f7f7f",
    "CANCELLATION_REQUESTED": "#b0b0b0",
    "RUNNING": "#1f77b4",
    "STARTED": "#17becf",
    "VALIDATED": "#9467bd",
    "VALIDATING": "#c5b0d5",
    "QUEUED": "#bcbd22",
}
OTHER_STATUS_COLOR = "#8c564b"
#: Order in which statuses are listed: the lifecycle, then the ends.
STATUS_ORDER = (
    "QUEUED",
    "VALIDATING",
    "VALIDATED",
    "STARTED",
    "RUNNING",
    "CANCELLATION_REQUESTED",
    "SUCCESS",
    "FAILED",
    "FAILED_VALIDATION",
    "CANCELLED",
)

METRIC_LABELS = {
    "train_loss": "training loss",
    "valid_loss": "validation loss",
    "valid_mean_token_accuracy": "validation mean token accuracy",
}
NO_DATA = "no data"


# --- inputs ----------------------------------------------------------------------------


def to_jobset(jobs: Any) -> JobSet:
    """A JobSet from one job Struct, or whatever :func:`ftkit.analysis.as_jobset` takes."""
    if isinstance(jobs, msgspec.Struct):
        return JobSet([jobs])
    return as_jobset(jobs)


def get_ax(ax: Axes | None) -> Axes:
    """``ax``, or the current Axes."""
    return ax if ax is not None else plt.gca()


def no_data(ax: Axes, message: str = NO_DATA) -> Axes:
    """Mark ``ax`` as empty with a centred grey note; returns ``ax``."""
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="0.45",
        fontsize="medium",
        gid="no-data",
    )
    if not (ax.lines or ax.collections or ax.patches):
        ax.set_xticks([])
        ax.set_yticks([])
    return ax


# --- labels ----------------------------------------------------------------------------


def plain(text: str) -> str:
    """Text from a job as matplotlib must get it to show it as written: control
    characters shown as escapes (no font has a glyph for them) and every ``$`` escaped,
    so that a suffix like ``run$1$`` is never parsed as maths (which garbles it, or
    raises on invalid markup)."""
    return printable(text).replace("$", r"\$")


def truncate(text: Any, width: int) -> str:
    """Job text cut to ``width`` characters, ready for matplotlib (see :func:`plain`)."""
    text = str(text)
    return plain(text if len(text) <= width else text[: width - 1] + "…")


def short_ids(ids: Sequence[str], *, width: int = 8) -> dict[str, str]:
    """Shortest prefixes (at least ``width`` characters) that still tell the ids apart."""
    ids = [str(i) for i in ids]
    n = width
    longest = max((len(i) for i in ids), default=0)
    while n < longest and len({i[:n] for i in ids}) < len(set(ids)):
        n += 4
    return {i: plain(i if len(i) <= n else i[:n] + "…") for i in ids}


def job_labels(frame: pl.DataFrame) -> dict[str, str]:
    """Legend labels: the short id, and the suffix when the job has one."""
    ids = frame["job_id"].to_list()
    short = short_ids(ids)
    suffixes = frame["suffix"].to_list() if "suffix" in frame.columns else [None] * len(ids)
    return {
        job_id: short[job_id] + (f" {truncate(suffix, 16)}" if suffix else "")
        for job_id, suffix in zip(ids, suffixes)
    }


def metric_label(metric: str) -> str:
    """A metric's name as an axis label: ``"best_valid_loss"`` -> ``"best validation loss"``."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    for prefix in ("best_", "final_"):
        if metric.startswith(prefix) and metric[len(prefix) :] in METRIC_LABELS:
            return f"{prefix[:-1]} {METRIC_LABELS[metric[len(prefix):]]}"
    return metric.replace("_", " ")


def format_value(value: Any) -> str:
    """A group's value as legend text: ``(none)`` for null, floats short, text truncated."""
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    return truncate(value, 20)


def group_label(values: Sequence[Any]) -> str:
    r"""A group's values as a title or legend entry: ``"classifier · ministral-3b-latest"``.

    Examples
    --------
    >>> group_label(["completion", 0.0001, None, "run$1$"])
    'completion · 0.0001 · (none) · run\\$1\\$'
    """
    return " · ".join(format_value(value) for value in values)


#: At most this many left-out jobs are named in the note; the rest are counted.
MAX_NAMED = 6


def left_out_note(ax: Axes, job_ids: Sequence[str], why: str, *, all_ids: Sequence[str] = ()) -> Any:
    """Name the jobs a plot leaves out, in a small grey note under the x axis label.

    ``why`` says what they lack (``"no validation loss"``); at most :data:`MAX_NAMED`
    short ids (told apart among ``all_ids``) are listed, then how many more. The note
    has gid ``"left-out"``; nothing is drawn when no job is left out.
    """
    if not job_ids:
        return None
    short = short_ids(list(dict.fromkeys([*job_ids, *all_ids])))
    named = ", ".join(short[j] for j in job_ids[:MAX_NAMED])
    more = f" and {len(job_ids) - MAX_NAMED} more" if len(job_ids) > MAX_NAMED else ""
    n = len(job_ids)
    text = textwrap.fill(f"{n} job{'s' if n != 1 else ''} left out ({plain(why)}): {named}{more}", width=56)
    return ax.annotate(
        text, xy=(0.0, 0.0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -3),
        textcoords="offset points", ha="left", va="top", fontsize="x-small", color="0.4", gid="left-out",
        annotation_clip=False,
    )


def status_color(status: Any) -> str:
    """The colour of a job status (a brown for statuses ftkit does not know)."""
    return STATUS_COLORS.get(str(status), OTHER_STATUS_COLOR)


def job_colors(n: int) -> list[Any]:
    """n distinguishable colours: tab10/tab20, a sequential map beyond 20."""
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.95) for i in range(n)]


def legend_outside(ax: Axes, *, title: str | None = None, handles: Any = None, labels: Any = None) -> None:
    """A legend to the right of the Axes, in columns of at most 15 entries."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    ncol = max(1, math.ceil(len(handles) / 15))
    ax.legend(
        handles,
        labels,
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        frameon=False,
        fontsize="small",
        title_fontsize="small",
        ncol=ncol,
    )


# --- per-job numbers ---------------------------------------------------------------------


def job_table(js: JobSet) -> pl.DataFrame:
    """One row per job: checkpoint summary, token usage, lifecycle, then the jobs frame.

    A column comes from the first of these that has it, as in :mod:`ftkit.analysis`
    (``cost`` from ``token_usage``, with the placeholder ``0.0`` nulled).
    """
    table = checkpoint_summary(js)
    for extra in (token_usage(js), lifecycle(js), js.jobs):
        extra = extra.select("job_id", *[c for c in extra.columns if c not in table.columns])
        table = table.join(extra, on="job_id", how="left", maintain_order="left")
    return table



def per_job_column(table: pl.DataFrame, name: str, what: str) -> pl.Series:
    """The column ``name`` of a :func:`job_table`, or a ValueError listing the columns."""
    if name not in table.columns:
        msg = f"{what} must be a column of the jobs frame or of the analysis summaries, got {name!r}; columns are {table.columns}"
        raise ValueError(msg)
    return table[name]



def metric_mode(metric: str) -> str:
    """``"max"`` for accuracy metrics, ``"min"`` for losses."""
    return "max" if "accuracy" in metric else "min"



def maybe_log(ax: Axes, values: Iterable[np.ndarray], metric: str, log: bool | None) -> None:
    """Log y scale if ``log``, or (``None``) for losses spanning a factor of 10 or more."""
    if log is None:
        if "loss" not in metric:
            return
        arrays = [v for v in values if len(v)]
        if not arrays:
            return
        lo = min(float(v.min()) for v in arrays)
        hi = max(float(v.max()) for v in arrays)
        log = lo > 0 and hi / lo >= 10.0
    if log:
        ax.set_yscale("log")


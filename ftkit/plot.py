"""Plots of fine-tuning jobs: loss curves, effects, cost against quality, timelines.

Every ``plot_*`` function but :func:`plot_job` is axes-level, in the manner of seaborn:
it takes the jobs first, keyword-only options after, draws on ``ax`` (or the current
Axes) and returns that Axes. It never calls ``show()`` or ``savefig()`` and never changes
rcParams. :func:`plot_job` owns its figure and returns it.

``jobs`` may be a :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` accepts (a
path, a glob, bytes), or an iterable of job Structs. Where nothing can be drawn (no jobs,
no checkpoints, no cost), the Axes carries a centred "no data" note instead of raising.

Lines and markers carry a ``gid`` naming what they show (``"curve:<job_id>"``,
``"best:<job_id>"``, ``"hue:<value>"``, ``"pareto"``), so that tests and widgets can
find them.

Examples
--------
>>> import ftkit, ftkit.plot
>>> js = ftkit.read_jobs(
...     b'{"id": "2813b7e6-c511", "model": "open-mistral-7b", "status": "SUCCESS",'
...     b' "created_at": 0, "modified_at": 900, "hyperparameters": {},'
...     b' "checkpoints": ['
...     b'{"step_number": 20, "created_at": 600, "metrics": {"valid_loss": 0.85}},'
...     b'{"step_number": 10, "created_at": 300, "metrics": {"valid_loss": 0.91}}]}'
... )
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> ax = ftkit.plot.plot_loss_curves(js, ax=ax)
>>> ax.get_xlabel(), ax.get_ylabel()
('step', 'validation loss')
>>> [line.get_gid() for line in ax.lines]
['curve:2813b7e6-c511', 'best:2813b7e6-c511']
>>> plt.close(fig)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import msgspec
import numpy as np
import polars as pl
import matplotlib.colors as mcolors
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter, MaxNLocator

from .analysis import (
    as_jobset,
    checkpoint_summary,
    checkpoints_with_axes,
    effect,
    lifecycle,
    pareto,
    token_usage,
)
from .analysis.phases import PHASES  # one mapping of statuses to phases, shared with lifecycle()
from .jobset import JobSet

__all__ = [
    "plot_loss_curves",
    "plot_effect",
    "plot_cost_quality",
    "plot_timeline",
    "plot_status_counts",
    "plot_job",
    "STATUS_COLORS",
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
_OTHER_STATUS_COLOR = "#8c564b"
#: Order in which statuses are listed: the lifecycle, then the ends.
_STATUS_ORDER = (
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

_METRIC_LABELS = {
    "train_loss": "training loss",
    "valid_loss": "validation loss",
    "valid_mean_token_accuracy": "validation mean token accuracy",
}
_X_COLUMNS = {"step": "step_number", "tokens_seen": "tokens_seen", "epoch": "epoch", "elapsed_s": "elapsed_s"}
_X_LABELS = {"step": "step", "tokens_seen": "tokens seen", "epoch": "epoch"}
#: Jobs with at most this many points on a curve get a marker on each point.
_SPARSE_POINTS = 25
#: More jobs than this and the per-job legend is left out (it would not be legible).
_MAX_LEGEND_ENTRIES = 30
_NO_DATA = "no data"


# --- inputs ----------------------------------------------------------------------------


def _as_jobset(jobs: Any) -> JobSet:
    """A JobSet from one job Struct, or whatever :func:`ftkit.analysis.as_jobset` takes."""
    if isinstance(jobs, msgspec.Struct):
        return JobSet([jobs])
    return as_jobset(jobs)


def _get_ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.gca()


def _no_data(ax: Axes, message: str = _NO_DATA) -> Axes:
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


def _plain(text: str) -> str:
    """Text from a job as matplotlib must get it to show it as written: every ``$``
    escaped, so that a suffix like ``run$1$`` is never parsed as maths (which garbles it,
    or raises on invalid markup)."""
    return text.replace("$", r"\$")


def _truncate(text: Any, width: int) -> str:
    """Job text cut to ``width`` characters, ready for matplotlib (see :func:`_plain`)."""
    text = str(text)
    return _plain(text if len(text) <= width else text[: width - 1] + "…")


def _short_ids(ids: Sequence[str], *, width: int = 8) -> dict[str, str]:
    """Shortest prefixes (at least ``width`` characters) that still tell the ids apart."""
    ids = [str(i) for i in ids]
    n = width
    longest = max((len(i) for i in ids), default=0)
    while n < longest and len({i[:n] for i in ids}) < len(set(ids)):
        n += 4
    return {i: _plain(i if len(i) <= n else i[:n] + "…") for i in ids}


def _job_labels(frame: pl.DataFrame) -> dict[str, str]:
    """Legend labels: the short id, and the suffix when the job has one."""
    ids = frame["job_id"].to_list()
    short = _short_ids(ids)
    suffixes = frame["suffix"].to_list() if "suffix" in frame.columns else [None] * len(ids)
    return {
        job_id: short[job_id] + (f" {_truncate(suffix, 16)}" if suffix else "")
        for job_id, suffix in zip(ids, suffixes)
    }


def _metric_label(metric: str) -> str:
    if metric in _METRIC_LABELS:
        return _METRIC_LABELS[metric]
    for prefix in ("best_", "final_"):
        if metric.startswith(prefix) and metric[len(prefix) :] in _METRIC_LABELS:
            return f"{prefix[:-1]} {_METRIC_LABELS[metric[len(prefix):]]}"
    return metric.replace("_", " ")


def _format_value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    return _truncate(value, 20)


def _status_color(status: Any) -> str:
    return STATUS_COLORS.get(str(status), _OTHER_STATUS_COLOR)


def _job_colors(n: int) -> list[Any]:
    """n distinguishable colours: tab10/tab20, a sequential map beyond 20."""
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.95) for i in range(n)]


def _legend_outside(ax: Axes, *, title: str | None = None, handles: Any = None, labels: Any = None) -> None:
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


def _job_table(js: JobSet) -> pl.DataFrame:
    """One row per job: checkpoint summary, token usage, lifecycle, then the jobs frame.

    A column comes from the first of these that has it, as in :mod:`ftkit.analysis`
    (``cost`` from ``token_usage``, with the placeholder ``0.0`` nulled).
    """
    table = checkpoint_summary(js)
    for extra in (token_usage(js), lifecycle(js), js.jobs):
        extra = extra.select("job_id", *[c for c in extra.columns if c not in table.columns])
        table = table.join(extra, on="job_id", how="left", maintain_order="left")
    return table


# --- loss curves -------------------------------------------------------------------------


def _smooth(values: np.ndarray, smooth: float | int | None) -> np.ndarray:
    """EMA (float in (0, 1), TensorBoard's weight) or trailing rolling mean (int window)."""
    if smooth is None or len(values) < 2:
        return values
    if isinstance(smooth, (bool, np.bool_)):
        msg = f"smooth must be a float in (0, 1) or an int window >= 1, got {smooth!r}"
        raise TypeError(msg)
    if isinstance(smooth, (int, np.integer)):
        if smooth < 1:
            msg = f"smooth as a rolling window must be >= 1, got {smooth}"
            raise ValueError(msg)
        csum = np.cumsum(np.insert(values, 0, 0.0))
        idx = np.arange(1, len(values) + 1)
        lo = np.maximum(idx - int(smooth), 0)
        return (csum[idx] - csum[lo]) / (idx - lo)
    weight = float(smooth)
    if not 0.0 < weight < 1.0:
        msg = f"smooth as an EMA weight must be in (0, 1), got {smooth}"
        raise ValueError(msg)
    out = np.empty_like(values)
    last = values[0]
    for i, value in enumerate(values):
        last = weight * last + (1.0 - weight) * value
        out[i] = last
    return out


def _mode(metric: str) -> str:
    return "max" if "accuracy" in metric else "min"


def _best_index(values: np.ndarray, mode: str) -> int:
    return int(np.argmax(values) if mode == "max" else np.argmin(values))


def _elapsed_scale(max_seconds: float) -> tuple[float, str]:
    if max_seconds >= 2 * 3600:
        return 3600.0, "elapsed (h)"
    if max_seconds >= 2 * 60:
        return 60.0, "elapsed (min)"
    return 1.0, "elapsed (s)"


def _curves(js: JobSet, metric: str, x: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(job_id, x, y) per job with at least one measured point, in job order.

    Null metric values are dropped; so are loss values <= 0, which the API writes as
    placeholders on checkpoints that were not evaluated.
    """
    if x not in _X_COLUMNS:
        msg = f"x must be one of {sorted(_X_COLUMNS)}, got {x!r}"
        raise ValueError(msg)
    if metric not in _METRIC_LABELS:
        msg = f"metric must be one of {sorted(_METRIC_LABELS)}, got {metric!r}"
        raise ValueError(msg)
    if js.checkpoints.height == 0:
        return []
    frame = js.checkpoints if x == "step" else checkpoints_with_axes(js)
    xcol = _X_COLUMNS[x]
    keep = pl.col(metric).is_not_null() & pl.col(xcol).is_not_null() & pl.col(metric).is_not_nan()
    if "loss" in metric:
        keep = keep & (pl.col(metric) > 0)
    data = frame.filter(keep).select("job_id", pl.col(xcol).cast(pl.Float64), pl.col(metric)).sort(
        "job_id", xcol, maintain_order=True
    )
    if data.height == 0:
        return []
    ids = data["job_id"].to_numpy()
    xs = data[xcol].to_numpy()
    ys = data[metric].to_numpy()
    bounds = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(ids)]))
    found = {ids[s]: (xs[s:e], ys[s:e]) for s, e in zip(starts, ends)}
    return [(job_id, *found[job_id]) for job_id in js.ids if job_id in found]


def _draw_curve(
    ax: Axes,
    job_id: str,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    label: str,
    color: Any,
    smooth: float | int | None,
    mark_best: bool,
    mode: str,
    kind: str = "curve",
    **kwargs: Any,
) -> None:
    marker = "o" if len(xs) <= _SPARSE_POINTS else None
    style = {"marker": marker, "markersize": 3.5, "linewidth": 1.5, "color": color, **kwargs}
    if smooth is not None and len(xs) > 1:
        ax.plot(xs, ys, color=color, alpha=0.25, linewidth=1.0, label="_raw", gid=f"raw:{job_id}")
        ax.plot(xs, _smooth(ys, smooth), label=label, gid=f"{kind}:{job_id}", **style)
    else:
        ax.plot(xs, ys, label=label, gid=f"{kind}:{job_id}", **style)
    if mark_best:
        i = _best_index(ys, mode)
        ax.plot(
            [xs[i]],
            [ys[i]],
            linestyle="none",
            marker="*",
            markersize=11,
            markerfacecolor=color,
            markeredgecolor="black",
            markeredgewidth=0.6,
            label="_best",
            gid=f"best:{job_id}",
            zorder=3,
        )


def _best_proxy() -> Line2D:
    return Line2D(
        [], [], linestyle="none", marker="*", markersize=10, markerfacecolor="white",
        markeredgecolor="black", label="best checkpoint",
    )


def _group_mean(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max of curves on the union of their x values (each interpolated within its range)."""
    grid = np.unique(np.concatenate([xs for xs, _ in curves]))
    stack = np.full((len(curves), len(grid)), np.nan)
    for row, (xs, ys) in enumerate(curves):
        inside = (grid >= xs[0]) & (grid <= xs[-1])
        stack[row, inside] = np.interp(grid[inside], xs, ys)
    return grid, np.nanmean(stack, axis=0), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)


def _finish_x_axis(ax: Axes, x: str, max_x: float) -> float:
    """Label the x axis with units; returns the factor x values were divided by."""
    scale = 1.0
    if x == "elapsed_s":
        scale, label = _elapsed_scale(max_x)
    else:
        label = _X_LABELS[x]
    ax.set_xlabel(label)
    if x == "step":
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    elif x == "tokens_seen":
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    return scale


def _maybe_log(ax: Axes, values: Iterable[np.ndarray], metric: str, log: bool | None) -> None:
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


def plot_loss_curves(
    jobs: Any,
    *,
    metric: str = "valid_loss",
    x: str = "step",
    hue: str | None = None,
    smooth: float | int | None = None,
    mark_best: bool = True,
    log: bool | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw one curve of a checkpoint metric per job, or per hyperparameter value.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    metric
        ``"valid_loss"``, ``"train_loss"`` or ``"valid_mean_token_accuracy"``. Null values
        and placeholder zeros (losses the API reports as ``0.0`` on checkpoints it did not
        evaluate) are left out, never drawn as zeros; a job with no measured value draws
        no line.
    x
        ``"step"``, ``"tokens_seen"``, ``"epoch"`` or ``"elapsed_s"`` (drawn in seconds,
        minutes or hours, whichever reads best). Jobs that lack what the axis needs
        (tokens per step, data tokens, times) are left out.
    hue
        A column of the jobs frame (``"learning_rate"``, ``"model"``...): one line per
        value, the mean of its jobs (each interpolated on the union of their x values),
        with the min-max band shaded where the value has several jobs.
    smooth
        ``None`` (raw values), a float in (0, 1), the weight of an exponential moving
        average as in TensorBoard (``s = smooth * s + (1 - smooth) * y``; larger is
        smoother), or an int >= 1, the window of a trailing rolling mean in checkpoints.
        The raw curve stays visible, faint, behind the smoothed one.
    mark_best
        Mark each curve's best checkpoint (lowest loss, highest accuracy) with a star,
        at its raw value.
    log
        Log y scale; by default on for losses spanning a factor of 10 or more.
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot` for the curves.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``. Curves have gid ``"curve:<job_id>"`` (``"hue:<value>"`` with ``hue``),
        best markers ``"best:<job_id>"``. Curves with at most 25 points carry a marker on
        each checkpoint. The legend (short ids, suffixes) sits right of the Axes and is
        left out above 30 curves.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "a1", "model": "m", "status": "SUCCESS", "created_at": 0,'
    ...     b' "modified_at": 9, "hyperparameters": {}, "checkpoints": ['
    ...     b'{"step_number": 30, "created_at": 3, "metrics": {"valid_loss": 0.0,'
    ...     b' "valid_mean_token_accuracy": 0.0, "train_loss": 0.5}},'
    ...     b'{"step_number": 20, "created_at": 2, "metrics": {"valid_loss": 0.7}},'
    ...     b'{"step_number": 10, "created_at": 1, "metrics": {"valid_loss": 0.9}}]}'
    ... )
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ftkit.plot.plot_loss_curves(js, ax=ax) is ax
    True
    >>> ax.lines[0].get_xydata().tolist()   # the placeholder 0.0 at step 30 is not drawn
    [[10.0, 0.9], [20.0, 0.7]]
    >>> ax.lines[1].get_xydata().tolist()   # the best checkpoint
    [[20.0, 0.7]]
    >>> plt.close(fig)
    """
    ax = _get_ax(ax)
    js = _as_jobset(jobs)
    curves = _curves(js, metric, x)
    mode = _mode(metric)
    ax.set_ylabel(_metric_label(metric))
    if not curves:
        ax.set_xlabel(_X_LABELS.get(x, "elapsed (s)"))
        return _no_data(ax)
    max_x = max(float(xs[-1]) for _, xs, _ in curves)
    scale = _finish_x_axis(ax, x, max_x)
    if scale != 1.0:
        curves = [(job_id, xs / scale, ys) for job_id, xs, ys in curves]

    if hue is None:
        labels = _job_labels(js.jobs)
        colors = _job_colors(len(curves))
        for (job_id, xs, ys), color in zip(curves, colors):
            _draw_curve(
                ax, job_id, xs, ys, label=labels[job_id], color=color, smooth=smooth,
                mark_best=mark_best, mode=mode, **kwargs,
            )
        legend_title = None
        n_entries = len(curves)
    else:
        if hue not in js.jobs.columns:
            msg = f"hue must be a column of the jobs frame, got {hue!r}; columns are {js.jobs.columns}"
            raise ValueError(msg)
        values = dict(zip(js.jobs["job_id"].to_list(), js.jobs[hue].to_list()))
        groups: dict[Any, list[tuple[np.ndarray, np.ndarray]]] = {}
        for job_id, xs, ys in curves:
            groups.setdefault(values.get(job_id), []).append((xs, ys))
        keys = sorted(groups, key=lambda v: (v is None, v if isinstance(v, (int, float)) else str(v)))
        numeric = all(isinstance(k, (int, float)) for k in keys if k is not None)
        if numeric and len(keys) > 1:
            cmap = colormaps["viridis"]
            colors = [cmap(i / (len(keys) - 1) * 0.9) if k is not None else "0.5" for i, k in enumerate(keys)]
        else:
            colors = _job_colors(len(keys))
        for key, color in zip(keys, colors):
            members = groups[key]
            grid, mean, lo, hi = _group_mean(members)
            label = f"{_plain(_format_value(key))} (n={len(members)})"
            if len(members) > 1:
                ax.fill_between(grid, lo, hi, color=color, alpha=0.2, linewidth=0, gid=f"band:{key}")
            _draw_curve(
                ax, str(key), grid, mean, label=label, color=color, smooth=smooth,
                mark_best=mark_best, mode=mode, kind="hue", **kwargs,
            )
        legend_title = str(hue)
        n_entries = len(keys)

    _maybe_log(ax, (ys for _, _, ys in curves), metric, log)
    ax.grid(True, alpha=0.3)
    if n_entries <= _MAX_LEGEND_ENTRIES:
        handles, labels_ = ax.get_legend_handles_labels()
        if mark_best:
            handles.append(_best_proxy())
            labels_.append("best checkpoint")
        _legend_outside(ax, title=legend_title, handles=handles, labels=labels_)
    else:
        ax.text(
            1.02, 1.0, f"{n_entries} curves\n(legend left out;\nuse hue= to group)",
            transform=ax.transAxes, va="top", ha="left", fontsize="small", color="0.35",
        )
    return ax


# --- per-job scatter plots ------------------------------------------------------------------


def _per_job_column(table: pl.DataFrame, name: str, what: str) -> pl.Series:
    if name not in table.columns:
        msg = f"{what} must be a column of the jobs frame or of the analysis summaries, got {name!r}; columns are {table.columns}"
        raise ValueError(msg)
    return table[name]


def plot_effect(
    jobs: Any,
    *,
    param: str,
    metric: str = "best_valid_loss",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Scatter a per-job metric against a hyperparameter, with the mean per value.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    param
        A column of the jobs frame: ``"learning_rate"``, ``"epochs"``, ``"model"``...
        Numeric values go on a linear axis (log where they span a factor of 10 or more);
        other values are categories, one column each, jittered.
    metric
        A per-job number: a column of :func:`ftkit.analysis.checkpoint_summary`
        (``"best_valid_loss"``, ``"final_train_loss"``...), of ``token_usage``
        (``"cost"``), of ``lifecycle`` (``"total_s"``) or of the jobs frame. Losses
        spanning a factor of 10 or more get a log axis.
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter` for the jobs.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: a scatter (gid ``"jobs"``) and the mean per value from
        :func:`ftkit.analysis.effect` (gid ``"mean"``: a line through numeric values, a
        horizontal segment over each bin where ``effect`` bins a parameter with many
        values, bare markers for categories). Jobs missing either number are left out.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> js = ftkit.read_jobs([
    ...     b'{"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 1,'
    ...     b' "hyperparameters": {"learning_rate": 0.0001}, "checkpoints": [{"step_number": 1,'
    ...     b' "created_at": 1, "metrics": {"valid_loss": 0.8}}]}',
    ...     b'{"id": "b", "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 1,'
    ...     b' "hyperparameters": {"learning_rate": 0.001}, "checkpoints": [{"step_number": 1,'
    ...     b' "created_at": 1, "metrics": {"valid_loss": 0.6}}]}',
    ... ])
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = ftkit.plot.plot_effect(js, param="learning_rate", ax=ax)
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()
    ('learning rate', 'best validation loss', 'log')
    >>> ax.lines[0].get_xydata().tolist()
    [[0.0001, 0.8], [0.001, 0.6]]
    >>> plt.close(fig)
    """
    ax = _get_ax(ax)
    js = _as_jobset(jobs)
    ax.set_xlabel(param.replace("_", " "))
    ax.set_ylabel(_metric_label(metric))
    if len(js) == 0:
        return _no_data(ax)
    table = _job_table(js)
    _per_job_column(table, param, "param")
    _per_job_column(table, metric, "metric")
    data = table.select("job_id", pl.col(param).alias("p"), pl.col(metric).cast(pl.Float64).alias("m")).filter(
        pl.col("p").is_not_null() & pl.col("m").is_not_null() & pl.col("m").is_not_nan()
    )
    if data.height == 0:
        return _no_data(ax)
    p_dtype = data["p"].dtype
    style = {"s": 28, "alpha": 0.75, "color": "C0", "edgecolor": "white", "linewidth": 0.5, **kwargs}
    if p_dtype.is_numeric():
        data = data.with_columns(pl.col("p").cast(pl.Float64)).sort("p")
        px = data["p"].to_numpy()
        ax.scatter(px, data["m"].to_numpy(), gid="jobs", zorder=3, **style)
        means = effect(js, param=param, metric=metric).filter(
            pl.col(param).is_not_null() & pl.col("mean").is_not_null()
        )
        if means.schema[param].is_numeric():
            ax.plot(means[param].cast(pl.Float64).to_numpy(), means["mean"].to_numpy(), color="0.2",
                    marker="_", markersize=14, linewidth=1.2, gid="mean", label="mean")
        else:
            # Binned past ftkit.analysis.MAX_DISTINCT_UNBINNED values: "lo – hi" labels.
            xs: list[float] = []
            ys: list[float] = []
            for label, mean in zip(means[param].to_list(), means["mean"].to_list()):
                lo, _, hi = label.partition(" – ")
                xs += [float(lo), float(hi), np.nan]
                ys += [mean, mean, np.nan]
            ax.plot(xs, ys, color="0.2", linewidth=2.0, solid_capstyle="butt", gid="mean", label="mean")
        positive = px[px > 0]
        if len(positive) == len(px) and px.max() / px.min() >= 10.0:
            ax.set_xscale("log")
    else:
        data = data.with_columns(pl.col("p").cast(pl.String))
        categories = sorted(data["p"].unique().to_list())
        position = {c: i for i, c in enumerate(categories)}
        base = np.array([position[c] for c in data["p"].to_list()], dtype=float)
        rng = np.random.default_rng(0)
        jitter = rng.uniform(-0.15, 0.15, len(base)) if len(base) > 1 else np.zeros(len(base))
        ax.scatter(base + jitter, data["m"].to_numpy(), gid="jobs", zorder=3, **style)
        means = effect(js, param=param, metric=metric)
        mean_of = dict(zip(means[param].cast(pl.String).to_list(), means["mean"].to_list()))
        ax.plot(range(len(categories)), [mean_of[c] for c in categories], color="0.2", marker="_",
                markersize=24, markeredgewidth=1.5, linestyle="none", gid="mean", label="mean")
        ax.set_xticks(range(len(categories)), [_truncate(c, 24) for c in categories])
        if len(categories) > 4:
            ax.tick_params(axis="x", labelrotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        ax.set_xlim(-0.5, len(categories) - 0.5)
    m = data["m"].to_numpy()
    if "loss" in metric and (m > 0).all() and m.max() / m.min() >= 10.0:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(
        [Line2D([], [], linestyle="none", marker="o", color=style["color"]), ax.lines[-1]],
        [f"job (n={data.height})", "mean"],
        fontsize="small", frameon=False,
    )
    return ax


def plot_cost_quality(
    jobs: Any,
    *,
    cost: str = "cost",
    quality: str = "best_valid_loss",
    annotate: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Scatter each job's cost against its quality and draw the Pareto front.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    cost
        A per-job number where lower is better: ``"cost"`` (metadata cost; ``0.0`` with no
        currency is the placeholder written at creation and is left out),
        ``"trained_tokens"``, ``"total_s"``...
    quality
        A per-job number: ``"best_valid_loss"`` (lower is better) or any column of the
        analysis summaries; columns naming an accuracy are taken as higher-is-better.
    annotate
        Write the short job id beside each job on the front (when it has at most 8).
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: jobs as points coloured by status (gid ``"jobs"``; with several
        currencies one marker shape and gid ``"jobs:<currency>"`` each), the front from
        :func:`ftkit.analysis.pareto` as a step line (gid ``"pareto"``) through the jobs no
        other job beats on both counts. Costs in different currencies are never
        compared: each currency gets its own front, in its own line style.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> def job(i, cost, loss):
    ...     return (b'{"id": "%s", "model": "m", "status": "SUCCESS", "created_at": 0,'
    ...             b' "modified_at": 1, "hyperparameters": {}, "metadata": {"cost": %f,'
    ...             b' "cost_currency": "USD"}, "checkpoints": [{"step_number": 1,'
    ...             b' "created_at": 1, "metrics": {"valid_loss": %f}}]}') % (i, cost, loss)
    >>> js = ftkit.read_jobs([job(b"a", 1, 0.9), job(b"b", 2, 0.7), job(b"c", 3, 0.8)])
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = ftkit.plot.plot_cost_quality(js, ax=ax)
    >>> ax.get_xlabel()
    'cost (USD)'
    >>> [line.get_xydata().tolist() for line in ax.lines if line.get_gid() == "pareto"]
    [[[1.0, 0.9], [2.0, 0.7]]]
    >>> plt.close(fig)
    """
    ax = _get_ax(ax)
    js = _as_jobset(jobs)
    ax.set_ylabel(_metric_label(quality))
    ax.set_xlabel(cost.replace("_", " "))
    if len(js) == 0:
        return _no_data(ax)
    table = _job_table(js)
    _per_job_column(table, cost, "cost")
    _per_job_column(table, quality, "quality")
    columns = ["job_id", "status", pl.col(cost).cast(pl.Float64).alias("c"), pl.col(quality).cast(pl.Float64).alias("q")]
    if "cost_currency" in table.columns:
        columns.append("cost_currency")
    data = table.select(columns).filter(
        pl.col("c").is_not_null() & pl.col("q").is_not_null() & pl.col("c").is_not_nan() & pl.col("q").is_not_nan()
    )
    if cost == "cost":
        currencies = sorted({c for c in data["cost_currency"].to_list() if c}) if "cost_currency" in data.columns else []
        if len(currencies) == 1:
            ax.set_xlabel(f"cost ({_truncate(currencies[0], 12)})")
        elif len(currencies) > 1:
            ax.set_xlabel(f"cost ({', '.join(_truncate(c, 12) for c in currencies)}: not converted)")
    elif cost.endswith("_s"):
        ax.set_xlabel(f"{cost[:-2].replace('_', ' ')} (s)")
    if data.height == 0:
        return _no_data(ax)
    c = data["c"].to_numpy()
    q = data["q"].to_numpy()
    statuses = data["status"].to_list()
    style = {"s": 36, "alpha": 0.85, "edgecolor": "white", "linewidth": 0.5, **kwargs}
    colors = np.array([mcolors.to_rgba(_status_color(s)) for s in statuses])
    currencies = data["cost_currency"].fill_null("").to_list() if cost == "cost" else [""] * len(c)
    shapes = dict(zip(sorted(set(currencies)), "osD^v<>"))
    several = len(shapes) > 1
    for currency, marker in shapes.items():
        keep = np.array([cur == currency for cur in currencies])
        if "c" not in kwargs and "color" not in kwargs:
            style["c"] = colors[keep]
        ax.scatter(c[keep], q[keep], marker=marker if several else "o", zorder=3,
                   gid="jobs" if not several else f"jobs:{currency or '(none)'}", **style)
    front = pareto(js, cost=cost, quality=quality)
    groups = front.partition_by("cost_currency", maintain_order=True) if cost == "cost" else [front]
    front_labels = []
    for group, linestyle in zip(groups, ("--", ":", "-.", (0, (5, 1, 1, 1)))):
        label = "Pareto front"
        if len(groups) > 1:
            label += f" ({_truncate(group['cost_currency'][0], 8)})"
        ax.plot(group[cost].cast(pl.Float64).to_numpy(), group[quality].cast(pl.Float64).to_numpy(),
                drawstyle="steps-post", color="0.25", linewidth=1.2, linestyle=linestyle,
                gid="pareto", label=label, zorder=2)
        front_labels.append(label)
    if annotate and front.height <= 8:
        short = _short_ids(data["job_id"].to_list())
        for i, (job_id, x, y) in enumerate(front.select("job_id", cost, quality).iter_rows()):
            ax.annotate(short[job_id], (x, y), xytext=(4, 4 if i % 2 == 0 else -10),
                        textcoords="offset points", fontsize="x-small", color="0.25")
    if "loss" in quality and (q > 0).all() and q.max() / q.min() >= 10.0:
        ax.set_yscale("log")
    if (c > 0).all() and c.max() / c.min() >= 100.0:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    present = [s for s in _STATUS_ORDER if s in statuses] + sorted({s for s in statuses if s not in _STATUS_ORDER})
    handles = [Line2D([], [], linestyle="none", marker="o", color=_status_color(s)) for s in present]
    labels = [_truncate(s, 24) for s in present]
    if several:
        for currency, marker in shapes.items():
            handles.append(Line2D([], [], linestyle="none", marker=marker, color="0.4"))
            labels.append(_truncate(currency, 12) if currency else "(no currency)")
    handles += [line for line in ax.lines if line.get_gid() == "pareto"]
    _legend_outside(ax, handles=handles, labels=[*labels, *front_labels])
    return ax


# --- lifecycle ---------------------------------------------------------------------------------

_PHASE_STYLE = {
    "queued": {"alpha": 0.35, "hatch": None},
    "validating": {"alpha": 0.6, "hatch": "////"},
    "running": {"alpha": 1.0, "hatch": None},
    "unknown": {"alpha": 0.25, "hatch": "...."},
}


def _phases(js: JobSet) -> dict[str, list[tuple[str, float, float]]]:
    """Per job, (phase, start, end) in UNIX seconds from its status events.

    A status holds from its event to the next one; the last non-final status holds until
    ``modified_at``. As in :func:`ftkit.analysis.lifecycle`, QUEUED and VALIDATED count as
    queued (waiting), STARTED and VALIDATING as validating. A job with
    no events gets one "unknown" span from creation to its last modification.
    """
    events = js.events.filter(pl.col("status").is_not_null()).select(
        "job_id", pl.col("created_at").dt.epoch("s").alias("t"), "status"
    )
    jobs = js.jobs.select(
        "job_id",
        pl.col("created_at").dt.epoch("s").alias("created"),
        pl.col("modified_at").dt.epoch("s").alias("modified"),
    )
    by_job: dict[str, list[tuple[float, str]]] = {}
    for job_id, t, status in events.iter_rows():
        by_job.setdefault(job_id, []).append((float(t), status))
    out: dict[str, list[tuple[str, float, float]]] = {}
    for job_id, created, modified in jobs.iter_rows():
        items = by_job.get(job_id)
        if not items:
            out[job_id] = [("unknown", float(created), float(max(modified, created)))]
            continue
        spans = []
        end_of_job = max(float(modified), items[-1][0])
        for i, (t, status) in enumerate(items):
            phase = PHASES.get(status)
            if phase is None:
                continue
            end = items[i + 1][0] if i + 1 < len(items) else end_of_job
            if spans and spans[-1][0] == phase and spans[-1][2] == t:
                spans[-1] = (phase, spans[-1][1], end)
            else:
                spans.append((phase, t, end))
        out[job_id] = spans or [("unknown", float(created), float(max(modified, created)))]
    return out


def _duration_scale(seconds: float) -> tuple[float, str]:
    if seconds >= 2 * 86400:
        return 86400.0, "d"
    if seconds >= 2 * 3600:
        return 3600.0, "h"
    if seconds >= 2 * 60:
        return 60.0, "min"
    return 1.0, "s"


def plot_timeline(
    jobs: Any,
    *,
    align: bool | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw each job's queued, validating and running phases, coloured by its status.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    align
        ``False``: jobs on a shared clock (UTC dates). ``True``: each job starts at 0, to
        compare durations (seconds, minutes, hours or days, whichever reads best).
        ``None`` (default): aligned when the jobs are spread over a period more than 20
        times as long as the longest job (their bars would be slivers on a shared clock).
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.broken_barh`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, one row per job (oldest at the top), labelled by short id. The colour is
        the job's current status; the phase is its shade: light for queued (waiting,
        including VALIDATED), hatched for validating, solid for running. Phases come from
        the status events; a job with no events (list responses) gets one dotted bar
        from creation to its last modification. Bars carry gid ``"<phase>:<job_id>"``.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "j1", "model": "m", "status": "SUCCESS", "created_at": 0,'
    ...     b' "modified_at": 100, "hyperparameters": {}, "events": ['
    ...     b'{"name": "status-updated", "created_at": 0, "data": {"status": "QUEUED"}},'
    ...     b'{"name": "status-updated", "created_at": 10, "data": {"status": "RUNNING"}},'
    ...     b'{"name": "status-updated", "created_at": 100, "data": {"status": "SUCCESS"}}]}'
    ... )
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = ftkit.plot.plot_timeline(js, align=True, ax=ax)
    >>> [(c.get_gid(), *map(float, c.get_paths()[0].get_extents().intervalx))
    ...  for c in ax.collections]
    [('queued:j1', 0.0, 10.0), ('running:j1', 10.0, 100.0)]
    >>> plt.close(fig)
    """
    ax = _get_ax(ax)
    js = _as_jobset(jobs)
    if len(js) == 0:
        ax.set_xlabel("elapsed" if align else "time (UTC)")
        return _no_data(ax)
    phases = _phases(js)
    frame = js.jobs.sort("created_at", maintain_order=True)
    ids = frame["job_id"].to_list()
    statuses = dict(zip(frame["job_id"].to_list(), frame["status"].to_list()))
    labels = _job_labels(frame)
    starts = {job_id: phases[job_id][0][1] for job_id in ids}
    if align is None:
        longest = max(spans[-1][2] - spans[0][1] for spans in phases.values())
        period = max(s[-1][2] for s in phases.values()) - min(s[0][1] for s in phases.values())
        align = period > 20 * max(longest, 1.0)
    if align:
        longest = max(spans[-1][2] - spans[0][1] for spans in phases.values())
        scale, unit = _duration_scale(longest)
        ax.set_xlabel(f"time since creation ({unit})")

        def to_x(t: float, job_id: str) -> float:
            return (t - starts[job_id]) / scale

        def width(a: float, b: float) -> float:
            return (b - a) / scale
    else:
        ax.set_xlabel("time (UTC)")

        def to_x(t: float, job_id: str) -> float:
            return t / 86400.0 + mdates.date2num(np.datetime64(0, "s"))

        def width(a: float, b: float) -> float:
            return (b - a) / 86400.0

    height = 0.7
    min_width = 0.0
    if align:
        all_end = max(to_x(spans[-1][2], j) for j, spans in phases.items())
        min_width = all_end * 0.003
    else:
        t0 = min(spans[0][1] for spans in phases.values())
        t1 = max(spans[-1][2] for spans in phases.values())
        min_width = max(t1 - t0, 60.0) / 86400.0 * 0.003
    for row, job_id in enumerate(ids):
        color = _status_color(statuses[job_id])
        y = len(ids) - 1 - row
        for phase, a, b in phases[job_id]:
            style = _PHASE_STYLE[phase]
            ax.broken_barh(
                [(to_x(a, job_id), max(width(a, b), min_width))],
                (y - height / 2, height),
                facecolors=color,
                edgecolor=color if style["hatch"] else "none",
                linewidth=0.0 if not style["hatch"] else 0.5,
                alpha=style["alpha"],
                hatch=style["hatch"],
                gid=f"{phase}:{job_id}",
                **kwargs,
            )
    ax.set_ylim(-0.6, len(ids) - 0.4)
    n = len(ids)
    step = max(1, math.ceil(n / 40))
    ticks = list(range(0, n, step))
    ax.set_yticks([n - 1 - r for r in ticks], [labels[ids[r]] for r in ticks],
                  fontsize="small" if n <= 20 else "x-small")
    ax.set_ylabel("job")
    if not align:
        locator = mdates.AutoDateLocator(maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.grid(True, axis="x", alpha=0.3)
    present = [s for s in _STATUS_ORDER if s in statuses.values()] + sorted(
        {str(s) for s in statuses.values() if s not in _STATUS_ORDER}
    )
    handles: list[Any] = [Patch(facecolor=_status_color(s), label=_truncate(s, 24)) for s in present]
    used = {phase for spans in phases.values() for phase, _, _ in spans}
    for phase in ("queued", "validating", "running", "unknown"):
        if phase in used:
            style = _PHASE_STYLE[phase]
            handles.append(Patch(facecolor="0.3", alpha=style["alpha"], hatch=style["hatch"],
                                 edgecolor="0.3", label=phase if phase != "unknown" else "no events"))
    _legend_outside(ax, handles=handles, labels=[h.get_label() for h in handles])
    return ax


def plot_status_counts(jobs: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Count jobs per status, as horizontal bars in lifecycle order.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, one bar per status present, labelled with its count, coloured by status.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> js = ftkit.read_jobs([
    ...     b'{"id": "%d", "model": "m", "status": "%s", "created_at": 0, "modified_at": 0,'
    ...     b' "hyperparameters": {}}' % (i, s) for i, s in enumerate([b"FAILED", b"SUCCESS", b"SUCCESS"])
    ... ])
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = ftkit.plot.plot_status_counts(js, ax=ax)
    >>> [t.get_text() for t in ax.get_yticklabels()], [int(p.get_width()) for p in ax.patches]
    (['SUCCESS', 'FAILED'], [2, 1])
    >>> plt.close(fig)
    """
    ax = _get_ax(ax)
    js = _as_jobset(jobs)
    ax.set_xlabel("jobs")
    if len(js) == 0:
        return _no_data(ax)
    counts = js.jobs.group_by("status").len()
    found = dict(zip(counts["status"].to_list(), counts["len"].to_list()))
    order = [s for s in _STATUS_ORDER if s in found] + sorted(str(s) for s in found if s not in _STATUS_ORDER)
    values = [found[s] for s in order]
    y = np.arange(len(order))[::-1]
    style = {"color": [_status_color(s) for s in order], "height": 0.7, **kwargs}
    bars = ax.barh(y, values, gid="status-counts", **style)
    ax.bar_label(bars, padding=3, fontsize="small")
    ax.set_yticks(y, [_truncate(s, 24) for s in order])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(values) * 1.12)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


# --- one job ------------------------------------------------------------------------------------

_HYPER_ROWS = (
    ("learning_rate", "learning rate"),
    ("training_steps", "training steps"),
    ("epochs", "epochs"),
    ("weight_decay", "weight decay"),
    ("warmup_fraction", "warmup fraction"),
    ("seq_len", "sequence length"),
    ("fim_ratio", "FIM ratio"),
    ("trained_tokens", "trained tokens"),
    ("train_tokens", "train tokens (metadata)"),
    ("data_tokens", "data tokens"),
)


def _format_cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return _truncate(value, 40)


def plot_job(job: Any, *, figsize: tuple[float, float] = (11.0, 6.5)) -> Figure:
    """Summarise one job on one figure: loss curves, accuracy, lifecycle, hyperparameters.

    Parameters
    ----------
    job
        A job Struct, or a JobSet (or source) holding one job. An empty JobSet gives
        a figure of "no data" panels; more than one job raises ``ValueError``.
    figsize
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure (made through pyplot, so it shows inline in Jupyter; close it with
        ``plt.close(fig)`` when making many) with four Axes: training and validation loss
        by step with the best checkpoint marked, validation mean token accuracy, the
        lifecycle phases, and a table of hyperparameters, tokens and cost. Panels without
        data carry a "no data" note.

    Examples
    --------
    >>> import ftkit, ftkit.plot
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "j1", "model": "open-mistral-7b", "status": "SUCCESS", "created_at": 0,'
    ...     b' "modified_at": 9, "hyperparameters": {"learning_rate": 0.0001}}'
    ... )
    >>> import matplotlib.pyplot as plt
    >>> fig = ftkit.plot.plot_job(js)
    >>> len(fig.axes), fig.get_suptitle()
    (4, 'j1 · open-mistral-7b · SUCCESS')
    >>> plt.close(fig)
    """
    js = _as_jobset(job)
    if len(js) > 1:
        msg = f"plot_job takes one job, got a JobSet of {len(js)} jobs; pick one with js[job_id]"
        raise ValueError(msg)
    fig = plt.figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=(1.6, 1.0), height_ratios=(1.4, 1.0))
    ax_loss = fig.add_subplot(grid[0, 0])
    ax_table = fig.add_subplot(grid[0, 1])
    ax_acc = fig.add_subplot(grid[1, 0])
    ax_time = fig.add_subplot(grid[1, 1])
    if len(js) == 0:
        for ax in fig.axes:
            _no_data(ax)
        return fig
    row = js.jobs.row(0, named=True)
    title = " · ".join(_truncate(row[k], 40) for k in ("job_id", "model", "status") if row[k])
    if row.get("suffix"):
        title += f" · {_truncate(row['suffix'], 30)}"
    fig.suptitle(title)

    # Losses.
    drawn = []
    for metric, color in (("train_loss", "C0"), ("valid_loss", "C1")):
        for job_id, xs, ys in _curves(js, metric, "step"):
            _draw_curve(ax_loss, job_id, xs, ys, label=_METRIC_LABELS[metric], color=color,
                        smooth=None, mark_best=metric == "valid_loss", mode="min")
            drawn.append(ys)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    if drawn:
        ax_loss.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        _maybe_log(ax_loss, drawn, "loss", None)
        ax_loss.grid(True, alpha=0.3)
        handles, labels = ax_loss.get_legend_handles_labels()
        if any((line.get_gid() or "").startswith("best:") for line in ax_loss.lines):
            handles.append(_best_proxy())
            labels.append("best checkpoint")
        ax_loss.legend(handles, labels, fontsize="small", frameon=False)
    else:
        _no_data(ax_loss)

    # Accuracy.
    curves = _curves(js, "valid_mean_token_accuracy", "step")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("valid mean token accuracy")
    if curves:
        for job_id, xs, ys in curves:
            _draw_curve(ax_acc, job_id, xs, ys, label="_acc", color="C2", smooth=None,
                        mark_best=False, mode="max")
        ax_acc.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax_acc.grid(True, alpha=0.3)
    else:
        _no_data(ax_acc)

    # Lifecycle: the phases as stacked durations.
    spans = _phases(js)[row["job_id"]]
    color = _status_color(row["status"])
    longest = spans[-1][2] - spans[0][1]
    scale, unit = _duration_scale(longest)
    for phase, a, b in spans:
        style = _PHASE_STYLE[phase]
        ax_time.broken_barh(
            [((a - spans[0][1]) / scale, max((b - a) / scale, longest / scale * 0.004 if longest else 0.01))],
            (-0.35, 0.7), facecolors=color, alpha=style["alpha"], hatch=style["hatch"],
            edgecolor=color if style["hatch"] else "none", gid=f"{phase}:{row['job_id']}",
        )
        if (b - a) >= 0.12 * longest and longest > 0:
            ax_time.text(((a + b) / 2 - spans[0][1]) / scale, 0, phase if phase != "unknown" else "no events",
                         ha="center", va="center", fontsize="small",
                         color="white" if phase == "running" else "0.1")
    ax_time.set_yticks([])
    ax_time.set_ylim(-0.8, 0.8)
    ax_time.set_xlabel(f"time since creation ({unit})")
    ax_time.set_title("lifecycle", fontsize="medium", loc="left")
    ax_time.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if longest <= 0:
        ax_time.set_xlim(-0.5, 0.5)

    # Hyperparameters and usage.
    usage = token_usage(js).row(0, named=True)
    rows = [(label, _format_cell(row.get(key))) for key, label in _HYPER_ROWS if row.get(key) is not None]
    cost_value = usage.get("cost")
    if cost_value is not None:
        rows.append(("cost", f"{cost_value:.4g} {usage.get('cost_currency') or ''}".strip()))
    rows.append(("job type", _format_cell(row.get("job_type"))))
    if row.get("fine_tuned_model"):
        rows.append(("fine-tuned model", _truncate(row["fine_tuned_model"], 30)))
    ax_table.axis("off")
    ax_table.set_title("hyperparameters and usage", fontsize="medium", loc="left")
    table = ax_table.table(cellText=[[k, v] for k, v in rows], loc="upper left", cellLoc="left",
                           colWidths=(0.42, 0.58), edges="B")
    for cell in table.get_celld().values():
        cell.set_edgecolor("0.85")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 1.25)
    return fig

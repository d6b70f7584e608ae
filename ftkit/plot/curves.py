"""Loss and accuracy curves by step, tokens seen, epoch or elapsed time."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator

from ..analysis import checkpoints_with_axes
from ..analysis.inputs import DEFAULT_BY, By, group_columns, resolve_by
from ..jobset import JobSet
from .common import (
    METRIC_LABELS,
    format_value,
    group_label,
    left_out_note,
    get_ax,
    job_colors,
    job_labels,
    legend_outside,
    maybe_log,
    metric_label,
    metric_mode,
    no_data,
    plain,
    to_jobset,
)

__all__ = ["plot_loss_curves", "curves_of", "draw_curve", "best_proxy"]

_X_COLUMNS = {"step": "step_number", "tokens_seen": "tokens_seen", "epoch": "epoch", "elapsed_s": "elapsed_s"}
_X_LABELS = {"step": "step", "tokens_seen": "tokens seen", "epoch": "epoch"}
#: Jobs with at most this many points on a curve get a marker on each point.
_SPARSE_POINTS = 25
#: More jobs than this and the per-job legend is left out (it would not be legible).
_MAX_LEGEND_ENTRIES = 30


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



def _best_index(values: np.ndarray, mode: str) -> int:
    return int(np.argmax(values) if mode == "max" else np.argmin(values))


def _elapsed_scale(max_seconds: float) -> tuple[float, str]:
    if max_seconds >= 2 * 3600:
        return 3600.0, "elapsed (h)"
    if max_seconds >= 2 * 60:
        return 60.0, "elapsed (min)"
    return 1.0, "elapsed (s)"


def curves_of(js: JobSet, metric: str, x: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(job_id, x, y) per job with at least one measured point, in job order.

    Null metric values are dropped; so are loss values <= 0, which the API writes as
    placeholders on checkpoints that were not evaluated.
    """
    if x not in _X_COLUMNS:
        msg = f"x must be one of {sorted(_X_COLUMNS)}, got {x!r}"
        raise ValueError(msg)
    if metric not in METRIC_LABELS:
        msg = f"metric must be one of {sorted(METRIC_LABELS)}, got {metric!r}"
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


def draw_curve(
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
        _best_marker(ax, job_id, xs[i], ys[i], color)


def _best_marker(ax: Axes, name: str, x: float, y: float, color: Any) -> None:
    ax.plot(
        [x],
        [y],
        linestyle="none",
        marker="*",
        markersize=11,
        markerfacecolor=color,
        markeredgecolor="black",
        markeredgewidth=0.6,
        label="_best",
        gid=f"best:{name}",
        zorder=3,
    )


def best_proxy() -> Line2D:
    return Line2D(
        [], [], linestyle="none", marker="*", markersize=10, markerfacecolor="white",
        markeredgecolor="black", label="best checkpoint",
    )


def _group_mean(
    curves: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[slice]]:
    """Mean, min and max of curves on a common x grid, and the runs to draw unbroken.

    The grid is the union of the curves' x values. Each curve counts only within its
    own range (interpolated between its points, never extrapolated), so a grid point
    aggregates the curves that cover it. Two neighbouring grid points are joined only
    when some curve covers both: where the ranges do not meet, the line breaks, and a
    segment never joins a point of one job to a point of another. The runs are slices
    of the grid.
    """
    grid = np.unique(np.concatenate([xs for xs, _ in curves]))
    stack = np.full((len(curves), len(grid)), np.nan)
    for row, (xs, ys) in enumerate(curves):
        inside = (grid >= xs[0]) & (grid <= xs[-1])
        stack[row, inside] = np.interp(grid[inside], xs, ys)
    covered = ~np.isnan(stack)
    joined = (covered[:, 1:] & covered[:, :-1]).any(axis=0)
    breaks = np.flatnonzero(~joined) + 1
    bounds = [0, *breaks.tolist(), len(grid)]
    runs = [slice(a, b) for a, b in zip(bounds, bounds[1:])]
    return grid, np.nanmean(stack, axis=0), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0), runs


def _broken(values: np.ndarray, runs: list[slice], smooth: float | int | None = None) -> np.ndarray:
    """``values`` run by run (each smoothed on its own), with a NaN between runs so
    that matplotlib never draws a segment across a break."""
    parts = []
    for run in runs:
        if parts:
            parts.append(np.array([np.nan]))
        parts.append(_smooth(values[run], smooth) if smooth is not None else values[run])
    return np.concatenate(parts)


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


def plot_loss_curves(
    jobs: Any,
    metric: str = "valid_loss",
    *,
    x: str = "step",
    hue: str | None = None,
    by: By = DEFAULT_BY,
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
        value in each group of ``by``. A value of one job draws that job's own curve.
        A value of several jobs draws each job faintly, and their mean with the min-max
        band on a common x grid: the x values of the jobs inside the range every one of
        them covers (each job interpolated within its own range, never beyond it), so
        that no segment joins a point of one job to a point of another; where their
        ranges have no x in common there is no mean, and the legend says so.
    by
        With ``hue``: the jobs frame column, or list of columns, whose groups are never
        pooled: one series per group and ``hue`` value, each group in its own line style,
        labelled ``"<group> · <value> (n=...)"``. ``"job_type"`` by default: a
        classifier's loss and a completion job's loss are never averaged; with jobs of
        several providers, ``["provider", "job_type"]``
        (:func:`~ftkit.analysis.inputs.resolve_by`). A ``by`` given is used exactly as
        given; ``None`` pools them on purpose.
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
        ``ax``. Curves have gid ``"curve:<job_id>"``; with ``hue``, the series have gid
        ``"hue:<group values>|<value>"`` (``"hue:<value>"`` with ``by=None``), their
        jobs' faint curves ``"member:<job_id>"`` and bands ``"band:..."``. Best markers
        have gid ``"best:<id or series>"``. Curves with at most 25 points carry a marker
        on each checkpoint. The legend (short ids, suffixes) sits right of the Axes and
        is left out above 30 curves. Jobs without a measured value on the axis are
        named in a note above the Axes (gid ``"left-out"``).

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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    curves = curves_of(js, metric, x)
    mode = metric_mode(metric)
    ax.set_ylabel(metric_label(metric))
    drawn = {job_id for job_id, _, _ in curves}
    missing = [job_id for job_id in js.ids if job_id not in drawn]
    lacking = metric_label(metric) + ("" if x == "step" else f" by {_X_LABELS.get(x, 'elapsed time')}")
    if not curves:
        ax.set_xlabel(_X_LABELS.get(x, "elapsed (s)"))
        return no_data(ax)
    max_x = max(float(xs[-1]) for _, xs, _ in curves)
    scale = _finish_x_axis(ax, x, max_x)
    if scale != 1.0:
        curves = [(job_id, xs / scale, ys) for job_id, xs, ys in curves]

    if hue is None:
        labels = job_labels(js.jobs)
        colors = job_colors(len(curves))
        for (job_id, xs, ys), color in zip(curves, colors):
            draw_curve(
                ax, job_id, xs, ys, label=labels[job_id], color=color, smooth=smooth,
                mark_best=mark_best, mode=mode, **kwargs,
            )
        legend_title = None
        n_entries = len(curves)
    else:
        by = resolve_by(by, js, others=(hue,))
        groups = group_columns(by, where="plot_loss_curves", others=(hue,))
        for what, name in (("hue", hue), *(("by", g) for g in groups)):
            if name not in js.jobs.columns:
                msg = f"{what} must be a column of the jobs frame, got {name!r}; columns are {js.jobs.columns}"
                raise ValueError(msg)
        rows = js.jobs.select("job_id", *groups, hue).rows()
        key_of = {row[0]: row[1:] for row in rows}
        members: dict[tuple, list[tuple[str, np.ndarray, np.ndarray]]] = {}
        for job_id, xs, ys in curves:
            members.setdefault(key_of[job_id], []).append((job_id, xs, ys))
        keys = sorted(members, key=lambda k: tuple((v is None, v if isinstance(v, (int, float)) else str(v)) for v in k))
        hues = sorted({k[-1] for k in keys}, key=lambda v: (v is None, v if isinstance(v, (int, float)) else str(v)))
        numeric = all(isinstance(v, (int, float)) for v in hues if v is not None)
        if numeric and len(hues) > 1:
            cmap = colormaps["viridis"]
            palette = [cmap(i / (len(hues) - 1) * 0.9) if v is not None else "0.5" for i, v in enumerate(hues)]
        else:
            palette = job_colors(len(hues))
        color_of = dict(zip(hues, palette))
        group_keys = list(dict.fromkeys(k[:-1] for k in keys))
        style_of = dict(zip(group_keys, itertools.cycle(["-", "--", ":", "-."])))
        for key in keys:
            color = color_of[key[-1]]
            group = members[key]
            shown = key if len(group_keys) > 1 else key[-1:]  # one group: its name is in the title
            label = f"{group_label(shown)} (n={len(group)})"
            name = "|".join(format_value(v) for v in key)
            style = {"linestyle": style_of[key[:-1]], **kwargs}
            if len(group) == 1:
                # A group of one job draws that job's own curve.
                job_id, xs, ys = group[0]
                draw_curve(ax, name, xs, ys, label=label, color=color, smooth=smooth,
                           mark_best=mark_best, mode=mode, kind="hue", **style)
                continue
            for job_id, xs, ys in group:
                ax.plot(xs, ys, color=color, alpha=0.35, linewidth=0.9, label="_member",
                        linestyle=style["linestyle"], gid=f"member:{job_id}",
                        marker="o" if len(xs) <= _SPARSE_POINTS else None, markersize=2.5)
            grid, mean, lo, hi, runs = _group_mean([(xs, ys) for _, xs, ys in group])
            gx = _broken(grid, runs)
            ax.fill_between(gx, _broken(lo, runs), _broken(hi, runs), where=~np.isnan(gx), color=color,
                            alpha=0.2, linewidth=0, gid=f"band:{name}")
            if smooth is not None:
                ax.plot(gx, _broken(mean, runs), color=color, alpha=0.25, linewidth=1.0, label="_raw",
                        gid=f"raw:{name}")
            draw_curve(ax, name, gx, _broken(mean, runs, smooth), label=label, color=color, smooth=None,
                       mark_best=False, mode=mode, kind="hue", **style)
            if mark_best:
                i = _best_index(mean, mode)
                _best_marker(ax, name, grid[i], mean[i], color)
        if len(group_keys) > 1:
            legend_title = " · ".join(plain(c) for c in (*groups, hue))
        else:
            legend_title = plain(hue) + (f" ({group_label(group_keys[0])})" if groups else "")
        n_entries = len(keys)

    maybe_log(ax, (ys for _, _, ys in curves), metric, log)
    ax.grid(True, alpha=0.3)
    left_out_note(ax, missing, f"no {lacking}", all_ids=js.ids)
    if n_entries <= _MAX_LEGEND_ENTRIES:
        handles, labels_ = ax.get_legend_handles_labels()
        if mark_best:
            handles.append(best_proxy())
            labels_.append("best checkpoint")
        legend_outside(ax, title=legend_title, handles=handles, labels=labels_)
    else:
        ax.text(
            1.02, 1.0, f"{n_entries} curves\n(legend left out;\nuse hue= to group)",
            transform=ax.transAxes, va="top", ha="left", fontsize="small", color="0.35",
        )
    return ax

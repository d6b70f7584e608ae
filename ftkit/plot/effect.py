"""A per-job metric against one parameter, with the mean per value."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D

from ..analysis import effect
from ..analysis.inputs import DEFAULT_BY, By, group_columns, resolve_by
from .common import (
    get_ax,
    group_label,
    job_table,
    left_out_note,
    metric_label,
    no_data,
    per_job_column,
    plain,
    to_jobset,
    truncate,
)

__all__ = ["plot_effect"]


def plot_effect(
    jobs: Any,
    param: str,
    *,
    metric: str = "best_valid_loss",
    by: By = DEFAULT_BY,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Scatter a per-job metric against a hyperparameter, with the mean per value and group.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    param
        A column of the jobs frame: ``"learning_rate"``, ``"epochs"``, ``"model"``...
        Numeric values go on a linear axis (log where they span a factor of 10 or more);
        other values are categories, one column each, jittered. The second positional
        argument, or ``param=``.
    metric
        A per-job number: a column of :func:`ftkit.analysis.checkpoint_summary`
        (``"best_valid_loss"``, ``"final_train_loss"``...), of ``token_usage``
        (``"cost"``), of ``lifecycle`` (``"total_s"``) or of the jobs frame. Losses
        spanning a factor of 10 or more get a log axis.
    by
        The per-job column, or list of columns, whose groups are never pooled: each has
        its own colour, its own mean line and its own legend entry (titled with the
        columns); one group alone titles the Axes. ``"job_type"`` by default, so that a
        classifier's loss and a completion job's loss are never averaged or joined by a
        line; with jobs of several providers, ``["provider", "job_type"]``
        (:func:`~ftkit.analysis.inputs.resolve_by`). A ``by`` given is used exactly as
        given; ``None`` pools all the jobs.
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
        values, bare markers for categories). With several groups, each group's gids
        end with ``":<group>"`` (``"jobs:classifier"``, ``"mean:classifier"``). Jobs
        missing either number are left out and named in a note (gid ``"left-out"``).

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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    ax.set_xlabel(param.replace("_", " "))
    ax.set_ylabel(metric_label(metric))
    if len(js) == 0:
        return no_data(ax)
    by = resolve_by(by, js, others=(param, metric))
    groups = group_columns(by, where="plot_effect", others=(param, metric))
    table = job_table(js)
    per_job_column(table, param, "param")
    per_job_column(table, metric, "metric")
    for name in groups:
        per_job_column(table, name, "by")
    data = table.select(
        "job_id", *groups, pl.col(param).alias("p"), pl.col(metric).cast(pl.Float64).alias("m")
    ).filter(pl.col("p").is_not_null() & pl.col("m").is_not_null() & pl.col("m").is_not_nan())
    kept = set(data["job_id"].to_list())
    left_out = [job_id for job_id in js.ids if job_id not in kept]
    if data.height == 0:
        no_data(ax)
        left_out_note(ax, left_out, f"no {param.replace('_', ' ')} or {metric_label(metric)}", all_ids=js.ids)
        return ax
    keys = sorted(set(data.select(groups).rows()) if groups else {()}, key=_order)
    several = len(keys) > 1
    means = effect(js, param, metric=metric, by=by)
    numeric = data["p"].dtype.is_numeric()
    if numeric:
        data = data.with_columns(pl.col("p").cast(pl.Float64)).sort("p", maintain_order=True)
        categories: list[str] = []
    else:
        data = data.with_columns(pl.col("p").cast(pl.String))
        categories = sorted(data["p"].unique().to_list())
    position = {c: i for i, c in enumerate(categories)}
    rng = np.random.default_rng(0)
    handles, labels = [], []
    for i, key in enumerate(keys):
        color = kwargs.get("color", f"C{i % 10}")
        style = {"s": 28, "alpha": 0.75, "edgecolor": "white", "linewidth": 0.5, **kwargs, "color": color}
        name = group_label(key)
        suffix = f":{name}" if several else ""
        mine = data.filter(*(pl.col(g).eq_missing(v) for g, v in zip(groups, key))) if groups else data
        group_means = means.filter(*(pl.col(g).eq_missing(v) for g, v in zip(groups, key))) if groups else means
        group_means = group_means.filter(pl.col(param).is_not_null() & pl.col("mean").is_not_null())
        if numeric:
            ax.scatter(mine["p"].to_numpy(), mine["m"].to_numpy(), gid=f"jobs{suffix}", zorder=3, **style)
            if group_means.schema[param].is_numeric():
                (line,) = ax.plot(group_means[param].cast(pl.Float64).to_numpy(), group_means["mean"].to_numpy(),
                                  color="0.2" if not several else color, marker="_", markersize=14,
                                  linewidth=1.2, gid=f"mean{suffix}", label="mean")
            else:
                # Binned past ftkit.analysis.MAX_DISTINCT_UNBINNED values: "lo – hi" labels.
                xs: list[float] = []
                ys: list[float] = []
                for text, mean in zip(group_means[param].to_list(), group_means["mean"].to_list()):
                    lo, _, hi = text.partition(" – ")
                    xs += [float(lo), float(hi), np.nan]
                    ys += [mean, mean, np.nan]
                (line,) = ax.plot(xs, ys, color="0.2" if not several else color, linewidth=2.0,
                                  solid_capstyle="butt", gid=f"mean{suffix}", label="mean")
        else:
            base = np.array([position[c] for c in mine["p"].to_list()], dtype=float)
            jitter = rng.uniform(-0.15, 0.15, len(base)) if data.height > 1 else np.zeros(len(base))
            ax.scatter(base + jitter, mine["m"].to_numpy(), gid=f"jobs{suffix}", zorder=3, **style)
            mean_of = dict(zip(group_means[param].cast(pl.String).to_list(), group_means["mean"].to_list()))
            shown = [c for c in categories if c in mean_of]
            (line,) = ax.plot([position[c] for c in shown], [mean_of[c] for c in shown],
                              color="0.2" if not several else color, marker="_", markersize=24,
                              markeredgewidth=1.5, linestyle="none", gid=f"mean{suffix}", label="mean")
        if several:
            handles.append((Line2D([], [], linestyle="none", marker="o", color=color), line))
            labels.append(f"{name} (n={mine.height})")
        else:
            handles += [Line2D([], [], linestyle="none", marker="o", color=color), line]
            labels += [f"job (n={mine.height})", "mean"]
            if groups:
                ax.set_title(name, loc="left", fontsize="medium")
    if numeric:
        px = data["p"].to_numpy()
        if (px > 0).all() and px.max() / px.min() >= 10.0:
            ax.set_xscale("log")
    else:
        ax.set_xticks(range(len(categories)), [truncate(c, 24) for c in categories])
        if len(categories) > 4:
            ax.tick_params(axis="x", labelrotation=30)
            for text in ax.get_xticklabels():
                text.set_horizontalalignment("right")
        ax.set_xlim(-0.5, len(categories) - 0.5)
    m = data["m"].to_numpy()
    if "loss" in metric and (m > 0).all() and m.max() / m.min() >= 10.0:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    title = " · ".join(plain(g) for g in groups) + " (line: mean)" if several else None
    ax.legend(handles, labels, title=title, fontsize="small", title_fontsize="small", frameon=False,
              handler_map={tuple: HandlerTuple(ndivide=None)})
    left_out_note(ax, left_out, f"no {param.replace('_', ' ')} or {metric_label(metric)}", all_ids=js.ids)
    return ax


def _order(key: tuple) -> tuple:
    """Sort group keys: by value, nulls last, numbers before text."""
    return tuple((v is None, not isinstance(v, (int, float)), v if isinstance(v, (int, float)) else str(v)) for v in key)

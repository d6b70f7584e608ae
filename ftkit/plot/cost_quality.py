"""Each job's cost against its quality, with the Pareto front."""

from __future__ import annotations

from typing import Any

import matplotlib.colors as mcolors
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..analysis import pareto
from .common import (
    STATUS_ORDER,
    get_ax,
    job_table,
    legend_outside,
    metric_label,
    no_data,
    per_job_column,
    short_ids,
    status_color,
    to_jobset,
    truncate,
)

__all__ = ["plot_cost_quality"]

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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    ax.set_ylabel(metric_label(quality))
    ax.set_xlabel(cost.replace("_", " "))
    if len(js) == 0:
        return no_data(ax)
    table = job_table(js)
    per_job_column(table, cost, "cost")
    per_job_column(table, quality, "quality")
    columns = ["job_id", "status", pl.col(cost).cast(pl.Float64).alias("c"), pl.col(quality).cast(pl.Float64).alias("q")]
    if "cost_currency" in table.columns:
        columns.append("cost_currency")
    data = table.select(columns).filter(
        pl.col("c").is_not_null() & pl.col("q").is_not_null() & pl.col("c").is_not_nan() & pl.col("q").is_not_nan()
    )
    if cost == "cost":
        currencies = sorted({c for c in data["cost_currency"].to_list() if c}) if "cost_currency" in data.columns else []
        if len(currencies) == 1:
            ax.set_xlabel(f"cost ({truncate(currencies[0], 12)})")
        elif len(currencies) > 1:
            ax.set_xlabel(f"cost ({', '.join(truncate(c, 12) for c in currencies)}: not converted)")
    elif cost.endswith("_s"):
        ax.set_xlabel(f"{cost[:-2].replace('_', ' ')} (s)")
    if data.height == 0:
        return no_data(ax)
    c = data["c"].to_numpy()
    q = data["q"].to_numpy()
    statuses = data["status"].to_list()
    style = {"s": 36, "alpha": 0.85, "edgecolor": "white", "linewidth": 0.5, **kwargs}
    colors = np.array([mcolors.to_rgba(status_color(s)) for s in statuses])
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
            label += f" ({truncate(group['cost_currency'][0], 8)})"
        ax.plot(group[cost].cast(pl.Float64).to_numpy(), group[quality].cast(pl.Float64).to_numpy(),
                drawstyle="steps-post", color="0.25", linewidth=1.2, linestyle=linestyle,
                gid="pareto", label=label, zorder=2)
        front_labels.append(label)
    if annotate and front.height <= 8:
        short = short_ids(data["job_id"].to_list())
        for i, (job_id, x, y) in enumerate(front.select("job_id", cost, quality).iter_rows()):
            ax.annotate(short[job_id], (x, y), xytext=(4, 4 if i % 2 == 0 else -10),
                        textcoords="offset points", fontsize="x-small", color="0.25")
    if "loss" in quality and (q > 0).all() and q.max() / q.min() >= 10.0:
        ax.set_yscale("log")
    if (c > 0).all() and c.max() / c.min() >= 100.0:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    present = [s for s in STATUS_ORDER if s in statuses] + sorted({s for s in statuses if s not in STATUS_ORDER})
    handles = [Line2D([], [], linestyle="none", marker="o", color=status_color(s)) for s in present]
    labels = [truncate(s, 24) for s in present]
    if several:
        for currency, marker in shapes.items():
            handles.append(Line2D([], [], linestyle="none", marker=marker, color="0.4"))
            labels.append(truncate(currency, 12) if currency else "(no currency)")
    handles += [line for line in ax.lines if line.get_gid() == "pareto"]
    legend_outside(ax, handles=handles, labels=[*labels, *front_labels])
    return ax


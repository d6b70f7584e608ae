"""Each job's cost against its quality, with the Pareto front."""

from __future__ import annotations

import itertools
from typing import Any

import matplotlib.colors as mcolors
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..analysis import pareto
from ..analysis.inputs import DEFAULT_BY, By, group_columns, resolve_by
from .common import (
    STATUS_ORDER,
    get_ax,
    group_label,
    left_out_note,
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
    by: By = DEFAULT_BY,
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
    by
        The per-job column, or list of columns, whose groups are never compared: each
        group (and currency) has its own marker shape and its own front.
        ``"job_type"`` by default: a classifier's loss and a completion job's loss are
        not comparable; with jobs of several providers, ``["provider", "job_type"]``
        (:func:`~ftkit.analysis.inputs.resolve_by`). A ``by`` given is used exactly as
        given; ``None`` compares all the jobs together.
    annotate
        Write the short job id beside each job on the front (when it has at most 8).
    ax
        The Axes to draw on; the current Axes by default.
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.scatter`.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: jobs as points coloured by status (gid ``"jobs"``; with several groups
        or currencies one marker shape and gid ``"jobs:<group> · <currency>"`` each),
        the front from :func:`ftkit.analysis.pareto` as a step line (gid ``"pareto"``,
        or ``"pareto:<group> · <currency>"``) through the jobs no other job of their
        group beats on both counts. Costs in different currencies are never compared:
        each currency gets its own front, in its own line style. Jobs without both
        numbers are named in a note (gid ``"left-out"``).

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
    by = resolve_by(by, js, others=(cost, quality))
    groups = group_columns(by, where="plot_cost_quality", others=(cost, quality))
    table = job_table(js)
    per_job_column(table, cost, "cost")
    per_job_column(table, quality, "quality")
    for name in groups:
        per_job_column(table, name, "by")
    columns = ["job_id", "status", *groups, pl.col(cost).cast(pl.Float64).alias("c"),
               pl.col(quality).cast(pl.Float64).alias("q")]
    priced = cost == "cost"
    columns.append(pl.col("cost_currency") if priced else pl.lit(None, dtype=pl.String).alias("cost_currency"))
    data = table.select(columns).filter(
        pl.col("c").is_not_null() & pl.col("q").is_not_null() & pl.col("c").is_not_nan() & pl.col("q").is_not_nan()
    )
    kept = set(data["job_id"].to_list())
    left_out = [job_id for job_id in js.ids if job_id not in kept]
    why = f"no {cost.replace('_', ' ')} or {metric_label(quality)}"
    if priced:
        currencies = sorted({c for c in data["cost_currency"].to_list() if c})
        if len(currencies) == 1:
            ax.set_xlabel(f"cost ({truncate(currencies[0], 12)})")
        elif len(currencies) > 1:
            ax.set_xlabel(f"cost ({', '.join(truncate(c, 12) for c in currencies)}: not converted)")
    elif cost.endswith("_s"):
        ax.set_xlabel(f"{cost[:-2].replace('_', ' ')} (s)")
    if data.height == 0:
        no_data(ax)
        left_out_note(ax, left_out, why, all_ids=js.ids)
        return ax
    c = data["c"].to_numpy()
    q = data["q"].to_numpy()
    statuses = data["status"].to_list()
    style = {"s": 36, "alpha": 0.85, "edgecolor": "white", "linewidth": 0.5, **kwargs}
    colors = np.array([mcolors.to_rgba(status_color(s)) for s in statuses])
    # One series per group and currency: its own marker, its own front, never compared.
    series_of = [(*row[:-1], row[-1] or "") for row in data.select(*groups, "cost_currency").rows()]
    keys = sorted(set(series_of), key=lambda k: tuple((v is None, str(v)) for v in k))
    several = len(keys) > 1
    names = {key: group_label(key[:-1]) + (" · " if groups and key[-1] else "") + truncate(key[-1], 12)
             if key[-1] or groups else "" for key in keys}
    markers = dict(zip(keys, itertools.cycle("osD^v<>pP")))
    for key in keys:
        keep = np.array([s == key for s in series_of])
        if "c" not in kwargs and "color" not in kwargs:
            style["c"] = colors[keep]
        ax.scatter(c[keep], q[keep], marker=markers[key] if several else "o", zorder=3,
                   gid="jobs" if not several else f"jobs:{names[key] or '(none)'}", **style)
    front = pareto(js, cost=cost, quality=quality, by=by).with_columns(
        (pl.col("cost_currency") if priced else pl.lit(None, dtype=pl.String)).fill_null("").alias("_currency")
    )
    front_labels = []
    linestyles = itertools.cycle(["--", ":", "-.", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1))])
    for key in keys:
        part = front.filter(*(pl.col(g).eq_missing(v) for g, v in zip(groups, key[:-1])), pl.col("_currency") == key[-1])
        if part.height == 0:
            continue
        label = "Pareto front" + (f" ({names[key]})" if several else "")
        ax.plot(part[cost].cast(pl.Float64).to_numpy(), part[quality].cast(pl.Float64).to_numpy(),
                drawstyle="steps-post", color="0.25", linewidth=1.2, linestyle=next(linestyles),
                gid="pareto" if not several else f"pareto:{names[key]}", label=label, zorder=2)
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
        for key in keys:
            handles.append(Line2D([], [], linestyle="none", marker=markers[key], color="0.4"))
            labels.append(names[key] or "(no currency)")
    handles += [line for line in ax.lines if (line.get_gid() or "").startswith("pareto")]
    legend_outside(ax, handles=handles, labels=[*labels, *front_labels])
    left_out_note(ax, left_out, why, all_ids=js.ids)
    return ax

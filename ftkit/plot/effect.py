"""A per-job metric against one parameter, with the mean per value."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..analysis import effect
from .common import get_ax, job_table, metric_label, no_data, per_job_column, to_jobset, truncate

__all__ = ["plot_effect"]

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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    ax.set_xlabel(param.replace("_", " "))
    ax.set_ylabel(metric_label(metric))
    if len(js) == 0:
        return no_data(ax)
    table = job_table(js)
    per_job_column(table, param, "param")
    per_job_column(table, metric, "metric")
    data = table.select("job_id", pl.col(param).alias("p"), pl.col(metric).cast(pl.Float64).alias("m")).filter(
        pl.col("p").is_not_null() & pl.col("m").is_not_null() & pl.col("m").is_not_nan()
    )
    if data.height == 0:
        return no_data(ax)
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
        ax.set_xticks(range(len(categories)), [truncate(c, 24) for c in categories])
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


"""One job on one figure: losses, accuracy, lifecycle and hyperparameters."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis import token_usage
from ..jobset import JobSet
from .common import METRIC_LABELS, maybe_log, no_data, status_color, to_jobset, truncate
from .curves import best_proxy, curves_of, draw_curve
from .lifecycle import PHASE_STYLE, duration_scale, phases_of

__all__ = ["plot_job"]

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
    return truncate(value, 40)


def plot_job(job: Any, job_id: str | None = None, *, figsize: tuple[float, float] = (11.0, 6.5)) -> Figure:
    """Summarise one job on one figure: loss curves, accuracy, lifecycle, hyperparameters.

    Parameters
    ----------
    job
        A job Struct, or a JobSet (or source) holding one job. An empty JobSet gives
        a figure of "no data" panels; more than one job raises ``ValueError`` unless
        ``job_id`` picks one.
    job_id
        The job to draw among ``job``'s: its id or its short id (8 characters or more,
        as plots and tables show them; see :meth:`ftkit.JobSet.resolve`).
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
    js = to_jobset(job)
    if job_id is not None:
        js = JobSet([js[job_id]])
    if len(js) > 1:
        msg = f"plot_job takes one job, got a JobSet of {len(js)} jobs; pick one with plot_job(js, job_id)"
        raise ValueError(msg)
    fig = plt.figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=(1.6, 1.0), height_ratios=(1.4, 1.0))
    ax_loss = fig.add_subplot(grid[0, 0])
    ax_table = fig.add_subplot(grid[0, 1])
    ax_acc = fig.add_subplot(grid[1, 0])
    ax_time = fig.add_subplot(grid[1, 1])
    if len(js) == 0:
        for ax in fig.axes:
            no_data(ax)
        return fig
    row = js.jobs.row(0, named=True)
    title = " · ".join(truncate(row[k], 40) for k in ("job_id", "model", "status") if row[k])
    if row.get("suffix"):
        title += f" · {truncate(row['suffix'], 30)}"
    fig.suptitle(title)

    # Losses.
    drawn = []
    for metric, color in (("train_loss", "C0"), ("valid_loss", "C1")):
        for job_id, xs, ys in curves_of(js, metric, "step"):
            draw_curve(ax_loss, job_id, xs, ys, label=METRIC_LABELS[metric], color=color,
                        smooth=None, mark_best=metric == "valid_loss", mode="min")
            drawn.append(ys)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    if drawn:
        ax_loss.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        maybe_log(ax_loss, drawn, "loss", None)
        ax_loss.grid(True, alpha=0.3)
        handles, labels = ax_loss.get_legend_handles_labels()
        if any((line.get_gid() or "").startswith("best:") for line in ax_loss.lines):
            handles.append(best_proxy())
            labels.append("best checkpoint")
        ax_loss.legend(handles, labels, fontsize="small", frameon=False)
    else:
        no_data(ax_loss)

    # Accuracy.
    curves = curves_of(js, "valid_mean_token_accuracy", "step")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("valid mean token accuracy")
    if curves:
        for job_id, xs, ys in curves:
            draw_curve(ax_acc, job_id, xs, ys, label="_acc", color="C2", smooth=None,
                        mark_best=False, mode="max")
        ax_acc.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax_acc.grid(True, alpha=0.3)
    else:
        no_data(ax_acc)

    # Lifecycle: the phases as stacked durations.
    spans = phases_of(js)[row["job_id"]]
    color = status_color(row["status"])
    longest = spans[-1][2] - spans[0][1]
    scale, unit = duration_scale(longest)
    for phase, a, b in spans:
        style = PHASE_STYLE[phase]
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
        currency = usage.get("cost_currency")
        rows.append(("cost", f"{cost_value:.4g} {truncate(currency, 12) if currency else ''}".strip()))
    rows.append(("job type", _format_cell(row.get("job_type"))))
    if row.get("fine_tuned_model"):
        rows.append(("fine-tuned model", truncate(row["fine_tuned_model"], 30)))
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

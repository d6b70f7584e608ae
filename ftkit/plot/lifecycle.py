"""The lifecycle of jobs: phases on a timeline, counts per status."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..analysis.phases import PHASES  # one mapping of statuses to phases, shared with lifecycle()
from ..jobset import JobSet
from .common import STATUS_ORDER, get_ax, job_labels, legend_outside, no_data, status_color, to_jobset, truncate

__all__ = ["PHASE_STYLE", "TIMELINE_LIMIT", "plot_timeline", "plot_status_counts", "phases_of", "duration_scale"]

#: How each phase is drawn: queued light, validating hatched, running solid.
PHASE_STYLE = {
    "queued": {"alpha": 0.35, "hatch": None},
    "validating": {"alpha": 0.6, "hatch": "////"},
    "running": {"alpha": 1.0, "hatch": None},
    "unknown": {"alpha": 0.25, "hatch": "...."},
}


def phases_of(js: JobSet) -> dict[str, list[tuple[str, float, float]]]:
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


def duration_scale(seconds: float) -> tuple[float, str]:
    if seconds >= 2 * 86400:
        return 86400.0, "d"
    if seconds >= 2 * 3600:
        return 3600.0, "h"
    if seconds >= 2 * 60:
        return 60.0, "min"
    return 1.0, "s"


#: How many jobs :func:`plot_timeline` draws by default: the most recent ones.
TIMELINE_LIMIT = 40


def plot_timeline(
    jobs: Any,
    *,
    limit: int | None = TIMELINE_LIMIT,
    align: bool | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw each job's queued, validating and running phases, coloured by its status.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` reads, or job Structs.
    limit
        Draw at most this many jobs, the most recently created (default 40: more rows
        would be slivers); a note above the Axes says how many older jobs were left
        out. ``None`` draws every job.
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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        msg = f"plot_timeline: limit must be a positive number of jobs or None, got {limit!r}"
        raise ValueError(msg)
    if len(js) == 0:
        ax.set_xlabel("elapsed" if align else "time (UTC)")
        return no_data(ax)
    frame = js.jobs.sort("created_at", "job_id", nulls_last=True, maintain_order=True)
    left_out = 0
    if limit is not None and frame.height > limit:
        left_out = frame.height - limit
        frame = frame.tail(limit)
        js = js.filter(pl.col("job_id").is_in(frame["job_id"].implode()))
        ax.annotate(
            f"the {limit} most recent of {frame.height + left_out} jobs: {left_out} older jobs left out (limit={limit})",
            xy=(0.0, 0.0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -3), textcoords="offset points",
            ha="left", va="top", fontsize="x-small", color="0.4", gid="left-out",
        )
    phases = phases_of(js)
    ids = frame["job_id"].to_list()
    statuses = dict(zip(frame["job_id"].to_list(), frame["status"].to_list()))
    labels = job_labels(frame)
    starts = {job_id: phases[job_id][0][1] for job_id in ids}
    if align is None:
        longest = max(spans[-1][2] - spans[0][1] for spans in phases.values())
        period = max(s[-1][2] for s in phases.values()) - min(s[0][1] for s in phases.values())
        align = period > 20 * max(longest, 1.0)
    if align:
        longest = max(spans[-1][2] - spans[0][1] for spans in phases.values())
        scale, unit = duration_scale(longest)
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
        color = status_color(statuses[job_id])
        y = len(ids) - 1 - row
        for phase, a, b in phases[job_id]:
            style = PHASE_STYLE[phase]
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
    present = [s for s in STATUS_ORDER if s in statuses.values()] + sorted(
        {str(s) for s in statuses.values() if s not in STATUS_ORDER}
    )
    handles: list[Any] = [Patch(facecolor=status_color(s), label=truncate(s, 24)) for s in present]
    used = {phase for spans in phases.values() for phase, _, _ in spans}
    for phase in ("queued", "validating", "running", "unknown"):
        if phase in used:
            style = PHASE_STYLE[phase]
            handles.append(Patch(facecolor="0.3", alpha=style["alpha"], hatch=style["hatch"],
                                 edgecolor="0.3", label=phase if phase != "unknown" else "no events"))
    legend_outside(ax, handles=handles, labels=[h.get_label() for h in handles])
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
    ax = get_ax(ax)
    js = to_jobset(jobs)
    ax.set_xlabel("jobs")
    if len(js) == 0:
        return no_data(ax)
    counts = js.jobs.group_by("status").len()
    found = dict(zip(counts["status"].to_list(), counts["len"].to_list()))
    order = [s for s in STATUS_ORDER if s in found] + sorted(str(s) for s in found if s not in STATUS_ORDER)
    values = [found[s] for s in order]
    y = np.arange(len(order))[::-1]
    style = {"color": [status_color(s) for s in order], "height": 0.7, **kwargs}
    bars = ax.barh(y, values, gid="status-counts", **style)
    ax.bar_label(bars, padding=3, fontsize="small")
    ax.set_yticks(y, [truncate(s, 24) for s in order])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(values) * 1.12)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


"""Plots of fine-tuning jobs: loss curves, effects, cost against quality, timelines.

Every ``plot_*`` function but :func:`plot_job` is axes-level, in the manner of seaborn:
it takes the jobs first (and the one thing it plots, ``metric`` or ``param``, second,
positionally or by name), keyword-only options after, draws on ``ax`` (or the current
Axes) and returns that Axes. It never calls ``show()`` or ``savefig()`` and never changes
rcParams. :func:`plot_job` owns its figure and returns it.

``jobs`` may be a :class:`~ftkit.JobSet`, anything :func:`ftkit.read_jobs` accepts (a
path, a glob, bytes), or an iterable of job Structs. Where nothing can be drawn (no jobs,
no checkpoints, no cost), the Axes carries a centred "no data" note instead of raising;
jobs left out of a plot (no value for what it draws) are named in a note under the x
axis (gid ``"left-out"``).

Jobs of different groups (``by=``, ``"job_type"`` by default: a classifier's loss and a
completion job's loss are not comparable; ``["provider", "job_type"]`` by default where
the jobs come from several providers) are never pooled, joined by a line or put on one
front: each group gets its own series, labelled with it; a ``by`` given is used exactly
as given, and ``by=None`` pools them.

Lines and markers carry a ``gid`` naming what they show (``"curve:<job_id>"``,
``"member:<job_id>"``, ``"best:<job_id>"``, ``"hue:<group>|<value>"``, ``"mean:<group>"``,
``"pareto"``), so that tests and widgets can find them. Text from jobs (ids, suffixes,
models, statuses, currencies) is shortened and drawn as written, never as mathtext.

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

from .common import STATUS_COLORS
from .cost_quality import plot_cost_quality
from .curves import plot_loss_curves
from .effect import plot_effect
from .job import plot_job
from .lifecycle import plot_status_counts, plot_timeline

__all__ = [
    "plot_loss_curves",
    "plot_effect",
    "plot_cost_quality",
    "plot_timeline",
    "plot_status_counts",
    "plot_job",
    "STATUS_COLORS",
]

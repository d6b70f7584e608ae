"""ftkit: read, compare and plot Mistral fine-tuning jobs.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(10, seed=0))
>>> js.jobs.height
10
"""

from . import synth
from .analysis import (
    checkpoint_summary,
    checkpoints_with_axes,
    compare_hyperparameters,
    token_usage,
    token_usage_totals,
    lifecycle,
    metric_flags,
    effect,
    pareto,
)
from .errors import JobDecodeError
from .frames import checkpoints_frame, events_frame, jobs_frame, targets_frame
from .jobset import JobSet
from .reading import iter_jobs, read_jobs, write_jobs
from .schema import (
    Checkpoint,
    ClassifierJob,
    CompletionJob,
    Event,
    Job,
    JobList,
)

__version__ = "0.1.0"

__all__ = [
    "JobDecodeError",
    "JobSet",
    "read_jobs",
    "iter_jobs",
    "write_jobs",
    "jobs_frame",
    "checkpoints_frame",
    "events_frame",
    "targets_frame",
    "synth",
    "Job",
    "ClassifierJob",
    "CompletionJob",
    "Checkpoint",
    "Event",
    "JobList",
    "checkpoint_summary",
    "checkpoints_with_axes",
    "compare_hyperparameters",
    "token_usage",
    "token_usage_totals",
    "lifecycle",
    "metric_flags",
    "effect",
    "pareto",
]

__all__ += ["JobBrowser"]


def __getattr__(name: str):
    """``ftkit.JobBrowser``, imported on first use so that ``import ftkit`` needs no ipywidgets."""
    if name == "JobBrowser":
        from .browser import JobBrowser

        return JobBrowser
    if name == "plot":  # ftkit.plot imports matplotlib: only on first use
        import importlib

        return importlib.import_module(".plot", __name__)
    msg = f"module 'ftkit' has no attribute {name!r}"
    raise AttributeError(msg)

"""ftkit: read, compare and plot Mistral fine-tuning jobs, and OpenAI ones beside them.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(10, seed=0))
>>> js.jobs.height
10
"""

from .analysis import (
    checkpoint_summary,
    checkpoints_with_axes,
    compare_hyperparameters,
    effect,
    lifecycle,
    metric_flags,
    pareto,
    token_usage,
    token_usage_totals,
)
from .errors import JobDecodeError
from .frames import checkpoints_frame, events_frame, jobs_frame, targets_frame
from .jobset import JobSet
from .openai_schema import OpenAICheckpoint, OpenAIEvent, OpenAIJob
from .read import iter_jobs, read_jobs, write_jobs
from .convert import convert_jobs
from .tables import Tables, scan_tables
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
    "convert_jobs",
    "scan_tables",
    "Tables",
    "jobs_frame",
    "checkpoints_frame",
    "events_frame",
    "targets_frame",
    "Job",
    "ClassifierJob",
    "CompletionJob",
    "Checkpoint",
    "Event",
    "JobList",
    "OpenAIJob",
    "OpenAIEvent",
    "OpenAICheckpoint",
    "checkpoint_summary",
    "checkpoints_with_axes",
    "compare_hyperparameters",
    "token_usage",
    "token_usage_totals",
    "lifecycle",
    "metric_flags",
    "effect",
    "pareto",
    "JobBrowser",
    "export_jobs",
    "ExportError",
    "ExportResult",
    "export_openai_jobs",
    "synth",
    "display_config",
    "sql",
]

# Imported on first use, so that ``import ftkit`` loads neither matplotlib, ipywidgets
# nor httpx: name -> (module, attribute or None for the module itself).
_LAZY = {
    "JobBrowser": (".browser", "JobBrowser"),
    "export_jobs": (".export", "export_jobs"),
    "ExportError": (".export", "ExportError"),
    "ExportResult": (".export", "ExportResult"),
    "export_openai_jobs": (".export_openai", "export_openai_jobs"),
    "plot": (".plot", None),
    "synth": (".synth", None),
    "display_config": (".display", "display_config"),
    "sql": (".sql", None),
}


def __getattr__(name: str):
    """The names in ``_LAZY``, imported on first use."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        msg = f"module 'ftkit' has no attribute {name!r}"
        raise AttributeError(msg) from None
    import importlib

    module = importlib.import_module(module_name, __name__)
    return module if attribute is None else getattr(module, attribute)

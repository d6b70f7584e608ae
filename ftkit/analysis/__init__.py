"""Compare jobs: hyperparameters, checkpoint metrics, tokens, cost and lifecycle.

Every function takes ``jobs``: a :class:`~ftkit.JobSet`, anything
:func:`ftkit.read_jobs` accepts (a path, a glob, bytes, a list of these), or an iterable
of job Structs; and returns a polars DataFrame keyed by ``job_id``, built with polars
expressions from the JobSet's cached frames. Jobs keep the JobSet's order. An empty
input gives an empty frame with the same columns; a job that lacks what a column needs
gets null there, never an exception.

The helpers that compare jobs with each other, :func:`effect` and :func:`pareto`, take
``by=``: a column of the jobs frame (or a list of them) whose groups are never pooled or
compared, ``"job_type"`` by default, since a classifier's loss and a completion job's
loss are not comparable, and ``["provider", "job_type"]`` by default where the jobs come
from several providers (OpenAI and Mistral losses come from other tokenizers, models and
data; see :func:`ftkit.analysis.inputs.resolve_by`); their frames carry the group
columns. A ``by`` given is used exactly as given; ``by=None`` pools.

Lazy tables: :func:`checkpoint_summary`, :func:`compare_hyperparameters`,
:func:`token_usage`, :func:`token_usage_totals` and :func:`lifecycle` also take the
tables of a Parquet dataset as LazyFrames (:func:`ftkit.scan_tables`, or a dict with
``"jobs"``, ``"checkpoints"``, ``"events"`` LazyFrames) and then return a LazyFrame:
``.collect(engine="streaming")`` runs it over datasets larger than memory and gives the
frame the JobSet would. Each is one polars query, the same for both: a JobSet's frames go
in with ``.lazy()`` and the result is collected. A job's checkpoints and events are
expected together and in the order of the in-memory frames, as :func:`ftkit.convert_jobs`
writes them. ``compare_hyperparameters(varying_only=True)`` collects a small aggregate
first, to pick its columns.

Examples
--------
>>> import ftkit
>>> from ftkit.analysis import checkpoint_summary
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=1))
>>> checkpoint_summary(js).columns[:4]
['job_id', 'n_checkpoints', 'n_evaluated', 'last_step']
"""

from .checkpoints import SUMMARY_SCHEMA, checkpoint_summary, checkpoints_with_axes
from .comparisons import HYPERPARAMETER_PROVIDERS, HYPERPARAMETERS, MAX_DISTINCT_UNBINNED, compare_hyperparameters, effect, pareto
from .costs import TOKEN_USAGE_SCHEMA, token_usage, token_usage_totals
from .flags import FLAGS, FLAGS_SCHEMA, metric_flags
from .inputs import METRICS, By, Mode, as_jobset
from .phases import LIFECYCLE_SCHEMA, lifecycle

__all__ = [
    "as_jobset",
    "checkpoint_summary",
    "checkpoints_with_axes",
    "compare_hyperparameters",
    "token_usage",
    "token_usage_totals",
    "lifecycle",
    "metric_flags",
    "effect",
    "pareto",
    "HYPERPARAMETERS",
    "HYPERPARAMETER_PROVIDERS",
    "METRICS",
]


"""Compare jobs: hyperparameters, checkpoint metrics, tokens, cost and lifecycle.

Every function takes ``jobs``: a :class:`~ftkit.JobSet`, anything
:func:`ftkit.read_jobs` accepts (a path, a glob, bytes, a list of these), or an iterable
of job Structs; and returns a polars DataFrame keyed by ``job_id``, built with polars
expressions from the JobSet's cached frames. Jobs keep the JobSet's order. An empty
input gives an empty frame with the same columns; a job that lacks what a column needs
gets null there, never an exception.

Examples
--------
>>> import ftkit
>>> from ftkit.analysis import checkpoint_summary
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=1))
>>> checkpoint_summary(js).columns[:4]
['job_id', 'n_checkpoints', 'n_evaluated', 'last_step']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import msgspec
import polars as pl

from .frames import JOBS_SCHEMA
from .jobset import JobSet

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

Mode = Literal["min", "max"]

#: Hyperparameter columns of the jobs frame, and the job types that have each.
HYPERPARAMETERS: dict[str, frozenset[str]] = {
    "learning_rate": frozenset({"classifier", "completion"}),
    "training_steps": frozenset({"classifier", "completion"}),
    "epochs": frozenset({"classifier", "completion"}),
    "weight_decay": frozenset({"classifier", "completion"}),
    "warmup_fraction": frozenset({"classifier", "completion"}),
    "seq_len": frozenset({"classifier", "completion"}),
    "fim_ratio": frozenset({"completion"}),
    # OpenAI's (null on Mistral jobs; "auto" is null too, see n_epochs_auto...).
    "n_epochs": frozenset({"completion", "dpo", "reinforcement"}),
    "batch_size": frozenset({"completion", "dpo", "reinforcement"}),
    "learning_rate_multiplier": frozenset({"completion", "dpo", "reinforcement"}),
}

#: The provider whose jobs have each hyperparameter of :data:`HYPERPARAMETERS`.
HYPERPARAMETER_PROVIDERS: dict[str, str] = {
    name: "openai" if name in ("n_epochs", "batch_size", "learning_rate_multiplier") else "mistral"
    for name in HYPERPARAMETERS
}

#: Checkpoint metrics, in the order the summary columns use.
METRICS = ("train_loss", "valid_loss", "valid_mean_token_accuracy")

_TERMINAL = ("SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED")
# Order of statuses stamped in the same second: the order a job goes through them.
_RANK = {
    "QUEUED": 0,
    "STARTED": 1,
    "VALIDATING": 2,
    "VALIDATED": 3,
    "RUNNING": 4,
    "CANCELLATION_REQUESTED": 5,
    "SUCCESS": 6,
    "FAILED_VALIDATION": 6,
    "FAILED": 6,
    "CANCELLED": 6,
}
_PHASE = {
    "QUEUED": "queued",
    "VALIDATED": "queued",
    "STARTED": "validating",
    "VALIDATING": "validating",
    "RUNNING": "running",
    "CANCELLATION_REQUESTED": "running",
}

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "n_checkpoints": pl.Int64(),
    "n_evaluated": pl.Int64(),
    "last_step": pl.Int64(),
    "final_train_loss": pl.Float64(),
    "final_valid_loss": pl.Float64(),
    "final_valid_mean_token_accuracy": pl.Float64(),
    "best_step": pl.Int64(),
    "best_train_loss": pl.Float64(),
    "best_valid_loss": pl.Float64(),
    "best_valid_mean_token_accuracy": pl.Float64(),
    "improvement": pl.Float64(),
    "gap_at_best": pl.Float64(),
    "gap_final": pl.Float64(),
    "steps_after_best": pl.Int64(),
}

LIFECYCLE_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "final_status": pl.String(),
    "queued_s": pl.Int64(),
    "validating_s": pl.Int64(),
    "running_s": pl.Int64(),
    "total_s": pl.Int64(),
    "failed": pl.Boolean(),
    "cancelled": pl.Boolean(),
    "requeued": pl.Boolean(),
}

TOKEN_USAGE_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "trained_tokens": pl.Int64(),
    "train_tokens": pl.Int64(),
    "data_tokens": pl.Int64(),
    "epochs_realised": pl.Float64(),
    "cost": pl.Float64(),
    "cost_currency": pl.String(),
    "cost_per_million_tokens": pl.Float64(),
}

FLAGS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "flag": pl.String(),
    "severity": pl.String(),
    "step_number": pl.Int64(),
    "message": pl.String(),
}


# --- inputs -------------------------------------------------------------------------


def as_jobset(jobs: Any) -> JobSet:
    """The jobs as a :class:`~ftkit.JobSet`: a JobSet passes through.

    An iterable of job Structs becomes ``JobSet(list(jobs))``; anything else (a path, a
    glob, bytes, a list of these) is read with :func:`ftkit.read_jobs`.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(2, seed=0))
    >>> as_jobset(js) is js, len(as_jobset(list(js))), len(as_jobset([]))
    (True, 2, 0)
    """
    if isinstance(jobs, JobSet):
        return jobs
    if isinstance(jobs, (str, bytes, bytearray, memoryview)) or not isinstance(jobs, Iterable):
        from .reading import read_jobs

        return read_jobs(jobs)
    items = list(jobs)
    if all(isinstance(item, msgspec.Struct) for item in items):
        return JobSet(items)
    from .reading import read_jobs

    return read_jobs(items)


def _infer_mode(metric: str, mode: Mode | None) -> Mode:
    if mode is None:
        return "max" if "accuracy" in metric else "min"
    if mode not in ("min", "max"):
        msg = f"mode must be 'min', 'max' or None, got {mode!r}"
        raise ValueError(msg)
    return mode


def _measured(checkpoints: pl.DataFrame) -> pl.DataFrame:
    """Null the validation placeholders the frame left: a lone 0.0 beside a null or 0.0."""
    vl, acc = pl.col("valid_loss"), pl.col("valid_mean_token_accuracy")
    vl_ph = (vl == 0.0) & (acc.is_null() | (acc == 0.0))
    acc_ph = (acc == 0.0) & (vl.is_null() | (vl == 0.0))
    return checkpoints.with_columns(
        pl.when(vl_ph.not_()).then(vl).alias("valid_loss"),
        pl.when(acc_ph.not_()).then(acc).alias("valid_mean_token_accuracy"),
    )


def _job_keys(js: JobSet, *columns: str) -> pl.DataFrame:
    return js.jobs.select("job_id", *columns)


def _left(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    return left.join(right, on="job_id", how="left", maintain_order="left")


# --- checkpoints ----------------------------------------------------------------------


def checkpoint_summary(jobs: Any, *, metric: str = "valid_loss", mode: Mode | None = None) -> pl.DataFrame:
    """One row per job: checkpoint counts, final metrics, the best step and what it scored.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    metric
        The checkpoint metric that picks the best step: ``"valid_loss"`` (default),
        ``"train_loss"`` or ``"valid_mean_token_accuracy"``.
    mode
        ``"min"`` or ``"max"``: whether the best step has the lowest or the highest
        ``metric``. ``None`` (default) means ``"max"`` for accuracy and ``"min"`` for
        losses.

    Returns
    -------
    polars.DataFrame
        Every job of ``jobs``, in order, with columns

        - ``n_checkpoints``: checkpoints in the job's list (null where the JSON had no
          list, as in list responses); ``n_evaluated``: those with a measured
          validation metric.
        - ``last_step``: the highest step number.
        - ``final_<metric>`` for each metric: its value at the last checkpoint where it
          was measured.
        - ``best_step``: the step with the lowest (``"min"``) or highest (``"max"``)
          ``metric``, the earliest step winning ties; ``best_<metric>`` for each metric:
          its value **at that step** (so ``best_valid_mean_token_accuracy`` is the
          accuracy at the lowest-``valid_loss`` step by default, not the highest
          accuracy).
        - ``improvement``: how much better the best value is than the first measured
          one, in the metric's units; ``>= 0`` in both modes (first minus best for
          ``"min"``, best minus first for ``"max"``).
        - ``gap_at_best``: ``valid_loss - train_loss`` at the best step;
          ``gap_final``: the same at the last checkpoint that has both.
        - ``steps_after_best``: ``last_step - best_step``; a large value relative to
          ``last_step`` means the job kept training after it stopped improving.

        The best-step columns are null for jobs with no checkpoint measuring ``metric``.

    Notes
    -----
    Validation metrics of ``0.0`` are placeholders for "not measured" (real 2025 jobs
    write them on every step without evaluation): the checkpoints frame nulls them when
    both are ``0.0``, and this function also when one is ``0.0`` and the other is absent,
    so a placeholder never wins "best".

    Examples
    --------
    >>> import ftkit, msgspec
    >>> cp = lambda step, train, valid, acc: {"step_number": step, "created_at": step,
    ...     "metrics": {"train_loss": train, "valid_loss": valid,
    ...                 "valid_mean_token_accuracy": acc}}
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 9, "hyperparameters": {}, "checkpoints": [
    ...        cp(30, 0.25, 0.0, 0.0), cp(20, 0.5, 0.75, 1.8), cp(10, 0.875, 1.0, 1.7)]}
    >>> summary = checkpoint_summary(msgspec.json.encode([job]))
    >>> summary.select("job_id", "n_evaluated", "last_step", "best_step", "best_valid_loss")
    shape: (1, 5)
    ┌────────┬─────────────┬───────────┬───────────┬─────────────────┐
    │ job_id ┆ n_evaluated ┆ last_step ┆ best_step ┆ best_valid_loss │
    │ ---    ┆ ---         ┆ ---       ┆ ---       ┆ ---             │
    │ str    ┆ i64         ┆ i64       ┆ i64       ┆ f64             │
    ╞════════╪═════════════╪═══════════╪═══════════╪═════════════════╡
    │ a      ┆ 2           ┆ 30        ┆ 20        ┆ 0.75            │
    └────────┴─────────────┴───────────┴───────────┴─────────────────┘
    >>> summary.select("improvement", "gap_at_best", "steps_after_best").row(0)
    (0.25, 0.25, 10)
    """
    if metric not in METRICS:
        msg = f"checkpoint_summary: metric must be one of {list(METRICS)}, got {metric!r}"
        raise ValueError(msg)
    mode = _infer_mode(metric, mode)
    js = as_jobset(jobs)
    cp = _runs(_measured(js.checkpoints))
    # One group_by with only cheap aggregations over an integer key; the rows holding
    # the best, last and first values are then gathered by their position in ``cp``.
    i = pl.col("_i")
    measured_at = {name: pl.when(pl.col(name).is_not_null()).then(i) for name in METRICS}
    gap = pl.col("valid_loss") - pl.col("train_loss")
    evaluated = pl.col("valid_loss").is_not_null() | pl.col("valid_mean_token_accuracy").is_not_null()
    pick = pl.col(metric).arg_min() if mode == "min" else pl.col(metric).arg_max()
    def aggregate(cp: pl.DataFrame) -> pl.DataFrame:
        return cp.group_by("_run", maintain_order=True).agg(
            i.first().alias("_start"),
            evaluated.sum().cast(pl.Int64).alias("n_evaluated"),
            pl.col("step_number").max().alias("last_step"),
            *(at.max().alias(f"_final_{name}") for name, at in measured_at.items()),
            pick.alias("_pick"),
            measured_at[metric].min().alias("_first"),
            pl.when(gap.is_not_null()).then(i).max().alias("_gap_final"),
        )

    agg = aggregate(cp)
    job_ids = cp["job_id"].gather(agg["_start"])
    if job_ids.is_duplicated().any():
        # The frame holds each job's checkpoints together, sorted by step; if a frame
        # built elsewhere does not, sort it so (stable: steps stay in order).
        cp = _runs(cp.drop("_i", "_run").sort("job_id", "step_number", maintain_order=True))
        agg = aggregate(cp)
        job_ids = cp["job_id"].gather(agg["_start"])

    best = agg["_start"] + agg["_pick"]
    final = {name: agg[f"_final_{name}"] for name in METRICS}
    picked = cp.select(
        job_ids.alias("job_id"),
        *(pl.col(name).gather(final[name]).alias(f"final_{name}") for name in METRICS),
        pl.col("step_number").gather(best).alias("best_step"),
        *(pl.col(name).gather(best).alias(f"best_{name}") for name in METRICS),
        pl.col(metric).gather(agg["_first"]).alias("_first_value"),
        pl.col("valid_loss").gather(agg["_gap_final"]).alias("_gap_valid"),
        pl.col("train_loss").gather(agg["_gap_final"]).alias("_gap_train"),
    )
    first_value, best_value = pl.col("_first_value"), pl.col(f"best_{metric}")
    agg = pl.concat([agg.select("n_evaluated", "last_step"), picked], how="horizontal").with_columns(
        (first_value - best_value if mode == "min" else best_value - first_value).alias("improvement"),
        (pl.col("best_valid_loss") - pl.col("best_train_loss")).alias("gap_at_best"),
        (pl.col("_gap_valid") - pl.col("_gap_train")).alias("gap_final"),
    )
    out = _left(_job_keys(js, "n_checkpoints"), agg).with_columns(
        pl.when(pl.col("n_checkpoints").is_not_null())
        .then(pl.col("n_evaluated").fill_null(0))
        .otherwise(pl.col("n_evaluated"))  # OpenAI: steps known from "metrics" events only
        .alias("n_evaluated"),
        (pl.col("last_step") - pl.col("best_step")).alias("steps_after_best"),
    )
    return out.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)


def _runs(frame: pl.DataFrame) -> pl.DataFrame:
    """Number the rows (``_i``) and the runs of consecutive rows of one job (``_run``)."""
    job = pl.col("job_id")
    return frame.with_row_index("_i").with_columns(
        (job != job.shift()).fill_null(True).cum_sum().set_sorted().alias("_run")
    )


def _first_running(js: JobSet) -> pl.DataFrame:
    return (
        js.events.lazy()
        .filter(pl.col("status") == "RUNNING")
        .group_by("job_id")
        .agg(pl.col("created_at").min().alias("_running_at"))
        .collect()
    )


def checkpoints_with_axes(jobs: Any) -> pl.DataFrame:
    """The checkpoints frame plus x-axes that compare across jobs.

    Added columns:

    - ``tokens_seen`` (Int64): ``step_number * train_tokens_per_step`` (from the job's
      metadata);
    - ``epoch`` (Float64): ``tokens_seen / data_tokens``, passes over the training data;
    - ``elapsed_s`` (Int64): seconds from the job's first ``RUNNING`` event to the
      checkpoint.

    Each is null where the job lacks what it needs (no metadata, ``data_tokens`` null or
    0, no ``RUNNING`` event). Rows and the other columns are those of
    :func:`ftkit.checkpoints_frame`, including its nulling of placeholder ``0.0``
    validation metrics.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 200, "hyperparameters": {},
    ...        "metadata": {"train_tokens_per_step": 1000, "data_tokens": 4000},
    ...        "events": [{"name": "status-updated", "created_at": 100,
    ...                    "data": {"status": "RUNNING"}}],
    ...        "checkpoints": [{"step_number": 2, "created_at": 160, "metrics": {}},
    ...                        {"step_number": 1, "created_at": 130, "metrics": {}}]}
    >>> checkpoints_with_axes(msgspec.json.encode(job)).select(
    ...     "job_id", "step_number", "tokens_seen", "epoch", "elapsed_s")
    shape: (2, 5)
    ┌────────┬─────────────┬─────────────┬───────┬───────────┐
    │ job_id ┆ step_number ┆ tokens_seen ┆ epoch ┆ elapsed_s │
    │ ---    ┆ ---         ┆ ---         ┆ ---   ┆ ---       │
    │ str    ┆ i64         ┆ i64         ┆ f64   ┆ i64       │
    ╞════════╪═════════════╪═════════════╪═══════╪═══════════╡
    │ a      ┆ 1           ┆ 1000        ┆ 0.25  ┆ 30        │
    │ a      ┆ 2           ┆ 2000        ┆ 0.5   ┆ 60        │
    └────────┴─────────────┴─────────────┴───────┴───────────┘
    """
    js = as_jobset(jobs)
    cp = js.checkpoints
    per_job = _left(_job_keys(js, "train_tokens_per_step", "data_tokens"), _first_running(js))
    tokens = pl.col("step_number") * pl.col("train_tokens_per_step")
    data = pl.col("data_tokens")
    return (
        _left(cp, per_job)
        .with_columns(
            tokens.cast(pl.Int64).alias("tokens_seen"),
            pl.when(data > 0).then(tokens / data).cast(pl.Float64).alias("epoch"),
            (pl.col("created_at") - pl.col("_running_at"))
            .dt.total_seconds()
            .cast(pl.Int64)
            .alias("elapsed_s"),
        )
        .drop("train_tokens_per_step", "data_tokens", "_running_at")
    )


# --- lifecycle ------------------------------------------------------------------------


def lifecycle(jobs: Any) -> pl.DataFrame:
    """One row per job: time spent queued, validating and running, and how it ended.

    Columns: ``job_id``, ``final_status`` (the job's ``status``), ``queued_s``,
    ``validating_s``, ``running_s``, ``total_s`` (Int64 seconds), ``failed``,
    ``cancelled``, ``requeued`` (Boolean).

    The durations come from the status events. Each event starts a phase that lasts
    until the next status event: ``QUEUED`` and ``VALIDATED`` (waiting to run, which
    includes a manual start when ``auto_start`` is false) count as queued; ``STARTED``
    and ``VALIDATING`` as validating; ``RUNNING`` and ``CANCELLATION_REQUESTED`` as
    running. Events are put in time order whatever the order of the list; events stamped
    in the same second are put in the order a job goes through those statuses, so a
    newest-first list and same-second ties give the same result. ``total_s`` runs from
    the first status event to the last final one (``SUCCESS``, ``FAILED``,
    ``FAILED_VALIDATION``, ``CANCELLED``), null while the job has none; for a job that
    ended, ``total_s = queued_s + validating_s + running_s``. A phase never entered
    counts 0; the phase of a job still in progress (its last event not final) is null,
    since it has not ended. Jobs without status events (list responses, SDK 1.0 dumps
    whose events lack ``data``) have null durations.

    ``failed`` is a final status ``FAILED`` or ``FAILED_VALIDATION``; ``cancelled`` a
    final status ``CANCELLED``. ``requeued``: the job went back to ``QUEUED`` after
    another status, either as a ``QUEUED`` event stamped later than some other status
    event, or as a current status ``QUEUED`` after an event of another status (real
    jobs return to ``QUEUED`` with no event after a manual start); null for a job
    without status events.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> ev = lambda t, s: {"name": "status-updated", "created_at": t, "data": {"status": s}}
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 90, "hyperparameters": {}, "events": [
    ...        ev(90, "SUCCESS"), ev(10, "RUNNING"), ev(5, "VALIDATED"),
    ...        ev(2, "VALIDATING"), ev(2, "QUEUED")]}
    >>> lifecycle(msgspec.json.encode([job])).row(0, named=True)
    {'job_id': 'a', 'final_status': 'SUCCESS', 'queued_s': 5, 'validating_s': 3, 'running_s': 80, 'total_s': 88, 'failed': False, 'cancelled': False, 'requeued': False}
    """
    js = as_jobset(jobs)
    status = pl.col("status")
    t = pl.col("t")
    terminal = status.is_in(_TERMINAL)
    other = status != "QUEUED"

    def phase_sum(name: str) -> pl.Expr:
        return pl.col("_dur").filter(pl.col("_phase") == name).sum().alias(f"{name}_s")

    def per_job_of(events: pl.DataFrame) -> pl.DataFrame:
        # ``_run`` numbers each job's block of consecutive rows: an integer, sorted key
        # makes the group_by cheap.
        return _lifecycle_runs(events, status, t).group_by("_run", maintain_order=True).agg(
            pl.col("job_id").first(),
            phase_sum("queued"),
            phase_sum("validating"),
            phase_sum("running"),
            pl.col("_phase").last().alias("_open"),
            terminal.last().alias("_ended"),
            (t.filter(terminal).max() - t.min()).alias("total_s"),
            (t.filter(status == "QUEUED").max() > t.filter(other).min())
            .fill_null(False)
            .alias("_late_queued"),
            other.any().alias("_moved_on"),
        ).drop("_run").collect()

    per_job = per_job_of(js.events)
    if per_job["job_id"].is_duplicated().any():  # a job's events not together: regroup
        per_job = per_job_of(js.events.sort("job_id", maintain_order=True))
    out = _left(_job_keys(js, "status"), per_job).with_columns(
        *(
            pl.when(pl.col("_ended") | (pl.col("_open") != name).fill_null(True))
            .then(pl.col(f"{name}_s"))
            .alias(f"{name}_s")
            for name in ("queued", "validating", "running")
        ),
        pl.when(pl.col("_ended")).then(pl.col("total_s")).alias("total_s"),
        status.is_in(("FAILED", "FAILED_VALIDATION")).alias("failed"),
        (status == "CANCELLED").alias("cancelled"),
        (pl.col("_late_queued") | ((status == "QUEUED") & pl.col("_moved_on"))).alias("requeued"),
    )
    return out.rename({"status": "final_status"}).select(list(LIFECYCLE_SCHEMA)).cast(LIFECYCLE_SCHEMA)


def _lifecycle_runs(events: pl.DataFrame, status: pl.Expr, t: pl.Expr) -> pl.LazyFrame:
    """Status events numbered by job block (``_run``), put in lifecycle order, with the
    seconds until the next status event (``_dur``) and the phase they start (``_phase``)."""
    return (
        events.lazy()
        .filter(status.is_not_null())
        .with_columns(
            (pl.col("job_id") != pl.col("job_id").shift()).fill_null(True).cum_sum().alias("_run"),
            pl.col("created_at").dt.epoch("s").alias("t"),
            status.replace_strict(_RANK, default=5, return_dtype=pl.Int8).alias("_rank"),
        )
        .sort("_run", "t", "_rank", maintain_order=True)
        .with_columns(
            pl.col("_run").set_sorted(),
            pl.when(pl.col("_run").shift(-1) == pl.col("_run")).then(t.shift(-1) - t).alias("_dur"),
            status.replace_strict(_PHASE, default=None, return_dtype=pl.String).alias("_phase"),
        )
    )


# --- per-job table for effect and pareto ------------------------------------------------

_SOURCES: tuple[tuple[str, Callable[[JobSet], pl.DataFrame]], ...] = (
    ("checkpoint_summary", lambda js: checkpoint_summary(js)),
    ("token_usage", lambda js: token_usage(js)),
    ("lifecycle", lambda js: lifecycle(js)),
    ("jobs", lambda js: js.jobs),
)
_SOURCE_COLUMNS = {
    "checkpoint_summary": list(SUMMARY_SCHEMA),
    "token_usage": list(TOKEN_USAGE_SCHEMA),
    "lifecycle": list(LIFECYCLE_SCHEMA),
    "jobs": list(JOBS_SCHEMA),
}


def _per_job(js: JobSet, columns: Iterable[str], *, where: str) -> pl.DataFrame:
    """``job_id`` and the named columns, each from the first source that has it."""
    out = _job_keys(js)
    for name in dict.fromkeys(columns):
        if name == "job_id":
            continue
        for source, build in _SOURCES:
            if name in _SOURCE_COLUMNS[source]:
                out = out.with_columns(build(js)[name])
                break
        else:
            known = sorted({c for cols in _SOURCE_COLUMNS.values() for c in cols} - {"job_id"})
            msg = f"{where}: no column {name!r} in checkpoint_summary, token_usage, lifecycle or the jobs frame; expected one of {known}"
            raise ValueError(msg)
    return out


def pareto(
    jobs: Any,
    *,
    cost: str = "cost",
    quality: str = "best_valid_loss",
    mode: Mode | None = None,
) -> pl.DataFrame:
    """The jobs that no other job beats on both cost and quality, sorted by cost.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    cost
        A per-job column where lower is better: ``"cost"`` (default, from
        :func:`token_usage`, so a placeholder ``0.0`` cost is null), ``"total_s"``,
        ``"trained_tokens"``, or any column of :func:`checkpoint_summary`,
        :func:`token_usage`, :func:`lifecycle` or the jobs frame.
    quality
        A per-job column: ``"best_valid_loss"`` (default), or any column as above.
    mode
        ``"min"`` if lower ``quality`` is better, ``"max"`` if higher is. ``None``
        (default): ``"max"`` for accuracy columns, ``"min"`` otherwise.

    Returns
    -------
    polars.DataFrame
        ``job_id``, ``cost``, ``quality`` (named as given), and ``cost_currency`` when
        ``cost="cost"``, sorted by currency then cost then quality. A job is dominated
        when another is no worse on both and better on one; jobs with a null cost or
        quality are left out. Costs in different currencies are never compared: with
        ``cost="cost"`` each currency has its own front.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, cost, loss):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {},
    ...             "metadata": {"cost": cost, "cost_currency": "USD"},
    ...             "checkpoints": [{"step_number": 1, "created_at": 0,
    ...                              "metrics": {"valid_loss": loss}}]}
    >>> pareto(msgspec.json.encode([job("a", 1.0, 0.9), job("b", 2.0, 0.7),
    ...                            job("c", 3.0, 0.8), job("d", 4.0, 0.6)]))
    shape: (3, 4)
    ┌────────┬──────┬─────────────────┬───────────────┐
    │ job_id ┆ cost ┆ best_valid_loss ┆ cost_currency │
    │ ---    ┆ ---  ┆ ---             ┆ ---           │
    │ str    ┆ f64  ┆ f64             ┆ str           │
    ╞════════╪══════╪═════════════════╪═══════════════╡
    │ a      ┆ 1.0  ┆ 0.9             ┆ USD           │
    │ b      ┆ 2.0  ┆ 0.7             ┆ USD           │
    │ d      ┆ 4.0  ┆ 0.6             ┆ USD           │
    └────────┴──────┴─────────────────┴───────────────┘
    """
    mode = _infer_mode(quality, mode)
    js = as_jobset(jobs)
    if cost == quality:
        msg = f"pareto: cost and quality must be different columns, got {cost!r} for both"
        raise ValueError(msg)
    columns = [cost, quality] + (["cost_currency"] if cost == "cost" else [])
    df = _per_job(js, columns, where="pareto")
    group = "cost_currency" if cost == "cost" else "_group"
    q = pl.col(quality) if mode == "min" else -pl.col(quality)
    df = df.with_columns(pl.lit(0).alias("_group"), q.alias("_q")).filter(
        pl.col(cost).is_not_null() & pl.col("_q").is_not_null()
    )
    levels = (
        df.group_by(group, cost)
        .agg(pl.col("_q").min().alias("_gmin"))
        .sort(group, cost, nulls_last=True)
        .with_columns(pl.col("_gmin").cum_min().shift(1).over(group).alias("_prev"))
    )
    front = df.join(levels, on=[group, cost], how="left", nulls_equal=True).filter(
        (pl.col("_q") == pl.col("_gmin")) & (pl.col("_prev").is_null() | (pl.col("_q") < pl.col("_prev")))
    )
    return front.sort(group, cost, "_q", nulls_last=True, maintain_order=True).select("job_id", *dict.fromkeys(columns))


# --- tokens and cost --------------------------------------------------------------------


def token_usage(jobs: Any) -> pl.DataFrame:
    """One row per job: tokens trained, epochs realised, cost and cost per million tokens.

    Columns: ``job_id``, ``trained_tokens`` (the job's count of tokens trained),
    ``train_tokens`` and ``data_tokens`` (from its metadata: tokens planned, tokens in
    the training data), ``epochs_realised`` (``trained_tokens / data_tokens``), ``cost``,
    ``cost_currency``, ``cost_per_million_tokens`` (``cost`` per million
    ``trained_tokens``).

    A ``cost`` of ``0.0`` with a null ``cost_currency`` is the placeholder a job carries
    right after creation: it is null here, so it never looks free. Values that need a
    missing or zero denominator are null. Real jobs often have ``trained_tokens``
    different from ``train_tokens``; see :func:`metric_flags`.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 0, "hyperparameters": {}, "trained_tokens": 2_000_000,
    ...        "metadata": {"cost": 4.0, "cost_currency": "USD",
    ...                     "train_tokens": 2_000_000, "data_tokens": 500_000}}
    >>> token_usage(msgspec.json.encode(job)).row(0, named=True)
    {'job_id': 'a', 'trained_tokens': 2000000, 'train_tokens': 2000000, 'data_tokens': 500000, 'epochs_realised': 4.0, 'cost': 4.0, 'cost_currency': 'USD', 'cost_per_million_tokens': 2.0}
    """
    js = as_jobset(jobs)
    trained, data, cost = pl.col("trained_tokens"), pl.col("data_tokens"), pl.col("cost")
    placeholder = (cost == 0.0) & pl.col("cost_currency").is_null()
    return (
        _job_keys(js, "trained_tokens", "train_tokens", "data_tokens", "cost", "cost_currency")
        .with_columns(pl.when(placeholder.not_()).then(cost).alias("cost"))
        .with_columns(
            pl.when(data > 0).then(trained / data).alias("epochs_realised"),
            pl.when(trained > 0).then(pl.col("cost") * 1e6 / trained).alias("cost_per_million_tokens"),
        )
        .select(list(TOKEN_USAGE_SCHEMA))
        .cast(TOKEN_USAGE_SCHEMA)
    )


def token_usage_totals(jobs: Any) -> pl.DataFrame:
    """Totals of :func:`token_usage`, one row per currency; currencies are never added.

    Columns: ``cost_currency`` (null for jobs without one: its own row), ``n_jobs``,
    ``n_priced`` (jobs with a cost), ``trained_tokens`` and ``cost`` (sums, null where
    no job has one), ``cost_per_million_tokens`` (over the jobs that have both a cost
    and ``trained_tokens``). Sorted by currency, null last.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, cost, currency, tokens):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {}, "trained_tokens": tokens,
    ...             "metadata": {"cost": cost, "cost_currency": currency}}
    >>> token_usage_totals(msgspec.json.encode([job("a", 2.0, "USD", 10**6),
    ...     job("b", 3.0, "EUR", 10**6), job("c", 4.0, "USD", 10**6), job("d", 0.0, None, None)]))
    shape: (3, 6)
    ┌───────────────┬────────┬──────────┬────────────────┬──────┬─────────────────────────┐
    │ cost_currency ┆ n_jobs ┆ n_priced ┆ trained_tokens ┆ cost ┆ cost_per_million_tokens │
    │ ---           ┆ ---    ┆ ---      ┆ ---            ┆ ---  ┆ ---                     │
    │ str           ┆ i64    ┆ i64      ┆ i64            ┆ f64  ┆ f64                     │
    ╞═══════════════╪════════╪══════════╪════════════════╪══════╪═════════════════════════╡
    │ EUR           ┆ 1      ┆ 1        ┆ 1000000        ┆ 3.0  ┆ 3.0                     │
    │ USD           ┆ 2      ┆ 2        ┆ 2000000        ┆ 6.0  ┆ 3.0                     │
    │ null          ┆ 1      ┆ 0        ┆ null           ┆ null ┆ null                    │
    └───────────────┴────────┴──────────┴────────────────┴──────┴─────────────────────────┘
    """
    usage = token_usage(jobs)
    cost, trained = pl.col("cost"), pl.col("trained_tokens")
    both = cost.is_not_null() & (trained > 0)

    def total(expr: pl.Expr) -> pl.Expr:
        return pl.when(expr.count() > 0).then(expr.sum())

    return (
        usage.group_by("cost_currency")
        .agg(
            pl.len().cast(pl.Int64).alias("n_jobs"),
            cost.count().cast(pl.Int64).alias("n_priced"),
            total(trained).alias("trained_tokens"),
            total(cost).alias("cost"),
            pl.when(both.any())
            .then(cost.filter(both).sum() * 1e6 / trained.filter(both).sum())
            .alias("cost_per_million_tokens"),
        )
        .sort("cost_currency", nulls_last=True)
        .cast({"trained_tokens": pl.Int64, "cost": pl.Float64, "cost_per_million_tokens": pl.Float64})
    )


# --- hyperparameters --------------------------------------------------------------------


def compare_hyperparameters(jobs: Any, *, varying_only: bool = True) -> pl.DataFrame:
    """One row per job: ``job_id`` and its hyperparameters, by default only those that vary.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    varying_only
        Keep only the hyperparameters that differ across the jobs (default); ``False``
        keeps all of :data:`HYPERPARAMETERS` that the jobs' providers have: Mistral's
        ``learning_rate, training_steps, epochs, weight_decay, warmup_fraction, seq_len,
        fim_ratio``, OpenAI's ``n_epochs, batch_size, learning_rate_multiplier``.

    Returns
    -------
    polars.DataFrame
        ``job_id`` then the hyperparameter columns, in the jobs frame's order and dtypes.
        A hyperparameter varies when it takes more than one value among the jobs whose
        type has it: ``fim_ratio`` (completion jobs only) is compared among the
        completion jobs, so classifier jobs, which lack it, do not make it vary; likewise
        each provider's hyperparameters are compared among its own jobs. A null
        (a key absent or null on the wire) counts as a value of its own: a job that set
        ``weight_decay`` and one that did not differ.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, **hyper):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": hyper}
    >>> compare_hyperparameters(msgspec.json.encode([
    ...     job("a", learning_rate=1e-4, training_steps=10, fim_ratio=0.9),
    ...     job("b", learning_rate=5e-5, training_steps=10, fim_ratio=0.9)]))
    shape: (2, 2)
    ┌────────┬───────────────┐
    │ job_id ┆ learning_rate │
    │ ---    ┆ ---           │
    │ str    ┆ f64           │
    ╞════════╪═══════════════╡
    │ a      ┆ 0.0001        │
    │ b      ┆ 0.00005       │
    └────────┴───────────────┘
    """
    js = as_jobset(jobs)
    frame = js.jobs
    providers = set(frame["provider"]) or {"mistral"}
    names = [name for name in HYPERPARAMETERS if HYPERPARAMETER_PROVIDERS[name] in providers]
    if varying_only:
        job_type, provider = pl.col("job_type"), pl.col("provider")
        counts = frame.select(
            pl.col(name)
            .filter(job_type.is_in(sorted(HYPERPARAMETERS[name])) & (provider == HYPERPARAMETER_PROVIDERS[name]))
            .n_unique()
            .alias(name)
            for name in names
        ).row(0, named=True)
        names = [name for name in names if counts[name] > 1]
    return frame.select("job_id", *names)


# --- effect -----------------------------------------------------------------------------

#: A numeric parameter with more distinct values than this is binned by :func:`effect`.
MAX_DISTINCT_UNBINNED = 8


#: Metrics in money, which only jobs of one currency can be averaged over.
_CURRENCY_METRICS = frozenset({"cost", "cost_per_million_tokens"})


def effect(
    jobs: Any,
    *,
    param: str,
    metric: str = "best_valid_loss",
    bins: int = 4,
) -> pl.DataFrame:
    """The metric per value (or bin) of a parameter: count, mean, min and max.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    param
        A column of the jobs frame or of the per-job analyses (``"learning_rate"``,
        ``"model"``, ``"epochs_realised"``...).
    metric
        A numeric column of :func:`checkpoint_summary` (its defaults: best step by
        ``valid_loss``), :func:`token_usage`, :func:`lifecycle` or the jobs frame. A
        cost (``cost``, ``cost_per_million_tokens``) needs jobs of one currency:
        amounts in different currencies are never averaged together (``ValueError``).
    bins
        The number of quantile bins for a numeric ``param`` with more than
        :data:`MAX_DISTINCT_UNBINNED` (8) distinct values.

    Returns
    -------
    polars.DataFrame
        One row per value of ``param`` (null is a value of its own, last), sorted by
        value: ``param`` (named as given), ``n_jobs`` (jobs with that value),
        ``count`` (those with a non-null metric), ``mean``, ``min``, ``max``. A binned
        parameter's column holds the bin as text, ``"lo – hi"``, the smallest and
        largest value inside the bin; bins hold about equally many jobs, and equal
        values always share a bin (so there may be fewer than ``bins``). A provider's
        own hyperparameter (:data:`HYPERPARAMETER_PROVIDERS`: ``learning_rate`` is
        Mistral's, ``learning_rate_multiplier`` OpenAI's) is looked at among that
        provider's jobs only: the other provider's jobs, which lack it, are not made a
        null group.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, lr, loss):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {"learning_rate": lr},
    ...             "checkpoints": [{"step_number": 1, "created_at": 0,
    ...                              "metrics": {"valid_loss": loss}}]}
    >>> effect(msgspec.json.encode([job("a", 1e-4, 0.5), job("b", 1e-4, 0.75),
    ...                            job("c", 2e-4, 0.25)]), param="learning_rate")
    shape: (2, 6)
    ┌───────────────┬────────┬───────┬───────┬──────┬──────┐
    │ learning_rate ┆ n_jobs ┆ count ┆ mean  ┆ min  ┆ max  │
    │ ---           ┆ ---    ┆ ---   ┆ ---   ┆ ---  ┆ ---  │
    │ f64           ┆ i64    ┆ i64   ┆ f64   ┆ f64  ┆ f64  │
    ╞═══════════════╪════════╪═══════╪═══════╪══════╪══════╡
    │ 0.0001        ┆ 2      ┆ 2     ┆ 0.625 ┆ 0.5  ┆ 0.75 │
    │ 0.0002        ┆ 1      ┆ 1     ┆ 0.25  ┆ 0.25 ┆ 0.25 │
    └───────────────┴────────┴───────┴───────┴──────┴──────┘
    """
    if bins < 1:
        msg = f"effect: bins must be a positive number of bins, got {bins!r}"
        raise ValueError(msg)
    if param == metric:
        msg = f"effect: param and metric must be different columns, got {param!r} for both"
        raise ValueError(msg)
    js = as_jobset(jobs)
    provider = HYPERPARAMETER_PROVIDERS.get(param)
    if provider is not None and js.jobs["provider"].ne(provider).any():
        js = js.filter(provider=provider)  # the other provider's jobs lack it: not a null group
    if metric in _CURRENCY_METRICS:
        usage = token_usage(js).filter(pl.col(metric).is_not_null())
        currencies = sorted(c for c in usage["cost_currency"].unique().to_list() if c is not None)
        if len(currencies) > 1:
            msg = (
                f"effect: metric {metric!r} mixes currencies ({', '.join(currencies)}), which "
                "cannot be averaged together; give jobs of one currency, e.g. "
                f"js.filter(cost_currency={currencies[0]!r})"
            )
            raise ValueError(msg)
    df = _per_job(js, [param, metric], where="effect")
    if not df.schema[metric].is_numeric():
        msg = f"effect: metric {metric!r} must be numeric, found dtype {df.schema[metric]}"
        raise ValueError(msg)
    value = pl.col(param)
    key = param
    binned = df.schema[param].is_numeric() and df[param].drop_nulls().n_unique() > MAX_DISTINCT_UNBINNED
    if binned:
        n = value.count()
        df = df.with_columns(
            ((value.rank("min") - 1) * bins // n).cast(pl.Int64).alias("_bin")
        )
        key = "_bin"
    m = pl.col(metric)
    out = (
        df.group_by(key)
        .agg(
            *([value.min().alias("_lo"), value.max().alias("_hi")] if binned else []),
            pl.len().cast(pl.Int64).alias("n_jobs"),
            m.count().cast(pl.Int64).alias("count"),
            m.mean().cast(pl.Float64).alias("mean"),
            m.min().cast(pl.Float64).alias("min"),
            m.max().cast(pl.Float64).alias("max"),
        )
        .sort(key, nulls_last=True)
    )
    if binned:
        labels = [
            None if lo is None else f"{lo:.4g} – {hi:.4g}"
            for lo, hi in zip(out["_lo"].to_list(), out["_hi"].to_list())
        ]
        out = out.with_columns(pl.Series(param, labels, dtype=pl.String()))
    return out.select(param, "n_jobs", "count", "mean", "min", "max")


# --- flags ------------------------------------------------------------------------------

#: The findings of :func:`metric_flags`, in the order they are listed, with severities.
FLAGS: dict[str, str] = {
    "placeholder_zeros": "note",
    "no_validation_metrics": "note",
    "steps_repeated": "warning",
    "steps_out_of_order": "warning",
    "checkpoints_after_final_event": "warning",
    "accuracy_above_1": "note",
    "trained_tokens_mismatch": "note",
}


def _placeholder_counts(js: JobSet, candidates: list[str]) -> pl.DataFrame:
    """Per job: checkpoints whose raw validation metrics are 0.0 placeholders, first step."""
    ids, counts, firsts = [], [], []
    for job_id in candidates:
        n, first = 0, None
        for cp in js[job_id].checkpoints or ():
            vl, acc = cp.metrics.valid_loss, cp.metrics.valid_mean_token_accuracy
            if (vl == 0.0 and acc in (0.0, None)) or (acc == 0.0 and vl is None):
                n += 1
                first = cp.step_number if first is None else min(first, cp.step_number)
        if n:
            ids.append(job_id)
            counts.append(n)
            firsts.append(first)
    return pl.DataFrame(
        {"job_id": ids, "_zeros": counts, "step_number": firsts},
        schema={"job_id": pl.String(), "_zeros": pl.Int64(), "step_number": pl.Int64()},
    )


def metric_flags(jobs: Any) -> pl.DataFrame:
    """One row per finding about a job's metrics or tokens that deserves a look.

    Columns: ``job_id``, ``flag``, ``severity`` (``"note"``: a known quirk of real
    data, the values are read correctly; ``"warning"``: the data contradicts itself),
    ``step_number`` (the first step concerned, null for job-level findings), ``message``.
    Rows follow the jobs' order, then the order of :data:`FLAGS`:

    - ``placeholder_zeros`` (note): checkpoints whose ``valid_loss`` and
      ``valid_mean_token_accuracy`` are ``0.0``, read as "not measured";
    - ``no_validation_metrics`` (note): checkpoints, none with a validation metric;
    - ``steps_repeated`` (warning): a step number appears more than once;
    - ``steps_out_of_order`` (warning): a later step is stamped before an earlier one;
    - ``checkpoints_after_final_event`` (warning): a checkpoint stamped after the job's
      final status event (``SUCCESS``, ``FAILED``...);
    - ``accuracy_above_1`` (note): ``valid_mean_token_accuracy`` above 1, which real
      jobs report (it is not a 0..1 fraction);
    - ``trained_tokens_mismatch`` (note): ``trained_tokens`` differs from
      ``metadata.train_tokens``.

    ``placeholder_zeros`` needs the raw values, which the checkpoints frame replaces with
    nulls: it reads the job Structs of the jobs that have unmeasured checkpoints; the
    other findings use the frames only.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 0, "hyperparameters": {}, "checkpoints": [
    ...        {"step_number": 2, "created_at": 5, "metrics": {"valid_loss": 0.0,
    ...                                                    "valid_mean_token_accuracy": 0.0}},
    ...        {"step_number": 1, "created_at": 4, "metrics": {"valid_loss": 0.8,
    ...                                                    "valid_mean_token_accuracy": 1.7}}]}
    >>> metric_flags(msgspec.json.encode(job)).select("flag", "severity", "step_number")
    shape: (2, 3)
    ┌───────────────────┬──────────┬─────────────┐
    │ flag              ┆ severity ┆ step_number │
    │ ---               ┆ ---      ┆ ---         │
    │ str               ┆ str      ┆ i64         │
    ╞═══════════════════╪══════════╪═════════════╡
    │ placeholder_zeros ┆ note     ┆ 2           │
    │ accuracy_above_1  ┆ note     ┆ 1           │
    └───────────────────┴──────────┴─────────────┘
    """
    js = as_jobset(jobs)
    cp = _measured(js.checkpoints)
    step, created = pl.col("step_number"), pl.col("created_at")
    unmeasured = pl.col("valid_loss").is_null() & pl.col("valid_mean_token_accuracy").is_null()
    acc = pl.col("valid_mean_token_accuracy")
    final_at = (
        js.events.filter(pl.col("status").is_in(_TERMINAL))
        .group_by("job_id")
        .agg(created.max().alias("_final_at"))
    )
    per_job = (
        _left(cp.with_columns((step == step.shift()).over("job_id").fill_null(False).alias("_dup"),
                              (created < created.shift()).over("job_id").fill_null(False).alias("_back")),
              final_at)
        .group_by("job_id", maintain_order=True)
        .agg(
            pl.len().alias("_n"),
            unmeasured.sum().alias("_unmeasured"),
            step.filter(pl.col("_dup")).min().alias("steps_repeated"),
            pl.col("_dup").sum().alias("_n_dup"),
            step.filter(pl.col("_back")).min().alias("steps_out_of_order"),
            pl.col("_back").sum().alias("_n_back"),
            step.filter(created > pl.col("_final_at")).min().alias("checkpoints_after_final_event"),
            (created > pl.col("_final_at")).sum().alias("_n_after"),
            step.filter(acc > 1).min().alias("accuracy_above_1"),
            (acc > 1).sum().alias("_n_acc"),
            acc.max().alias("_max_acc"),
        )
    )
    frames: list[pl.DataFrame] = []

    def add(flag: str, rows: pl.DataFrame, message: pl.Expr, step_column: str | None) -> None:
        frames.append(
            rows.select(
                "job_id",
                pl.lit(flag).alias("flag"),
                pl.lit(FLAGS[flag]).alias("severity"),
                (pl.col(step_column) if step_column else pl.lit(None)).cast(pl.Int64).alias("step_number"),
                message.alias("message"),
            )
        )

    candidates = per_job.filter(pl.col("_unmeasured") > 0)["job_id"].to_list()
    zeros = _left(_placeholder_counts(js, candidates), per_job.select("job_id", "_n"))
    add("placeholder_zeros", zeros,
        pl.format("{} of {} checkpoints have validation metrics 0.0, read as not measured",
                  pl.col("_zeros"), pl.col("_n")),
        "step_number")
    add("no_validation_metrics", per_job.filter(pl.col("_unmeasured") == pl.col("_n")),
        pl.format("none of {} checkpoints has a validation metric", pl.col("_n")), None)
    add("steps_repeated", per_job.filter(pl.col("_n_dup") > 0),
        pl.format("{} checkpoints repeat the step number before them", pl.col("_n_dup")), "steps_repeated")
    add("steps_out_of_order", per_job.filter(pl.col("_n_back") > 0),
        pl.format("{} checkpoints are stamped before the step before them", pl.col("_n_back")),
        "steps_out_of_order")
    add("checkpoints_after_final_event", per_job.filter(pl.col("_n_after") > 0),
        pl.format("{} checkpoints are stamped after the final status event", pl.col("_n_after")),
        "checkpoints_after_final_event")
    add("accuracy_above_1", per_job.filter(pl.col("_n_acc") > 0),
        pl.format("{} checkpoints have valid_mean_token_accuracy above 1 (max {})",
                  pl.col("_n_acc"), pl.col("_max_acc").round(6)),
        "accuracy_above_1")
    tokens = js.jobs.filter(pl.col("trained_tokens") != pl.col("train_tokens"))
    add("trained_tokens_mismatch", tokens,
        pl.format("trained_tokens {} differs from metadata.train_tokens {}",
                  pl.col("trained_tokens"), pl.col("train_tokens")), None)
    order = js.jobs.select("job_id").with_row_index("_pos")
    rank = pl.DataFrame({"flag": list(FLAGS), "_rank": range(len(FLAGS))},
                        schema={"flag": pl.String(), "_rank": pl.Int64()})
    return (
        pl.concat([f.cast(FLAGS_SCHEMA) for f in frames])
        .join(order, on="job_id", how="left")
        .join(rank, on="flag", how="left")
        .sort("_pos", "_rank", maintain_order=True)
        .select(list(FLAGS_SCHEMA))
    )

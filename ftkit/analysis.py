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
    "token_usage",
    "token_usage_totals",
    "lifecycle",
    "pareto",
    "HYPERPARAMETERS",
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
    cp = _measured(js.checkpoints)
    m = pl.col(metric)
    target = m.min() if mode == "min" else m.max()
    at_best = m == target
    evaluated = pl.col("valid_loss").is_not_null() | pl.col("valid_mean_token_accuracy").is_not_null()
    gap = pl.col("valid_loss") - pl.col("train_loss")
    first = m.drop_nulls().first()
    agg = cp.group_by("job_id", maintain_order=True).agg(
        evaluated.sum().cast(pl.Int64).alias("n_evaluated"),
        pl.col("step_number").max().alias("last_step"),
        *(pl.col(name).drop_nulls().last().alias(f"final_{name}") for name in METRICS),
        pl.col("step_number").filter(at_best).first().alias("best_step"),
        *(pl.col(name).filter(at_best).first().alias(f"best_{name}") for name in METRICS),
        (first - target if mode == "min" else target - first).alias("improvement"),
        gap.filter(at_best).first().alias("gap_at_best"),
        gap.drop_nulls().last().alias("gap_final"),
    )
    out = _left(_job_keys(js, "n_checkpoints"), agg).with_columns(
        pl.when(pl.col("n_checkpoints").is_not_null())
        .then(pl.col("n_evaluated").fill_null(0))
        .alias("n_evaluated"),
        (pl.col("last_step") - pl.col("best_step")).alias("steps_after_best"),
    )
    return out.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)


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
    ev = (
        js.events.lazy()
        .filter(status.is_not_null())
        .with_columns(
            (pl.col("job_id") != pl.col("job_id").shift()).fill_null(True).cum_sum().alias("_run"),
            pl.col("created_at").dt.epoch("s").alias("t"),
            status.replace_strict(_RANK, default=5, return_dtype=pl.Int8).alias("_rank"),
        )
        .sort("_run", "t", "_rank", maintain_order=True)
        .with_columns(
            pl.when(pl.col("_run").shift(-1) == pl.col("_run"))
            .then(t.shift(-1) - t)
            .alias("_dur"),
            status.replace_strict(_PHASE, default=None, return_dtype=pl.String).alias("_phase"),
        )
    )
    terminal = status.is_in(_TERMINAL)
    other = status != "QUEUED"

    def phase_sum(name: str) -> pl.Expr:
        return pl.col("_dur").filter(pl.col("_phase") == name).sum().alias(f"{name}_s")

    per_job = (
        ev.group_by("job_id")
        .agg(
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
        )
        .collect()
    )
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

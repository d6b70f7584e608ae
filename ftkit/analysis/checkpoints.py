"""Checkpoint metrics per job: the summary, and x axes that compare across jobs."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..jobset import JobSet
from .inputs import METRICS, Mode, Tables, as_jobset, infer_mode, job_keys, left_join, measured, result, tables_of

__all__ = ["SUMMARY_SCHEMA", "checkpoint_summary", "checkpoints_with_axes"]

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

def checkpoint_summary(jobs: Any, metric: str = "valid_loss", *, mode: Mode | None = None) -> pl.DataFrame:
    """One row per job: checkpoint counts, final metrics, the best step and what it scored.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    metric
        The checkpoint metric that picks the best step: ``"valid_loss"`` (default),
        ``"train_loss"`` or ``"valid_mean_token_accuracy"``; the second positional
        argument, or ``metric=``.
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
    mode = infer_mode(metric, mode)
    tables, lazy = tables_of(jobs)
    return result(_checkpoint_summary(tables, metric, mode), lazy)


def _checkpoint_summary(tables: Tables, metric: str, mode: Mode) -> pl.LazyFrame:
    """:func:`checkpoint_summary` as one query: a single group_by over the checkpoints that
    the streaming engine runs in pieces, joined to the jobs. Rows keep their order within a
    group (the frame's, by step): "final" is the last measured value; the best row is the
    first (lowest row number ``_i``) holding the job's best value, found by sorting each
    job's rows by (value, ``_i``), nulls last. The checkpoints are read once, with no
    self-join: a join against an aggregate of the same rows (the way this was written
    before) made the streaming engine hold the whole table until the aggregate was done;
    a stable sort (``maintain_order``) or a ``filter`` inside the aggregation makes it fall
    back to holding it too. Peak RSS, streaming engine, 1,000,000 jobs (30 million
    checkpoints): 2.05 GB before, 0.83 GB now."""
    cp = measured(tables("checkpoints")).with_row_index("_i")
    gap = pl.col("valid_loss") - pl.col("train_loss")
    evaluated = pl.col("valid_loss").is_not_null() | pl.col("valid_mean_token_accuracy").is_not_null()
    value = pl.col(metric)

    def at_best(name: str) -> pl.Expr:
        order = pl.col(name).sort_by([value, pl.col("_i")], descending=[mode == "max", False], nulls_last=True)
        return order.first().alias(f"best_{name}" if name != "step_number" else "best_step")

    best_columns = ["best_step", *(f"best_{name}" for name in METRICS)]
    agg = cp.group_by("job_id").agg(
        evaluated.sum().cast(pl.Int64).alias("n_evaluated"),
        pl.col("step_number").max().alias("last_step"),
        *(pl.col(name).drop_nulls().last().alias(f"final_{name}") for name in METRICS),
        value.drop_nulls().first().alias("_first_value"),
        gap.drop_nulls().last().alias("gap_final"),
        *(at_best(name) for name in ["step_number", *METRICS]),
    ).with_columns(  # no measured value: the first row came first, but there is no best
        pl.when(pl.col(f"best_{metric}").is_not_null()).then(pl.col(name)).alias(name) for name in best_columns
    )
    first_value, best_value = pl.col("_first_value"), pl.col(f"best_{metric}")
    out = (
        tables("jobs")
        .select("job_id", "n_checkpoints")
        .join(agg, on="job_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("n_checkpoints").is_not_null())
            .then(pl.col("n_evaluated").fill_null(0))
            .otherwise(pl.col("n_evaluated"))  # OpenAI: steps known from "metrics" events only
            .alias("n_evaluated"),
            (first_value - best_value if mode == "min" else best_value - first_value).alias("improvement"),
            (pl.col("best_valid_loss") - pl.col("best_train_loss")).alias("gap_at_best"),
            (pl.col("last_step") - pl.col("best_step")).alias("steps_after_best"),
        )
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
    per_job = left_join(job_keys(js, "train_tokens_per_step", "data_tokens"), _first_running(js))
    tokens = pl.col("step_number") * pl.col("train_tokens_per_step")
    data = pl.col("data_tokens")
    return (
        left_join(cp, per_job)
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


"""Findings about a job's metrics or tokens that deserve a look."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..jobset import JobSet
from .inputs import as_jobset, left_join, measured
from .phases import FINAL_STATUSES

__all__ = ["FLAGS", "FLAGS_SCHEMA", "metric_flags"]

FLAGS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "flag": pl.String(),
    "severity": pl.String(),
    "step_number": pl.Int64(),
    "message": pl.String(),
}

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
    cp = measured(js.checkpoints)
    step, created = pl.col("step_number"), pl.col("created_at")
    unmeasured = pl.col("valid_loss").is_null() & pl.col("valid_mean_token_accuracy").is_null()
    acc = pl.col("valid_mean_token_accuracy")
    final_at = (
        js.events.filter(pl.col("status").is_in(FINAL_STATUSES))
        .group_by("job_id")
        .agg(created.max().alias("_final_at"))
    )
    per_job = (
        left_join(cp.with_columns((step == step.shift()).over("job_id").fill_null(False).alias("_dup"),
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
    zeros = left_join(_placeholder_counts(js, candidates), per_job.select("job_id", "_n"))
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

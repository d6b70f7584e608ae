"""Lifecycle of jobs: the time spent in each phase, from the status events."""

from __future__ import annotations

from typing import Any

import polars as pl

from .inputs import as_jobset, job_keys, left_join

__all__ = ["FINAL_STATUSES", "PHASES", "LIFECYCLE_SCHEMA", "lifecycle"]

#: The statuses a job ends in.
FINAL_STATUSES = ("SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED")
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
#: The phase each non-final status starts: queued, validating or running.
PHASES = {
    "QUEUED": "queued",
    "VALIDATED": "queued",
    "STARTED": "validating",
    "VALIDATING": "validating",
    "RUNNING": "running",
    "CANCELLATION_REQUESTED": "running",
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
    terminal = status.is_in(FINAL_STATUSES)
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
    out = left_join(job_keys(js, "status"), per_job).with_columns(
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
            status.replace_strict(PHASES, default=None, return_dtype=pl.String).alias("_phase"),
        )
    )


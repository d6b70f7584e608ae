"""The frames as ftkit built them before the fast builders of ftkit.mistral_frames: one
comprehension per column, the plain and obviously right way. Kept verbatim (from
ftkit/frames.py at a961f80) as the oracle the fast frames are compared against in
tests/test_fast_frames.py; not part of ftkit.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Any

import msgspec
import polars as pl

from ftkit.openai_frames import openai_checkpoint_rows, openai_event_rows, openai_job_columns
from ftkit.openai_schema import OpenAIJob
from ftkit.schema import JobMetadata

__all__ = [
    "JOBS_SCHEMA",
    "CHECKPOINTS_SCHEMA",
    "EVENTS_SCHEMA",
    "TARGETS_SCHEMA",
    "ERRORS_SCHEMA",
    "jobs_frame",
    "checkpoints_frame",
    "events_frame",
    "targets_frame",
]

_UTC = pl.Datetime("us", "UTC")

#: Columns and dtypes of :func:`jobs_frame`.
JOBS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "job_type": pl.String(),
    "model": pl.String(),
    "status": pl.String(),
    "auto_start": pl.Boolean(),
    "created_at": _UTC,
    "modified_at": _UTC,
    "fine_tuned_model": pl.String(),
    "suffix": pl.String(),
    "trained_tokens": pl.Int64(),
    "training_files": pl.List(pl.String()),
    "validation_files": pl.List(pl.String()),
    "learning_rate": pl.Float64(),
    "training_steps": pl.Int64(),
    "epochs": pl.Float64(),
    "weight_decay": pl.Float64(),
    "warmup_fraction": pl.Float64(),
    "seq_len": pl.Int64(),
    "fim_ratio": pl.Float64(),
    "cost": pl.Float64(),
    "cost_currency": pl.String(),
    "train_tokens": pl.Int64(),
    "train_tokens_per_step": pl.Int64(),
    "data_tokens": pl.Int64(),
    "expected_duration_seconds": pl.Int64(),
    "estimated_start_time": _UTC,
    "wandb_project": pl.String(),
    "wandb_run_name": pl.String(),
    "wandb_url": pl.String(),
    "n_checkpoints": pl.Int64(),
    "n_events": pl.Int64(),
    # Columns added with OpenAI jobs (see ftkit.openai_frames); null for Mistral jobs
    # except provider and status_raw.
    "provider": pl.String(),
    "status_raw": pl.String(),
    "method": pl.String(),
    "n_epochs": pl.Int64(),
    "n_epochs_auto": pl.Boolean(),
    "batch_size": pl.Int64(),
    "batch_size_auto": pl.Boolean(),
    "learning_rate_multiplier": pl.Float64(),
    "learning_rate_multiplier_auto": pl.Boolean(),
    "seed": pl.Int64(),
    "organization_id": pl.String(),
    "finished_at": _UTC,
    "estimated_finish": _UTC,
    "error_code": pl.String(),
    "error_message": pl.String(),
}

#: Columns and dtypes of :func:`checkpoints_frame`.
CHECKPOINTS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "step_number": pl.Int64(),
    "created_at": _UTC,
    "train_loss": pl.Float64(),
    "valid_loss": pl.Float64(),
    "valid_mean_token_accuracy": pl.Float64(),
    "provider": pl.String(),
    # OpenAI's further metrics and checkpoint identity; null for Mistral checkpoints.
    "train_mean_token_accuracy": pl.Float64(),
    "full_valid_loss": pl.Float64(),
    "full_valid_mean_token_accuracy": pl.Float64(),
    "checkpoint_id": pl.String(),
    "fine_tuned_model_checkpoint": pl.String(),
    #: "checkpoint", or "event" for an OpenAI step known only from a "metrics" event.
    "origin": pl.String(),
}

#: Columns and dtypes of :func:`events_frame`.
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "created_at": _UTC,
    "name": pl.String(),
    "status": pl.String(),
    "data": pl.String(),
    "provider": pl.String(),
    # OpenAI events' level and message; null for Mistral events.
    "level": pl.String(),
    "message": pl.String(),
}

#: Columns and dtypes of :func:`targets_frame`.
TARGETS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "name": pl.String(),
    "labels": pl.List(pl.String()),
    "weight": pl.Float64(),
    "loss_function": pl.String(),
}

#: Columns and dtypes of ``JobSet.errors``: one row per record that could not be read.
ERRORS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line": pl.Int64(),
    "index": pl.Int64(),
    "path": pl.String(),
    "message": pl.String(),
}

_TIME_COLUMNS = ("created_at", "modified_at", "estimated_start_time", "finished_at", "estimated_finish")
_NO_METADATA = JobMetadata()
_json_encode = msgspec.json.Encoder().encode


def _string_lists(values: list[list[str] | None], name: str) -> pl.Series:
    """A List(String) column; built through JSON text, which polars parses far faster than
    it converts Python lists one by one."""
    encode = _json_encode
    text = [None if v is None else encode(v).decode() for v in values]
    return pl.Series(name, text, dtype=pl.String()).str.json_decode(pl.List(pl.String()))


def _as_list(jobs: Iterable[Any]) -> list[Any]:
    return jobs if isinstance(jobs, list) else list(jobs)


def _with_utc(df: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    return df.with_columns(
        pl.from_epoch(pl.col(name), time_unit="s").dt.replace_time_zone("UTC") for name in columns
    )


def _raw_schema(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The schema with datetimes as the UNIX seconds they are built from."""
    return {name: pl.Int64() if dtype == _UTC else dtype for name, dtype in schema.items()}


def _without_id(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {name: dtype for name, dtype in schema.items() if name != "job_id"}


def _wandb(job: Any) -> Any:
    for integration in job.integrations or ():
        if integration.type in (None, "wandb"):
            return integration
    return None


def jobs_frame(jobs: Iterable[Any]) -> pl.DataFrame:
    """One row per job: identity, status, times, hyperparameters, metadata, W&B.

    Columns and dtypes are :data:`JOBS_SCHEMA`: ``job_id``, ``job_type``
    (``"classifier"`` or ``"completion"``, whatever ``job_type`` said on the wire),
    ``model``, ``status``, ``auto_start`` (Boolean), ``created_at`` and ``modified_at``
    (Datetime UTC), ``fine_tuned_model``, ``suffix``, ``trained_tokens`` (Int64),
    ``training_files`` and ``validation_files`` (List[String]), the hyperparameters
    ``learning_rate, training_steps, epochs, weight_decay, warmup_fraction, seq_len,
    fim_ratio``, the metadata ``cost`` (null for the placeholder ``0.0`` without a currency
    that a job carries right after creation: it never looks free), ``cost_currency, train_tokens, train_tokens_per_step,
    data_tokens, expected_duration_seconds, estimated_start_time`` (Datetime UTC; the
    top-level legacy key where metadata lacks it), ``wandb_project, wandb_run_name,
    wandb_url`` (the first W&B integration), and ``n_checkpoints``/``n_events`` (null
    where the JSON had no list at all, as in list responses).

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "j1", "model": "open-mistral-7b", "status": "SUCCESS", "job_type": "FT",'
    ...     b' "created_at": 1717171717, "modified_at": 1717171817, "training_files": [],'
    ...     b' "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001}}'
    ... )
    >>> ftkit.jobs_frame(js).select("job_id", "job_type", "created_at", "training_steps")
    shape: (1, 4)
    ┌────────┬────────────┬─────────────────────────┬────────────────┐
    │ job_id ┆ job_type   ┆ created_at              ┆ training_steps │
    │ ---    ┆ ---        ┆ ---                     ┆ ---            │
    │ str    ┆ str        ┆ datetime[μs, UTC]       ┆ i64            │
    ╞════════╪════════════╪═════════════════════════╪════════════════╡
    │ j1     ┆ completion ┆ 2024-05-31 16:08:37 UTC ┆ 10             │
    └────────┴────────────┴─────────────────────────┴────────────────┘
    """
    jobs = _as_list(jobs)
    openai_at = [i for i, job in enumerate(jobs) if type(job) is OpenAIJob]
    if not openai_at:
        return _mistral_jobs(jobs)
    chosen = set(openai_at)
    mistral_at = [i for i in range(len(jobs)) if i not in chosen]
    parts = [
        _mistral_jobs([jobs[i] for i in mistral_at]).with_columns(_position=pl.Series(mistral_at, dtype=pl.Int64())),
        _openai_jobs([jobs[i] for i in openai_at]).with_columns(_position=pl.Series(openai_at, dtype=pl.Int64())),
    ]
    return pl.concat(parts).sort("_position").drop("_position")


def _openai_jobs(jobs: list[OpenAIJob]) -> pl.DataFrame:
    columns = openai_job_columns(jobs)
    nulls = [None] * len(jobs)
    df = pl.DataFrame(
        {name: columns.get(name, nulls) for name in JOBS_SCHEMA}, schema=_raw_schema(JOBS_SCHEMA)
    )
    return _with_utc(df, _TIME_COLUMNS)


def _mistral_jobs(jobs: list[Any]) -> pl.DataFrame:
    """:func:`jobs_frame` of Mistral jobs only."""
    hyper = [job.hyperparameters for job in jobs]
    meta = [job.metadata or _NO_METADATA for job in jobs]
    wandb = [_wandb(job) for job in jobs]
    columns = {
        "job_id": [job.id for job in jobs],
        "job_type": [job.kind for job in jobs],
        "model": [job.model for job in jobs],
        "status": [job.status for job in jobs],
        "auto_start": [job.auto_start for job in jobs],
        "created_at": [job.created_at for job in jobs],
        "modified_at": [job.modified_at for job in jobs],
        "fine_tuned_model": [job.fine_tuned_model for job in jobs],
        "suffix": [job.suffix for job in jobs],
        "trained_tokens": [job.trained_tokens for job in jobs],
        "training_files": _string_lists([job.training_files for job in jobs], "training_files"),
        "validation_files": _string_lists([job.validation_files for job in jobs], "validation_files"),
        "learning_rate": [h.learning_rate for h in hyper],
        "training_steps": [h.training_steps for h in hyper],
        "epochs": [h.epochs for h in hyper],
        "weight_decay": [h.weight_decay for h in hyper],
        "warmup_fraction": [h.warmup_fraction for h in hyper],
        "seq_len": [h.seq_len for h in hyper],
        "fim_ratio": [getattr(h, "fim_ratio", None) for h in hyper],
        # 0.0 with no currency is the placeholder a job carries right after creation,
        # not a price: null, as in ftkit.analysis.token_usage.
        "cost": [None if m.cost == 0.0 and m.cost_currency is None else m.cost for m in meta],
        "cost_currency": [m.cost_currency for m in meta],
        "train_tokens": [m.train_tokens for m in meta],
        "train_tokens_per_step": [m.train_tokens_per_step for m in meta],
        "data_tokens": [m.data_tokens for m in meta],
        "expected_duration_seconds": [m.expected_duration_seconds for m in meta],
        "estimated_start_time": [
            m.estimated_start_time if m.estimated_start_time is not None else job.estimated_start_time
            for m, job in zip(meta, jobs)
        ],
        "wandb_project": [w.project if w is not None else None for w in wandb],
        "wandb_run_name": [w.run_name if w is not None else None for w in wandb],
        "wandb_url": [w.url if w is not None else None for w in wandb],
        "n_checkpoints": [None if job.checkpoints is None else len(job.checkpoints) for job in jobs],
        "n_events": [None if job.events is None else len(job.events) for job in jobs],
    }
    nulls = [None] * len(jobs)
    columns["provider"] = ["mistral"] * len(jobs)
    columns["status_raw"] = columns["status"]
    columns.update((name, nulls) for name in JOBS_SCHEMA if name not in columns)
    df = pl.DataFrame(columns, schema=_raw_schema(JOBS_SCHEMA))
    return _with_utc(df, _TIME_COLUMNS)


def frames_with_positions(jobs: list[Any]) -> dict[str, pl.DataFrame]:
    """All four frames, each with an Int64 ``_position`` column: the job's index in ``jobs``.

    Used to assemble frames built in pieces (by worker processes) and to drop the rows
    of superseded snapshots.
    """
    return {
        "jobs": jobs_frame(jobs).with_row_index("_position").with_columns(
            pl.col("_position").cast(pl.Int64())
        ),
        "checkpoints": _checkpoints(jobs, keep_position=True),
        "events": _events(jobs, keep_position=True),
        "targets": _targets(jobs, keep_position=True),
    }


def _positions(jobs: list[Any], attribute: str) -> tuple[list[int], list[Any]]:
    """Flatten one list attribute of every Mistral job: (job position, item) columns."""
    positions: list[int] = []
    items: list[Any] = []
    for position, job in enumerate(jobs):
        children = getattr(job, attribute, None)
        if children and type(job) is not OpenAIJob:
            positions += repeat(position, len(children))
            items += children
    return positions, items


def _insert_job_ids(df: pl.DataFrame, jobs: list[Any]) -> pl.DataFrame:
    """Add ``job_id`` as the second column, looked up from ``_position`` (in Rust, not per row)."""
    ids = pl.Series("job_id", [job.id for job in jobs], dtype=pl.String())
    return df.insert_column(1, ids.gather(df["_position"]))


def checkpoints_frame(jobs: Iterable[Any]) -> pl.DataFrame:
    """One row per checkpoint, sorted by job (in input order) then step.

    Columns and dtypes are :data:`CHECKPOINTS_SCHEMA`: ``job_id``, ``step_number``
    (Int64), ``created_at`` (Datetime UTC), ``train_loss``, ``valid_loss``,
    ``valid_mean_token_accuracy`` (Float64). A checkpoint whose ``valid_loss`` and
    ``valid_mean_token_accuracy`` are both ``0.0`` was not evaluated: both are null here
    (the Struct keeps the raw ``0.0``). Accuracy is not range-checked: real values
    exceed 1.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "j1", "model": "m", "status": "SUCCESS", "created_at": 0,'
    ...     b' "modified_at": 0, "hyperparameters": {}, "checkpoints": ['
    ...     b'{"step_number": 2, "created_at": 20, "metrics": {"train_loss": 0.5,'
    ...     b' "valid_loss": 0.0, "valid_mean_token_accuracy": 0.0}},'
    ...     b'{"step_number": 1, "created_at": 10, "metrics": {"train_loss": 0.9,'
    ...     b' "valid_loss": 0.8, "valid_mean_token_accuracy": 1.7}}]}'
    ... )
    >>> ftkit.checkpoints_frame(js).select("job_id", "step_number", "train_loss", "valid_loss",
    ...                                   "valid_mean_token_accuracy")
    shape: (2, 5)
    ┌────────┬─────────────┬────────────┬────────────┬───────────────────────────┐
    │ job_id ┆ step_number ┆ train_loss ┆ valid_loss ┆ valid_mean_token_accuracy │
    │ ---    ┆ ---         ┆ ---        ┆ ---        ┆ ---                       │
    │ str    ┆ i64         ┆ f64        ┆ f64        ┆ f64                       │
    ╞════════╪═════════════╪════════════╪════════════╪═══════════════════════════╡
    │ j1     ┆ 1           ┆ 0.9        ┆ 0.8        ┆ 1.7                       │
    │ j1     ┆ 2           ┆ 0.5        ┆ null       ┆ null                      │
    └────────┴─────────────┴────────────┴────────────┴───────────────────────────┘
    """
    return _checkpoints(_as_list(jobs), keep_position=False)


def _checkpoints(jobs: list[Any], *, keep_position: bool) -> pl.DataFrame:
    positions, checkpoints = _positions(jobs, "checkpoints")
    metrics = [c.metrics for c in checkpoints]
    nulls = [None] * len(checkpoints)
    columns = {
        "_position": positions,
        "step_number": [c.step_number for c in checkpoints],
        "created_at": [c.created_at for c in checkpoints],
        "train_loss": [m.train_loss for m in metrics],
        "valid_loss": [m.valid_loss for m in metrics],
        "valid_mean_token_accuracy": [m.valid_mean_token_accuracy for m in metrics],
        "provider": ["mistral"] * len(checkpoints),
        "origin": ["checkpoint"] * len(checkpoints),
    }
    schema = {"_position": pl.Int64(), **_raw_schema(_without_id(CHECKPOINTS_SCHEMA))}
    df = pl.DataFrame({name: columns.get(name, nulls) for name in schema}, schema=schema)
    openai_at = [i for i, job in enumerate(jobs) if type(job) is OpenAIJob]
    if openai_at:
        rows = openai_checkpoint_rows([jobs[i] for i in openai_at], openai_at)
        n = len(rows["_position"])
        rows["provider"] = ["openai"] * n
        df = pl.concat([df, pl.DataFrame(rows, schema=schema)]).sort("_position", maintain_order=True)
    return _finish_checkpoints(_insert_job_ids(df, jobs), keep_position=keep_position)


def _finish_checkpoints(df: pl.DataFrame, *, keep_position: bool) -> pl.DataFrame:
    """Sort by (_position, step), null the placeholder zeros, convert times, drop _position."""
    in_order = df.select(
        (
            (pl.col("_position").diff() > 0)
            | ((pl.col("_position").diff() == 0) & (pl.col("step_number").diff() >= 0))
        )
        .fill_null(True)
        .all()
    ).item()
    if not in_order:
        df = df.sort("_position", "step_number", maintain_order=True)
    placeholder = (
        (pl.col("valid_loss") == 0.0)
        & (pl.col("valid_mean_token_accuracy") == 0.0)
        & (pl.col("provider") == "mistral")
    ).fill_null(False)
    df = df.with_columns(
        pl.when(placeholder.not_()).then(pl.col(name)).alias(name)
        for name in ("valid_loss", "valid_mean_token_accuracy")
    )
    return _with_utc(df if keep_position else df.drop("_position"), ["created_at"])


#: Where each status comes in a job's life, to orient lists stamped within one second.
_LIFECYCLE_RANK = {
    "QUEUED": 0,
    "STARTED": 1,
    "VALIDATING": 1,
    "VALIDATED": 2,
    "RUNNING": 3,
    "CANCELLATION_REQUESTED": 4,
    "SUCCESS": 5,
    "FAILED": 5,
    "FAILED_VALIDATION": 5,
    "CANCELLED": 5,
}


def _status_rank(event: Any) -> int | None:
    data = event.data
    status = data.get("status") if data else None
    return _LIFECYCLE_RANK.get(status) if isinstance(status, str) else None


def _oldest_first(events: list[Any]) -> list[Any]:
    """Events in the order they happened: lists stamped newest first are reversed.

    The direction is read from the first and last timestamps; where they are equal (every
    event in one second), from the first and last statuses' places in a job's life.
    """
    if len(events) > 1:
        first, last = events[0].created_at, events[-1].created_at
        if first > last:
            return events[::-1]
        if first == last:
            first_rank, last_rank = _status_rank(events[0]), _status_rank(events[-1])
            if first_rank is not None and last_rank is not None and first_rank > last_rank:
                return events[::-1]
    return events


def _event_status(data: dict[str, Any] | None) -> str | None:
    status = data.get("status") if data else None
    return status if isinstance(status, str) else None


def _event_rest(data: dict[str, Any] | None) -> str | None:
    """``data`` without its (string) status, as JSON text; null when nothing is left."""
    if not data:
        return None
    if isinstance(data.get("status"), str):
        data = {key: value for key, value in data.items() if key != "status"}
    return _json_encode(data).decode() if data else None


def events_frame(jobs: Iterable[Any]) -> pl.DataFrame:
    """One row per status event, in time order within each job.

    Columns and dtypes are :data:`EVENTS_SCHEMA`: ``job_id``, ``created_at`` (Datetime
    UTC), ``name``, ``status`` (``data.status`` where it is a string), ``data`` (the rest
    of ``data`` as JSON text, null when there is nothing else). Jobs keep their input
    order. Within a job, events are sorted by time; events stamped in the same second keep
    the order in which they happened: a list stamped newest first (as 2024 dumps are) is
    read in reverse, so same-second ``QUEUED``, ``VALIDATING``, ``VALIDATED`` stay in that
    order. A list whose events all share one second is oriented by its first and last
    statuses (``VALIDATED`` before ``QUEUED`` means newest first).

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "j1", "model": "m", "status": "RUNNING", "created_at": 0,'
    ...     b' "modified_at": 5, "hyperparameters": {}, "events": ['
    ...     b'{"name": "status-updated", "created_at": 5, "data": {"status": "RUNNING"}},'
    ...     b'{"name": "status-updated", "created_at": 1, "data": {"status": "VALIDATED"}},'
    ...     b'{"name": "status-updated", "created_at": 1, "data": {"status": "VALIDATING"}},'
    ...     b'{"name": "status-updated", "created_at": 0, "data": {"status": "QUEUED"}}]}'
    ... )
    >>> ftkit.events_frame(js)["status"].to_list()
    ['QUEUED', 'VALIDATING', 'VALIDATED', 'RUNNING']
    """
    return _events(_as_list(jobs), keep_position=False)


def _events(jobs: list[Any], *, keep_position: bool) -> pl.DataFrame:
    positions: list[int] = []
    events: list[Any] = []
    openai_positions: list[int] = []
    openai_events: list[Any] = []
    for position, job in enumerate(jobs):
        if job.events:
            ordered = _oldest_first(job.events)
            if type(job) is OpenAIJob:
                openai_positions += repeat(position, len(ordered))
                openai_events += ordered
                continue
            positions += repeat(position, len(ordered))
            events += ordered
    statuses: list[str | None] = []
    rests: list[str | None] = []
    for event in events:
        data = event.data
        status = data.get("status") if data else None
        if type(status) is str and len(data) == 1:  # the usual {"status": ...}
            statuses.append(status)
            rests.append(None)
        else:
            statuses.append(_event_status(data))
            rests.append(_event_rest(data))
    schema = {"_position": pl.Int64(), **_raw_schema(_without_id(EVENTS_SCHEMA))}
    nulls = [None] * len(events)
    df = pl.DataFrame(
        {
            "_position": positions,
            "created_at": [e.created_at for e in events],
            "name": [e.name for e in events],
            "status": statuses,
            "data": rests,
            "provider": ["mistral"] * len(events),
            "level": nulls,
            "message": nulls,
        },
        schema=schema,
    )
    if openai_events:
        rows = {"_position": openai_positions, **openai_event_rows(openai_events)}
        rows["provider"] = ["openai"] * len(openai_events)
        df = pl.concat([df, pl.DataFrame(rows, schema=schema)])
    df = _insert_job_ids(df.sort("_position", "created_at", maintain_order=True), jobs)
    return _with_utc(df if keep_position else df.drop("_position"), ["created_at"])


def targets_frame(jobs: Iterable[Any]) -> pl.DataFrame:
    """One row per classifier target (``classifier_targets``) of classifier jobs.

    Columns and dtypes are :data:`TARGETS_SCHEMA`: ``job_id``, ``name``, ``labels``
    (List[String]), ``weight`` (Float64), ``loss_function``; the last two are null where
    the JSON omitted them, as real dumps do.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(
    ...     b'{"id": "c1", "model": "ministral-3b-latest", "status": "VALIDATED",'
    ...     b' "created_at": 0, "modified_at": 0, "hyperparameters": {},'
    ...     b' "classifier_targets": [{"name": "intent", "labels": ["a", "b"]}]}'
    ... )
    >>> ftkit.targets_frame(js).row(0)
    ('c1', 'intent', ['a', 'b'], None, None)
    """
    return _targets(_as_list(jobs), keep_position=False)


def _targets(jobs: list[Any], *, keep_position: bool) -> pl.DataFrame:
    positions, targets = _positions(jobs, "classifier_targets")
    df = pl.DataFrame(
        {
            "_position": positions,
            "name": [t.name for t in targets],
            "labels": _string_lists([t.labels for t in targets], "labels"),
            "weight": [t.weight for t in targets],
            "loss_function": [t.loss_function for t in targets],
        },
        schema={"_position": pl.Int64(), **_without_id(TARGETS_SCHEMA)},
    )
    df = _insert_job_ids(df, jobs)
    return df if keep_position else df.drop("_position")

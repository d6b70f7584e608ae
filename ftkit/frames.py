"""Flatten jobs into polars DataFrames.

Each ``*_frame`` function takes any iterable of job Structs (a :class:`~ftkit.JobSet`, a
list of :class:`~ftkit.schema.ClassifierJob`/:class:`~ftkit.schema.CompletionJob`) and
returns one DataFrame with fixed column names and dtypes, so that empty inputs give
empty frames of the same schema. Timestamps become UTC datetimes.

The columns of Mistral jobs are gathered by :mod:`ftkit.mistral_frames` (one pass over the
jobs, checkpoints and events), those of OpenAI jobs by :mod:`ftkit.openai_frames`; this
module turns them into frames: constant and null columns as polars literals, times
converted in polars, rows sorted only where they are not already in order. The columns
and dtypes are those of :mod:`ftkit.frame_schemas` (exported here too). For reads in
chunks, :func:`mistral_frame_parts` gives a chunk's frames with only the columns that
vary and :func:`complete_frame_parts` completes them once joined.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=1))
>>> ftkit.jobs_frame(js).columns[:5]
['job_id', 'job_type', 'model', 'status', 'auto_start']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from .frame_schemas import CHECKPOINTS_SCHEMA, ERRORS_SCHEMA, EVENTS_SCHEMA, JOBS_SCHEMA, TARGETS_SCHEMA, UTC
from .mistral_frames import MistralColumns, mistral_columns, oldest_first
from .openai_frames import openai_checkpoint_rows, openai_event_rows, openai_job_columns
from .openai_schema import OpenAIJob

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
    "FRAME_NAMES",
    "frames_with_positions",
    "mistral_frame_parts",
    "complete_frame_parts",
]

_TIME_COLUMNS = ("created_at", "modified_at", "estimated_start_time", "finished_at", "estimated_finish")


def _as_list(jobs: Iterable[Any]) -> list[Any]:
    return jobs if isinstance(jobs, list) else list(jobs)


def _utc(seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC")


def _with_utc(df: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    return df.with_columns(_utc(pl.col(name)) for name in columns)


def _raw_schema(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The schema with datetimes as the UNIX seconds they are built from."""
    return {name: pl.Int64() if dtype == UTC else dtype for name, dtype in schema.items()}


def _without_id(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {name: dtype for name, dtype in schema.items() if name != "job_id"}


def _frame_of(columns: dict[str, Any], schema: dict[str, pl.DataType], **exprs: pl.Expr) -> pl.DataFrame:
    """The columns of ``schema``, in its order: ``columns`` (lists or Series), ``exprs``
    (e.g. a literal for one value in every row), and nulls for the rest.

    Only the columns that vary are built from Python lists: a constant or null column
    made from a list costs as much as any other (polars inspects every value).
    """
    given = [name for name in schema if name in columns]
    df = pl.DataFrame({name: columns[name] for name in given}, schema={name: schema[name] for name in given})
    return df.select(
        pl.col(name) if name in columns else exprs.get(name, pl.lit(None, dtype=dtype)).alias(name)
        for name, dtype in schema.items()
    )


def _in_order(df: pl.DataFrame, first: str, then: str, *, strictly: bool = False) -> bool:
    """Whether ``df`` is already sorted by ``first``, then ``then`` (nulls aside); ``strictly``:
    and no two rows tie on both."""
    step, next_step = pl.col(first).diff(), pl.col(then).diff()
    within = next_step > 0 if strictly else next_step >= 0
    return df.select(((step > 0) | ((step == 0) & within)).fill_null(True).all()).item()


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
    return _jobs(jobs, mistral_columns(jobs, frames=("jobs",)))


def _jobs(jobs: list[Any], columns: MistralColumns) -> pl.DataFrame:
    df = _mistral_jobs(columns.jobs)  # type: ignore[arg-type]
    openai_at = columns.openai_at
    if not openai_at:
        return df
    chosen = set(openai_at)
    mistral_at = [i for i in range(len(jobs)) if i not in chosen]
    parts = [
        df.with_columns(_position=pl.Series(mistral_at, dtype=pl.Int64())),
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


def _mistral_jobs(columns: dict[str, Any]) -> pl.DataFrame:
    """:func:`jobs_frame` of Mistral jobs only, from their columns."""
    df = _frame_of(
        columns, _raw_schema(JOBS_SCHEMA), provider=pl.lit("mistral"), status_raw=pl.col("status")
    )
    return _with_utc(df, _TIME_COLUMNS)


#: The names of the four frames, in the order :func:`frames_with_positions` gives them.
FRAME_NAMES = ("jobs", "checkpoints", "events", "targets")


def frames_with_positions(jobs: list[Any], *, names: Iterable[str] = FRAME_NAMES) -> dict[str, pl.DataFrame]:
    """The frames named (by default all four), each with an Int64 ``_position`` column: the
    job's index in ``jobs``.

    Used to assemble frames built in pieces (by worker processes) and to drop the rows
    of superseded snapshots. ``names`` lets a reader build some frames now and the others
    only when they are asked for.

    Examples
    --------
    >>> import ftkit
    >>> jobs = list(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=1)))
    >>> parts = frames_with_positions(jobs, names=("jobs", "checkpoints"))
    >>> list(parts), parts["jobs"]["_position"].to_list()
    (['jobs', 'checkpoints'], [0, 1, 2])
    """
    wanted = set(names)
    unknown = wanted.difference(FRAME_NAMES)
    if unknown:
        msg = f"names must be among {FRAME_NAMES}, got {sorted(unknown)!r}"
        raise ValueError(msg)
    jobs = _as_list(jobs)
    columns = mistral_columns(jobs, frames=wanted)
    builders = {"checkpoints": _checkpoints, "events": _events, "targets": _targets}
    out: dict[str, pl.DataFrame] = {}
    if "jobs" in wanted:
        jobs_df = _jobs(jobs, columns)
        ids = jobs_df["job_id"]
        out["jobs"] = jobs_df.with_row_index("_position").with_columns(pl.col("_position").cast(pl.Int64()))
    else:
        ids = _ids(jobs)
    for name in FRAME_NAMES[1:]:
        if name in wanted:
            out[name] = builders[name](jobs, columns, keep_position=True, ids=ids)
    return out


#: Per frame, the columns that every row of a Mistral job fills alike: with one value, or
#: with another column's (``status_raw`` repeats ``status``). The columns of OpenAI jobs,
#: null for Mistral jobs, and ``job_id`` (the jobs frame has it) are not listed.
_MISTRAL_ALIKE: dict[str, dict[str, pl.Expr]] = {
    "jobs": {"provider": pl.lit("mistral"), "status_raw": pl.col("status")},
    "checkpoints": {"provider": pl.lit("mistral"), "origin": pl.lit("checkpoint")},
    "events": {"provider": pl.lit("mistral")},
    "targets": {},
}
#: Per frame, the columns of OpenAI jobs: null in every row of a Mistral job.
_OPENAI_ONLY: dict[str, tuple[str, ...]] = {
    "jobs": tuple(list(JOBS_SCHEMA)[list(JOBS_SCHEMA).index("method") :]),
    "checkpoints": (
        "train_mean_token_accuracy", "full_valid_loss", "full_valid_mean_token_accuracy",
        "checkpoint_id", "fine_tuned_model_checkpoint",
    ),
    "events": ("level", "message"),
    "targets": (),
}
_SCHEMAS = {
    "jobs": JOBS_SCHEMA, "checkpoints": CHECKPOINTS_SCHEMA, "events": EVENTS_SCHEMA, "targets": TARGETS_SCHEMA
}
#: Per frame, the columns its parts may hold (times as UNIX seconds), ``_position`` first.
_PART_SCHEMAS = {
    name: {
        "_position": pl.Int64(),
        **{
            column: dtype for column, dtype in _raw_schema(schema).items()
            if column not in _MISTRAL_ALIKE[name] and column not in _OPENAI_ONLY[name]
            and (name == "jobs" or column != "job_id")
        },
    }
    for name, schema in _SCHEMAS.items()
}
#: A checkpoint's validation metrics: both 0.0 is the placeholder of one not evaluated.
_VALIDATION = ("valid_loss", "valid_mean_token_accuracy")


def _placeholder_zeros() -> pl.Expr:
    """Whether a checkpoint row's validation metrics are both the placeholder 0.0 (false
    where either is null)."""
    return pl.all_horizontal(pl.col(column) == 0.0 for column in _VALIDATION).fill_null(False)


def mistral_frame_parts(jobs: Iterable[Any]) -> dict[str, pl.DataFrame]:
    """:func:`frames_with_positions` of Mistral jobs, only with the columns that vary.

    What a worker sends back for a chunk: every row of a Mistral job holds the same
    ``provider`` (and ``origin``, ``status_raw`` as ``status``), null in the columns of
    OpenAI jobs, and the ``job_id`` the jobs frame gives by ``_position``; and a column
    null in every row of these jobs (an event's ``data`` besides its status, mostly) need
    not travel either. Leaving them out makes the parts less than half the bytes to write
    and read again (the events and checkpoints frames); :func:`complete_frame_parts` puts
    them back. Parts of several chunks may then hold different columns: join them with
    ``pl.concat(..., how="diagonal")``.

    Examples
    --------
    >>> import ftkit
    >>> jobs = list(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(2, seed=1)))
    >>> parts = mistral_frame_parts(jobs)
    >>> parts["events"].columns
    ['_position', 'created_at', 'name', 'status']
    >>> whole = complete_frame_parts(parts, parts["jobs"]["job_id"])
    >>> all(whole[name].equals(frame.drop("_position")) for name, frame in frames_with_positions(jobs).items())
    True
    """
    columns = mistral_columns(jobs)
    if columns.openai_at:
        msg = "mistral_frame_parts takes Mistral jobs only"
        raise ValueError(msg)
    jobs_columns: dict[str, Any] = columns.jobs  # type: ignore[assignment]
    jobs_columns["_position"] = range(len(jobs_columns["job_id"]))
    checkpoints = _part(columns.checkpoints, "checkpoints")  # type: ignore[arg-type]
    events = _part(columns.events, "events")  # type: ignore[arg-type]
    return {
        "jobs": _part(jobs_columns, "jobs"),
        "checkpoints": _by_step(checkpoints, columns.reversed_at) if checkpoints.height else checkpoints,
        "events": _by_time(events) if events.height else events,
        "targets": _part(columns.targets, "targets"),  # type: ignore[arg-type]
    }


def _part(columns: dict[str, Any], name: str) -> pl.DataFrame:
    """The frame part of ``columns`` for the frame named: ``_position``, ``job_id`` (of the
    jobs frame) and the columns that vary, raw (UNIX seconds, placeholder zeros), without
    those that hold no value in any row."""
    schema = _PART_SCHEMAS[name]
    kept = {
        column: values for column, values in columns.items()
        if column in schema and (column in ("_position", "job_id") or _holds_values(values))
    }
    return pl.DataFrame(kept, schema={column: schema[column] for column in schema if column in kept})


def _holds_values(values: Any) -> bool:
    if isinstance(values, pl.Series):
        return values.null_count() < len(values)
    # stops at the first value (mostly the first row): list.count(None) would compare every row
    return any(value is not None for value in values)


def complete_frame_parts(parts: dict[str, pl.DataFrame], ids: pl.Series) -> dict[str, pl.DataFrame]:
    """The frames of :func:`mistral_frame_parts`' parts (of one chunk, or joined): the
    columns left out put back, times as UTC datetimes, placeholder validation zeros
    null, ``_position`` dropped.

    ``ids`` holds the job id at each position (the ``job_id`` of the jobs parts before any
    row was dropped); the columns alike in every row are polars literals, which take no
    memory until an operation needs them whole.
    """
    # gathered from one chunk, the ids are views of its strings; from many, copies of them
    ids = ids.rechunk()
    out = {}
    for name, frame in parts.items():
        present = set(frame.columns)
        alike = _MISTRAL_ALIKE[name]
        placeholder = None
        if name == "checkpoints" and present.issuperset(_VALIDATION):
            placeholder = _placeholder_zeros()
        columns = []
        for column, dtype in _SCHEMAS[name].items():
            if column in present:
                value = pl.col(column)
                if dtype == UTC:
                    value = _utc(value)
                elif placeholder is not None and column in _VALIDATION:
                    value = pl.when(placeholder.not_()).then(value)
                columns.append(value.alias(column))
            elif column == "job_id":
                columns.append(pl.lit(ids.gather(frame["_position"])).alias("job_id"))
            else:
                value = alike.get(column)
                if value is None or not present.issuperset(value.meta.root_names()):
                    value = pl.lit(None, dtype=dtype)  # null, or made of a column null throughout
                columns.append(value.cast(dtype).alias(column))
        # one select: dropping _position afterwards would build the literal columns whole
        out[name] = frame.select(columns)
    return out


def _ids(jobs: list[Any]) -> pl.Series:
    return pl.Series("job_id", [job.id for job in jobs], dtype=pl.String())


def _insert_job_ids(df: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """Add ``job_id`` as the second column, looked up from ``_position`` (in Rust, not per
    row) in ``ids`` (the id of every job)."""
    return df.insert_column(1, ids.gather(df["_position"]).alias("job_id"))


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
    jobs = _as_list(jobs)
    return _checkpoints(jobs, mistral_columns(jobs, frames=("checkpoints",)), keep_position=False, ids=_ids(jobs))


def _checkpoints(jobs: list[Any], columns: MistralColumns, *, keep_position: bool, ids: pl.Series) -> pl.DataFrame:
    schema = {"_position": pl.Int64(), **_raw_schema(_without_id(CHECKPOINTS_SCHEMA))}
    df = _mistral_checkpoints(columns, schema)
    openai_at = columns.openai_at
    if openai_at:
        rows = openai_checkpoint_rows([jobs[i] for i in openai_at], openai_at)
        n = len(rows["_position"])
        rows["provider"] = ["openai"] * n
        df = pl.concat([df, pl.DataFrame(rows, schema=schema)]).sort("_position", maintain_order=True)
    return _finish_checkpoints(_insert_job_ids(df, ids), keep_position=keep_position)


def _mistral_checkpoints(columns: MistralColumns, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The Mistral jobs' checkpoint rows, each job's rows in the order a stable sort by step
    gives (rows tied on a step in the order of the job's list)."""
    constants = {"provider": pl.lit("mistral"), "origin": pl.lit("checkpoint")}
    df = _frame_of(columns.checkpoints, schema, **constants)  # type: ignore[arg-type]
    return _by_step(df, columns.reversed_at)


def _by_step(df: pl.DataFrame, reversed_at: list[int]) -> pl.DataFrame:
    """Checkpoint rows (as :func:`~ftkit.mistral_frames.mistral_columns` gathers them)
    sorted by job, then step, then place in the job's list."""
    if _in_order(df, "_position", "step_number", strictly=True):
        return df  # the one order any sort gives, stable or not
    # ties on a step are broken by the place in the job's list: a row's place among the
    # rows, counted backwards for the lists read in reverse (newest first)
    row = pl.int_range(pl.len(), dtype=pl.Int64())
    place = pl.when(pl.col("_position").is_in(reversed_at)).then(-row).otherwise(row)
    return df.sort(pl.col("_position"), pl.col("step_number"), place)


def _finish_checkpoints(df: pl.DataFrame, *, keep_position: bool) -> pl.DataFrame:
    """Sort by (_position, step), null the placeholder zeros, convert times, drop _position."""
    if not _in_order(df, "_position", "step_number"):
        df = df.sort("_position", "step_number", maintain_order=True)
    placeholder = _placeholder_zeros() & (pl.col("provider") == "mistral")
    df = df.with_columns(pl.when(placeholder.not_()).then(pl.col(name)).alias(name) for name in _VALIDATION)
    return _with_utc(df if keep_position else df.drop("_position"), ["created_at"])


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
    jobs = _as_list(jobs)
    return _events(jobs, mistral_columns(jobs, frames=("events",)), keep_position=False, ids=_ids(jobs))


def _events(jobs: list[Any], columns: MistralColumns, *, keep_position: bool, ids: pl.Series) -> pl.DataFrame:
    schema = {"_position": pl.Int64(), **_raw_schema(_without_id(EVENTS_SCHEMA))}
    df = _frame_of(columns.events, schema, provider=pl.lit("mistral"))  # type: ignore[arg-type]
    openai_positions: list[int] = []
    openai_events: list[Any] = []
    for position in columns.openai_at:
        events = jobs[position].events
        if events:
            openai_positions += [position] * len(events)
            openai_events += oldest_first(events)
    if openai_events:
        rows = {"_position": openai_positions, **openai_event_rows(openai_events)}
        rows["provider"] = ["openai"] * len(openai_events)
        df = pl.concat([df, pl.DataFrame(rows, schema=schema)])
    df = _insert_job_ids(_by_time(df), ids)
    return _with_utc(df if keep_position else df.drop("_position"), ["created_at"])


def _by_time(df: pl.DataFrame) -> pl.DataFrame:
    """Event rows sorted by job, then time, rows tied on both kept in their order (the
    order each job's events happened in, :func:`~ftkit.mistral_frames.oldest_first`);
    rows already in that order are left as they are (a stable sort would not move them)."""
    if _in_order(df, "_position", "created_at"):
        return df
    return df.sort("_position", "created_at", maintain_order=True)


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
    jobs = _as_list(jobs)
    return _targets(jobs, mistral_columns(jobs, frames=("targets",)), keep_position=False, ids=_ids(jobs))


def _targets(jobs: list[Any], columns: MistralColumns, *, keep_position: bool, ids: pl.Series) -> pl.DataFrame:
    df = _frame_of(columns.targets, {"_position": pl.Int64(), **_without_id(TARGETS_SCHEMA)})  # type: ignore[arg-type]
    df = _insert_job_ids(df, ids)
    return df if keep_position else df.drop("_position")

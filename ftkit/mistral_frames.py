"""The columns of ftkit's frames for Mistral jobs (:mod:`ftkit.frames` assembles them).

Building frames is where most of a read's time went: hundreds of thousands of Structs,
each visited once per column. :func:`mistral_columns` visits each job, checkpoint and
event once, appending its values to the columns of every frame in one pass (a visit
costs a cache miss on a large dump; a second attribute read on an object just visited
costs almost nothing), and returns plain Python lists, which polars turns into columns
fastest; the job positions that say whose checkpoint or event a row is are repeated in
polars, and lists of strings (training files, labels) are parsed by polars from JSON
text. It takes jobs from any iterable, so that a reader can decode each job just before
its visit and free it right after (see :func:`ftkit.read.decode.decode_chunk`).
Columns that hold one value in every row (``provider``, ``origin``) or none (OpenAI's
columns) are not built here at all: :mod:`ftkit.frames` adds them as polars literals.

Times stay UNIX seconds (ints); :mod:`ftkit.frames` turns them into UTC datetimes in
polars. OpenAI jobs are skipped (their positions are returned), whose rows
:mod:`ftkit.openai_frames` builds.

Examples
--------
>>> import msgspec
>>> from ftkit.schema import WireJob
>>> job = msgspec.json.decode(
...     b'{"id": "j1", "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 9,'
...     b' "hyperparameters": {}, "checkpoints": [{"step_number": 5, "created_at": 9,'
...     b' "metrics": {"train_loss": 0.5}}]}',
...     type=WireJob,
... )
>>> columns = mistral_columns([job]).checkpoints
>>> columns["_position"].to_list(), columns["step_number"], columns["train_loss"]
([0], [5], [0.5])
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from itertools import repeat
from typing import Any

import msgspec
import polars as pl

from .openai_schema import OpenAIJob
from .schema import FrameJob, JobMetadata, StatusData, WireJob

__all__ = ["MistralColumns", "mistral_columns", "oldest_first"]

_NO_METADATA = JobMetadata()
_json_encode = msgspec.json.Encoder().encode


def _repeated(positions: list[int], counts: list[int]) -> pl.Series:
    """The Int64 column holding ``positions[i]`` ``counts[i]`` times (every count above 0),
    in polars: cheaper than a Python list of as many ints."""
    return pl.Series("_position", positions, dtype=pl.Int64()).repeat_by(
        pl.Series(counts, dtype=pl.UInt32())
    ).explode()


def _wandb(job: Any) -> Any:
    for integration in job.integrations or ():
        if integration.type in (None, "wandb"):
            return integration
    return None


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
    if type(data) is StatusData:
        return _LIFECYCLE_RANK.get(data.status)
    status = data.get("status") if data else None
    return _LIFECYCLE_RANK.get(status) if isinstance(status, str) else None


def oldest_first(events: list[Any]) -> list[Any]:
    """Events in the order they happened: lists stamped newest first are reversed.

    The direction is read from the first and last timestamps; where they are equal (every
    event in one second), from the first and last statuses' places in a job's life.

    Examples
    --------
    >>> from ftkit.schema import Event
    >>> events = [Event(name="s", created_at=1, data={"status": "VALIDATED"}),
    ...           Event(name="s", created_at=1, data={"status": "QUEUED"})]
    >>> [e.status for e in oldest_first(events)]
    ['QUEUED', 'VALIDATED']
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


def _event_rest(data: dict[str, Any]) -> str | None:
    """``data`` without its (string) status, as JSON text; null when nothing is left."""
    if isinstance(data.get("status"), str):
        data = {key: value for key, value in data.items() if key != "status"}
    return _json_encode(data).decode() if data else None


class MistralColumns:
    """The columns of the frames of Mistral jobs, gathered in one pass by :func:`mistral_columns`.

    ``jobs``, ``checkpoints``, ``events``, ``targets``: per frame asked for, its columns
    by name (None for a frame not asked for); ``openai_at``: the positions of the OpenAI
    jobs met (skipped); ``reversed_at``: the positions of the jobs whose checkpoints list
    was read in reverse (listed newest first).
    """

    __slots__ = ("jobs", "checkpoints", "events", "targets", "openai_at", "reversed_at")

    def __init__(self) -> None:
        self.jobs: dict[str, Any] | None = None
        self.checkpoints: dict[str, Any] | None = None
        self.events: dict[str, Any] | None = None
        self.targets: dict[str, Any] | None = None
        self.openai_at: list[int] = []
        self.reversed_at: list[int] = []


_JOB_COLUMNS = (
    "job_id", "job_type", "model", "status", "auto_start", "created_at", "modified_at",
    "fine_tuned_model", "suffix", "trained_tokens", "training_files", "validation_files",
    "learning_rate", "training_steps", "epochs", "weight_decay", "warmup_fraction",
    "seq_len", "fim_ratio", "cost", "cost_currency", "train_tokens",
    "train_tokens_per_step", "data_tokens", "expected_duration_seconds",
    "estimated_start_time", "wandb_project", "wandb_run_name", "wandb_url",
    "n_checkpoints", "n_events",
)


def mistral_columns(
    jobs: Iterable[Any], frames: Collection[str] = ("jobs", "checkpoints", "events", "targets")
) -> MistralColumns:
    """The columns of the ``frames`` named, for the Mistral jobs among ``jobs``, in one pass.

    ``jobs`` may be any iterable, a generator too: each job is visited once, for every
    frame, and not kept, so that a reader can decode a job, gather its values while they
    are in the CPU's cache and free it before decoding the next.

    - ``jobs``: one row per job; ``training_files`` and ``validation_files`` are
      List(String) Series (null where the JSON had no list). ``provider`` (always ``"mistral"``) and OpenAI's columns
      (always null) are absent.
    - ``checkpoints``: ``_position`` (the job's index among ``jobs``, an Int64 Series),
      ``step_number``, ``created_at``, ``train_loss``, ``valid_loss``,
      ``valid_mean_token_accuracy`` (placeholder zeros kept), in the order of the jobs and,
      within a job, of its list; a list whose first step is above its last (the API lists
      newest first) is read in reverse (its job's position goes to ``reversed_at``), so that
      most come out sorted by step.
    - ``events``: ``_position``, ``created_at``, ``name`` (a list, or a String Series where
      every event has the same name), ``status`` (``data.status`` where it is a string) and
      ``data`` (the rest of ``data`` as JSON text, None when nothing is left; no ``data``
      column at all when no event holds more than a status); each job's events in the
      order they happened (:func:`oldest_first`), not yet sorted by time.
    - ``targets``: ``_position`` (a list), ``name``, ``labels`` (a List(String) Series),
      ``weight``, ``loss_function``.

    OpenAI jobs are skipped: their positions are in ``openai_at``.

    Examples
    --------
    >>> import msgspec
    >>> from ftkit.schema import WireJob
    >>> job = msgspec.json.decode(
    ...     b'{"id": "j1", "model": "m", "status": "QUEUED", "created_at": 0, "modified_at": 0,'
    ...     b' "hyperparameters": {"fim_ratio": 0.9}, "metadata": {"cost": 0.0}}',
    ...     type=WireJob,
    ... )
    >>> cols = mistral_columns([job], frames=("jobs",))
    >>> cols.jobs["job_type"], cols.jobs["fim_ratio"], cols.jobs["cost"], cols.jobs["n_events"]
    (['completion'], [0.9], [None], [None])
    >>> cols.checkpoints is None, cols.openai_at
    (True, [])
    """
    out = MistralColumns()
    want_jobs = "jobs" in frames
    want_checkpoints = "checkpoints" in frames
    want_events = "events" in frames
    want_targets = "targets" in frames
    openai_at, reversed_at = out.openai_at, out.reversed_at
    # jobs
    job_columns: dict[str, list[Any]] = {name: [] for name in _JOB_COLUMNS}
    (
        job_id, job_type, model, status, auto_start, created_at, modified_at,
        fine_tuned_model, suffix, trained_tokens, training_files, validation_files,
        learning_rate, training_steps, epochs, weight_decay, warmup_fraction,
        seq_len, fim_ratio, cost, cost_currency, train_tokens,
        train_tokens_per_step, data_tokens, expected_duration_seconds,
        estimated_start_time, wandb_project, wandb_run_name, wandb_url,
        n_checkpoints, n_events,
    ) = (job_columns[name].append for name in _JOB_COLUMNS)
    no_metadata = _NO_METADATA
    # checkpoints
    checkpoint_positions: list[int] = []
    checkpoint_counts: list[int] = []
    steps: list[int] = []
    checkpoint_times: list[int] = []
    train: list[float | None] = []
    valid: list[float | None] = []
    accuracy: list[float | None] = []
    step, checkpoint_time, train_loss, valid_loss, valid_accuracy = (
        steps.append, checkpoint_times.append, train.append, valid.append, accuracy.append
    )
    # events: the usual {"status": "..."} is settled in the loop; other rows hold their
    # data there until the loop after it, over those rows only, settles them
    event_positions: list[int] = []
    event_counts: list[int] = []
    event_times: list[int] = []
    names: list[str] = []
    statuses: list[Any] = []
    odd: list[int] = []
    event_time, name, status_of = event_times.append, names.append, statuses.append
    # targets
    target_positions: list[int] = []
    targets: list[Any] = []

    for position, job in enumerate(jobs):
        kind_of = type(job)
        if kind_of is OpenAIJob:
            openai_at.append(position)
            continue
        if want_jobs:
            job_id(job.id)
            if kind_of is WireJob or kind_of is FrameJob:  # job.kind, without a property call per job
                kind = job.job_type
                if kind != "classifier" and kind != "completion":
                    kind = "completion" if job.classifier_targets is None else "classifier"
                job_type(kind)
            else:
                job_type(job.kind)
            model(job.model)
            status(job.status)
            auto_start(job.auto_start)
            created_at(job.created_at)
            modified_at(job.modified_at)
            fine_tuned_model(job.fine_tuned_model)
            suffix(job.suffix)
            trained_tokens(job.trained_tokens)
            training_files(job.training_files)
            validation_files(job.validation_files)
            h = job.hyperparameters
            learning_rate(h.learning_rate)
            training_steps(h.training_steps)
            epochs(h.epochs)
            weight_decay(h.weight_decay)
            warmup_fraction(h.warmup_fraction)
            seq_len(h.seq_len)
            fim_ratio(getattr(h, "fim_ratio", None))
            m = job.metadata or no_metadata
            # 0.0 with no currency is the placeholder a job carries right after creation,
            # not a price: null, as in ftkit.analysis.token_usage.
            currency = m.cost_currency
            cost(None if m.cost == 0.0 and currency is None else m.cost)
            cost_currency(currency)
            train_tokens(m.train_tokens)
            train_tokens_per_step(m.train_tokens_per_step)
            data_tokens(m.data_tokens)
            expected_duration_seconds(m.expected_duration_seconds)
            start = m.estimated_start_time
            estimated_start_time(start if start is not None else job.estimated_start_time)
            w = _wandb(job) if job.integrations else None
            if w is None:
                wandb_project(None)
                wandb_run_name(None)
                wandb_url(None)
            else:
                wandb_project(w.project)
                wandb_run_name(w.run_name)
                wandb_url(w.url)
            children = job.checkpoints
            n_checkpoints(None if children is None else len(children))
            children = job.events
            n_events(None if children is None else len(children))
        if want_checkpoints:
            checkpoints = job.checkpoints
            if checkpoints:
                checkpoint_positions.append(position)
                checkpoint_counts.append(len(checkpoints))
                if checkpoints[0].step_number > checkpoints[-1].step_number:
                    checkpoints = reversed(checkpoints)
                    reversed_at.append(position)
                for checkpoint in checkpoints:
                    step(checkpoint.step_number)
                    checkpoint_time(checkpoint.created_at)
                    metrics = checkpoint.metrics
                    train_loss(metrics.train_loss)
                    valid_loss(metrics.valid_loss)
                    valid_accuracy(metrics.valid_mean_token_accuracy)
        if want_events:
            events = job.events
            if events:
                event_positions.append(position)
                event_counts.append(len(events))
                if kind_of is FrameJob:  # every data None or a StatusData
                    for event in oldest_first(events):
                        event_time(event.created_at)
                        name(event.name)
                        data = event.data
                        status_of(None if data is None else data.status)
                else:
                    for event in oldest_first(events):
                        event_time(event.created_at)
                        name(event.name)
                        data = event.data
                        if data and len(data) == 1:
                            value = data.get("status")
                            if type(value) is str:
                                status_of(value)
                                continue
                        odd.append(len(statuses))
                        status_of(data)
        if want_targets:
            children = getattr(job, "classifier_targets", None)
            if children:
                target_positions += repeat(position, len(children))
                targets += children

    if want_jobs:
        for name in ("training_files", "validation_files"):
            job_columns[name] = _string_lists(job_columns[name], name)
        out.jobs = job_columns
    if want_checkpoints:
        out.checkpoints = {
            "_position": _repeated(checkpoint_positions, checkpoint_counts),
            "step_number": steps,
            "created_at": checkpoint_times,
            "train_loss": train,
            "valid_loss": valid,
            "valid_mean_token_accuracy": accuracy,
        }
    if want_events:
        out.events = _event_columns(event_positions, event_counts, event_times, names, statuses, odd)
    if want_targets:
        out.targets = {
            "_position": target_positions,
            "name": [t.name for t in targets],
            "labels": _string_lists([t.labels for t in targets], "labels"),
            "weight": [t.weight for t in targets],
            "loss_function": [t.loss_function for t in targets],
        }
    return out


def _string_lists(values: list[list[str] | None], name: str) -> pl.Series:
    """A List(String) column, built through JSON text, which polars parses far faster than it
    converts Python lists one by one: the whole column as one JSON array, exploded."""
    if not values:
        return pl.Series(name, [], dtype=pl.List(pl.String()))
    text = pl.Series(name, [_json_encode(values).decode()], dtype=pl.String())
    return text.str.json_decode(pl.List(pl.List(pl.String()))).explode()


def _event_columns(
    positions: list[int], counts: list[int], times: list[int], names: list[str], statuses: list[Any], odd: list[int]
) -> dict[str, Any]:
    """The events' columns, once the rows in ``odd`` (whose status holds their whole
    ``data``) are settled."""
    columns: dict[str, Any] = {"_position": _repeated(positions, counts), "created_at": times}
    # one name in every row (as in every real dump): repeated in polars, not converted per row
    constant = names and names.count(names[0]) == len(names)
    columns["name"] = pl.repeat(names[0], len(names), dtype=pl.String(), eager=True) if constant else names
    columns["status"] = statuses
    if odd:
        rests: list[str | None] = [None] * len(statuses)
        for row in odd:
            data = statuses[row]
            if data:
                status = data.get("status")
                statuses[row] = status if isinstance(status, str) else None
                rests[row] = _event_rest(data)
            else:
                statuses[row] = None
        columns["data"] = rests
    return columns

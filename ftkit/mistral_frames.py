"""The columns of ftkit's frames for Mistral jobs (:mod:`ftkit.frames` assembles them).

Building frames is where most of a read's time went: hundreds of thousands of Structs,
each visited once per column. The builders here visit each job, checkpoint and event
once, appending its values to every column in one pass (a visit costs a cache miss on a
large dump; a second attribute read on an object just visited costs almost nothing), and
return plain Python lists, which polars turns into columns fastest; the job positions
that say whose checkpoint or event a row is are repeated in polars. Columns that hold one
value in every row (``provider``, ``origin``) or none (OpenAI's columns) are not built
here at all: :mod:`ftkit.frames` adds them as polars literals.

Times stay UNIX seconds (ints); :mod:`ftkit.frames` turns them into UTC datetimes in
polars. The builders skip OpenAI jobs (the checkpoint and event builders return their
positions), whose rows :mod:`ftkit.openai_frames` builds.

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
>>> columns, openai_at = mistral_checkpoint_columns([job])
>>> columns["_position"].to_list(), columns["step_number"], columns["train_loss"], openai_at
([0], [5], [0.5], [])
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import msgspec
import polars as pl

from .openai_schema import OpenAIJob
from .schema import FrameJob, JobMetadata, StatusData, WireJob

__all__ = [
    "mistral_job_columns",
    "mistral_checkpoint_columns",
    "mistral_event_columns",
    "mistral_target_columns",
    "oldest_first",
]

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


def mistral_job_columns(jobs: list[Any]) -> dict[str, list[Any]]:
    """Per jobs-frame column, the values of these Mistral jobs (times as UNIX seconds).

    Only the columns Mistral jobs fill; ``provider`` (always ``"mistral"``) and OpenAI's
    columns (always null) are absent. ``training_files`` and ``validation_files`` hold the
    lists (or None) as decoded.

    Examples
    --------
    >>> import msgspec
    >>> from ftkit.schema import WireJob
    >>> job = msgspec.json.decode(
    ...     b'{"id": "j1", "model": "m", "status": "QUEUED", "created_at": 0, "modified_at": 0,'
    ...     b' "hyperparameters": {"fim_ratio": 0.9}, "metadata": {"cost": 0.0}}',
    ...     type=WireJob,
    ... )
    >>> cols = mistral_job_columns([job])
    >>> cols["job_type"], cols["fim_ratio"], cols["cost"], cols["n_events"]
    (['completion'], [0.9], [None], [None])
    """
    names = (
        "job_id", "job_type", "model", "status", "auto_start", "created_at", "modified_at",
        "fine_tuned_model", "suffix", "trained_tokens", "training_files", "validation_files",
        "learning_rate", "training_steps", "epochs", "weight_decay", "warmup_fraction",
        "seq_len", "fim_ratio", "cost", "cost_currency", "train_tokens",
        "train_tokens_per_step", "data_tokens", "expected_duration_seconds",
        "estimated_start_time", "wandb_project", "wandb_run_name", "wandb_url",
        "n_checkpoints", "n_events",
    )
    columns: dict[str, list[Any]] = {name: [] for name in names}
    (
        job_id, job_type, model, status, auto_start, created_at, modified_at,
        fine_tuned_model, suffix, trained_tokens, training_files, validation_files,
        learning_rate, training_steps, epochs, weight_decay, warmup_fraction,
        seq_len, fim_ratio, cost, cost_currency, train_tokens,
        train_tokens_per_step, data_tokens, expected_duration_seconds,
        estimated_start_time, wandb_project, wandb_run_name, wandb_url,
        n_checkpoints, n_events,
    ) = (columns[name].append for name in names)
    no_metadata = _NO_METADATA
    for job in jobs:
        job_id(job.id)
        if type(job) is WireJob or type(job) is FrameJob:  # job.kind, without a property call per job
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
    return columns


def mistral_checkpoint_columns(
    jobs: list[Any], *, as_listed: bool = False
) -> tuple[dict[str, Any], list[int]]:
    """The checkpoints of the Mistral jobs among ``jobs`` as columns, and where the OpenAI jobs are.

    Columns ``_position`` (the job's index in ``jobs``, an Int64 Series), ``step_number``, ``created_at``,
    ``train_loss``, ``valid_loss``, ``valid_mean_token_accuracy`` (placeholder zeros
    kept), in the order of the jobs and, within a job, of its list; a list whose first
    step is above its last (the API lists newest first) is read in reverse, so that most
    come out sorted by step, unless ``as_listed``.
    """
    positions: list[int] = []
    counts: list[int] = []
    steps: list[int] = []
    times: list[int] = []
    train: list[float | None] = []
    valid: list[float | None] = []
    accuracy: list[float | None] = []
    step, time, train_loss, valid_loss, valid_accuracy = (
        steps.append, times.append, train.append, valid.append, accuracy.append
    )
    openai_at: list[int] = []
    for position, job in enumerate(jobs):
        if type(job) is OpenAIJob:
            openai_at.append(position)
            continue
        checkpoints = job.checkpoints
        if checkpoints:
            positions.append(position)
            counts.append(len(checkpoints))
            if not as_listed and checkpoints[0].step_number > checkpoints[-1].step_number:
                checkpoints = reversed(checkpoints)
            for checkpoint in checkpoints:
                step(checkpoint.step_number)
                time(checkpoint.created_at)
                metrics = checkpoint.metrics
                train_loss(metrics.train_loss)
                valid_loss(metrics.valid_loss)
                valid_accuracy(metrics.valid_mean_token_accuracy)
    columns = {
        "_position": _repeated(positions, counts),
        "step_number": steps,
        "created_at": times,
        "train_loss": train,
        "valid_loss": valid,
        "valid_mean_token_accuracy": accuracy,
    }
    return columns, openai_at


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


def mistral_event_columns(jobs: list[Any]) -> tuple[dict[str, Any], list[int]]:
    """The events of the Mistral jobs among ``jobs`` as columns, and where the OpenAI jobs are.

    Columns ``_position`` (an Int64 Series), ``created_at``, ``name`` (a list, or a String
    Series where every event has the same name), ``status`` (``data.status`` where it is a
    string) and ``data`` (the rest of ``data`` as JSON text, None when nothing is left; no
    ``data`` column at all when no event holds more than a status); each job's events in
    the order they happened (:func:`oldest_first`), not yet sorted by time.
    """
    positions: list[int] = []
    counts: list[int] = []
    times: list[int] = []
    names: list[str] = []
    # the usual {"status": "..."} is settled in the loop; other rows hold their data
    # there until the second loop, over those rows only, settles them
    statuses: list[Any] = []
    odd: list[int] = []
    time, name, status_of = times.append, names.append, statuses.append
    openai_at: list[int] = []
    for position, job in enumerate(jobs):
        if type(job) is OpenAIJob:
            openai_at.append(position)
            continue
        events = job.events
        if not events:
            continue
        positions.append(position)
        counts.append(len(events))
        if type(job) is FrameJob:  # every data None or a StatusData
            for event in oldest_first(events):
                time(event.created_at)
                name(event.name)
                data = event.data
                status_of(None if data is None else data.status)
            continue
        for event in oldest_first(events):
            time(event.created_at)
            name(event.name)
            data = event.data
            if data and len(data) == 1:
                status = data.get("status")
                if type(status) is str:
                    status_of(status)
                    continue
            odd.append(len(statuses))
            status_of(data)
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
    return columns, openai_at


def mistral_target_columns(jobs: list[Any]) -> dict[str, list[Any]]:
    """The classifier targets of the Mistral jobs among ``jobs`` as columns.

    Columns ``_position``, ``name``, ``labels`` (the lists as decoded), ``weight``,
    ``loss_function``.
    """
    positions: list[int] = []
    targets: list[Any] = []
    for position, job in enumerate(jobs):
        children = getattr(job, "classifier_targets", None)
        if children and type(job) is not OpenAIJob:
            positions += repeat(position, len(children))
            targets += children
    return {
        "_position": positions,
        "name": [t.name for t in targets],
        "labels": [t.labels for t in targets],
        "weight": [t.weight for t in targets],
        "loss_function": [t.loss_function for t in targets],
    }

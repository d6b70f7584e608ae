"""The columns of ftkit's frames for OpenAI jobs (:mod:`ftkit.frames` assembles them).

How OpenAI's values land in the frames:

- ``status`` is OpenAI's status in ftkit's vocabulary
  (:data:`ftkit.openai_schema.STATUS_MAP`), ``status_raw`` the status as written.
- Hyperparameters keep their own names, ``n_epochs``, ``batch_size``,
  ``learning_rate_multiplier``, taken from ``method.<type>.hyperparameters`` where the job
  has them, else from the top-level ``hyperparameters``. ``"auto"`` and Azure's ``-1``
  (its sentinel for auto) are null there, with ``n_epochs_auto`` (etc.) true.
- ``modified_at`` is the latest time the job shows (created, finished, its latest event or
  checkpoint): OpenAI jobs have no such key.
- ``training_files``/``validation_files`` hold the one ``training_file``/``validation_file``;
  ``suffix`` is ``user_provided_suffix``; the W&B columns come from the first ``wandb``
  integration (``wandb_run_name`` is its ``name``).
- Checkpoint rows come from the checkpoints and from ``"metrics"`` events (``origin`` says
  which); where both have a step, the checkpoint's row is kept.
- Event rows have ``name`` = the event ``type`` (``"message"``, ``"metrics"``), no
  ``status``, and ``data`` as JSON text.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .openai_schema import OpenAIJob

__all__ = ["openai_job_columns", "openai_checkpoint_rows", "openai_event_rows"]

_json_encode = msgspec.json.Encoder().encode
_METRICS = (
    "train_loss",
    "valid_loss",
    "valid_mean_token_accuracy",
    "train_mean_token_accuracy",
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
)


def _auto(value: Any) -> tuple[Any, bool | None]:
    """A hyperparameter as (number or None, whether OpenAI chose it)."""
    if value is None:
        return None, None
    if value == "auto" or value == -1:
        return None, True
    return value, False


def _wandb(job: OpenAIJob) -> Any:
    for integration in job.integrations or ():
        if integration.type in (None, "wandb") and integration.wandb is not None:
            return integration.wandb
    return None


def openai_job_columns(jobs: list[OpenAIJob]) -> dict[str, list[Any]]:
    """Per jobs-frame column, the values of these OpenAI jobs (times as UNIX seconds).

    Columns that OpenAI jobs do not have are absent from the result.

    Examples
    --------
    >>> from ftkit.openai_schema import OpenAIJob, OpenAIHyperparameters
    >>> job = OpenAIJob(id="ftjob-a", model="gpt-4o-mini", status="succeeded", created_at=5,
    ...                 hyperparameters=OpenAIHyperparameters(n_epochs=3, batch_size="auto"))
    >>> cols = openai_job_columns([job])
    >>> cols["status"], cols["status_raw"], cols["n_epochs"], cols["batch_size"], cols["batch_size_auto"]
    (['SUCCESS'], ['succeeded'], [3], [None], [True])
    """
    hyper = [job.effective_hyperparameters for job in jobs]
    n_epochs = [_auto(h.n_epochs) for h in hyper]
    batch = [_auto(h.batch_size) for h in hyper]
    lrm = [_auto(h.learning_rate_multiplier) for h in hyper]
    wandb = [_wandb(job) for job in jobs]
    errors = [job.error for job in jobs]
    return {
        "job_id": [job.id for job in jobs],
        "job_type": [job.kind for job in jobs],
        "model": [job.model for job in jobs],
        "status": [job.ftkit_status for job in jobs],
        "created_at": [job.created_at for job in jobs],
        "modified_at": [job.modified_at for job in jobs],
        "fine_tuned_model": [job.fine_tuned_model for job in jobs],
        "suffix": [job.user_provided_suffix for job in jobs],
        "trained_tokens": [job.trained_tokens for job in jobs],
        "training_files": [[] if job.training_file is None else [job.training_file] for job in jobs],
        "validation_files": [None if job.validation_file is None else [job.validation_file] for job in jobs],
        "wandb_project": [w.project if w is not None else None for w in wandb],
        "wandb_run_name": [w.name if w is not None else None for w in wandb],
        "n_checkpoints": [None if job.checkpoints is None else len(job.checkpoints) for job in jobs],
        "n_events": [None if job.events is None else len(job.events) for job in jobs],
        "provider": ["openai"] * len(jobs),
        "status_raw": [job.status for job in jobs],
        "method": [job.method.type if job.method is not None else None for job in jobs],
        "n_epochs": [v for v, _ in n_epochs],
        "n_epochs_auto": [a for _, a in n_epochs],
        "batch_size": [v for v, _ in batch],
        "batch_size_auto": [a for _, a in batch],
        "learning_rate_multiplier": [v for v, _ in lrm],
        "learning_rate_multiplier_auto": [a for _, a in lrm],
        "seed": [job.seed for job in jobs],
        "organization_id": [job.organization_id for job in jobs],
        "finished_at": [job.finished_at for job in jobs],
        "estimated_finish": [job.estimated_finish for job in jobs],
        "error_code": [e.code if e is not None else None for e in errors],
        "error_message": [e.message if e is not None else None for e in errors],
    }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def openai_checkpoint_rows(jobs: list[OpenAIJob], positions: list[int]) -> dict[str, list[Any]]:
    """Checkpoint-frame rows of OpenAI jobs (``positions[i]`` is job i's ``_position``).

    One row per checkpoint, plus one per ``"metrics"`` event whose step has no checkpoint.
    """
    rows: dict[str, list[Any]] = {
        name: []
        for name in (
            "_position", "step_number", "created_at", *_METRICS,
            "checkpoint_id", "fine_tuned_model_checkpoint", "origin",
        )
    }

    def add(position: int, step: int, created_at: int, metrics: Any, get: Any, cid: Any, model: Any, origin: str) -> None:
        rows["_position"].append(position)
        rows["step_number"].append(step)
        rows["created_at"].append(created_at)
        for name in _METRICS:
            rows[name].append(get(metrics, name))
        rows["checkpoint_id"].append(cid)
        rows["fine_tuned_model_checkpoint"].append(model)
        rows["origin"].append(origin)

    for job, position in zip(jobs, positions):
        steps = set()
        for cp in job.checkpoints or ():
            steps.add(cp.step_number)
            add(position, cp.step_number, cp.created_at, cp.metrics, getattr, cp.id,
                cp.fine_tuned_model_checkpoint, "checkpoint")
        for event in job.events or ():
            data = event.data
            if event.type != "metrics" or not isinstance(data, dict):
                continue
            step = _number(data.get("step"))
            if step is None or step < 0 or step != int(step) or int(step) in steps:
                continue
            steps.add(int(step))
            add(position, int(step), event.created_at, data, lambda d, k: _number(d.get(k)), None, None, "event")
    return rows


def openai_event_rows(events: list[Any]) -> dict[str, list[Any]]:
    """Event-frame columns of OpenAI events, already in time order (no ``_position``)."""
    return {
        "created_at": [e.created_at for e in events],
        "name": [e.type for e in events],
        "status": [None] * len(events),
        "data": [None if not e.data else _json_encode(e.data).decode() for e in events],
        "level": [e.level for e in events],
        "message": [e.message for e in events],
    }

"""Synthetic OpenAI fine-tuning jobs, with their events and checkpoints lists.

The jobs look like those OpenAI's API (and Azure OpenAI's copy of it) served from
September 2023 to October 2025, with the quirks of ``tests/data/real/SOURCES.md``:

* **2023**: hyperparameters ``{n_epochs}`` only; no ``seed``, ``integrations``,
  ``user_provided_suffix`` or ``estimated_finish``; ``error`` null.
* **2024**: all three hyperparameters, ``"auto"`` until the job starts; ``error`` ``{}``
  on jobs that did not fail; W&B integrations.
* **from 2024-12-17**: ``method.supervised.hyperparameters`` beside the top-level ones,
  ``metadata``.
* **Azure** (about one job in six): ``ftjob-<32 hex>`` ids, status ``pending`` before it
  queues, ``-1`` for auto hyperparameters, ``result_files``/``organization_id``/
  ``integrations`` null, checkpoint ids ``ftchkpt-``, ``metrics.step`` a float.

Each job is followed by its events list (newest first; ``"message"`` events without
``data``, ``"metrics"`` events with the losses and accuracies) and, once it trained, its
checkpoints list (one per epoch of the last three), as three NDJSON lines: the job, then
the lists that :func:`ftkit.read_jobs` attaches to it. Losses fall faster with a higher
learning-rate multiplier, which also overfits: the validation loss rises again.

Deterministic: job ``i`` of seed ``s`` depends only on ``(s, i)``.

Examples
--------
>>> import ftkit
>>> from ftkit.synth_openai import make_openai_jobs_bytes
>>> js = ftkit.read_jobs(make_openai_jobs_bytes(20, seed=0))
>>> len(js), js.unattached, set(js.jobs["provider"])
(20, [], {'openai'})
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["make_openai_documents", "make_openai_jobs_bytes", "write_openai_dump"]


def _ts(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp())


START, END = _ts(2023, 9, 1), _ts(2025, 11, 1) - 1
_ERA_2024 = _ts(2024, 1, 1)
_METHOD = _ts(2024, 12, 17)
_MODELS = (
    (_ts(2023, 9, 1), ("gpt-3.5-turbo-0613",)),
    (_ts(2024, 2, 1), ("gpt-3.5-turbo-0125",)),
    (_ts(2024, 7, 24), ("gpt-4o-mini-2024-07-18", "gpt-3.5-turbo-0125")),
    (_ts(2024, 8, 20), ("gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06")),
    (_ts(2025, 4, 15), ("gpt-4.1-mini-2025-04-14", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14")),
)
_STATUSES = ("succeeded", "failed", "cancelled", "running", "queued", "validating_files")
_STATUS_WEIGHTS = (0.74, 0.08, 0.05, 0.05, 0.04, 0.04)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _openai_id(rng: random.Random, prefix: str, azure: bool) -> str:
    if azure:
        return f"{prefix}-{rng.getrandbits(128):032x}"
    return prefix + "-" + "".join(rng.choice(_ALNUM) for _ in range(24))


def _model(rng: random.Random, created: int) -> str:
    options = _MODELS[0][1]
    for since, models in _MODELS:
        if created >= since:
            options = models
    return rng.choice(options)


def _curve(rng: random.Random, *, steps: int, lrm: float, start: float, floor: float) -> Any:
    """step -> (train_loss, valid_loss): falls with ``lrm``, overfits at a high ``lrm``."""
    speed = lrm / max(steps, 1) * 6
    overfit = 0.15 * lrm * lrm * (start - floor) / max(steps, 1)

    def at(step: int) -> tuple[float, float]:
        fall = (start - floor) * math.exp(-speed * step)
        train = (floor * 0.8 + fall) * (1 + 0.05 * rng.gauss(0, 1))
        valid = (floor + fall + overfit * step) * (1 + 0.02 * rng.gauss(0, 1))
        return round(max(train, 1e-4), 6), round(max(valid, 1e-4), 6)

    return at


def _accuracy(loss: float) -> float:
    return round(max(0.0, min(1.0, 1.0 - loss / 3.0)), 6)


def _job_documents(seed: int, index: int) -> list[dict[str, Any]]:
    """Job ``index`` of ``seed``: the job dict, then its events and checkpoints lists."""
    rng = random.Random(f"ftkit.synth_openai:{seed}:{index}")
    azure = rng.random() < 1 / 6
    created = rng.randint(START, END)
    era_2023 = created < _ERA_2024
    status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
    if azure and status in ("queued", "validating_files"):
        status = "pending"
    job_id = _openai_id(rng, "ftjob", azure)
    model = _model(rng, created)
    examples = rng.randint(50, 1500)
    n_epochs = rng.choice((1, 2, 3, 3, 4, 5))
    batch_size = rng.choice((1, 2, 4, 8))
    lrm = rng.choice((0.5, 1.0, 1.8, 2.0))
    steps = min(math.ceil(examples / batch_size) * n_epochs, 400)
    validation = rng.random() < 0.6
    started = status not in ("pending", "queued", "validating_files")
    trained = status in ("succeeded",) or (status in ("failed", "cancelled", "running") and rng.random() < 0.7)
    done_steps = steps if status == "succeeded" else (rng.randint(1, steps) if trained else 0)

    def auto(value: Any) -> Any:
        if started:
            return value
        return -1 if azure else "auto"

    hyper: dict[str, Any] = {"n_epochs": auto(n_epochs)}
    if not era_2023:
        hyper["batch_size"] = auto(batch_size)
        hyper["learning_rate_multiplier"] = auto(lrm)
    tokens_per_example = rng.randint(80, 900)
    t = created + rng.randint(5, 60)  # validation
    queued_at = t + rng.randint(5, 40)
    start_at = queued_at + rng.randint(30, 3600)
    step_seconds = rng.randint(2, 12)
    finished = start_at + done_steps * step_seconds + rng.randint(20, 300) if status in ("succeeded", "failed", "cancelled") else None
    organization = None if azure else "org-" + "".join(rng.choice(_ALNUM) for _ in range(24))
    job: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": model,
        "created_at": created,
        "finished_at": finished,
        "fine_tuned_model": (
            f"{model}.ft-{rng.getrandbits(128):032x}" if azure else f"ft:{model}:acme::{_openai_id(rng, 'x', False)[2:10]}"
        ) if status == "succeeded" else None,
        "organization_id": organization,
        "result_files": None if azure else ([_openai_id(rng, "file", False)] if status == "succeeded" else []),
        "status": status,
        "validation_file": _openai_id(rng, "file", azure) if validation else None,
        "training_file": _openai_id(rng, "file", azure),
        "hyperparameters": hyper,
        "trained_tokens": done_steps * batch_size * tokens_per_example if status == "succeeded" else None,
    }
    if status == "failed":
        job["error"] = {"code": "invalid_training_file" if not trained else "internal_error",
                        "message": "The job failed.", "param": "training_file" if not trained else None}
    else:
        job["error"] = None if era_2023 or azure else {}
    if not era_2023:
        job["seed"] = rng.randint(1, 2**31 - 1)
        job["estimated_finish"] = start_at + steps * step_seconds if status == "running" else None
        job["user_provided_suffix"] = rng.choice((None, "support", "pricer", "intent", "sql"))
        if azure:
            job["integrations"] = None
        elif rng.random() < 0.3:
            job["integrations"] = [{"type": "wandb", "wandb": {"project": "ft-openai", "name": None,
                                                              "entity": None, "tags": None, "run_id": job_id}}]
        else:
            job["integrations"] = []
    if created >= _METHOD and not azure:
        job["method"] = {"type": "supervised", "supervised": {"hyperparameters": dict(hyper)}}
        job["metadata"] = None

    # events, oldest first while built; listed newest first
    events: list[dict[str, Any]] = []

    def event(at: int, message: str, data: dict[str, Any] | None = None) -> None:
        item = {"object": "fine_tuning.job.event", "id": _openai_id(rng, "ftevent", azure), "created_at": at,
                "level": "error" if "failed" in message else "info", "message": message,
                "type": "metrics" if data is not None else "message"}
        if data is not None:
            item["data"] = data
        events.append(item)

    event(created, f"Created fine-tuning job: {job_id}")
    if status != "pending":
        event(created + 1, f"Validating training file: {job['training_file']}")
    if status not in ("pending", "validating_files"):
        event(queued_at, "Files validated, moving job to queued state")
    checkpoints: list[dict[str, Any]] = []
    if started:
        event(start_at, "Fine-tuning job started")
        curve = _curve(rng, steps=steps, lrm=lrm, start=rng.uniform(1.6, 3.2), floor=rng.uniform(0.2, 0.7))
        every = max(1, steps // 25)
        per_epoch = max(1, steps // n_epochs)
        for step in range(1, done_steps + 1):
            if step % every and step != done_steps and step % per_epoch:
                continue
            train, valid = curve(step)
            data: dict[str, Any] = {"step": step, "train_loss": train, "train_mean_token_accuracy": _accuracy(train)}
            if validation:
                data["valid_loss"] = valid
                data["valid_mean_token_accuracy"] = _accuracy(valid)
            at = start_at + step * step_seconds
            if step % per_epoch == 0 and step > steps - 3 * per_epoch:
                metrics = {"step": float(step) if azure else step, **{k: v for k, v in data.items() if k != "step"}}
                if validation:
                    metrics["full_valid_loss"] = round(valid * 1.05, 6)
                    metrics["full_valid_mean_token_accuracy"] = _accuracy(valid * 1.05)
                checkpoints.append({
                    "object": "fine_tuning.job.checkpoint",
                    "id": _openai_id(rng, "ftchkpt" if azure else "ftckpt", azure).replace("ftckpt-", "ftckpt_"),
                    "created_at": at,
                    "fine_tuned_model_checkpoint": f"ft:{model}:acme::ckpt-step-{step}",
                    "fine_tuning_job_id": job_id,
                    "metrics": metrics,
                    "step_number": step,
                })
            event(at, f"Step {step}/{steps}: training loss={train}", data)
    if status == "succeeded":
        event(finished - 2, f"New fine-tuned model created: {job['fine_tuned_model']}")
        event(finished, "The job has successfully completed")
    elif status == "failed":
        event(finished, "The job failed due to an internal error" if trained else "Training file validation failed")
    elif status == "cancelled":
        event(finished, "Job cancelled")
    documents = [job, {"object": "list", "data": events[::-1], "has_more": False}]
    if checkpoints:
        documents.append({"object": "list", "data": checkpoints[::-1], "has_more": False})
    return documents


def make_openai_documents(n: int, *, seed: int) -> Iterator[dict[str, Any]]:
    """Yield, for each of ``n`` jobs, the job, its events list and its checkpoints list (if any).

    Examples
    --------
    >>> from ftkit.synth_openai import make_openai_documents
    >>> [doc.get("object") for doc in make_openai_documents(1, seed=0)]
    ['fine_tuning.job', 'list', 'list']
    """
    if n < 0:
        msg = f"n must be a non-negative number of jobs, got {n}"
        raise ValueError(msg)
    for index in range(n):
        yield from _job_documents(seed, index)


def make_openai_jobs_bytes(n: int, *, seed: int = 0) -> bytes:
    """NDJSON of :func:`make_openai_documents`: a job line, then its lists' lines."""
    encode = msgspec.json.Encoder().encode
    return b"".join(encode(doc) + b"\n" for doc in make_openai_documents(n, seed=seed))


def write_openai_dump(path: str | os.PathLike, n: int, *, seed: int, compresslevel: int = 9) -> Path:
    """Write :func:`make_openai_documents` as NDJSON, gzip if ``path`` ends in ``.gz``; the
    bytes depend only on the arguments."""
    from .read.write import write_ndjson

    return write_ndjson(make_openai_documents(n, seed=seed), path, compresslevel=compresslevel)

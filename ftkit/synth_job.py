"""One synthetic Mistral fine-tuning job, as the wire dict a real dump holds.

:func:`job_dict` builds job ``index`` of a seed as the job JSON that the API and its
SDKs produced between May 2024 and October 2025, quirks included (see
``shared/reference/wire-format.md``). :mod:`ftkit.synth` makes many of them at once and
writes dumps; this module is the single job.

A job's look follows its creation date:

* **May to mid-July 2024** (SDK 0.x dumps): completion jobs only, ``job_type`` ``"FT"``,
  no ``auto_start``, ``suffix``, ``trained_tokens``, ``metadata`` or ``repositories``,
  ``estimated_start_time`` at the top level, hyperparameters ``training_steps`` and
  ``learning_rate`` only.
* **mid-July 2024 to mid-April 2025** (API of that time): ``job_type`` ``"FT"``,
  ``metadata`` with cost and tokens, ``weight_decay``/``warmup_fraction`` from
  2024-08-22, ``seq_len`` from 2024-11-07; events sometimes without ``data`` (an SDK
  1.0.0 artefact).
* **from 2025-04-16**: classifier jobs too; ``job_type`` ``"completion"``/``"classifier"``
  in raw API JSON, or absent, with ``object`` and the W&B ``type``, in SDK 1.x
  ``model_dump()`` output.

2024 jobs list their events newest first and have a checkpoint every ``steps // 10``
steps with real metrics (and none without a validation file); 2025 jobs list events
oldest first and have a checkpoint at every step, whose ``valid_loss`` and
``valid_mean_token_accuracy`` are ``0.0`` placeholders on steps without evaluation or
when there is no validation file. Checkpoints are always newest first.

Loss curves depend on the hyperparameters: the learning rate sets how fast the loss
falls, and too high a learning rate overfits (the validation loss rises again after a
minimum, less so with weight decay); warmup delays the fall; the model and a per-job
task difficulty set the starting loss and the floor. Metrics carry noise.

Job ``index`` of ``seed`` depends only on ``(seed, index)`` and the options: its random
generator is seeded with the string ``"ftkit.synth:{seed}:{index}"``.

Examples
--------
>>> from ftkit.synth_job import job_dict, step_weights
>>> job = job_dict(1, seed=0)  # a 2025 job as SDK 1.x model_dump() wrote it
>>> job["model"], job["status"], "job_type" in job
('mistral-small-latest', 'SUCCESS', False)
>>> [event["data"]["status"] for event in job["events"]]
['QUEUED', 'VALIDATING', 'VALIDATED', 'RUNNING', 'SUCCESS']
>>> job["hyperparameters"]["training_steps"], len(job["checkpoints"]), job["checkpoints"][0]["step_number"]
(100, 100, 100)
>>> busy = job_dict(1, seed=0, weights=step_weights(200))  # longer runs: more checkpoints
>>> busy["id"] == job["id"], busy["hyperparameters"]["training_steps"], len(busy["checkpoints"])
(True, 500, 500)
>>> job_dict(1, seed=0, sdk_readable=True)["job_type"]
'completion'
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import datetime, timezone
from typing import Any

__all__ = ["START", "END", "job_dict", "step_weights", "make_sdk_readable"]


def _ts(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp())


#: Jobs are created between these two UNIX times (seconds).
START, END = _ts(2024, 5, 1), _ts(2025, 11, 1) - 1
_SDK1_ERA = _ts(2024, 7, 15)  # mistralai 1.0: auto_start, metadata, repositories...
_NEMO = _ts(2024, 7, 18)
_WEIGHT_DECAY = _ts(2024, 8, 22)  # weight_decay, warmup_fraction in hyperparameters
_MINISTRAL = _ts(2024, 10, 16)
_SEQ_LEN = _ts(2024, 11, 7)
_ERA_2025 = _ts(2025, 4, 16)  # classifier jobs, job_type completion/classifier

# Status proportions; 2024 (0.x) jobs had no validation statuses: they map to QUEUED/FAILED.
_STATUSES = (
    "SUCCESS", "FAILED", "RUNNING", "QUEUED", "VALIDATING", "VALIDATED",
    "FAILED_VALIDATION", "CANCELLED",
)  # fmt: skip
_STATUS_WEIGHTS = (0.66, 0.08, 0.06, 0.05, 0.02, 0.05, 0.03, 0.05)
_PARTIAL = frozenset({"FAILED", "RUNNING", "CANCELLED"})  # trained for part of the steps

_STEP_GRID = (10, 20, 30, 50, 60, 80, 100, 150, 200, 300, 500)
_LR_GRID = (1e-5, 4e-5, 1e-4, 2e-4)
_LR_WEIGHTS = (0.2, 0.3, 0.4, 0.1)
_LR_WEIGHTS_2024 = (0.05, 0.1, 0.8, 0.05)  # most 2024 jobs kept the default 1e-4

_P_VALIDATION = 0.75  # jobs with a validation file
_P_2025 = 1 - ((_ERA_2025 - START) / (END - START)) ** 2  # created_at density grows linearly
_MEAN_PARTIAL = 0.525  # mean fraction of steps done by a FAILED, RUNNING or CANCELLED job

# model: (start loss, floor, seconds per step, train tokens per step, price per M tokens)
_MODELS: dict[str, tuple[float, float, float, int, float]] = {
    "open-mistral-7b": (1.30, 0.70, 4.5, 131072, 2.0),
    "mistral-small-latest": (1.15, 0.60, 7.5, 131072, 6.0),
    "codestral-latest": (0.95, 0.45, 7.0, 131072, 3.0),
    "open-mistral-nemo": (1.20, 0.65, 5.0, 131072, 2.0),
    "ministral-3b-latest": (1.50, 0.85, 2.2, 65536, 0.5),
    "ministral-8b-latest": (1.35, 0.75, 3.0, 65536, 1.0),
    "pixtral-12b-latest": (0.55, 0.012, 8.7, 127677, 2.0),
}
_CLASSIFIER_LOSS = (0.35, 0.0002)  # classifier heads: start loss and floor

_WORKSPACES = ("8e2706f0", "b6e34a5e", "35c6fa92", "9fda217c", "d3417809", "5a1c0e77")
_PROJECTS = ("intent-classifier", "support-bot", "small_SlackStral", "mistralai", "codegen", "news-topics")
_RUN_NAMES = ("run_1", "lr-sweep", "finetuning", "run_3_split_big", "baseline", "wd-ablation")
_SUFFIXES = ("support-v2", "intent", "sql-gen", "news", "legal-fr", "ticket-triage")
_REPOS = (
    ("mistralai", "mistral-inference"),
    ("mistralai", "client-python"),
    ("mistralai", "mistral-finetune"),
    ("pola-rs", "polars"),
    ("jcrist", "msgspec"),
)
_TARGETS = {
    "intent": ("play_music", "weather_query", "email_query", "calendar_set", "qa_factoid", "news_query"),
    "moderation": ("toxicity", "safe", "identity_attack", "sexual_explicit", "obscene", "insult", "threat"),
    "sentiment": ("positive", "negative", "neutral"),
    "language": ("en", "fr", "de", "es", "it"),
    "product": ("electronics", "clothing", "home", "sports", "books"),
}
_CURRENCIES_2025 = ("EUR", "USD")



def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def step_weights(checkpoints_per_job: float | None) -> tuple[float, ...]:
    """Weights over the training-steps grid so that jobs average ``checkpoints_per_job``.

    A 2025 job that trains has one checkpoint per step done, a 2024 job with a
    validation file about ten; the weights ``exp(beta * steps / 100)`` are tilted by a
    ``beta`` found by bisection so that the expected count matches the request (as far
    as steps of 10..500 allow: from about 7 to about 380 a job).

    Parameters
    ----------
    checkpoints_per_job
        Average number of checkpoints per job; ``None`` for the default, about 30.

    Returns
    -------
    tuple of float
        One weight per step count of the grid 10, 20, 30, 50, 60, 80, 100, 150, 200,
        300, 500 (summing to 1), for :func:`job_dict`'s ``weights``.

    Examples
    --------
    >>> from ftkit.synth_job import step_weights
    >>> few, many = step_weights(10), step_weights(200)
    >>> len(few), round(sum(few), 9)
    (11, 1.0)
    >>> few[0] > many[0], few[-1] < many[-1]  # more checkpoints: longer runs more likely
    (True, True)
    """
    target = 30.0 if checkpoints_per_job is None else float(checkpoints_per_job)
    done = _STATUS_WEIGHTS[0] + _MEAN_PARTIAL * sum(
        w for s, w in zip(_STATUSES, _STATUS_WEIGHTS) if s in _PARTIAL
    )

    def weights(beta: float) -> list[float]:
        raw = [math.exp(beta * s / 100) for s in _STEP_GRID]
        total = sum(raw)
        return [w / total for w in raw]

    def expected(beta: float) -> float:
        return done * sum(
            w * (_P_2025 * s + (1 - _P_2025) * _P_VALIDATION * min(s, 10))
            for w, s in zip(weights(beta), _STEP_GRID)
        )

    low, high = -30.0, 30.0
    for _ in range(60):
        mid = (low + high) / 2
        if expected(mid) < target:
            low = mid
        else:
            high = mid
    return tuple(weights((low + high) / 2))


def _pick(rng: random.Random, options: tuple[Any, ...], weights: tuple[float, ...]) -> Any:
    return rng.choices(options, weights)[0]


def _loss_curve(
    rng: random.Random,
    *,
    steps: int,
    lr: float,
    weight_decay: float,
    warmup: float,
    start: float,
    floor: float,
) -> Any:
    """A function step -> (train_loss, valid_loss) for one job, with noise.

    ``s(t)``, the learning done by step ``t``, grows with the learning rate (linearly
    after a warmup ramp). Both losses fall as ``exp(-s/12)`` from ``start`` to ``floor``;
    the validation loss also gains an overfitting term proportional to ``lr**2 * s``,
    reduced by weight decay, so too high a learning rate makes it rise again after a
    minimum, while too low a one leaves both losses high.
    """
    r = lr / 1e-4
    ramp = max(warmup * steps, 1e-9)
    span = start - floor
    overfit = 0.012 * r * r * (1 - 2 * weight_decay) * span / 12
    gauss = rng.gauss
    exp = math.exp

    def at(step: int) -> tuple[float, float]:
        s = r * (step * step / (2 * ramp) if step < ramp else step - ramp / 2)
        fall = span * exp(-s / 12)
        train = (floor * (1 - 0.3 * min(1.0, s / 300)) + fall) * (1 + 0.04 * gauss(0, 1))
        valid = (floor * 1.03 + fall + overfit * s) * (1 + 0.01 * gauss(0, 1))
        return max(train, 1e-6), max(valid, 1e-6)

    return at


def _progress_events(
    happened: list[tuple[str, int]], rng: random.Random, events_per_job: float, *, last: int
) -> list[tuple[str, int]]:
    """``happened`` with ``RUNNING`` status updates added during training.

    A job that trained then has ``events_per_job`` events on average (from half to one
    and a half times that many), the extra ones at sorted times between its ``RUNNING``
    event and the next one (or ``last``, when it is still running).
    """
    at = next(i for i, (name, _) in enumerate(happened) if name == "RUNNING")
    start = happened[at][1]
    end = happened[at + 1][1] if at + 1 < len(happened) else last
    extra = max(0, round(rng.uniform(0.5, 1.5) * events_per_job) - len(happened))
    times = sorted(rng.randint(start, end) for _ in range(extra))
    return happened[: at + 1] + [("RUNNING", time) for time in times] + happened[at + 1 :]


def job_dict(
    index: int,
    *,
    seed: int,
    weights: tuple[float, ...] | None = None,
    sdk_readable: bool = False,
    checkpoints: bool = True,
    events_per_job: float | None = None,
) -> dict[str, Any]:
    """The wire dict of job ``index`` of ``seed``, keys in the order real dumps have them.

    Parameters
    ----------
    index
        Which job of the seed (``0`` for the first).
    seed
        Seed; the job depends only on ``(seed, index)`` and the options.
    weights
        Weights over the training-steps grid, from :func:`step_weights` (computed once
        for many jobs); ``None`` for ``step_weights(None)`` (about 30 checkpoints a job).
    sdk_readable
        Mend the quirks that mistralai 1.x's pydantic models reject
        (:func:`make_sdk_readable`).
    checkpoints
        ``False`` writes no checkpoints.
    events_per_job
        Average number of events for a job that trained (without it, one per status
        change); the extra ``RUNNING`` events come from a generator of their own, so
        that everything else stays as without.

    Returns
    -------
    dict
        The job as JSON-ready dict (what ``msgspec.json.encode`` writes to a dump).

    Examples
    --------
    >>> from ftkit.synth_job import job_dict
    >>> job = job_dict(0, seed=0)
    >>> job["id"], job["model"], job["status"], job["job_type"], "auto_start" in job
    ('f3a420cd-7f0a-4f26-8073-719181c805b4', 'open-mistral-7b', 'QUEUED', 'FT', False)
    >>> len(job_dict(1, seed=0)["checkpoints"]), job_dict(1, seed=0, checkpoints=False)["checkpoints"]
    (100, [])
    """
    grid_weights = step_weights(None) if weights is None else weights
    rng = random.Random(f"ftkit.synth:{seed}:{index}")
    created = START + int((END - START) * math.sqrt(rng.random()))
    era = "0x" if created < _SDK1_ERA else ("2024" if created < _ERA_2025 else "2025")
    job_id = _uuid(rng)

    # --- what job it is ---
    classifier = era == "2025" and rng.random() < 0.35
    if classifier:
        model = _pick(rng, ("ministral-3b-latest", "ministral-8b-latest"), (0.6, 0.4))
    elif era == "0x":
        model = _pick(rng, ("open-mistral-7b", "mistral-small-latest"), (0.7, 0.3))
    else:
        models = ["open-mistral-7b", "mistral-small-latest", "codestral-latest"]
        model_weights = [0.35, 0.25, 0.15]
        if created >= _NEMO:
            models.append("open-mistral-nemo"), model_weights.append(0.15)
        if created >= _MINISTRAL:
            models += ["ministral-3b-latest", "ministral-8b-latest"]
            model_weights += [0.1, 0.1]
        if era == "2025":
            models.append("pixtral-12b-latest"), model_weights.append(0.12)
        model = rng.choices(models, model_weights)[0]
    start_loss, floor, sec_per_step, tokens_per_step, price = _MODELS[model]
    if classifier:
        start_loss, floor = _CLASSIFIER_LOSS
    difficulty = rng.uniform(0.8, 1.25)
    start_loss, floor = start_loss * difficulty, floor * difficulty

    status = _pick(rng, _STATUSES, _STATUS_WEIGHTS)
    if era == "0x" and status in ("VALIDATING", "VALIDATED"):
        status = "QUEUED"
    elif era == "0x" and status == "FAILED_VALIDATION":
        status = "FAILED"
    # "raw": the API's JSON; "sdk": SDK 1.x model_dump(), without object/job_type/integration type.
    flavour = "raw" if era != "2025" or rng.random() < 0.5 else "sdk"
    validated = status not in ("QUEUED", "VALIDATING", "FAILED_VALIDATION") or (
        status == "QUEUED" and era != "0x" and rng.random() < 0.3  # back to QUEUED after a start
    )
    auto_start = rng.random() < 0.75
    has_validation = rng.random() < _P_VALIDATION

    # --- hyperparameters ---
    steps = _pick(rng, _STEP_GRID, grid_weights)
    lr = _pick(rng, _LR_GRID, _LR_WEIGHTS if era == "2025" else _LR_WEIGHTS_2024)
    weight_decay = _pick(rng, (0.0, 0.01, 0.1), (0.15, 0.15, 0.7))
    warmup = _pick(rng, (0.0, 0.05, 0.1), (0.1, 0.8, 0.1))
    seq_len = 16384 if classifier else _pick(rng, (32768, 16384, 8192), (0.7, 0.2, 0.1))
    repos = model == "codestral-latest" and rng.random() < 0.6
    data_tokens = int(math.exp(rng.uniform(math.log(1e5), math.log(3e7))))
    tokens_per_step = tokens_per_step if rng.random() < 0.8 else int(tokens_per_step * rng.uniform(0.9, 1.0))
    epochs = steps * tokens_per_step / data_tokens if validated else None
    hyper: dict[str, Any] = {"training_steps": steps, "learning_rate": lr}
    if era != "0x":
        if created >= _WEIGHT_DECAY:
            hyper["weight_decay"] = weight_decay
            hyper["warmup_fraction"] = warmup
        else:
            weight_decay, warmup = 0.1, 0.05
        hyper["epochs"] = epochs
        if created >= _SEQ_LEN:
            hyper["seq_len"] = seq_len
        if not classifier:
            hyper["fim_ratio"] = 0.9 if repos else None
    else:
        weight_decay, warmup = 0.1, 0.05

    # --- timeline: events and checkpoints ---
    t = created
    happened = [("QUEUED", t)]
    if era != "0x" and (status != "QUEUED" or validated):
        t += rng.randint(0, 5)
        happened.append(("VALIDATING", t))
        if status != "VALIDATING":
            t += rng.choice((0, 0, 1, 3, 40))
            happened.append(("FAILED_VALIDATION" if status == "FAILED_VALIDATION" else "VALIDATED", t))
    if not auto_start and validated and era != "0x":
        t += rng.randint(30, 3600)  # waited for jobs.start()
    trained_steps = 0
    run_start = t
    if status in ("SUCCESS", "FAILED", "RUNNING", "CANCELLED") and (status != "CANCELLED" or rng.random() < 0.7):
        t += rng.randint(1, 10)
        run_start = t
        happened.append(("RUNNING", t))
        trained_steps = steps if status == "SUCCESS" else max(1, int(steps * rng.uniform(0.1, 0.95)))
        t += int(trained_steps * sec_per_step * rng.uniform(0.9, 1.2)) + rng.randint(5, 60)
    if status in ("SUCCESS", "FAILED", "CANCELLED"):
        t += rng.randint(0, 3)
        happened.append((status, t))
    modified = t + (rng.randint(1, 20) if status == "QUEUED" and validated else 0)
    if status == "SUCCESS" and rng.random() < 0.05:
        modified -= 1  # the final event is stamped a second after modified_at

    if events_per_job is not None and trained_steps:  # its own generator: the rest stays as without
        events_rng = random.Random(f"ftkit.synth:{seed}:{index}:events")
        happened = _progress_events(happened, events_rng, events_per_job, last=t)

    step_seconds = sec_per_step * rng.uniform(0.9, 1.1)
    checkpoint_list: list[dict[str, Any]] = []
    if checkpoints and trained_steps:
        curve = _loss_curve(
            rng, steps=steps, lr=lr, weight_decay=weight_decay, warmup=warmup, start=start_loss, floor=floor
        )
        scale = (0.69 if classifier else rng.uniform(0.95, 1.05))
        fraction_accuracy = era == "2025" and not classifier  # some report a 0..1 accuracy
        if era == "2025":
            every = max(1, steps // 10)
            for step in range(trained_steps, 0, -1):
                train, valid = curve(step)
                created_at = run_start + int(step * step_seconds)
                if has_validation and (step % every == 0 or step == steps):
                    accuracy = math.exp(-0.5 * valid) * 0.98 if fraction_accuracy else 1 + scale * valid
                    metrics = {
                        "train_loss": round(train, 6),
                        "valid_loss": round(valid, 6),
                        "valid_mean_token_accuracy": round(accuracy, 6),
                    }
                else:
                    metrics = {"train_loss": round(train, 6), "valid_loss": 0.0, "valid_mean_token_accuracy": 0.0}
                checkpoint_list.append({"metrics": metrics, "step_number": step, "created_at": created_at})
        elif has_validation:
            every = max(1, steps // 10)
            for step in range(trained_steps - trained_steps % every, 0, -every):
                train, valid = curve(step)
                metrics = {
                    "train_loss": round(train, 6),
                    "valid_loss": round(valid, 6),
                    "valid_mean_token_accuracy": round(1 + scale * valid, 6),
                }
                created_at = run_start + int(step * step_seconds * rng.uniform(0.98, 1.02))
                checkpoint_list.append({"metrics": metrics, "step_number": step, "created_at": created_at})

    events_have_data = era != "2024" or rng.random() < 0.7  # SDK 1.0.0 dropped event data
    events = [
        {"name": "status-updated", "created_at": at, "data": {"status": name}}
        if events_have_data
        else {"name": "status-updated", "created_at": at}
        for name, at in happened
    ]
    if era != "2025":
        events.reverse()  # newest first in 2024
        if era == "0x":  # 0.x key order
            events = [{"name": e["name"], "data": e["data"], "created_at": e["created_at"]} for e in events]

    # --- the rest ---
    training_files = [] if repos and rng.random() < 0.75 else [_uuid(rng)]
    validation_files = [_uuid(rng)] if has_validation else []
    date = datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y%m%d")
    workspace = _WORKSPACES[rng.randrange(len(_WORKSPACES))]
    fine_tuned = None
    if status == "SUCCESS":
        prefix = f"ft:classifier:{model}" if classifier else f"ft:{model}"
        fine_tuned = f"{prefix}:{workspace}:{date}:{job_id[:8]}"
    integrations: list[dict[str, Any]] = []
    if rng.random() < 0.25:
        wandb: dict[str, Any] = {"type": "wandb"} if flavour == "raw" else {}
        wandb["project"] = _PROJECTS[rng.randrange(len(_PROJECTS))]
        wandb["name"] = None
        wandb["run_name"] = _RUN_NAMES[rng.randrange(len(_RUN_NAMES))] if rng.random() < 0.6 else None
        if era == "2025":
            wandb["url"] = (
                f"https://wandb.ai/{workspace}/{wandb['project']}/runs/{job_id[:8]}"
                if trained_steps
                else None
            )
        integrations.append(wandb)

    if era == "0x":
        job: dict[str, Any] = {
            "id": job_id,
            "hyperparameters": hyper,
            "fine_tuned_model": fine_tuned,
            "model": model,
            "status": status,
            "job_type": "FT",
            "created_at": created,
            "modified_at": modified,
            "training_files": training_files,
            "validation_files": validation_files,
            "object": "job",
            "integrations": integrations,
            "events": events,
            "checkpoints": checkpoint_list,
        }
        if rng.random() < 0.5:
            job["estimated_start_time"] = None
        return make_sdk_readable(job) if sdk_readable else job

    metadata: dict[str, Any]
    if validated:
        cost = round(steps * tokens_per_step / 1e6 * price, 4)
        currency = "USD" if era == "2024" else _pick(rng, _CURRENCIES_2025, (0.6, 0.4))
        metadata = {
            "expected_duration_seconds": int(steps * sec_per_step * 1.1) // 10 * 10,
            "cost": cost,
            "cost_currency": currency,
            "train_tokens_per_step": tokens_per_step,
            "train_tokens": steps * tokens_per_step,
            "data_tokens": data_tokens,
            "estimated_start_time": None,
        }
    else:  # just created: cost 0.0, currency null
        metadata = {
            "expected_duration_seconds": None,
            "cost": 0.0,
            "cost_currency": None,
            "train_tokens_per_step": None,
            "train_tokens": None,
            "data_tokens": None,
            "estimated_start_time": None,
        }
    if era == "2024" and created < _WEIGHT_DECAY and rng.random() < 0.3:
        metadata = dict.fromkeys(metadata)  # old jobs listed later: every key null
    trained_tokens = None
    if trained_steps and status != "RUNNING":
        trained_tokens = trained_steps * tokens_per_step
        if rng.random() < 0.4:
            trained_tokens = trained_steps * (16384 if classifier else 1 << rng.randint(15, 17))
    suffix = _SUFFIXES[rng.randrange(len(_SUFFIXES))] if rng.random() < 0.3 else None

    job = {"id": job_id, "auto_start": auto_start}
    if era == "2024":
        job.update(hyperparameters=hyper, model=model, status=status, job_type="FT")
        job.update(created_at=created, modified_at=modified, training_files=training_files)
        job.update(validation_files=validation_files, object="job")
    else:
        job.update(model=model, status=status, created_at=created, modified_at=modified)
        job.update(training_files=training_files, hyperparameters=hyper)
        if classifier and validated:
            targets = []
            for name in rng.sample(sorted(_TARGETS), 2 if rng.random() < 0.2 else 1):
                labels = list(_TARGETS[name])
                target: dict[str, Any] = {"name": name, "labels": labels}
                if rng.random() < 0.2:
                    target["weight"] = 1.0
                    target["loss_function"] = "multi_class" if name == "moderation" else "single_class"
                targets.append(target)
            job["classifier_targets"] = targets
        job["validation_files"] = validation_files
        if flavour == "raw":
            job["object"] = "job"
    job.update(fine_tuned_model=fine_tuned, suffix=suffix, integrations=integrations, trained_tokens=trained_tokens)
    if not classifier:
        job["repositories"] = [
            {
                "name": name,
                "owner": owner,
                "commit_id": f"{rng.getrandbits(160):040x}",
                "type": "github",
                "ref": "main" if rng.random() < 0.8 else None,
                "weight": 1.0,
            }
            for owner, name in rng.sample(_REPOS, rng.randint(1, 2))
        ] if repos else []
    job["metadata"] = metadata
    # A classifier create response has no classifier_targets: only job_type tells its type.
    if era == "2025" and (flavour == "raw" or (classifier and "classifier_targets" not in job)):
        job["job_type"] = "classifier" if classifier else "completion"
    job["events"] = events
    job["checkpoints"] = checkpoint_list
    return make_sdk_readable(job) if sdk_readable else job


def make_sdk_readable(job: dict[str, Any]) -> dict[str, Any]:
    """Mend the quirks that mistralai 1.x's pydantic models reject, in place.

    ``job_type`` becomes ``"classifier"`` or ``"completion"`` (never ``"FT"`` or absent),
    ``auto_start`` defaults to ``True``, and classifier targets get a ``weight`` and a
    ``loss_function`` (a classifier job without targets gets an ``intent`` one).

    Parameters
    ----------
    job
        A wire dict from :func:`job_dict`; changed in place.

    Returns
    -------
    dict
        ``job`` itself.

    Examples
    --------
    >>> from ftkit.synth_job import job_dict, make_sdk_readable
    >>> job = job_dict(0, seed=0)
    >>> job["job_type"], "auto_start" in job
    ('FT', False)
    >>> mended = make_sdk_readable(job)
    >>> mended is job, job["job_type"], job["auto_start"]
    (True, 'completion', True)
    """
    classifier = job.get("job_type") == "classifier" or "classifier_targets" in job
    job["job_type"] = "classifier" if classifier else "completion"
    job.setdefault("auto_start", True)
    if classifier:
        targets = job.setdefault("classifier_targets", [{"name": "intent", "labels": list(_TARGETS["intent"])}])
        for target in targets:
            target.setdefault("weight", 1.0)
            target.setdefault("loss_function", "single_class")
    return job

"""msgspec Structs for OpenAI's fine-tuning objects, and how ftkit recognises them.

OpenAI's fine-tuning API (and Azure OpenAI's copy of it) serves three objects: the job
(``"object": "fine_tuning.job"``), its events (``fine_tuning.job.event``) and its
checkpoints (``fine_tuning.job.checkpoint``), each also as a list response
(``{"object": "list", "data": [...], "has_more": ...}``). The Structs keep every value as
the JSON had it: ``"auto"`` stays ``"auto"``, Azure's ``-1`` stays ``-1``, ``error: {}``
stays an empty :class:`OpenAIError`; :mod:`ftkit.frames` interprets them. Unknown keys are
tolerated (``read_jobs(strict=True)`` names them).

Events and checkpoints are served from their own endpoints; ftkit attaches them to their
job (see :func:`ftkit.read_jobs`) as the job's ``events`` and ``checkpoints``, which are
ftkit's keys, not OpenAI's: a job written by :func:`ftkit.write_jobs` carries them inside.

Examples
--------
>>> import msgspec
>>> job = msgspec.json.decode(
...     b'{"object": "fine_tuning.job", "id": "ftjob-abc", "model": "gpt-4o-mini",'
...     b' "created_at": 1715824115, "status": "pending", "error": {},'
...     b' "hyperparameters": {"n_epochs": -1, "batch_size": "auto", "learning_rate_multiplier": 2}}',
...     type=OpenAIJob,
... )
>>> job.status, job.ftkit_status, job.hyperparameters.batch_size, job.error
('pending', 'QUEUED', 'auto', OpenAIError(code=None, message=None, param=None))
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "STATUS_MAP",
    "OpenAIError",
    "OpenAIHyperparameters",
    "OpenAIDpoHyperparameters",
    "OpenAISupervisedMethod",
    "OpenAIDpoMethod",
    "OpenAIMethod",
    "OpenAIWandb",
    "OpenAIIntegration",
    "OpenAIMetrics",
    "OpenAICheckpoint",
    "OpenAIEvent",
    "OpenAIJob",
    "OpenAIJobList",
    "OpenAIEventList",
    "OpenAICheckpointList",
    "openai_shape",
]

_INT64_MAX = 2**63 - 1
NonNegativeInt = Annotated[int, Meta(ge=0, le=_INT64_MAX)]
Int64 = Annotated[int, Meta(ge=-_INT64_MAX - 1, le=_INT64_MAX)]
UnixTime = Annotated[int, Meta(ge=-62_135_596_800, le=253_402_300_799)]

#: OpenAI's job statuses in ftkit's status vocabulary (the one Mistral's API uses).
#: Azure OpenAI's ``pending`` is a job waiting to be queued. A status not in this table
#: is kept as it is, in both ``status`` and ``status_raw`` of the jobs frame.
STATUS_MAP: dict[str, str] = {
    "validating_files": "VALIDATING",
    "pending": "QUEUED",
    "queued": "QUEUED",
    "running": "RUNNING",
    "succeeded": "SUCCESS",
    "failed": "FAILED",
    "cancelled": "CANCELLED",
}

_FINAL = frozenset({"SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED"})

#: A hyperparameter OpenAI may leave to itself: a number, or ``"auto"``.
AutoInt = Int64 | Literal["auto"] | None
AutoFloat = float | Literal["auto"] | None


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of the OpenAI wire Structs: the same options as :mod:`ftkit.schema`'s.

    Keyword-only init; ``omit_defaults`` so that encoding writes back only what the JSON
    had; unknown keys ignored on decode, because the API adds keys over time; ``gc=False``
    since decoded objects hold no reference cycles.
    """


class OpenAIError(_Wire, kw_only=True):
    """A job's error: null on most jobs, ``{}`` on some non-failed ones (2024)."""

    code: str | None = None
    message: str | None = None
    param: str | None = None


class OpenAIHyperparameters(_Wire, kw_only=True):
    """Supervised hyperparameters: numbers, ``"auto"``, or Azure's ``-1`` for auto."""

    n_epochs: AutoInt = None
    batch_size: AutoInt = None
    learning_rate_multiplier: AutoFloat = None


class OpenAIDpoHyperparameters(OpenAIHyperparameters, kw_only=True):
    """DPO hyperparameters: the supervised ones plus ``beta``."""

    beta: AutoFloat = None


class OpenAISupervisedMethod(_Wire, kw_only=True):
    """``method.supervised``."""

    hyperparameters: OpenAIHyperparameters | None = None


class OpenAIDpoMethod(_Wire, kw_only=True):
    """``method.dpo``."""

    hyperparameters: OpenAIDpoHyperparameters | None = None


class OpenAIMethod(_Wire, kw_only=True):
    """How the job trains (2025 on): ``type`` and that type's hyperparameters."""

    type: str | None = None
    supervised: OpenAISupervisedMethod | None = None
    dpo: OpenAIDpoMethod | None = None
    #: Kept as JSON: its grader and hyperparameters change often.
    reinforcement: dict[str, Any] | None = None


class OpenAIWandb(_Wire, kw_only=True):
    """The ``wandb`` part of an integration."""

    project: str | None = None
    name: str | None = None
    entity: str | None = None
    tags: list[str] | None = None
    run_id: str | None = None


class OpenAIIntegration(_Wire, kw_only=True):
    """An integration of a job; only ``"wandb"`` exists so far."""

    type: str | None = None
    wandb: OpenAIWandb | None = None


class OpenAIMetrics(_Wire, kw_only=True):
    """Metrics of a checkpoint or of a ``"metrics"`` event; ``step`` may be a float."""

    step: float | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None


class OpenAICheckpoint(_Wire, kw_only=True):
    """A ``fine_tuning.job.checkpoint``: a model saved at a step, with its metrics."""

    object: str | None = None
    id: str | None = None
    created_at: UnixTime
    fine_tuned_model_checkpoint: str | None = None
    fine_tuning_job_id: str | None = None
    metrics: OpenAIMetrics = msgspec.field(default_factory=OpenAIMetrics)
    step_number: NonNegativeInt


class OpenAIEvent(_Wire, kw_only=True):
    """A ``fine_tuning.job.event``; ``"message"`` events often have no ``data``."""

    object: str | None = None
    id: str | None = None
    created_at: UnixTime
    level: str | None = None
    message: str | None = None
    type: str | None = None
    data: dict[str, Any] | None = None


class OpenAIJob(_Wire, kw_only=True):
    """A ``fine_tuning.job``, with the events and checkpoints ftkit attached to it."""

    object: str | None = None
    id: str
    model: str
    status: str
    created_at: UnixTime
    finished_at: UnixTime | None = None
    estimated_finish: UnixTime | None = None
    fine_tuned_model: str | None = None
    organization_id: str | None = None
    result_files: list[str] | None = None
    training_file: str | None = None
    validation_file: str | None = None
    hyperparameters: OpenAIHyperparameters | None = None
    method: OpenAIMethod | None = None
    trained_tokens: NonNegativeInt | None = None
    error: OpenAIError | None = None
    user_provided_suffix: str | None = None
    seed: Int64 | None = None
    integrations: list[OpenAIIntegration] | None = None
    metadata: dict[str, Any] | None = None
    usage_metrics: dict[str, Any] | None = None
    shared_with_openai: bool | None = None
    eval_id: str | None = None
    #: ftkit's: the job's events and checkpoints, attached from their list responses.
    events: list[OpenAIEvent] | None = None
    checkpoints: list[OpenAICheckpoint] | None = None

    @property
    def provider(self) -> Literal["openai"]:
        """Always ``"openai"``."""
        return "openai"

    @property
    def kind(self) -> str:
        """The ``job_type`` in ftkit's frames: ``"completion"`` for supervised training
        (and jobs from before ``method``), else the method (``"dpo"``, ``"reinforcement"``)."""
        method = self.method.type if self.method is not None else None
        return "completion" if method in (None, "supervised") else method

    @property
    def ftkit_status(self) -> str:
        """The status in ftkit's vocabulary (:data:`STATUS_MAP`), else as OpenAI wrote it."""
        return STATUS_MAP.get(self.status, self.status)

    @property
    def is_final(self) -> bool:
        """Whether the job reached a status after which it no longer changes."""
        return self.ftkit_status in _FINAL

    @property
    def modified_at(self) -> int:
        """The latest time the job shows: created, finished, or its latest event or checkpoint.

        OpenAI jobs have no ``modified_at``; this stands in for it where snapshots of one
        job are compared (the latest wins, see :mod:`ftkit.snapshots`). Readers compare
        records before attaching lists read from elsewhere, so only what the record
        itself holds counts there.
        """
        latest = self.created_at
        if self.finished_at is not None and self.finished_at > latest:
            latest = self.finished_at
        for items in (self.events, self.checkpoints):
            for item in items or ():
                if item.created_at > latest:
                    latest = item.created_at
        return latest

    @property
    def effective_hyperparameters(self) -> OpenAIHyperparameters:
        """The hyperparameters of ``method`` where it has them, else the top-level ones."""
        method = self.method
        if method is not None:
            part = getattr(method, method.type, None) if isinstance(method.type, str) and method.type in ("supervised", "dpo") else None
            if part is not None and part.hyperparameters is not None:
                return part.hyperparameters
        return self.hyperparameters or _NO_HYPERPARAMETERS


_NO_HYPERPARAMETERS = OpenAIHyperparameters()


class OpenAIJobList(_Wire, kw_only=True):
    """A list of jobs (``GET /v1/fine_tuning/jobs``)."""

    object: str | None = None
    data: list[OpenAIJob] = []
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None


class OpenAIEventList(_Wire, kw_only=True):
    """A list of events (``GET /v1/fine_tuning/jobs/{id}/events``), newest first."""

    object: str | None = None
    data: list[OpenAIEvent] = []
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None


class OpenAICheckpointList(_Wire, kw_only=True):
    """A list of checkpoints (``GET /v1/fine_tuning/jobs/{id}/checkpoints``), newest first."""

    object: str | None = None
    data: list[OpenAICheckpoint] = []
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None


# --- recognising OpenAI documents by their shape ---------------------------------------


class _ItemProbe(msgspec.Struct):
    object: Any = None
    id: Any = None


class _Probe(msgspec.Struct):
    object: Any = None
    id: Any = None
    data: msgspec.Raw = msgspec.Raw(b"null")


_probe = msgspec.json.Decoder(_Probe).decode
_items_probe = msgspec.json.Decoder(list[_ItemProbe]).decode
_OBJECTS = {
    "fine_tuning.job": "job",
    "fine_tuning.job.event": "event",
    "fine_tuning.job.checkpoint": "checkpoint",
}
_ID_PREFIXES = (("ftjob-", "job"), ("ftevent-", "event"), ("ftckpt", "checkpoint"), ("ftchkpt", "checkpoint"))

Shape = Literal["job", "event", "checkpoint", "job_list", "event_list", "checkpoint_list"]


def _kind(obj: Any, id_: Any) -> str | None:
    if isinstance(obj, str):
        return _OBJECTS.get(obj)
    if isinstance(id_, str):
        for prefix, kind in _ID_PREFIXES:
            if id_.startswith(prefix):
                return kind
    return None


def openai_shape(raw: bytes | msgspec.Raw) -> Shape | None:
    """What OpenAI object a JSON document is, judged by its shape, or None if none.

    A job is an object whose ``object`` is ``"fine_tuning.job"`` or, without ``object``,
    whose ``id`` starts ``ftjob-``; events and checkpoints likewise (``ftevent-``,
    ``ftckpt``/``ftchkpt``). A list is judged by its first item.

    Examples
    --------
    >>> openai_shape(b'{"object": "list", "data": [{"object": "fine_tuning.job.event"}]}')
    'event_list'
    >>> openai_shape(b'{"id": "ftjob-abc", "model": "gpt-4o-mini"}'), openai_shape(b'{"id": "j1"}')
    ('job', None)
    """
    try:
        probe = _probe(raw)
    except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
        return None
    kind = _kind(probe.object, probe.id)
    if kind is not None:
        return kind  # type: ignore[return-value]
    if memoryview(probe.data)[:1] == b"[" and probe.object in (None, "list"):
        try:
            items = _items_probe(probe.data)
        except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
            return None
        if not items:
            return None
        first = items[0]
        kind = _kind(first.object, first.id)
        if kind is not None:
            return f"{kind}_list"  # type: ignore[return-value]
    return None

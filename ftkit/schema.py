"""msgspec Structs for the Mistral fine-tuning job wire format.

The Structs follow ``shared/reference/wire-format.md``: leaf types first, every key that
may be absent has a default, unknown keys are tolerated (the API adds keys over time).
They keep every value as the JSON had it: ``job_type`` ``"FT"`` stays ``"FT"``, a
placeholder ``valid_loss`` of ``0.0`` stays ``0.0``; the frames in :mod:`ftkit.frames`
interpret them.

Examples
--------
>>> import msgspec
>>> from ftkit.schema import Checkpoint
>>> cp = msgspec.json.decode(
...     b'{"metrics": {"train_loss": 0.85}, "step_number": 10, "created_at": 1717171717}',
...     type=Checkpoint,
... )
>>> cp.step_number, cp.metrics.train_loss, cp.metrics.valid_loss
(10, 0.85, None)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

__all__ = [
    "NonNegativeInt",
    "Int64",
    "UnixTime",
    "Metrics",
    "Checkpoint",
    "Event",
    "JobMetadata",
    "WandbIntegration",
    "GithubRepository",
    "ClassifierTarget",
    "ClassifierHyperparameters",
    "CompletionHyperparameters",
    "ClassifierJob",
    "CompletionJob",
    "Job",
    "JobList",
    "FINAL_STATUSES",
    "StatusData",
    "StatusEvent",
    "FrameJob",
    "MistralStatus",
]

_INT64_MAX = 2**63 - 1

#: Counts that the API never reports negative: steps, tokens. Bounded to what a 64-bit
#: frame column holds, so an absurd value is a decode error naming its path, not a
#: failure later when the frames are built.
NonNegativeInt = Annotated[int, Meta(ge=0, le=_INT64_MAX)]

#: Any other integer the frames hold in 64 bits.
Int64 = Annotated[int, Meta(ge=-_INT64_MAX - 1, le=_INT64_MAX)]

#: A UNIX time in seconds, up to the end of year 9999 (what a datetime can show).
UnixTime = Annotated[int, Meta(ge=-62_135_596_800, le=253_402_300_799)]

#: Statuses after which a job no longer changes.
FINAL_STATUSES = frozenset({"SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED"})


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of every wire Struct.

    Subclasses also pass ``kw_only=True`` (msgspec does not inherit it), so that fields
    can be given in any order and defaults can precede required fields; ``omit_defaults`` so that encoding writes back only what the JSON had (an
    absent key decodes to its default and is not written out again); unknown keys are
    ignored on decode, because the API adds keys over time. ``gc=False``: decoded jobs
    hold no reference cycles, and skipping the garbage collector's tracking makes decoding
    hundreds of thousands of jobs markedly faster and smaller.
    """


class Metrics(_Wire, kw_only=True):
    """Checkpoint metrics; each may be absent or null.

    ``valid_mean_token_accuracy`` is not a 0..1 fraction (real values reach 1.9), and
    ``valid_loss``/``valid_mean_token_accuracy`` of ``0.0`` mean "not evaluated".
    """

    train_loss: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None


class Checkpoint(_Wire, kw_only=True):
    """A checkpoint of a running job, with its metrics."""

    metrics: Metrics = msgspec.field(default_factory=Metrics)
    step_number: NonNegativeInt
    created_at: UnixTime


class Event(_Wire, kw_only=True):
    """A status event; ``data`` is usually ``{"status": ...}`` and may be absent."""

    name: str
    created_at: UnixTime
    data: dict[str, Any] | None = None

    @property
    def status(self) -> str | None:
        """The status named in ``data``, if any."""
        data = self.data
        if data is None:
            return None
        status = data.get("status")
        return status if isinstance(status, str) else None


class JobMetadata(_Wire, kw_only=True):
    """Cost and token metadata, including the legacy dry-run keys."""

    expected_duration_seconds: Int64 | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: NonNegativeInt | None = None
    train_tokens: NonNegativeInt | None = None
    data_tokens: NonNegativeInt | None = None
    estimated_start_time: UnixTime | None = None
    # LegacyJobMetadataOut, the dry-run answer to a create request.
    details: str | None = None
    deprecated: bool | None = None
    epochs: float | None = None
    training_steps: NonNegativeInt | None = None
    object: str | None = None


class WandbIntegration(_Wire, kw_only=True):
    """A Weights & Biases integration; ``type`` is absent in SDK 1.x dumps."""

    type: str | None = None
    project: str | None = None
    name: str | None = None
    run_name: str | None = None
    url: str | None = None


class GithubRepository(_Wire, kw_only=True):
    """A GitHub repository used as training data by a completion job."""

    type: str | None = None
    name: str
    owner: str
    commit_id: str | None = None
    ref: str | None = None
    weight: float | None = None


class ClassifierTarget(_Wire, kw_only=True):
    """A classifier head; real dumps often carry only ``name`` and ``labels``."""

    name: str
    labels: list[str] = []
    weight: float | None = None
    loss_function: str | None = None


class ClassifierHyperparameters(_Wire, kw_only=True):
    """Training parameters of a classifier job."""

    training_steps: NonNegativeInt | None = None
    learning_rate: float | None = None
    weight_decay: float | None = None
    warmup_fraction: float | None = None
    epochs: float | None = None
    seq_len: NonNegativeInt | None = None


class CompletionHyperparameters(ClassifierHyperparameters, kw_only=True):
    """Training parameters of a completion job: the classifier ones plus ``fim_ratio``."""

    fim_ratio: float | None = None


class _JobBase(_Wire, kw_only=True):
    """Keys shared by both job types (list and detailed responses)."""

    id: str
    auto_start: bool | None = None
    model: str
    status: str
    created_at: UnixTime
    modified_at: UnixTime
    training_files: list[str] = []
    validation_files: list[str] | None = None
    object: str | None = None
    job_type: str | None = None
    fine_tuned_model: str | None = None
    suffix: str | None = None
    integrations: list[WandbIntegration] | None = None
    trained_tokens: NonNegativeInt | None = None
    metadata: JobMetadata | None = None
    events: list[Event] | None = None
    checkpoints: list[Checkpoint] | None = None
    # SDK 0.x DetailedJob carried it at the top level; later moved into metadata.
    estimated_start_time: UnixTime | None = None

    @property
    def kind(self) -> Literal["classifier", "completion"]:
        """``"classifier"`` or ``"completion"``, whatever ``job_type`` said."""
        raise NotImplementedError

    @property
    def is_final(self) -> bool:
        """Whether the job reached a status after which it no longer changes."""
        return self.status in FINAL_STATUSES


class ClassifierJob(_JobBase, kw_only=True):
    """A classifier fine-tuning job."""

    hyperparameters: ClassifierHyperparameters = msgspec.field(
        default_factory=ClassifierHyperparameters
    )
    classifier_targets: list[ClassifierTarget] | None = None

    @property
    def kind(self) -> Literal["classifier"]:
        """Always ``"classifier"``."""
        return "classifier"


class CompletionJob(_JobBase, kw_only=True):
    """A completion fine-tuning job (``job_type`` ``"completion"``, ``"FT"`` or absent)."""

    hyperparameters: CompletionHyperparameters = msgspec.field(
        default_factory=CompletionHyperparameters
    )
    repositories: list[GithubRepository] | None = None

    @property
    def kind(self) -> Literal["completion"]:
        """Always ``"completion"``."""
        return "completion"


#: A job of either type.
Job = Union[ClassifierJob, CompletionJob]


# --- wire shapes used while decoding ------------------------------------------------
#
# A job's type is read from its shape, not only from ``job_type`` ("FT" and a missing
# key are both real), so jobs are decoded into one Struct that has the keys of both
# types, and turned into ClassifierJob or CompletionJob afterwards.


class WireJob(CompletionJob, kw_only=True):
    """Either job type, as decoded: completion keys plus ``classifier_targets``."""

    classifier_targets: list[ClassifierTarget] | None = None

    @property
    def kind(self) -> Literal["classifier", "completion"]:  # type: ignore[override]
        """``"classifier"`` or ``"completion"``, judged by ``job_type`` or the shape."""
        return "classifier" if self.is_classifier else "completion"

    @property
    def is_classifier(self) -> bool:
        """Whether this job is a classifier job, judged by ``job_type`` or its shape."""
        job_type = self.job_type
        if job_type == "classifier":
            return True
        if job_type == "completion":
            return False
        return self.classifier_targets is not None


#: The statuses the API documents. Decoded as a ``Literal``, each is the one string object
#: held here, not a new string per event: a chunk's events cost less to decode and free.
MistralStatus = Literal[
    "QUEUED", "STARTED", "VALIDATING", "VALIDATED", "RUNNING", "FAILED_VALIDATION", "FAILED",
    "SUCCESS", "CANCELLED", "CANCELLATION_REQUESTED",
]


class StatusData(_Wire, kw_only=True, forbid_unknown_fields=True):
    """An event's ``data`` that holds a documented status and nothing else (most do)."""

    status: MistralStatus


class StatusEvent(_Wire, kw_only=True):
    """An :class:`Event` named ``"status-updated"`` (as all are) whose ``data``, if any,
    holds a documented status and nothing else."""

    name: Literal["status-updated"]
    created_at: UnixTime
    data: StatusData | None = None


class FrameJob(WireJob, kw_only=True):
    """A :class:`WireJob` whose events are all :class:`StatusEvent`: the shape a chunk's
    frames are built from in :func:`ftkit.read.decode.decode_chunk`, where a job whose
    events do not fit is decoded as a :class:`WireJob` instead. Decoding a status into a
    Struct field costs less than a dict per event, and a name or status from a ``Literal``
    allocates no string."""

    events: list[StatusEvent] | None = None


class JobList(_Wire, kw_only=True):
    """A list response (``GET /v1/fine_tuning/jobs``); ``total`` is absent in 2024 dumps.

    Decodable with msgspec: each job is decoded by its shape and becomes a
    :class:`ClassifierJob` or :class:`CompletionJob`.

    Examples
    --------
    >>> import msgspec
    >>> jobs = msgspec.json.decode(
    ...     b'{"object": "list", "data": [{"id": "j1", "model": "open-mistral-7b",'
    ...     b' "status": "SUCCESS", "job_type": "FT", "created_at": 0, "modified_at": 0,'
    ...     b' "hyperparameters": {}}]}',
    ...     type=JobList,
    ... )
    >>> type(jobs.data[0]).__name__, jobs.total
    ('CompletionJob', None)
    """

    data: list[WireJob] = []  # ClassifierJob or CompletionJob once decoded
    object: str | None = None
    total: NonNegativeInt | None = None
    #: ``object`` as SDK 1.0's ``model_dump()`` spelled it in real dumps.
    OBJECT: str | None = None

    def __post_init__(self) -> None:
        self.data = [to_job(job) if type(job) is WireJob else job for job in self.data]


class WireJobList(_Wire, kw_only=True):
    """A list response as decoded."""

    data: list[WireJob] = []
    object: str | None = None
    total: NonNegativeInt | None = None
    OBJECT: str | None = None


_COMPLETION_FIELDS = CompletionJob.__struct_fields__
_CLASSIFIER_FIELDS = ClassifierJob.__struct_fields__
_HYPER_CLASSIFIER_FIELDS = ClassifierHyperparameters.__struct_fields__


def to_job(wire: WireJob) -> Job:
    """Turn a decoded :class:`WireJob` into a :class:`ClassifierJob` or :class:`CompletionJob`.

    Examples
    --------
    >>> import msgspec
    >>> wire = msgspec.json.decode(
    ...     b'{"id": "j1", "model": "ministral-3b-latest", "status": "QUEUED",'
    ...     b' "created_at": 0, "modified_at": 0, "hyperparameters": {},'
    ...     b' "classifier_targets": [{"name": "intent", "labels": ["a", "b"]}]}',
    ...     type=WireJob,
    ... )
    >>> type(to_job(wire)).__name__
    'ClassifierJob'
    """
    if wire.is_classifier:
        hyper = wire.hyperparameters
        fields = {name: getattr(wire, name) for name in _CLASSIFIER_FIELDS if name != "hyperparameters"}
        fields["hyperparameters"] = ClassifierHyperparameters(
            **{name: getattr(hyper, name) for name in _HYPER_CLASSIFIER_FIELDS}
        )
        return ClassifierJob(**fields)
    return CompletionJob(**{name: getattr(wire, name) for name in _COMPLETION_FIELDS})

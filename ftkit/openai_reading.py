"""Read OpenAI fine-tuning documents met among job dumps, and attach events and checkpoints.

:func:`ftkit.read_jobs` hands every record that is not a Mistral job to
:func:`decode_openai` when :func:`~ftkit.openai_schema.openai_shape` recognises it. Jobs
join the other jobs; lists of events and checkpoints (which OpenAI serves from their own
endpoints) are kept as :class:`UnattachedList` until every input is read, then
:func:`attach` gives each to its job:

1. a checkpoint goes to the job its ``fine_tuning_job_id`` names;
2. otherwise (events carry no job id) a list goes to the last OpenAI job read before it
   in the same file (a job line followed by its events and checkpoints lines);
3. otherwise to the job whose id appears in the file's path
   (``ftjob-abc.events.json``, ``ftjob-abc/checkpoints.json``).

A list (or checkpoint) whose job is not among the jobs read is not dropped: it stays in
``JobSet.unattached``, and the JobSet's repr counts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from .errors import JobDecodeError
from .openai_schema import (
    OpenAICheckpoint,
    OpenAIEvent,
    OpenAIJob,
    OpenAIJobList,
    Shape,
)

__all__ = ["UnattachedList", "decode_openai", "attach", "candidate_owners"]

_DECODE_ERRORS = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)
_ITEM_TYPES = {"job": OpenAIJob, "event": OpenAIEvent, "checkpoint": OpenAICheckpoint}
_DECODERS = {kind: msgspec.json.Decoder(cls).decode for kind, cls in _ITEM_TYPES.items()}
_any_decode = msgspec.json.Decoder().decode


class _RawList(msgspec.Struct):
    data: list[msgspec.Raw] = []


_list_decode = msgspec.json.Decoder(_RawList).decode
_LIST_KEYS = frozenset(OpenAIJobList.__struct_encode_fields__)
_JOB_ID = re.compile(r"ftjob-[A-Za-z0-9]+")


@dataclass
class UnattachedList:
    """Events or checkpoints read from a list response, with where they came from.

    Attributes
    ----------
    kind
        ``"events"`` or ``"checkpoints"``.
    items
        The :class:`~ftkit.openai_schema.OpenAIEvent` or
        :class:`~ftkit.openai_schema.OpenAICheckpoint` Structs.
    source, line, index
        The input, and the line (NDJSON) or index (JSON array) of the list in it.
    job_id
        The job the list belongs to, where it names one (checkpoints'
        ``fine_tuning_job_id``) or follows one in its file.
    """

    kind: Literal["events", "checkpoints"]
    items: list[Any]
    source: str
    line: int | None = None
    index: int | None = None
    job_id: str | None = None
    #: The last OpenAI job read before this list in the same input.
    after_job: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        where = "".join(f", {k}={v!r}" for k, v in (("line", self.line), ("index", self.index), ("job_id", self.job_id)) if v is not None)
        return f"UnattachedList({len(self.items)} {self.kind}, source={self.source!r}{where})"


@dataclass
class OpenAIDecoded:
    """What one OpenAI record decoded to."""

    jobs: list[OpenAIJob] = field(default_factory=list)
    subs: list[int] = field(default_factory=list)
    lists: list[UnattachedList] = field(default_factory=list)


def decode_openai(
    raw: bytes | msgspec.Raw,
    shape: Shape,
    *,
    source: str,
    line: int | None,
    index: int | None,
    strict: bool,
    fail: Callable[[JobDecodeError], None],
    unknown_keys: Callable[[Any, type, str], list[str]],
    after_job: str | None = None,
) -> OpenAIDecoded:
    """Decode one OpenAI record (an object or a list response) of an input.

    Items of a list are decoded one by one, so that a bad item is reported at
    ``$.data[i]`` and the good ones are kept. Bad records are passed to ``fail``; with
    ``strict``, keys the Structs do not know are named (``unknown_keys`` finds them).
    """
    out = OpenAIDecoded()
    kind, is_list = (shape[:-5], True) if shape.endswith("_list") else (shape, False)
    decode = _DECODERS[kind]
    cls = _ITEM_TYPES[kind]

    def unknown(value: Any, struct: type, prefix: str) -> bool:
        found = unknown_keys(value, struct, prefix)
        if found:
            reason = "unknown keys (strict=True): " + ", ".join(found)
            fail(JobDecodeError(reason, source=source, line=line, index=index, path=found[0]))
        return bool(found)

    if is_list:
        try:
            items = _list_decode(raw).data
        except _DECODE_ERRORS as exc:
            fail(JobDecodeError.from_msgspec(exc, source=source, line=line, index=index))
            return out
        if strict:
            extra = [f"$.{key}" for key in _any_decode(raw) if key not in _LIST_KEYS]
            if extra:
                reason = "unknown keys (strict=True): " + ", ".join(extra)
                fail(JobDecodeError(reason, source=source, line=line, index=index, path=extra[0]))
                return out
        prefixes = [f"$.data[{i}]" for i in range(len(items))]
    else:
        items = [raw]
        prefixes = ["$"]
    decoded = []
    for sub, (item, prefix) in enumerate(zip(items, prefixes)):
        try:
            value = decode(item)
        except _DECODE_ERRORS as exc:
            fail(JobDecodeError.from_msgspec(exc, source=source, line=line, index=index, prefix=prefix))
            continue
        if strict and unknown(_any_decode(item), cls, prefix):
            continue
        decoded.append((sub if is_list else -1, value))
    if kind == "job":
        out.jobs = [job for _, job in decoded]
        out.subs = [sub for sub, _ in decoded]
    elif decoded:
        items_kept = [value for _, value in decoded]
        out.lists.append(
            UnattachedList(
                "events" if kind == "event" else "checkpoints",
                items_kept,
                source,
                line=line,
                index=index,
                after_job=after_job,
            )
        )
    return out


def attach(jobs: list[Any], lists: list[UnattachedList]) -> tuple[list[Any], list[UnattachedList]]:
    """Give each list of events or checkpoints to its job (see the module's rules).

    Returns the jobs (OpenAI jobs with their attached items; others unchanged, in the same
    order) and what found no job. Items already in a job (by ``id``) are not repeated.

    Examples
    --------
    >>> from ftkit.openai_schema import OpenAIJob, OpenAIEvent
    >>> job = OpenAIJob(id="ftjob-a", model="m", status="running", created_at=1)
    >>> events = UnattachedList("events", [OpenAIEvent(id="e1", created_at=2)], "ftjob-a.events.json")
    >>> stray = UnattachedList("events", [OpenAIEvent(id="e2", created_at=2)], "other.json")
    >>> [jobs, rest] = attach([job], [events, stray])
    >>> [e.id for e in jobs[0].events], [r.source for r in rest]
    (['e1'], ['other.json'])
    """
    if not lists:
        return jobs, []
    known = {job.id for job in jobs if isinstance(job, OpenAIJob)}
    gained: dict[str, dict[str, list[Any]]] = {}
    unattached: list[UnattachedList] = []

    def give(job_id: str, kind: str, items: list[Any]) -> None:
        gained.setdefault(job_id, {"events": [], "checkpoints": []})[kind] += items

    for part in lists:
        fallback = _list_owner(part, known)
        if part.kind == "checkpoints":
            stray: dict[str | None, list[Any]] = {}
            for item in part.items:
                owner = item.fine_tuning_job_id or fallback
                if owner in known:
                    give(owner, "checkpoints", [item])
                else:
                    stray.setdefault(item.fine_tuning_job_id, []).append(item)
            for job_id, items in stray.items():
                unattached.append(_left(part, items, job_id or part.after_job))
        elif fallback is not None:
            give(fallback, "events", part.items)
        else:
            unattached.append(_left(part, part.items, part.after_job))
    out = []
    for job in jobs:
        more = gained.get(job.id) if isinstance(job, OpenAIJob) else None
        if more:
            job = msgspec.structs.replace(
                job,
                events=_merged(job.events, more["events"]),
                checkpoints=_merged(job.checkpoints, more["checkpoints"]),
            )
        out.append(job)
    return out, unattached


def candidate_owners(part: UnattachedList) -> set[str]:
    """Every job id the list (or one of its checkpoints) may attach to by the rules above.

    Examples
    --------
    >>> from ftkit.openai_schema import OpenAIEvent
    >>> sorted(candidate_owners(UnattachedList("events", [], "d/ftjob-b.json", after_job="ftjob-a")))
    ['ftjob-a', 'ftjob-b']
    """
    owners = set(_JOB_ID.findall(part.source))
    if part.after_job is not None:
        owners.add(part.after_job)
    if part.kind == "checkpoints":
        owners.update(item.fine_tuning_job_id for item in part.items if item.fine_tuning_job_id)
    return owners


def _list_owner(part: UnattachedList, known: set[str]) -> str | None:
    if part.after_job in known:
        return part.after_job
    for job_id in reversed(_JOB_ID.findall(part.source)):
        if job_id in known:
            return job_id
    return None


def _left(part: UnattachedList, items: list[Any], job_id: str | None) -> UnattachedList:
    return UnattachedList(part.kind, items, part.source, line=part.line, index=part.index, job_id=job_id)


def _merged(have: list[Any] | None, more: list[Any]) -> list[Any] | None:
    if not more:
        return have
    items = list(have or ())
    seen = {item.id for item in items if item.id is not None}
    for item in more:
        if item.id is None or item.id not in seen:
            items.append(item)
            if item.id is not None:
                seen.add(item.id)
    return items

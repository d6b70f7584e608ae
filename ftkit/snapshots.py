"""Which snapshot of a job to keep when a dump holds the same job several times.

Dumps hold the same job many times: a list entry (no ``events``, no ``checkpoints``), a
detail response, later detail responses. The rule, the same for :func:`ftkit.read_jobs`,
:func:`ftkit.iter_jobs`, ``JobSet(jobs)`` and the command line, and never dependent on
the order of the inputs:

1. The record with the latest ``modified_at`` wins. OpenAI jobs have none: theirs is the
   latest time the record itself shows (``created_at``, ``finished_at``, or the latest
   event or checkpoint written in the record; lists attached from elsewhere are attached
   after this choice, to the winner, so they never change it). Two records of a job
   that has not finished and carries no events tie, and are merged as below.
2. Records that tie on the latest ``modified_at`` are merged key by key (top-level keys
   of the job): a key that one record has and another lacks (absent, or null: a decoded
   job cannot tell them apart) is kept; where several have it with different values,
   the *richer* value wins: the longer list (more checkpoints, more events), then the
   one with more values in it (a ``metadata`` with a cost beats one without).
3. Values equally rich but different (the same number of checkpoints with other
   metrics, say) have nothing that tells which is newer; the *later* of them is, by
   definition, the one whose compact JSON (keys sorted) sorts last. This depends on
   the values only, never on which file or line they came from, so that reading
   ``[a, b]`` and ``[b, a]``, or a dump cut into batches, gives the same job.

Examples
--------
>>> from ftkit.schema import WireJob
>>> listed = WireJob(id="j", model="m", status="SUCCESS", created_at=1, modified_at=9, object="job")
>>> detail = WireJob(id="j", model="m", status="SUCCESS", created_at=1, modified_at=9, events=[])
>>> merged = merge_snapshots([listed, detail])
>>> merged.object, merged.events
('job', [])
>>> merge_snapshots([detail, listed]) == merged
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from .openai_schema import OpenAIJob
from .schema import WireJob, to_job

__all__ = ["merge_snapshots", "resolve_snapshots", "value_order"]

_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def _leaves(value: Any) -> int:
    """How many non-null scalar values ``value`` holds, however deeply nested."""
    if value is None:
        return 0
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 1


def value_order(value: Any) -> tuple[int, int, bytes]:
    """The key by which one value of a key beats another: richer, then later (see above).

    ``value`` is a JSON value as :func:`msgspec.to_builtins` gives it.

    Examples
    --------
    >>> value_order([{"step_number": 1}]) > value_order([])
    True
    >>> value_order({"cost": 1.0, "cost_currency": "EUR"}) > value_order({"cost": 1.0})
    True
    """
    length = len(value) if isinstance(value, list) else 0
    return (length, _leaves(value), _encode_sorted(value))


def merge_snapshots(records: Sequence[Any]) -> Any:
    """Merge records of one job that share their ``modified_at``, key by key (see above).

    ``records`` are job Structs (:class:`~ftkit.schema.WireJob`, or the final
    :class:`~ftkit.ClassifierJob`/:class:`~ftkit.CompletionJob`). Returns a ``WireJob``
    where every record was one, else the final type the merged keys give. The result
    does not depend on the order of ``records``.
    """
    first = records[0]
    if all(record == first for record in records[1:]):
        return first
    values: dict[str, list[Any]] = {}
    for record in records:
        for key, value in msgspec.to_builtins(record).items():
            values.setdefault(key, []).append(value)
    merged: dict[str, Any] = {}
    for key, candidates in values.items():
        value = candidates[0]
        if any(other != value for other in candidates[1:]):
            value = max(candidates, key=value_order)
        merged[key] = value
    if all(type(record) is OpenAIJob for record in records):
        return msgspec.convert(merged, OpenAIJob)
    wire = msgspec.convert(merged, WireJob)
    return wire if all(type(record) is WireJob for record in records) else to_job(wire)


def resolve_snapshots(jobs: Sequence[Any]) -> tuple[list[int], dict[int, list[int]]]:
    """Which records to keep: one per job id, by the rule above.

    Returns the kept positions in increasing order and, for each kept position whose
    job must be merged, the positions of all the records tied on the latest
    ``modified_at`` (the kept one, the last of them, included). A job keeps the
    position of the last record it is made of.

    Examples
    --------
    >>> from types import SimpleNamespace as J
    >>> resolve_snapshots([J(id="a", modified_at=1), J(id="b", modified_at=1), J(id="a", modified_at=1)])
    ([1, 2], {2: [0, 2]})
    >>> resolve_snapshots([J(id="a", modified_at=2), J(id="a", modified_at=1)])
    ([0], {})
    """
    best: dict[str, int] = {}
    ties: dict[str, list[int]] = {}
    for position, job in enumerate(jobs):
        job_id = job.id
        kept = best.get(job_id)
        if kept is None:
            best[job_id] = position
            continue
        modified, latest = job.modified_at, jobs[kept].modified_at
        if modified > latest:
            best[job_id] = position
            ties.pop(job_id, None)
        elif modified == latest:
            ties.setdefault(job_id, [kept]).append(position)
            best[job_id] = position
    keep = sorted(best.values()) if len(best) < len(jobs) else list(range(len(jobs)))
    return keep, {best[job_id]: positions for job_id, positions in ties.items()}


def latest_snapshots(jobs: Sequence[Any]) -> list[Any]:
    """One job per id: ``jobs`` resolved by the rule above, in the order of their last records."""
    keep, merges = resolve_snapshots(jobs)
    if len(keep) == len(jobs) and not merges:
        return list(jobs)
    return [merge_snapshots([jobs[i] for i in merges[p]]) if p in merges else jobs[p] for p in keep]

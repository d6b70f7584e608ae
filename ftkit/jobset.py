"""JobSet: the jobs read from one or more dumps, with cached frames.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(4, seed=3))
>>> first = next(iter(js))
>>> js[first.id] == first
True
"""

from __future__ import annotations

import bisect
import html
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import polars as pl

from .errors import JobDecodeError
from .escape import printable
from .frames import (
    ERRORS_SCHEMA,
    checkpoints_frame,
    events_frame,
    jobs_frame,
    targets_frame,
)
from .gc_pause import gc_paused
from .openai_reading import UnattachedList
from .schema import Job, WireJob, to_job
from .snapshots import latest_snapshots

__all__ = ["JobSet", "errors_frame", "SHORT_ID_LENGTH"]

#: The length of the short ids shown in legends, tables and the browser: a prefix this
#: long (or longer) names a job wherever a job id is taken, when no other id starts so.
SHORT_ID_LENGTH = 8

_FRAMES = {
    "jobs": jobs_frame,
    "checkpoints": checkpoints_frame,
    "events": events_frame,
    "targets": targets_frame,
}


def errors_frame(errors: Iterable[JobDecodeError]) -> pl.DataFrame:
    """One row per unreadable record: ``source, line, index, path, message``."""
    errors = list(errors)
    return pl.DataFrame(
        {
            "source": [e.source for e in errors],
            "line": [e.line for e in errors],
            "index": [e.index for e in errors],
            "path": [e.path for e in errors],
            "message": [e.reason for e in errors],
        },
        schema=ERRORS_SCHEMA,
    )


class JobSet:
    """Jobs read from dumps: iterable Structs, lookup by id, and cached polars frames.

    Build one with :func:`ftkit.read_jobs`, or from job Structs: ``JobSet(jobs)``. Jobs are
    unique by id: where several records hold the same id, the one with the latest
    ``modified_at`` is kept, and records tied on it are merged key by key (see
    :mod:`ftkit.snapshots`); which job results never depends on the order of the
    records. Jobs iterate in a stable order: that of the last record each is made of.

    Attributes
    ----------
    jobs, checkpoints, events, targets : polars.DataFrame
        The frames of :mod:`ftkit.frames`, built once and cached.
    errors : polars.DataFrame
        The records that could not be read with ``errors="skip"``: ``source, line,
        index, path, message``.

    Examples
    --------
    >>> import ftkit, polars as pl
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(20, seed=7))
    >>> len(js.filter(job_type="classifier")) + len(js.filter(job_type="completion")) == len(js)
    True
    >>> js.filter(pl.col("status") == "SUCCESS").jobs["status"].unique().to_list()
    ['SUCCESS']
    """

    __slots__ = ("_ids", "_items", "_loader", "_frames", "_errors", "_index", "_sorted_ids", "_unattached")

    def __init__(
        self,
        jobs: Iterable[Job] = (),
        *,
        errors: Iterable[JobDecodeError] = (),
        unattached: Iterable[UnattachedList] = (),
    ) -> None:
        items = latest_snapshots(list(jobs))
        self._ids: list[str] = [job.id for job in items]
        self._items: list[Any] = items
        self._loader: Callable[[int], Job] | None = None
        self._frames: dict[str, pl.DataFrame] = {}
        self._errors: list[JobDecodeError] = list(errors)
        self._index: dict[str, int] | None = None
        self._sorted_ids: list[str] | None = None
        self._unattached: list[UnattachedList] = list(unattached)

    @classmethod
    def from_wire(
        cls,
        wire: list[WireJob],
        *,
        errors: Iterable[JobDecodeError] = (),
        unattached: Iterable[UnattachedList] = (),
    ) -> JobSet:
        """A JobSet of decoded wire jobs; each becomes its final type on first access."""
        return cls(wire, errors=errors, unattached=unattached)

    @classmethod
    def from_parts(
        cls,
        *,
        ids: list[str],
        loader: Callable[[int], Job],
        frames: dict[str, pl.DataFrame],
        errors: Iterable[JobDecodeError] = (),
    ) -> JobSet:
        """A JobSet whose frames are already built and whose Structs ``loader`` decodes.

        ``ids`` must be unique; ``loader(i)`` returns the job at position ``i``.
        """
        self = cls.__new__(cls)
        self._ids = ids
        self._items = [None] * len(ids)
        self._loader = loader
        self._frames = dict(frames)
        self._errors = list(errors)
        self._index = None
        self._sorted_ids = None
        self._unattached = []
        return self

    # --- the jobs ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def _job(self, position: int) -> Job:
        item = self._items[position]
        if item is None:
            item = self._items[position] = self._loader(position)  # type: ignore[misc]
        elif type(item) is WireJob:
            item = self._items[position] = to_job(item)
        return item

    def __iter__(self) -> Iterator[Job]:
        for position in range(len(self._ids)):
            yield self._job(position)

    @property
    def ids(self) -> list[str]:
        """The job ids, in iteration order."""
        return list(self._ids)

    def _positions(self) -> dict[str, int]:
        if self._index is None:
            self._index = {job_id: i for i, job_id in enumerate(self._ids)}
        return self._index

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._positions()

    def resolve(self, job_id: str) -> str:
        """The full id of the job ``job_id`` names: its id, or a prefix of at least 8
        characters (the short ids plots, tables and the browser show, ``…`` allowed).

        Raises ``KeyError`` when no job matches, or listing the candidates when several do.

        Examples
        --------
        >>> import ftkit
        >>> js = ftkit.read_jobs([b'{"id": "%s", "model": "m", "status": "SUCCESS", "created_at": 0,'
        ...     b' "modified_at": 0, "hyperparameters": {}}' % i for i in (b"2813b7e6-c511", b"2813b7e6-d3a0", b"7ddb123c-a827")])
        >>> js.resolve("7ddb123c"), js.resolve("2813b7e6-c…")
        ('7ddb123c-a827', '2813b7e6-c511')
        >>> js.resolve("2813b7e6")
        Traceback (most recent call last):
        ...
        KeyError: "job id prefix '2813b7e6' is ambiguous: it starts 2 jobs' ids: '2813b7e6-c511', '2813b7e6-d3a0'"
        """
        positions = self._positions()
        if isinstance(job_id, str) and job_id in positions:
            return job_id
        if not isinstance(job_id, str):
            msg = f"a job id is a string, got {type(job_id).__name__} {job_id!r}"
            raise KeyError(msg)
        prefix = job_id[:-1] if job_id.endswith("…") else job_id
        if len(prefix) < SHORT_ID_LENGTH:
            msg = f"no job with id {job_id!r} in this JobSet of {len(self)} jobs"
            raise KeyError(msg)
        if self._sorted_ids is None:
            self._sorted_ids = sorted(positions)
        ids = self._sorted_ids
        start = bisect.bisect_left(ids, prefix)
        found = []
        for candidate in ids[start:]:
            if not candidate.startswith(prefix):
                break
            found.append(candidate)
        if not found:
            msg = f"no job with id {job_id!r} (nor one starting with it) in this JobSet of {len(self)} jobs"
            raise KeyError(msg)
        if len(found) > 1:
            shown = ", ".join(repr(c) for c in found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
            msg = f"job id prefix {job_id!r} is ambiguous: it starts {len(found)} jobs' ids: {shown}"
            raise KeyError(msg)
        return found[0]

    def __getitem__(self, job_id: str) -> Job:
        """The job with this id, or with an id this short id (8 characters or more) starts."""
        return self._job(self._positions()[self.resolve(job_id)])

    def _subset(self, positions: list[int]) -> JobSet:
        subset = JobSet.__new__(JobSet)
        subset._ids = [self._ids[i] for i in positions]
        # Jobs not made yet stay so: the subset asks this JobSet for them when needed, so
        # that both hold the same Struct.
        items = self._items
        subset._items = [
            item if item is not None and type(item) is not WireJob else None
            for item in (items[i] for i in positions)
        ]
        subset._loader = lambda k: self._job(positions[k])
        subset._errors = self._errors
        subset._unattached = self._unattached
        subset._index = None
        subset._sorted_ids = None
        subset._frames = {}
        if self._frames:
            keep = pl.Series(subset._ids, dtype=pl.String())
            subset._frames = {
                name: frame.filter(pl.col("job_id").is_in(keep.implode()))
                for name, frame in self._frames.items()
            }
        return subset

    def filter(self, *predicates: pl.Expr | Callable[[Job], bool], **equals: Any) -> JobSet:
        """The jobs that pass every predicate and match every ``column=value``.

        Parameters
        ----------
        *predicates
            polars expressions over the :attr:`jobs` frame (``pl.col("cost") > 1``), or
            functions taking a job Struct and returning a bool.
        **equals
            A column of the :attr:`jobs` frame and the value it must equal, or a list, set
            or tuple of accepted values (``status=["SUCCESS", "FAILED"]``); ``None``
            matches nulls.

        Examples
        --------
        >>> import ftkit
        >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(30, seed=2))
        >>> ok = js.filter(status="SUCCESS", model=["open-mistral-7b", "ministral-3b-latest"])
        >>> set(ok.jobs["status"]) <= {"SUCCESS"}
        True
        """
        frame = self.jobs
        mask = pl.lit(True)
        for name, value in equals.items():
            if name not in frame.columns:
                msg = f"filter: no column {name!r} in the jobs frame; columns are {frame.columns}"
                raise ValueError(msg)
            if isinstance(value, (list, tuple, set, frozenset)):
                values = [v for v in value if v is not None]
                test = pl.col(name).is_in(pl.Series(values, dtype=frame.schema[name]).implode())
                if len(values) < len(value):
                    test = test | pl.col(name).is_null()
            elif value is None:
                test = pl.col(name).is_null()
            else:
                test = pl.col(name) == value
            mask = mask & test
        functions = []
        for predicate in predicates:
            if isinstance(predicate, pl.Expr):
                mask = mask & predicate
            elif callable(predicate):
                functions.append(predicate)
            else:
                msg = f"filter: a predicate must be a polars expression or a function, got {type(predicate).__name__}"
                raise TypeError(msg)
        positions = (
            frame.select(pl.int_range(pl.len()).alias("position"), mask.fill_null(False).alias("keep"))
            .filter(pl.col("keep"))["position"]
            .to_list()
        )
        if functions:
            positions = [i for i in positions if all(f(self._job(i)) for f in functions)]
        return self._subset(positions)

    # --- frames ------------------------------------------------------------------

    def _frame(self, name: str) -> pl.DataFrame:
        frame = self._frames.get(name)
        if frame is None:
            with gc_paused():
                source = self._items if all(item is not None for item in self._items) else list(self)
                frame = self._frames[name] = _FRAMES[name](source)
        return frame

    @property
    def jobs(self) -> pl.DataFrame:
        """One row per job; see :func:`ftkit.jobs_frame`."""
        return self._frame("jobs")

    @property
    def checkpoints(self) -> pl.DataFrame:
        """One row per checkpoint; see :func:`ftkit.checkpoints_frame`."""
        return self._frame("checkpoints")

    @property
    def events(self) -> pl.DataFrame:
        """One row per status event; see :func:`ftkit.events_frame`."""
        return self._frame("events")

    @property
    def targets(self) -> pl.DataFrame:
        """One row per classifier target; see :func:`ftkit.targets_frame`."""
        return self._frame("targets")

    @property
    def errors(self) -> pl.DataFrame:
        """The records that could not be read (``errors="skip"``), one row each."""
        return errors_frame(self._errors)

    @property
    def unattached(self) -> list[UnattachedList]:
        """OpenAI events or checkpoints lists read whose job was not among the jobs read.

        See :mod:`ftkit.openai_reading` for how lists find their job.
        """
        return list(self._unattached)

    @property
    def decode_errors(self) -> list[JobDecodeError]:
        """The records that could not be read, as :class:`~ftkit.JobDecodeError` objects."""
        return list(self._errors)

    # --- display ----------------------------------------------------------------

    def _counts(self, column: str) -> list[tuple[str, int]]:
        if not len(self):
            return []
        counts = Counter(self.jobs[column].fill_null("(none)").to_list())
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def __repr__(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in self._counts("status"))
        errors = f", {len(self._errors)} unreadable records" if self._errors else ""
        if self._unattached:
            errors += f", {len(self._unattached)} events/checkpoints lists without their job"
        return printable(f"JobSet({len(self)} jobs{': ' + statuses if statuses else ''}{errors})")

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [
            '<div class="ftkit-jobset">',
            f"<strong>JobSet</strong>: {len(self)} jobs",
            f", {len(self._errors)} unreadable records" if self._errors else "",
            f", {len(self._unattached)} events/checkpoints lists without their job" if self._unattached else "",
        ]
        tables = [("status", "status"), ("type", "job_type"), ("model", "model")]
        if len(self._counts("provider")) > 1:
            tables.append(("provider", "provider"))
        for title, column in tables:
            rows = "".join(
                f"<tr><td>{esc(str(value))}</td><td style='text-align:right'>{count}</td></tr>"
                for value, count in self._counts(column)
            )
            parts.append(
                f"<table style='display:inline-table;margin:0.5em 1.5em 0 0;vertical-align:top'>"
                f"<thead><tr><th>{title}</th><th>jobs</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        parts.append("</div>")
        return "".join(parts)

    # --- analysis (see ftkit.analysis) ------------------------------------------------

    def checkpoint_summary(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        """Per job: checkpoint counts, final and best metrics; see :func:`ftkit.checkpoint_summary`."""
        from .analysis import checkpoint_summary

        return checkpoint_summary(self, *args, **kwargs)

    def checkpoints_with_axes(self) -> pl.DataFrame:
        """Checkpoints with ``tokens_seen``, ``epoch``, ``elapsed_s``; see :func:`ftkit.checkpoints_with_axes`."""
        from .analysis import checkpoints_with_axes

        return checkpoints_with_axes(self)

    def compare_hyperparameters(self, **kwargs: Any) -> pl.DataFrame:
        """The hyperparameters that vary across the jobs; see :func:`ftkit.compare_hyperparameters`."""
        from .analysis import compare_hyperparameters

        return compare_hyperparameters(self, **kwargs)

    def token_usage(self) -> pl.DataFrame:
        """Per job: tokens, epochs realised and cost; see :func:`ftkit.token_usage`."""
        from .analysis import token_usage

        return token_usage(self)

    def token_usage_totals(self) -> pl.DataFrame:
        """Token and cost totals per currency; see :func:`ftkit.token_usage_totals`."""
        from .analysis import token_usage_totals

        return token_usage_totals(self)

    def lifecycle(self) -> pl.DataFrame:
        """Per job: time queued, validating, running; how it ended; see :func:`ftkit.lifecycle`."""
        from .analysis import lifecycle

        return lifecycle(self)

    def metric_flags(self) -> pl.DataFrame:
        """One row per metric or token finding; see :func:`ftkit.metric_flags`."""
        from .analysis import metric_flags

        return metric_flags(self)

    def effect(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        """A metric per value or bin of a parameter, per group; see :func:`ftkit.effect`."""
        from .analysis import effect

        return effect(self, *args, **kwargs)

    def pareto(self, **kwargs: Any) -> pl.DataFrame:
        """The jobs no other job beats on both cost and quality; see :func:`ftkit.pareto`."""
        from .analysis import pareto

        return pareto(self, **kwargs)

"""What every analysis shares: the jobs as a JobSet, the metrics, and small frame helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import msgspec
import polars as pl

from ..frames import FRAME_NAMES
from ..jobset import JobSet

__all__ = ["By", "DEFAULT_BY", "Mode", "resolve_by", "METRICS", "Tables", "lazy_tables", "TablesView", "tables_of", "result", "as_jobset", "group_columns", "infer_mode", "measured", "job_keys", "left_join"]

Mode = Literal["min", "max"]


class _DefaultBy:
    """The type of :data:`DEFAULT_BY` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFAULT_BY"


#: The default ``by=`` of the comparisons: ``"job_type"``, and ``["provider", "job_type"]``
#: where the jobs come from more than one provider (see :func:`resolve_by`).
DEFAULT_BY = _DefaultBy()

#: Groups of jobs never pooled or compared with each other: a column, a list of them, or
#: None; :data:`DEFAULT_BY` is resolved for the jobs by :func:`resolve_by`.
By = str | Sequence[str] | None | _DefaultBy

#: Checkpoint metrics, in the order the summary columns use.
METRICS = ("train_loss", "valid_loss", "valid_mean_token_accuracy")


def as_jobset(jobs: Any) -> JobSet:
    """The jobs as a :class:`~ftkit.JobSet`: a JobSet passes through.

    An iterable of job Structs becomes ``JobSet(list(jobs))``; anything else (a path, a
    glob, bytes, a list of these) is read with :func:`ftkit.read_jobs`.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(2, seed=0))
    >>> as_jobset(js) is js, len(as_jobset(list(js))), len(as_jobset([]))
    (True, 2, 0)
    """
    if isinstance(jobs, JobSet):
        return jobs
    if isinstance(jobs, (str, bytes, bytearray, memoryview)) or not isinstance(jobs, Iterable):
        from ..read import read_jobs

        return read_jobs(jobs)
    items = list(jobs)
    if all(isinstance(item, msgspec.Struct) for item in items):
        return JobSet(items)
    from ..read import read_jobs

    return read_jobs(items)



#: Gives a table of the input by name ("jobs", "checkpoints", "events") as a LazyFrame.
Tables = Callable[[str], pl.LazyFrame]


def lazy_tables(jobs: Any) -> Tables | None:
    """The tables of ``jobs`` when it is lazy: :func:`ftkit.scan_tables`'s result, or a
    mapping or object whose ``jobs`` (and ``checkpoints``, ``events``) are LazyFrames;
    ``None`` for anything else (a JobSet, a source, Structs).

    Examples
    --------
    >>> import polars as pl
    >>> lazy_tables({"jobs": pl.LazyFrame()})("jobs").collect().shape
    (0, 0)
    >>> lazy_tables({"jobs": pl.LazyFrame()})("events")
    Traceback (most recent call last):
    ...
    ValueError: the lazy tables given have no 'events' LazyFrame, which this analysis needs
    >>> lazy_tables([]) is None
    True
    """
    if isinstance(jobs, Mapping):
        get: Callable[[str], Any] = jobs.get
    elif isinstance(jobs, JobSet) or isinstance(jobs, (str, bytes, bytearray, memoryview)):
        return None
    else:
        def get(name: str) -> Any:
            return getattr(jobs, name, None)

    if not isinstance(get("jobs"), pl.LazyFrame):
        return None

    def table(name: str) -> pl.LazyFrame:
        frame = get(name)
        if not isinstance(frame, pl.LazyFrame):
            msg = f"the lazy tables given have no {name!r} LazyFrame, which this analysis needs"
            raise ValueError(msg)
        return frame

    return table


class TablesView(Mapping[str, pl.LazyFrame]):
    """:data:`Tables` as a mapping, which every analysis accepts as lazy tables: one
    analysis built on another's query (lazy, whatever its own input was).

    Examples
    --------
    >>> import polars as pl
    >>> view = TablesView(lazy_tables({"jobs": pl.LazyFrame({"job_id": ["a"]})}))
    >>> lazy_tables(view)("jobs").collect().height, len(view)
    (1, 4)
    """

    __slots__ = ("_tables",)

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self._tables(name)

    def __iter__(self) -> Any:
        return iter(FRAME_NAMES)

    def __len__(self) -> int:
        return len(FRAME_NAMES)


def tables_of(jobs: Any) -> tuple[Tables, bool]:
    """The tables of ``jobs`` as LazyFrames, and whether the result stays lazy.

    Every analysis below is one polars query over these LazyFrames: lazy inputs give a
    LazyFrame (for the streaming engine); a JobSet's frames are wrapped with ``.lazy()``
    and the result collected.
    """
    tables = lazy_tables(jobs)
    if tables is not None:
        return tables, True
    js = as_jobset(jobs)
    return (lambda name: getattr(js, name).lazy()), False


def result(out: pl.LazyFrame, lazy: bool) -> pl.LazyFrame | pl.DataFrame:
    """``out`` itself for a lazy input, else collected."""
    return out if lazy else out.collect()


def infer_mode(metric: str, mode: Mode | None) -> Mode:
    """``mode`` checked, or inferred from ``metric``: ``"max"`` for accuracy, else ``"min"``."""
    if mode is None:
        return "max" if "accuracy" in metric else "min"
    if mode not in ("min", "max"):
        msg = f"mode must be 'min', 'max' or None, got {mode!r}"
        raise ValueError(msg)
    return mode


def measured(checkpoints: pl.DataFrame) -> pl.DataFrame:
    """Null the validation placeholders the frame left: a lone 0.0 beside a null or 0.0."""
    vl, acc = pl.col("valid_loss"), pl.col("valid_mean_token_accuracy")
    vl_ph = (vl == 0.0) & (acc.is_null() | (acc == 0.0))
    acc_ph = (acc == 0.0) & (vl.is_null() | (vl == 0.0))
    return checkpoints.with_columns(
        pl.when(vl_ph.not_()).then(vl).alias("valid_loss"),
        pl.when(acc_ph.not_()).then(acc).alias("valid_mean_token_accuracy"),
    )


def job_keys(js: JobSet, *columns: str) -> pl.DataFrame:
    """``job_id`` and ``columns`` of the jobs frame."""
    return js.jobs.select("job_id", *columns)


def left_join(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """``left`` with ``right``'s columns joined on ``job_id``, in ``left``'s order."""
    return left.join(right, on="job_id", how="left", maintain_order="left")



def resolve_by(
    by: By, jobs: JobSet | pl.LazyFrame, *, others: Sequence[str] = ()
) -> str | Sequence[str] | None:
    """``by`` as given, or, for :data:`DEFAULT_BY`, the default groups of ``jobs`` (a
    JobSet, or a jobs table as a LazyFrame: only its distinct providers are collected).

    The default is ``"job_type"`` (a classifier's loss and a completion job's loss are
    not comparable). Where the jobs come from more than one provider it is
    ``["provider", "job_type"]``: an OpenAI completion job and a Mistral one differ in
    tokenizer, model and data, so their losses are not comparable either. A column in
    ``others`` (the one compared) is left out of the default. Any ``by`` given
    explicitly is returned as it is: ``by="job_type"`` pools providers, ``None`` pools
    everything.

    Examples
    --------
    >>> import ftkit
    >>> mistral = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=0))
    >>> resolve_by(DEFAULT_BY, mistral), resolve_by(None, mistral)
    ('job_type', None)
    >>> mixed = ftkit.read_jobs([ftkit.synth.make_jobs_bytes(3, seed=0),
    ...                          ftkit.synth.make_openai_jobs_bytes(3, seed=0)])
    >>> resolve_by(DEFAULT_BY, mixed), resolve_by("job_type", mixed)
    (['provider', 'job_type'], 'job_type')
    >>> resolve_by(DEFAULT_BY, mixed, others=["provider"])
    'job_type'
    >>> resolve_by(DEFAULT_BY, mixed.jobs.lazy())
    ['provider', 'job_type']
    """
    if not isinstance(by, _DefaultBy):
        return by
    if "provider" in others:
        return "job_type"
    frame = jobs if isinstance(jobs, pl.LazyFrame) else jobs.jobs.lazy()
    if frame.select(pl.col("provider").n_unique()).collect(engine="streaming").item() > 1:
        return ["provider", "job_type"]
    return "job_type"


def group_columns(by: By, *, where: str, others: Sequence[str] = ()) -> list[str]:
    """``by`` as a list of column names (``None`` is no group), checked against ``others``.

    Examples
    --------
    >>> group_columns("job_type", where="effect"), group_columns(None, where="effect")
    (['job_type'], [])
    >>> group_columns(["job_type", "model"], where="effect", others=["model"])
    Traceback (most recent call last):
    ...
    ValueError: effect: by= must not name 'model', which is already compared; got by=['job_type', 'model']
    """
    if by is None:
        return []
    if isinstance(by, _DefaultBy):  # not resolved for a JobSet (see resolve_by): job types
        by = "job_type"
    names = [by] if isinstance(by, str) else list(by)
    if not all(isinstance(name, str) for name in names):
        msg = f"{where}: by= takes a column name, a list of them or None, got {by!r}"
        raise TypeError(msg)
    for name in names:
        if name in others:
            msg = f"{where}: by= must not name {name!r}, which is already compared; got by={by!r}"
            raise ValueError(msg)
    return list(dict.fromkeys(names))

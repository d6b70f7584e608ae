"""Comparisons across jobs: hyperparameters that vary, effect of a parameter, Pareto fronts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from ..frames import JOBS_SCHEMA
from .checkpoints import SUMMARY_SCHEMA, checkpoint_summary
from .costs import TOKEN_USAGE_SCHEMA, token_usage
from .inputs import DEFAULT_BY, By, Mode, Tables, TablesView, group_columns, infer_mode, resolve_by, result, tables_of
from .phases import LIFECYCLE_SCHEMA, lifecycle

__all__ = ["HYPERPARAMETERS", "HYPERPARAMETER_PROVIDERS", "MAX_DISTINCT_UNBINNED", "compare_hyperparameters", "effect", "pareto", "per_job"]

#: Hyperparameter columns of the jobs frame, and the job types that have each.
HYPERPARAMETERS: dict[str, frozenset[str]] = {
    "learning_rate": frozenset({"classifier", "completion"}),
    "training_steps": frozenset({"classifier", "completion"}),
    "epochs": frozenset({"classifier", "completion"}),
    "weight_decay": frozenset({"classifier", "completion"}),
    "warmup_fraction": frozenset({"classifier", "completion"}),
    "seq_len": frozenset({"classifier", "completion"}),
    "fim_ratio": frozenset({"completion"}),
    # OpenAI's (null on Mistral jobs; "auto" is null too, see n_epochs_auto...).
    "n_epochs": frozenset({"completion", "dpo", "reinforcement"}),
    "batch_size": frozenset({"completion", "dpo", "reinforcement"}),
    "learning_rate_multiplier": frozenset({"completion", "dpo", "reinforcement"}),
}

#: The provider whose jobs have each hyperparameter of :data:`HYPERPARAMETERS`.
HYPERPARAMETER_PROVIDERS: dict[str, str] = {
    name: "openai" if name in ("n_epochs", "batch_size", "learning_rate_multiplier") else "mistral"
    for name in HYPERPARAMETERS
}

_SOURCES: tuple[tuple[str, Callable[[TablesView], pl.LazyFrame]], ...] = (
    ("checkpoint_summary", lambda view: checkpoint_summary(view)),
    ("token_usage", lambda view: token_usage(view)),
    ("lifecycle", lambda view: lifecycle(view)),
    ("jobs", lambda view: view["jobs"]),
)
_SOURCE_COLUMNS = {
    "checkpoint_summary": list(SUMMARY_SCHEMA),
    "token_usage": list(TOKEN_USAGE_SCHEMA),
    "lifecycle": list(LIFECYCLE_SCHEMA),
    "jobs": list(JOBS_SCHEMA),
}


def _per_job(
    tables: Tables, columns: Iterable[str], *, where: str, keys: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """:func:`per_job`'s query, over the jobs of ``keys`` (``job_id``; default all)."""
    view = TablesView(tables)
    out = (tables("jobs") if keys is None else keys).select("job_id")
    wanted: dict[str, list[str]] = {}
    for name in dict.fromkeys(columns):
        if name == "job_id":
            continue
        for source, _ in _SOURCES:
            if name in _SOURCE_COLUMNS[source]:
                wanted.setdefault(source, []).append(name)
                break
        else:
            known = sorted({c for cols in _SOURCE_COLUMNS.values() for c in cols} - {"job_id"})
            msg = f"{where}: no column {name!r} in checkpoint_summary, token_usage, lifecycle or the jobs frame; expected one of {known}"
            raise ValueError(msg)
    for source, build in _SOURCES:
        if source in wanted:
            frame = build(view).select("job_id", *wanted[source])
            out = out.join(frame, on="job_id", how="left", maintain_order="left")
    return out.select("job_id", *(name for name in dict.fromkeys(columns) if name != "job_id"))


def per_job(jobs: Any, columns: Iterable[str], *, where: str) -> pl.DataFrame:
    """``job_id`` and the named columns, each from the first of :func:`checkpoint_summary`,
    :func:`token_usage`, :func:`lifecycle` and the jobs frame that has it (``where`` names
    the caller in the error for an unknown column); a LazyFrame for lazy tables."""
    tables, lazy = tables_of(jobs)
    return result(_per_job(tables, columns, where=where), lazy)


def pareto(
    jobs: Any,
    *,
    cost: str = "cost",
    quality: str = "best_valid_loss",
    mode: Mode | None = None,
    by: By = DEFAULT_BY,
) -> pl.DataFrame:
    """The jobs that no other job of their group beats on both cost and quality.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs; or lazy
        tables (:func:`ftkit.scan_tables`), which give a LazyFrame.
    cost
        A per-job column where lower is better: ``"cost"`` (default, from
        :func:`token_usage`, so a placeholder ``0.0`` cost is null), ``"total_s"``,
        ``"trained_tokens"``, or any column of :func:`checkpoint_summary`,
        :func:`token_usage`, :func:`lifecycle` or the jobs frame.
    quality
        A per-job column: ``"best_valid_loss"`` (default), or any column as above.
    mode
        ``"min"`` if lower ``quality`` is better, ``"max"`` if higher is. ``None``
        (default): ``"max"`` for accuracy columns, ``"min"`` otherwise.
    by
        The per-job column, or list of columns, whose values make groups that are never
        compared with each other: each has its own front. By default ``"job_type"``,
        since a classifier's loss and a completion job's loss are not comparable, and
        ``["provider", "job_type"]`` where the jobs come from several providers (see
        :func:`~ftkit.analysis.inputs.resolve_by`). A ``by`` given is used exactly as
        given; ``None`` compares all the jobs together.

    Returns
    -------
    polars.DataFrame
        ``job_id``, the ``by`` columns, ``cost``, ``quality`` (named as given), and
        ``cost_currency`` when ``cost="cost"``; sorted by group, currency, cost, then
        quality. A job is dominated when another of its group is no worse on both and
        better on one; jobs with a null cost or quality are left out. Costs in different
        currencies are never compared: with ``cost="cost"`` each currency has its own
        front.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, cost, loss, kind="completion"):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {}, "job_type": kind,
    ...             "metadata": {"cost": cost, "cost_currency": "USD"},
    ...             "checkpoints": [{"step_number": 1, "created_at": 0,
    ...                              "metrics": {"valid_loss": loss}}]}
    >>> pareto(msgspec.json.encode([job("a", 1.0, 0.9), job("b", 2.0, 0.7),
    ...     job("c", 3.0, 0.8), job("d", 4.0, 0.6), job("e", 5.0, 0.001, "classifier")]))
    shape: (4, 5)
    ┌────────┬────────────┬──────┬─────────────────┬───────────────┐
    │ job_id ┆ job_type   ┆ cost ┆ best_valid_loss ┆ cost_currency │
    │ ---    ┆ ---        ┆ ---  ┆ ---             ┆ ---           │
    │ str    ┆ str        ┆ f64  ┆ f64             ┆ str           │
    ╞════════╪════════════╪══════╪═════════════════╪═══════════════╡
    │ e      ┆ classifier ┆ 5.0  ┆ 0.001           ┆ USD           │
    │ a      ┆ completion ┆ 1.0  ┆ 0.9             ┆ USD           │
    │ b      ┆ completion ┆ 2.0  ┆ 0.7             ┆ USD           │
    │ d      ┆ completion ┆ 4.0  ┆ 0.6             ┆ USD           │
    └────────┴────────────┴──────┴─────────────────┴───────────────┘
    """
    mode = infer_mode(quality, mode)
    tables, lazy = tables_of(jobs)
    if cost == quality:
        msg = f"pareto: cost and quality must be different columns, got {cost!r} for both"
        raise ValueError(msg)
    by = resolve_by(by, tables("jobs"), others=(cost, quality))
    groups = group_columns(by, where="pareto", others=(cost, quality))
    columns = [cost, quality] + (["cost_currency"] if cost == "cost" else [])
    df = _per_job(tables, [*groups, *columns], where="pareto")
    keys = [*groups, *(["cost_currency"] if cost == "cost" else [])] or ["_group"]
    q = pl.col(quality) if mode == "min" else -pl.col(quality)
    df = df.with_columns(pl.lit(0).alias("_group"), q.alias("_q")).filter(
        pl.col(cost).is_not_null() & pl.col("_q").is_not_null()
    )
    levels = (
        df.group_by(*keys, cost)
        .agg(pl.col("_q").min().alias("_gmin"))
        .sort(*keys, cost, nulls_last=True)
        .with_columns(pl.col("_gmin").cum_min().shift(1).over(keys).alias("_prev"))
    )
    front = df.join(levels, on=[*keys, cost], how="left", nulls_equal=True, maintain_order="left")
    front = front.filter(
        (pl.col("_q") == pl.col("_gmin")) & (pl.col("_prev").is_null() | (pl.col("_q") < pl.col("_prev")))
    )
    out = front.sort(*keys, cost, "_q", nulls_last=True, maintain_order=True).select(
        "job_id", *dict.fromkeys([*groups, *columns])
    )
    return result(out, lazy)


def compare_hyperparameters(jobs: Any, *, varying_only: bool = True) -> pl.DataFrame:
    """One row per job: ``job_id`` and its hyperparameters, by default only those that vary.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs.
    varying_only
        Keep only the hyperparameters that differ across the jobs (default); ``False``
        keeps all of :data:`HYPERPARAMETERS` that the jobs' providers have: Mistral's
        ``learning_rate, training_steps, epochs, weight_decay, warmup_fraction, seq_len,
        fim_ratio``, OpenAI's ``n_epochs, batch_size, learning_rate_multiplier``.

    Returns
    -------
    polars.DataFrame
        ``job_id`` then the hyperparameter columns, in the jobs frame's order and dtypes.
        A hyperparameter varies when it takes more than one value among the jobs whose
        type has it: ``fim_ratio`` (completion jobs only) is compared among the
        completion jobs, so classifier jobs, which lack it, do not make it vary; likewise
        each provider's hyperparameters are compared among its own jobs. A null
        (a key absent or null on the wire) counts as a value of its own: a job that set
        ``weight_decay`` and one that did not differ.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, **hyper):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": hyper}
    >>> compare_hyperparameters(msgspec.json.encode([
    ...     job("a", learning_rate=1e-4, training_steps=10, fim_ratio=0.9),
    ...     job("b", learning_rate=5e-5, training_steps=10, fim_ratio=0.9)]))
    shape: (2, 2)
    ┌────────┬───────────────┐
    │ job_id ┆ learning_rate │
    │ ---    ┆ ---           │
    │ str    ┆ f64           │
    ╞════════╪═══════════════╡
    │ a      ┆ 0.0001        │
    │ b      ┆ 0.00005       │
    └────────┴───────────────┘
    """
    tables, lazy = tables_of(jobs)
    frame = tables("jobs")
    engine = "streaming" if lazy else "auto"
    providers = set(frame.select(pl.col("provider").unique()).collect(engine=engine)["provider"]) or {"mistral"}
    names = [name for name in HYPERPARAMETERS if HYPERPARAMETER_PROVIDERS[name] in providers]
    if varying_only:
        job_type, provider = pl.col("job_type"), pl.col("provider")
        counts = (
            frame.select(
                pl.col(name)
                .filter(job_type.is_in(sorted(HYPERPARAMETERS[name])) & (provider == HYPERPARAMETER_PROVIDERS[name]))
                .n_unique()
                .alias(name)
                for name in names
            )
            .collect(engine=engine)
            .row(0, named=True)
        )
        names = [name for name in names if counts[name] > 1]
    return result(frame.select("job_id", *names), lazy)



# --- effect -----------------------------------------------------------------------------

#: A numeric parameter with more distinct values than this is binned by :func:`effect`.
MAX_DISTINCT_UNBINNED = 8


#: Metrics in money, which only jobs of one currency can be averaged over.
_CURRENCY_METRICS = frozenset({"cost", "cost_per_million_tokens"})


def effect(
    jobs: Any,
    param: str,
    *,
    metric: str = "best_valid_loss",
    bins: int = 4,
    by: By = DEFAULT_BY,
) -> pl.DataFrame:
    """The metric per value (or bin) of a parameter, in each group: count, mean, min, max.

    Parameters
    ----------
    jobs
        A JobSet, anything :func:`ftkit.read_jobs` accepts, or job Structs; or lazy
        tables (:func:`ftkit.scan_tables`), which give a LazyFrame (the providers
        present and whether ``param`` is binned are collected first).
    param
        A column of the jobs frame or of the per-job analyses (``"learning_rate"``,
        ``"model"``, ``"epochs_realised"``...); the second positional argument, or
        ``param=``.
    metric
        A numeric column of :func:`checkpoint_summary` (its defaults: best step by
        ``valid_loss``), :func:`token_usage`, :func:`lifecycle` or the jobs frame. A
        cost (``cost``, ``cost_per_million_tokens``) needs jobs of one currency in each
        group: amounts in different currencies are never averaged together
        (``ValueError``; ``by=["job_type", "cost_currency"]`` keeps them apart).
    bins
        The number of quantile bins for a numeric ``param`` with more than
        :data:`MAX_DISTINCT_UNBINNED` (8) distinct values in a group.
    by
        The per-job column, or list of columns, whose values make groups that are never
        pooled. By default ``"job_type"``, since a classifier's loss (around 1e-3) and a
        completion job's loss (around 1) cannot be averaged, and ``["provider",
        "job_type"]`` where the jobs come from several providers (an OpenAI completion
        job's loss is not comparable with a Mistral one's: other tokenizer, models and
        data; see :func:`~ftkit.analysis.inputs.resolve_by`). A ``by`` given is used
        exactly as given; ``None`` pools all jobs.

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, then one row per value of ``param`` in each group (null is a
        value of its own, last), sorted by group then value: ``param`` (named as given),
        ``n_jobs`` (jobs with that value), ``count`` (those with a non-null metric),
        ``mean``, ``min``, ``max``. A binned parameter's column holds the bin as text,
        ``"lo – hi"``, the smallest and largest value inside the bin; bins are made
        in each group, hold about equally many jobs, and equal values always share a bin
        (so there may be fewer than ``bins``). A provider's own hyperparameter
        (:data:`HYPERPARAMETER_PROVIDERS`: ``learning_rate`` is Mistral's,
        ``learning_rate_multiplier`` OpenAI's) is looked at among that provider's jobs
        only: the other provider's jobs, which lack it, are not made a null group.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, lr, loss, kind="completion"):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {"learning_rate": lr},
    ...             "job_type": kind, "checkpoints": [{"step_number": 1, "created_at": 0,
    ...                              "metrics": {"valid_loss": loss}}]}
    >>> effect(msgspec.json.encode([job("a", 1e-4, 0.5), job("b", 1e-4, 0.75),
    ...     job("c", 2e-4, 0.25), job("d", 1e-4, 0.001, "classifier")]), "learning_rate")
    shape: (3, 7)
    ┌────────────┬───────────────┬────────┬───────┬───────┬───────┬───────┐
    │ job_type   ┆ learning_rate ┆ n_jobs ┆ count ┆ mean  ┆ min   ┆ max   │
    │ ---        ┆ ---           ┆ ---    ┆ ---   ┆ ---   ┆ ---   ┆ ---   │
    │ str        ┆ f64           ┆ i64    ┆ i64   ┆ f64   ┆ f64   ┆ f64   │
    ╞════════════╪═══════════════╪════════╪═══════╪═══════╪═══════╪═══════╡
    │ classifier ┆ 0.0001        ┆ 1      ┆ 1     ┆ 0.001 ┆ 0.001 ┆ 0.001 │
    │ completion ┆ 0.0001        ┆ 2      ┆ 2     ┆ 0.625 ┆ 0.5   ┆ 0.75  │
    │ completion ┆ 0.0002        ┆ 1      ┆ 1     ┆ 0.25  ┆ 0.25  ┆ 0.25  │
    └────────────┴───────────────┴────────┴───────┴───────┴───────┴───────┘
    """
    if bins < 1:
        msg = f"effect: bins must be a positive number of bins, got {bins!r}"
        raise ValueError(msg)
    if param == metric:
        msg = f"effect: param and metric must be different columns, got {param!r} for both"
        raise ValueError(msg)
    group_columns(by, where="effect", others=(param, metric))  # checked before reading
    tables, lazy = tables_of(jobs)
    engine = "streaming" if lazy else "auto"
    jobs_frame = tables("jobs")
    provider = HYPERPARAMETER_PROVIDERS.get(param)
    if provider is not None:  # the other provider's jobs lack it: not a null group
        jobs_frame = jobs_frame.filter(pl.col("provider") == provider)
    by = resolve_by(by, jobs_frame, others=(param, metric))
    groups = group_columns(by, where="effect", others=(param, metric))
    keys = groups or ["_group"]
    if metric in _CURRENCY_METRICS:
        usage = _per_job(tables, [*groups, metric, "cost_currency"], where="effect", keys=jobs_frame)
        mixed = (
            usage.with_columns(pl.lit(0).alias("_group"))
            .filter(pl.col(metric).is_not_null() & pl.col("cost_currency").is_not_null())
            .group_by(keys, maintain_order=True)
            .agg(pl.col("cost_currency").unique().sort().alias("_currencies"))  # may be a key
            .filter(pl.col("_currencies").list.len() > 1)
            .head(1)
            .collect(engine=engine)
        )
        if mixed.height:
            currencies = mixed["_currencies"][0].to_list()
            where = "" if not groups else " in group " + ", ".join(f"{k}={v!r}" for k, v in zip(groups, mixed.row(0)))
            msg = (
                f"effect: metric {metric!r} mixes currencies ({', '.join(currencies)}){where}, which "
                "cannot be averaged together; give jobs of one currency, e.g. "
                f"js.filter(cost_currency={currencies[0]!r}), or add 'cost_currency' to by="
            )
            raise ValueError(msg)
    df = _per_job(tables, [*groups, param, metric], where="effect", keys=jobs_frame).with_columns(
        pl.lit(0).alias("_group")
    )
    schema = df.collect_schema()
    if not schema[metric].is_numeric():
        msg = f"effect: metric {metric!r} must be numeric, found dtype {schema[metric]}"
        raise ValueError(msg)
    value = pl.col(param)
    key = param
    binned = schema[param].is_numeric() and (
        df.group_by(keys).agg(value.drop_nulls().n_unique().alias("_n")).select(pl.col("_n").max())
        .collect(engine=engine).item() or 0
    ) > MAX_DISTINCT_UNBINNED
    if binned:
        n = value.count().over(keys)
        df = df.with_columns(((value.rank("min").over(keys) - 1) * bins // n).cast(pl.Int64).alias("_bin"))
        key = "_bin"
    m = pl.col(metric)
    out = (
        df.group_by(*keys, key)
        .agg(
            *([value.min().alias("_lo"), value.max().alias("_hi")] if binned else []),
            pl.len().cast(pl.Int64).alias("n_jobs"),
            m.count().cast(pl.Int64).alias("count"),
            m.mean().cast(pl.Float64).alias("mean"),
            m.min().cast(pl.Float64).alias("min"),
            m.max().cast(pl.Float64).alias("max"),
        )
        .sort(*keys, key, nulls_last=True)
    )
    if binned:
        out = out.with_columns(
            pl.struct("_lo", "_hi").map_batches(_bin_labels, return_dtype=pl.String(), is_elementwise=True).alias(param)
        )
    return result(out.select(*groups, param, "n_jobs", "count", "mean", "min", "max"), lazy)


def _bin_labels(bounds: pl.Series) -> pl.Series:
    """``"lo – hi"`` for each bin's smallest and largest value (null for the null group)."""
    los, his = bounds.struct.field("_lo").to_list(), bounds.struct.field("_hi").to_list()
    return pl.Series([None if lo is None else f"{lo:.4g} – {hi:.4g}" for lo, hi in zip(los, his)], dtype=pl.String())

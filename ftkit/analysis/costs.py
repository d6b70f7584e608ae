"""Tokens and cost per job, and their totals per currency."""

from __future__ import annotations

from typing import Any

import polars as pl

from .inputs import as_jobset, job_keys

__all__ = ["TOKEN_USAGE_SCHEMA", "token_usage", "token_usage_totals"]

TOKEN_USAGE_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "trained_tokens": pl.Int64(),
    "train_tokens": pl.Int64(),
    "data_tokens": pl.Int64(),
    "epochs_realised": pl.Float64(),
    "cost": pl.Float64(),
    "cost_currency": pl.String(),
    "cost_per_million_tokens": pl.Float64(),
}

def token_usage(jobs: Any) -> pl.DataFrame:
    """One row per job: tokens trained, epochs realised, cost and cost per million tokens.

    Columns: ``job_id``, ``trained_tokens`` (the job's count of tokens trained),
    ``train_tokens`` and ``data_tokens`` (from its metadata: tokens planned, tokens in
    the training data), ``epochs_realised`` (``trained_tokens / data_tokens``), ``cost``,
    ``cost_currency``, ``cost_per_million_tokens`` (``cost`` per million
    ``trained_tokens``).

    A ``cost`` of ``0.0`` with a null ``cost_currency`` is the placeholder a job carries
    right after creation: it is null here, so it never looks free. Values that need a
    missing or zero denominator are null. Real jobs often have ``trained_tokens``
    different from ``train_tokens``; see :func:`metric_flags`.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> job = {"id": "a", "model": "m", "status": "SUCCESS", "created_at": 0,
    ...        "modified_at": 0, "hyperparameters": {}, "trained_tokens": 2_000_000,
    ...        "metadata": {"cost": 4.0, "cost_currency": "USD",
    ...                     "train_tokens": 2_000_000, "data_tokens": 500_000}}
    >>> token_usage(msgspec.json.encode(job)).row(0, named=True)
    {'job_id': 'a', 'trained_tokens': 2000000, 'train_tokens': 2000000, 'data_tokens': 500000, 'epochs_realised': 4.0, 'cost': 4.0, 'cost_currency': 'USD', 'cost_per_million_tokens': 2.0}
    """
    js = as_jobset(jobs)
    trained, data, cost = pl.col("trained_tokens"), pl.col("data_tokens"), pl.col("cost")
    placeholder = (cost == 0.0) & pl.col("cost_currency").is_null()
    return (
        job_keys(js, "trained_tokens", "train_tokens", "data_tokens", "cost", "cost_currency")
        .with_columns(pl.when(placeholder.not_()).then(cost).alias("cost"))
        .with_columns(
            pl.when(data > 0).then(trained / data).alias("epochs_realised"),
            pl.when(trained > 0).then(pl.col("cost") * 1e6 / trained).alias("cost_per_million_tokens"),
        )
        .select(list(TOKEN_USAGE_SCHEMA))
        .cast(TOKEN_USAGE_SCHEMA)
    )


def token_usage_totals(jobs: Any) -> pl.DataFrame:
    """Totals of :func:`token_usage`, one row per currency; currencies are never added.

    Columns: ``cost_currency`` (null for jobs without one: its own row), ``n_jobs``,
    ``n_priced`` (jobs with a cost), ``trained_tokens`` and ``cost`` (sums, null where
    no job has one), ``cost_per_million_tokens`` (over the jobs that have both a cost
    and ``trained_tokens``). Sorted by currency, null last. A ``trained_tokens`` total
    past 64 bits raises :class:`OverflowError` rather than wrapping to a wrong number.

    Examples
    --------
    >>> import ftkit, msgspec
    >>> def job(i, cost, currency, tokens):
    ...     return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0,
    ...             "modified_at": 0, "hyperparameters": {}, "trained_tokens": tokens,
    ...             "metadata": {"cost": cost, "cost_currency": currency}}
    >>> token_usage_totals(msgspec.json.encode([job("a", 2.0, "USD", 10**6),
    ...     job("b", 3.0, "EUR", 10**6), job("c", 4.0, "USD", 10**6), job("d", 0.0, None, None)]))
    shape: (3, 6)
    ┌───────────────┬────────┬──────────┬────────────────┬──────┬─────────────────────────┐
    │ cost_currency ┆ n_jobs ┆ n_priced ┆ trained_tokens ┆ cost ┆ cost_per_million_tokens │
    │ ---           ┆ ---    ┆ ---      ┆ ---            ┆ ---  ┆ ---                     │
    │ str           ┆ i64    ┆ i64      ┆ i64            ┆ f64  ┆ f64                     │
    ╞═══════════════╪════════╪══════════╪════════════════╪══════╪═════════════════════════╡
    │ EUR           ┆ 1      ┆ 1        ┆ 1000000        ┆ 3.0  ┆ 3.0                     │
    │ USD           ┆ 2      ┆ 2        ┆ 2000000        ┆ 6.0  ┆ 3.0                     │
    │ null          ┆ 1      ┆ 0        ┆ null           ┆ null ┆ null                    │
    └───────────────┴────────┴──────────┴────────────────┴──────┴─────────────────────────┘
    """
    usage = token_usage(jobs)
    # Token counts are summed in 128 bits: an Int64 sum wraps silently to a negative
    # number, so a total past 2**63 - 1 is an error rather than a wrong answer.
    cost, trained = pl.col("cost"), pl.col("trained_tokens").cast(pl.Int128)
    both = cost.is_not_null() & (trained > 0)

    def total(expr: pl.Expr) -> pl.Expr:
        return pl.when(expr.count() > 0).then(expr.sum())

    totals = (
        usage.group_by("cost_currency")
        .agg(
            pl.len().cast(pl.Int64).alias("n_jobs"),
            cost.count().cast(pl.Int64).alias("n_priced"),
            total(trained).alias("trained_tokens"),
            total(cost).alias("cost"),
            pl.when(both.any())
            .then(cost.filter(both).sum() * 1e6 / trained.filter(both).sum().cast(pl.Float64))
            .alias("cost_per_million_tokens"),
        )
        .sort("cost_currency", nulls_last=True)
    )
    too_big = totals.filter((pl.col("trained_tokens") > _INT64_MAX) | (pl.col("trained_tokens") < -_INT64_MAX - 1))
    if too_big.height:
        currency = too_big["cost_currency"][0]
        msg = (
            f"trained_tokens: the total of the jobs in {currency or 'no currency'} is"
            f" {too_big['trained_tokens'][0]:,}: expected at most {_INT64_MAX:,} (64 bits);"
            " some job's trained_tokens is implausibly large"
        )
        raise OverflowError(msg)
    return totals.cast({"trained_tokens": pl.Int64, "cost": pl.Float64, "cost_per_million_tokens": pl.Float64})


_INT64_MAX = 2**63 - 1


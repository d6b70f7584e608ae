"""The summary of a set of jobs: its tables, and their text for the terminal.

:func:`summary_tables` computes the tables that ``ftkit summary`` and the HTML report
(:mod:`ftkit.report`) share: jobs by status, type, model and provider; the best jobs by
best valid loss with their varying hyperparameters; tokens and cost per currency.
:func:`summary_text` lays them out for ``ftkit summary``, :func:`format_value` and
:func:`text_table` write a cell and a table as text.

Examples
--------
>>> import ftkit
>>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(6, seed=0))
>>> tables = summary_tables(js, top=3)
>>> sorted(tables)
['best', 'by_model', 'by_provider', 'by_status', 'by_type', 'cost']
>>> tables["by_status"]["jobs"].sum() == len(js)
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from .analysis.inputs import DEFAULT_BY, By, as_jobset
from .escape import printable
from .formatting import MIN_DIGITS, distinct_digits, format_float
from .jobset import JobSet

__all__ = [
    "summary_tables", "summary_text", "best_jobs", "unranked_jobs", "cost_by_currency", "varying_hyperparameters",
    "format_value", "column_digits", "column_header", "text_table", "drop_empty_columns", "table_groups",
    "count_tables", "date_range_text", "FINISHED",
]

#: Column headers that read better than the column names.
_HEADERS = {
    "job_id": "job id",
    "job_type": "type",
    "best_valid_loss": "best valid loss",
    "best_step": "best step",
    "best_train_loss": "train loss at best",
    "best_valid_mean_token_accuracy": "valid accuracy at best",
    "trained_tokens": "trained tokens",
    "cost_currency": "currency",
    "cost_per_million_tokens": "cost per 1M tokens",
    "n_jobs": "jobs",
    "n_priced": "priced",
    "n_checkpoints": "checkpoints",
    "learning_rate": "learning rate",
    "training_steps": "training steps",
    "weight_decay": "weight decay",
    "warmup_fraction": "warmup fraction",
    "seq_len": "seq len",
    "fim_ratio": "fim ratio",
    "created_at": "created (UTC)",
}


# --- tables -------------------------------------------------------------------------


def _counts(frame: pl.DataFrame, column: str, label: str) -> pl.DataFrame:
    return (
        frame.select(pl.col(column).fill_null("(none)").alias(label))
        .group_by(label)
        .agg(pl.len().cast(pl.Int64).alias("jobs"))
        .sort(["jobs", label], descending=[True, False])
    )


def varying_hyperparameters(jobs: JobSet) -> list[str]:
    """The hyperparameters that vary across ``jobs``, as :func:`ftkit.analysis.compare_hyperparameters` decides.

    Examples
    --------
    >>> import ftkit
    >>> varying_hyperparameters(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(4, seed=0)))
    ['learning_rate', 'training_steps', 'epochs', 'weight_decay', 'warmup_fraction', 'seq_len']
    """
    from .analysis import compare_hyperparameters

    return compare_hyperparameters(jobs, varying_only=True).columns[1:]


#: The status of a finished, successful job: the only jobs "best jobs" rank.
FINISHED = "SUCCESS"


def best_jobs(jobs: JobSet, *, top: int | None = 10, by: By = DEFAULT_BY) -> pl.DataFrame:
    """The finished, successful jobs with a measured valid loss, best first in each group.

    Columns: the ``by`` columns, ``job_id, suffix, model, status, best_valid_loss,
    best_step``, then each hyperparameter that varies across ``jobs``. Jobs are ranked
    only against jobs of their group (by default ``"job_type"``: a classifier's loss
    and a completion job's loss are not comparable; ``["provider", "job_type"]`` where
    the jobs come from several providers, see :func:`ftkit.analysis.inputs.resolve_by`;
    a ``by`` given is used as given; ``None`` ranks all together) and
    only when they ended in ``SUCCESS``: running, failed or cancelled jobs are listed
    apart by :func:`unranked_jobs`. ``top`` jobs per group; ``None`` keeps them all.

    Examples
    --------
    >>> import ftkit
    >>> js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(40, seed=3))
    >>> best = best_jobs(js, top=2)
    >>> best.columns[:7], set(best["status"])
    (['job_type', 'job_id', 'suffix', 'model', 'status', 'best_valid_loss', 'best_step'], {'SUCCESS'})
    """
    from .analysis import checkpoint_summary, compare_hyperparameters
    from .analysis.inputs import group_columns, resolve_by

    by = resolve_by(by, jobs)
    groups = group_columns(by, where="best_jobs")
    hyper = compare_hyperparameters(jobs, varying_only=True)
    varying = hyper.columns[1:]
    summary = checkpoint_summary(jobs).select("job_id", "best_valid_loss", "best_step")
    table = (
        jobs.jobs.select(*dict.fromkeys([*groups, "job_id", "suffix", "model", "status"]))
        .join(summary, on="job_id", how="inner")
        .join(hyper, on="job_id", how="inner")
        .filter(pl.col("best_valid_loss").is_not_null() & (pl.col("status") == FINISHED))
        .sort(*groups, "best_valid_loss", "job_id", nulls_last=True)
        .select(*dict.fromkeys([*groups, "job_id", "suffix", "model", "status", "best_valid_loss", "best_step",
                                *varying]))
    )
    if top is None:
        return table
    rank = pl.int_range(pl.len())
    return table.filter((rank.over(groups) if groups else rank) < top)


def unranked_jobs(jobs: JobSet) -> pl.DataFrame:
    """The jobs with a measured valid loss that did not finish successfully (running,
    failed, cancelled...): never ranked among the best jobs, listed apart.

    Columns: ``job_type, job_id, suffix, model, status, best_valid_loss``, by type,
    status, then loss.
    """
    from .analysis import checkpoint_summary

    summary = checkpoint_summary(jobs).select("job_id", "best_valid_loss")
    return (
        jobs.jobs.select("job_type", "job_id", "suffix", "model", "status")
        .join(summary, on="job_id", how="inner")
        .filter(pl.col("best_valid_loss").is_not_null() & (pl.col("status") != FINISHED).fill_null(True))
        .sort("job_type", "status", "best_valid_loss", "job_id", nulls_last=True)
    )


def cost_by_currency(jobs: JobSet) -> pl.DataFrame:
    """Jobs, tokens and cost per currency (never added across currencies)."""
    from .analysis import token_usage_totals

    return token_usage_totals(jobs).select(
        pl.col("cost_currency").fill_null("(none)"),
        "n_jobs",
        "n_priced",
        "trained_tokens",
        "cost",
        "cost_per_million_tokens",
    )


def summary_tables(jobs: Any, *, top: int = 10) -> dict[str, pl.DataFrame]:
    """The summary tables: ``by_status``, ``by_type``, ``by_model``, ``by_provider``, ``best``
    and ``cost`` (the summaries show ``by_provider`` where the jobs come from several).

    ``best`` holds the ``top`` finished, successful jobs of each job type by best valid
    loss (see :func:`best_jobs`), ``cost`` the tokens and cost per currency
    (:func:`ftkit.analysis.token_usage_totals`).
    """
    js = as_jobset(jobs)
    frame = js.jobs
    return {
        "by_status": _counts(frame, "status", "status"),
        "by_type": _counts(frame, "job_type", "type"),
        "by_model": _counts(frame, "model", "model"),
        "by_provider": _counts(frame, "provider", "provider"),
        "best": best_jobs(js, top=top),
        "cost": cost_by_currency(js),
    }


def count_tables(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """The count tables of :func:`summary_tables` to show, with their captions: by
    provider only where there are several.

    Examples
    --------
    >>> import ftkit
    >>> count_tables(summary_tables(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(3, seed=0))))
    {'by_status': 'By status', 'by_type': 'By type', 'by_model': 'By model'}
    """
    shown = {"by_status": "By status", "by_type": "By type", "by_model": "By model"}
    if tables["by_provider"].height > 1:
        shown["by_provider"] = "By provider"
    return shown


# --- values -------------------------------------------------------------------------


def format_value(column: str, value: Any, *, missing: str = "-", digits: int | None = None) -> str:
    """A cell as text: costs with 2 decimals, other numbers with 4 significant digits
    (``digits`` more when the column needs them to tell its values apart, see
    :func:`column_digits`), tokens with thousands separators.

    Examples
    --------
    >>> format_value("cost", 12.5), format_value("best_valid_loss", 0.81234), format_value("trained_tokens", 1234567)
    ('12.50', '0.8123', '1,234,567')
    >>> format_value("learning_rate", 0.0001), format_value("suffix", None), format_value("best_valid_loss", 0.000641)
    ('0.0001', '-', '0.000641')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if column.startswith("cost"):
            return format_float(value, digits or 2, decimals=True)
        return format_float(value, digits or MIN_DIGITS)
    if isinstance(value, int):
        return f"{value:,}" if "tokens" in column else str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def column_digits(frame: pl.DataFrame) -> dict[str, int]:
    """For each float column, the digits :func:`format_value` needs so that values that
    differ print differently (decimals for costs, significant digits otherwise).

    Examples
    --------
    >>> import polars as pl
    >>> column_digits(pl.DataFrame({"best_valid_loss": [0.81234, 0.81231], "cost": [2.621, 2.624], "n": [1, 2]}))
    {'best_valid_loss': 5, 'cost': 3}
    """
    out = {}
    for column, dtype in frame.schema.items():
        if dtype.is_float():
            values = frame[column].to_list()
            money = column.startswith("cost")
            out[column] = distinct_digits(values, start=2 if money else MIN_DIGITS, decimals=money)
    return out


def column_header(column: str) -> str:
    """The header a table shows for ``column``: the column's name in words.

    Examples
    --------
    >>> column_header("best_valid_loss"), column_header("job_id"), column_header("n_epochs")
    ('best valid loss', 'job id', 'n epochs')
    """
    return _HEADERS.get(column, column.replace("_", " "))


def drop_empty_columns(frame: pl.DataFrame, keep: Sequence[str] = ("job_id",)) -> pl.DataFrame:
    """Leave out columns that are null on every row (e.g. ``suffix`` when no job has one),
    except those in ``keep``.

    Examples
    --------
    >>> import polars as pl
    >>> drop_empty_columns(pl.DataFrame({"job_id": [None], "suffix": [None], "jobs": [1]})).columns
    ['job_id', 'jobs']
    """
    if frame.height == 0:
        return frame
    return frame.select([c for c in frame.columns if c in keep or frame[c].null_count() < frame.height])


# --- text ---------------------------------------------------------------------------


def text_table(frame: pl.DataFrame) -> list[str]:
    """The lines of a plain-text table: header, rule, rows; numbers right-aligned.

    Examples
    --------
    >>> import polars as pl
    >>> print("\\n".join(text_table(pl.DataFrame({"status": ["SUCCESS", "FAILED"], "jobs": [12, 3]}))))
    status   jobs
    -------  ----
    SUCCESS    12
    FAILED      3
    """
    headers = [printable(column_header(c)) for c in frame.columns]
    digits = column_digits(frame)
    cells = [
        [printable(format_value(c, v, digits=digits.get(c))) for c, v in zip(frame.columns, row)]
        for row in frame.iter_rows()
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    right = [frame.schema[c].is_numeric() for c in frame.columns]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _side_by_side(blocks: Sequence[list[str]], gap: int = 4) -> list[str]:
    widths = [max((len(line) for line in block), default=0) for block in blocks]
    height = max((len(block) for block in blocks), default=0)
    out = []
    for i in range(height):
        parts = [(block[i] if i < len(block) else "").ljust(w) for block, w in zip(blocks, widths)]
        out.append((" " * gap).join(parts).rstrip())
    return out


def date_range_text(frame: pl.DataFrame) -> str:
    """``", created <first> to <last>"`` for a jobs frame's ``created_at`` dates; ``""`` where it has none.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> date_range_text(pl.DataFrame({"created_at": [dt.datetime(2024, 7, 4), dt.datetime(2025, 8, 20)]}))
    ', created 2024-07-04 to 2025-08-20'
    """
    created = frame["created_at"].drop_nulls()
    if created.len() == 0:
        return ""
    first, last = created.min(), created.max()
    return f", created {first:%Y-%m-%d} to {last:%Y-%m-%d}"


def table_groups(table: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, pl.DataFrame]]:
    """(label, rows) of each group of ``table`` by the columns ``by``, in the order of
    ``table``; one unlabelled group when ``by`` is empty.

    Examples
    --------
    >>> import polars as pl
    >>> table = pl.DataFrame({"job_type": ["completion", "classifier", "completion"], "job_id": ["a", "b", "c"]})
    >>> [(label, part["job_id"].to_list()) for label, part in table_groups(table, ["job_type"])]
    [('completion', ['a', 'c']), ('classifier', ['b'])]
    """
    if not by:
        return [("", table)]
    return [
        (" · ".join(format_value(c, v, missing="(none)") for c, v in zip(by, part.select(*by).row(0))), part)
        for part in table.partition_by(list(by), maintain_order=True)
    ]


def _best_text(js: JobSet, *, top: int) -> list[str]:
    """The best jobs of each type, then the jobs with a loss that are not ranked."""
    from .analysis.inputs import group_columns, resolve_by

    groups = group_columns(resolve_by(DEFAULT_BY, js), where="summary_text")
    ranked = best_jobs(js, top=None, by=groups)
    lines: list[str] = []
    for label, part in table_groups(ranked, groups):
        shown = part.head(top).drop(*groups, "status")
        lines.append(
            f"Best {shown.height} of {part.height} successful {printable(label)} jobs with a measured valid loss,"
            " lowest first:"
        )
        lines += text_table(drop_empty_columns(shown))
        lines.append("")
    if not ranked.height:
        lines += ["No finished, successful job has a measured valid loss.", ""]
    unranked = unranked_jobs(js)
    if unranked.height:
        counts = ", ".join(f"{printable(str(s))} {n}" for s, n in unranked.group_by("status", maintain_order=True)
                           .len().sort("len", "status", descending=[True, False]).iter_rows())
        jobs_ = "1 job" if unranked.height == 1 else f"{unranked.height} jobs"
        lines.append(f"Not ranked: {jobs_} with a measured valid loss did not finish successfully ({counts}):")
        lines += text_table(drop_empty_columns(unranked.head(top)))
        if unranked.height > top:
            lines.append(f"... and {unranked.height - top} more")
        lines.append("")
    return lines


def summary_text(jobs: Any, *, top: int = 10, sources: Sequence[str] = ()) -> str:
    """The ``ftkit summary`` text: counts, best jobs, tokens and cost.

    The best jobs are the finished, successful ones, ranked within their job type; jobs
    with a loss that are running, failed or cancelled are listed apart. Numbers carry
    enough digits to tell the values of a column apart (:func:`column_digits`).

    Examples
    --------
    >>> import ftkit
    >>> print(summary_text(ftkit.read_jobs(ftkit.synth.make_jobs_bytes(4, seed=0)), top=2))
    ... # doctest: +ELLIPSIS
    4 jobs, created 2024-07-04 to 2025-08-20
    <BLANKLINE>
    status   jobs    type        jobs    model                 jobs
    -------  ----    ----------  ----    --------------------  ----
    SUCCESS     2    completion     4    open-mistral-7b          3
    FAILED      1                        mistral-small-latest     1
    QUEUED      1
    <BLANKLINE>
    Best 2 of 2 successful completion jobs with a measured valid loss, lowest first:
    job id ... best valid loss  best step  learning rate ...
    0730677d-f5be-458b-a95d-78b13297756f  -       mistral-small-latest            0.706         70 ...
    c5a9a231-b620-4372-8700-3d8ddfb9f4c3  intent  open-mistral-7b                0.9116         20 ...
    <BLANKLINE>
    Not ranked: 1 job with a measured valid loss did not finish successfully (FAILED 1):
    type        job id                                model            status  best valid loss
    ----------  ------------------------------------  ---------------  ------  ---------------
    completion  b40eedff-f56c-430c-ac94-17212bd3cbd9  open-mistral-7b  FAILED            1.093
    <BLANKLINE>
    Tokens and cost per currency:
    currency  jobs  priced  trained tokens   cost  cost per 1M tokens
    --------  ----  ------  --------------  -----  ------------------
    EUR          1       1      12,303,500  73.82                6.00
    USD          2       2       7,602,176  15.73                2.07
    (none)       1       0               -      -                   -
    """
    js = as_jobset(jobs)
    tables = summary_tables(js, top=top)
    where = f" in {printable(', '.join(sources))}" if sources else ""
    lines = [f"{len(js)} jobs{where}{date_range_text(js.jobs)}"]
    if js.decode_errors:
        lines[0] += f" ({len(js.decode_errors)} unreadable records left out)"
    lines.append("")
    lines += _side_by_side([text_table(tables[k]) for k in count_tables(tables)])
    lines.append("")
    lines += _best_text(js, top=top)
    lines.append("Tokens and cost per currency:")
    lines += text_table(tables["cost"])
    return "\n".join(lines) + "\n"

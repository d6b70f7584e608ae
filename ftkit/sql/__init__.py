"""ftkit's analyses as SQL for DuckDB and Spark SQL.

Each query is a ``.sql`` file shipped in this package. It reads the tables ``jobs``,
``checkpoints``, ``events`` and ``targets`` of a dataset written by
:func:`ftkit.convert_jobs` (``ftkit convert``) by those names; :func:`views` gives the
statements that name them in each engine, and :func:`script` both together, as
``ftkit sql NAME DIR`` prints them. Results are sorted by ``job_id`` (by currency for
``token_usage_totals``) and equal ftkit's own frames:

- ``checkpoint_summary``: :func:`ftkit.checkpoint_summary` with its defaults (best step by
  ``valid_loss``); a job's checkpoints that share a step number are ordered by
  ``created_at`` (ftkit keeps their order in the job's list);
- ``token_usage``, ``token_usage_totals``: :func:`ftkit.token_usage` and
  :func:`ftkit.token_usage_totals`;
- ``compare_hyperparameters``: :func:`ftkit.compare_hyperparameters` with
  ``varying_only=False``, but with both providers' columns (ftkit drops those of a
  provider absent from the jobs: all null here);
- ``lifecycle``: :func:`ftkit.lifecycle`, but for the order of same-second status events
  of the same rank (by status name here, by the job's list in ftkit);
- ``pareto``: :func:`ftkit.pareto` with its default axes (``cost``, ``best_valid_loss``,
  lower is better) and ``by=["provider", "job_type"]`` (on one provider's jobs, the
  default's rows with a ``provider`` column); ties sorted by ``job_id``;
- ``effect_learning_rate``: :func:`ftkit.effect` of ``"learning_rate"`` with its
  defaults (metric ``best_valid_loss``, 4 bins, by ``job_type``), the value or bin given
  as two numbers ``learning_rate_lo`` and ``learning_rate_hi`` instead of one column.

The SQL takes no parameters: each file is one common case, and its header says which
lines to edit for another axis, metric or parameter. Every query but ``lifecycle`` runs
unchanged on both engines; ``lifecycle`` needs the whole seconds since 1970 of a
timestamp, which the two engines spell differently (no form runs on both), so its file
holds the placeholder ``EPOCH_SECONDS(x)`` that :func:`query` writes for the ``engine``
asked: ``CAST(FLOOR(epoch(x)) AS BIGINT)`` for DuckDB, ``unix_seconds(x)`` for Spark.

Examples
--------
>>> names()  # doctest: +NORMALIZE_WHITESPACE
['checkpoint_summary', 'compare_hyperparameters', 'effect_learning_rate', 'lifecycle',
 'pareto', 'token_usage', 'token_usage_totals']
>>> print(views("tables", engine="duckdb").splitlines()[0])
CREATE OR REPLACE VIEW jobs AS SELECT * FROM read_parquet('tables/jobs/**/*.parquet', hive_partitioning = false);
>>> print(views("tables", engine="spark").splitlines()[0])
CREATE OR REPLACE TEMPORARY VIEW jobs USING parquet OPTIONS (path 'tables/jobs', recursiveFileLookup 'true');
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Literal

from ..tables import TABLES

__all__ = ["ENGINES", "names", "query", "views", "script", "statements"]

Engine = Literal["duckdb", "spark"]
#: The engines :func:`views` writes statements for.
ENGINES = ("duckdb", "spark")
# What the two engines spell differently: placeholder -> each engine's form.
_SPELLINGS = {
    "EPOCH_SECONDS": {"duckdb": "CAST(FLOOR(epoch({})) AS BIGINT)", "spark": "unix_seconds({})"},
}
_PLACEHOLDER = re.compile(r"\b(" + "|".join(_SPELLINGS) + r")\(([^()]*)\)")


def names() -> list[str]:
    """The names of the queries shipped, sorted."""
    return sorted(p.name[:-4] for p in resources.files(__name__).iterdir() if p.name.endswith(".sql"))


def query(name: str, *, engine: Engine = "duckdb") -> str:
    """The text of one query for ``engine`` (``ValueError`` naming the known ones for
    another name); only ``lifecycle`` differs between the engines.

    Examples
    --------
    >>> query("token_usage").splitlines()[0]
    '-- ftkit.token_usage: one row per job: tokens, epochs realised, cost and cost per million tokens.'
    >>> [line.strip() for line in query("lifecycle", engine="spark").splitlines() if "created_at" in line]
    ['unix_seconds(created_at) AS t,']
    """
    _check_engine(engine)
    known = names()
    if name not in known:
        msg = f"no SQL query {name!r}; expected one of {known}"
        raise ValueError(msg)
    text = resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda m: _SPELLINGS[m[1]][engine].format(m[2]), text)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        msg = f"engine must be one of {list(ENGINES)}, got {engine!r}"
        raise ValueError(msg)


def _literal(path: str) -> str:
    # The two engines escape quotes in string literals differently: refuse what needs it.
    if any(c in path for c in "'\\") or any(ord(c) < 32 for c in path):
        msg = f"{path!r}: a dataset path for SQL must not hold quotes, backslashes or control characters"
        raise ValueError(msg)
    return f"'{path}'"


def views(directory: str | os.PathLike, *, engine: Engine = "duckdb") -> str:
    """Statements that name the four tables of the dataset in ``directory`` in ``engine``.

    The path is written as given (relative paths are relative to where the engine runs);
    partition folders are read, but no partition column is added.
    """
    _check_engine(engine)
    root = Path(directory).as_posix()
    lines = []
    for table in TABLES:
        if engine == "duckdb":
            path = _literal(f"{root}/{table}/**/*.parquet")
            lines.append(
                f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({path}, hive_partitioning = false);"
            )
        else:
            path = _literal(f"{root}/{table}")
            lines.append(
                f"CREATE OR REPLACE TEMPORARY VIEW {table} USING parquet"
                f" OPTIONS (path {path}, recursiveFileLookup 'true');"
            )
    return "\n".join(lines) + "\n"


def script(name: str, directory: str | os.PathLike | None = None, *, engine: Engine = "duckdb") -> str:
    """The query ``name`` for ``engine``, after the :func:`views` of ``directory`` when
    one is given.

    Statements are separated by ``;`` and a newline; the query is the last statement.
    """
    text = query(name, engine=engine).rstrip() + ";\n"
    return text if directory is None else views(directory, engine=engine) + text


def statements(text: str) -> list[str]:
    """The statements of a :func:`script`, for engines that run one at a time (Spark)."""
    return [s.strip() for s in text.split(";\n") if s.strip()]

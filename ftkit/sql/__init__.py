"""ftkit's analyses as SQL that runs unchanged on DuckDB and Spark SQL.

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
  ``varying_only=False``.

Examples
--------
>>> names()
['checkpoint_summary', 'compare_hyperparameters', 'token_usage', 'token_usage_totals']
>>> print(views("tables", engine="duckdb").splitlines()[0])
CREATE OR REPLACE VIEW jobs AS SELECT * FROM read_parquet('tables/jobs/**/*.parquet', hive_partitioning = false);
>>> print(views("tables", engine="spark").splitlines()[0])
CREATE OR REPLACE TEMPORARY VIEW jobs USING parquet OPTIONS (path 'tables/jobs', recursiveFileLookup 'true');
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

__all__ = ["ENGINES", "names", "query", "views", "script", "statements"]

Engine = Literal["duckdb", "spark"]
#: The engines :func:`views` writes statements for.
ENGINES = ("duckdb", "spark")
_TABLES = ("jobs", "checkpoints", "events", "targets")


def names() -> list[str]:
    """The names of the queries shipped, sorted."""
    return sorted(p.name[:-4] for p in resources.files(__name__).iterdir() if p.name.endswith(".sql"))


def query(name: str) -> str:
    """The text of one query (``ValueError`` naming the known ones for another name).

    Examples
    --------
    >>> query("token_usage").splitlines()[0]
    '-- ftkit.token_usage: one row per job: tokens, epochs realised, cost and cost per million tokens.'
    """
    known = names()
    if name not in known:
        msg = f"no SQL query {name!r}; expected one of {known}"
        raise ValueError(msg)
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


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
    if engine not in ENGINES:
        msg = f"engine must be one of {list(ENGINES)}, got {engine!r}"
        raise ValueError(msg)
    root = Path(directory).as_posix()
    lines = []
    for table in _TABLES:
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
    """The query ``name``, after the :func:`views` of ``directory`` when one is given.

    Statements are separated by ``;`` and a newline; the query is the last statement.
    """
    text = query(name).rstrip() + ";\n"
    return text if directory is None else views(directory, engine=engine) + text


def statements(text: str) -> list[str]:
    """The statements of a :func:`script`, for engines that run one at a time (Spark)."""
    return [s.strip() for s in text.split(";\n") if s.strip()]

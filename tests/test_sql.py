"""ftkit's SQL queries run on DuckDB and Spark SQL and give ftkit's own frames."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit import sql

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-jobs.ndjson.gz"


def expected(name: str, js: ftkit.JobSet) -> pl.DataFrame:
    """ftkit's frame for the query ``name``, in the query's row order."""
    if name == "checkpoint_summary":
        return ftkit.checkpoint_summary(js).sort("job_id")
    if name == "token_usage":
        return ftkit.token_usage(js).sort("job_id")
    if name == "token_usage_totals":
        return ftkit.token_usage_totals(js)
    if name == "compare_hyperparameters":
        return ftkit.compare_hyperparameters(js, varying_only=False).sort("job_id")
    raise AssertionError(name)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory, mistral_paths):
    """(JobSet, dataset directory) of the sample, flat and partitioned, and of the real documents."""
    root = tmp_path_factory.mktemp("sql")
    sample = ftkit.read_jobs(SAMPLE)
    real = ftkit.read_jobs(mistral_paths)
    out = {}
    for key, js, part in (("sample", sample, None), ("sample-by-month", sample, "created_month"), ("real", real, None)):
        ftkit.convert_jobs(js, root / key, partition_by=part, batch_size=128)
        out[key] = (js, root / key)
    return out


def test_the_queries_shipped():
    assert sql.names() == ["checkpoint_summary", "compare_hyperparameters", "token_usage", "token_usage_totals"]
    with pytest.raises(ValueError, match=r"no SQL query 'lifecycle'; expected one of \['checkpoint_summary'"):
        sql.query("lifecycle")
    with pytest.raises(ValueError, match="must not hold quotes"):
        sql.views("it's")


# --- DuckDB -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["sample", "sample-by-month", "real"])
@pytest.mark.parametrize("name", sql.names())
def test_duckdb_gives_ftkits_frames(datasets, key, name):
    js, directory = datasets[key]
    con = duckdb.connect()
    *views, query = sql.statements(sql.script(name, directory, engine="duckdb"))
    for view in views:
        con.execute(view)
    assert_frame_equal(con.sql(query).pl(), expected(name, js))


def test_ftkit_sql_prints_a_script_duckdb_runs(datasets, tmp_path):
    js, directory = datasets["sample-by-month"]
    proc = subprocess.run(
        [sys.executable, "-m", "ftkit", "sql", "token_usage_totals", str(directory)],
        capture_output=True, text=True, check=True,
    )
    assert proc.stdout.startswith(f"CREATE OR REPLACE VIEW jobs AS SELECT * FROM read_parquet('{directory}/jobs/**/*.parquet'")
    con = duckdb.connect()
    *views, query = sql.statements(proc.stdout)
    for view in views:
        con.execute(view)
    assert_frame_equal(con.sql(query).pl(), expected("token_usage_totals", js))
    bare = subprocess.run([sys.executable, "-m", "ftkit", "sql", "token_usage"], capture_output=True, text=True)
    assert bare.stdout == sql.query("token_usage").rstrip() + ";\n"
    spark = subprocess.run(
        [sys.executable, "-m", "ftkit", "sql", "token_usage", str(directory), "--engine", "spark"],
        capture_output=True, text=True, check=True,
    )
    assert spark.stdout == sql.views(directory, engine="spark") + sql.query("token_usage").rstrip() + ";\n"
    assert spark.stdout.startswith(f"CREATE OR REPLACE TEMPORARY VIEW jobs USING parquet OPTIONS (path '{directory}/jobs'")
    bad = subprocess.run([sys.executable, "-m", "ftkit", "sql", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'nope'" in bad.stderr


# --- Spark ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the test session; skipped outside CI when Java is missing."""
    in_ci = bool(os.environ.get("CI"))
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if in_ci:
            pytest.fail("CI must have Java for the Spark tests: .ci/run installs default-jre-headless")
        pytest.skip("Spark needs Java, which this machine lacks (apt-get install default-jre-headless); CI runs it")
    if in_ci:
        import pyspark.sql as pyspark_sql  # in the dev extra: CI must have it
    else:
        pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark (in the dev extra) is not installed")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("ftkit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_sql_gives_ftkits_frames(spark, datasets):
    """All the queries, on the partitioned sample (one test: Spark is slow to warm up)."""
    js, directory = datasets["sample-by-month"]
    for name in sql.names():
        *views, query = sql.statements(sql.script(name, directory, engine="spark"))
        for view in views:
            spark.sql(view)
        want = expected(name, js)
        rows = [row.asDict() for row in spark.sql(query).collect()]
        got = pl.DataFrame(rows, schema=want.schema, orient="row")
        assert_frame_equal(got, want, check_exact=False)

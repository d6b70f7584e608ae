"""ftkit's SQL queries run on DuckDB and Spark SQL and give ftkit's own frames."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import msgspec
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
    if name == "lifecycle":
        return ftkit.lifecycle(js).sort("job_id")
    if name == "pareto":  # ties (same group, currency, cost and loss) by job_id, as the SQL
        keys = ["provider", "job_type", "cost_currency", "cost", "best_valid_loss", "job_id"]
        return ftkit.pareto(js, by=["provider", "job_type"]).sort(keys, nulls_last=True, maintain_order=True)
    if name == "effect_learning_rate":
        return ftkit.effect(js, "learning_rate")
    raise AssertionError(name)


def in_ftkits_form(name: str, got: pl.DataFrame, want: pl.DataFrame) -> pl.DataFrame:
    """The SQL's result in ftkit's form: effect's learning_rate bounds become ftkit's value,
    or its "lo – hi" label of a bin (formatted as ftkit does, from the SQL's numbers);
    compare_hyperparameters' columns of a provider absent from the jobs (all null) go."""
    if name == "compare_hyperparameters":
        absent = [c for c in got.columns if c not in want.columns]
        assert absent in ([], ["n_epochs", "batch_size", "learning_rate_multiplier"]), absent
        assert got.select(absent).null_count().row(0) == (got.height,) * len(absent)
        return got.drop(absent)
    if name != "effect_learning_rate":
        return got
    lo, hi = "learning_rate_lo", "learning_rate_hi"
    if want.schema["learning_rate"] == pl.String():
        labels = [None if a is None else f"{a:.4g} – {b:.4g}" for a, b in zip(got[lo], got[hi])]
        value = pl.Series("learning_rate", labels, dtype=pl.String())
    else:
        assert got[lo].eq_missing(got[hi]).all(), "an unbinned row holds one learning rate"
        value = got[lo].alias("learning_rate")
    return got.with_columns(value).select(want.columns)


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
    binned = ftkit.read_jobs(many_learning_rates())
    ftkit.convert_jobs(binned, root / "binned", batch_size=8)
    out["binned"] = (binned, root / "binned")
    return out


def many_learning_rates() -> list[bytes]:
    """Two dumps whose learning rates effect bins: 12 completion rates (ties and a null among
    them, jobs without a loss), 3 classifier rates; and OpenAI jobs (no learning_rate)."""
    def job(i, lr, loss, kind="completion", steps=1):
        checkpoints = [] if loss is None else [
            {"step_number": s, "created_at": 100 + s, "metrics": {"valid_loss": loss + s / 100}}
            for s in range(steps, 0, -1)
        ]
        hyper = {} if lr is None else {"learning_rate": lr}
        return {"id": f"job-{i:02d}", "model": "m", "status": "SUCCESS", "created_at": 1700000000 + i,
                "modified_at": 1700000000 + i, "hyperparameters": hyper, "job_type": kind,
                "checkpoints": checkpoints}
    jobs = [job(i, (i % 12 + 1) * 1e-5, None if i % 5 == 0 else 0.1 * i, steps=i % 3 + 1) for i in range(30)]
    jobs += [job(30, None, 0.5), job(31, None, None)]
    jobs += [job(40 + i, (i % 3 + 1) * 1e-4, 0.01 * i, "classifier") for i in range(6)]
    return [msgspec.json.encode(jobs), ftkit.synth.make_openai_jobs_bytes(2, seed=1)]


def test_the_queries_shipped():
    assert sql.names() == [
        "checkpoint_summary", "compare_hyperparameters", "effect_learning_rate", "lifecycle", "pareto",
        "token_usage", "token_usage_totals",
    ]
    with pytest.raises(ValueError, match=r"no SQL query 'effect'; expected one of \['checkpoint_summary'"):
        sql.query("effect")
    with pytest.raises(ValueError, match="must not hold quotes"):
        sql.views("it's")
    with pytest.raises(ValueError, match=r"engine must be one of \['duckdb', 'spark'\], got 'sqlite'"):
        sql.query("lifecycle", engine="sqlite")


def test_only_lifecycle_differs_between_engines():
    """One spot of lifecycle (seconds since 1970) is spelt per engine; the rest is one text."""
    for name in sql.names():
        duck, spark = sql.query(name, engine="duckdb"), sql.query(name, engine="spark")
        assert "EPOCH_SECONDS(" not in duck and "EPOCH_SECONDS(" not in spark
        assert (duck == spark) == (name != "lifecycle")
    duck = sql.query("lifecycle", engine="duckdb").splitlines()
    spark = sql.query("lifecycle", engine="spark").splitlines()
    assert [(a.strip(), b.strip()) for a, b in zip(duck, spark) if a != b] == [
        ("CAST(FLOOR(epoch(created_at)) AS BIGINT) AS t,", "unix_seconds(created_at) AS t,")
    ]


# --- DuckDB -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["sample", "sample-by-month", "real"])
@pytest.mark.parametrize("name", sql.names())
def test_duckdb_gives_ftkits_frames(datasets, key, name):
    js, directory = datasets[key]
    con = duckdb.connect()
    *views, query = sql.statements(sql.script(name, directory, engine="duckdb"))
    for view in views:
        con.execute(view)
    want = expected(name, js)
    assert_frame_equal(in_ftkits_form(name, con.sql(query).pl(), want), want)


@pytest.mark.parametrize("name", ["effect_learning_rate", "pareto", "lifecycle", "compare_hyperparameters"])
def test_duckdb_bins_learning_rates_as_ftkit(datasets, name):
    """effect's binned case (more than 8 rates in a group), ties, nulls and two providers."""
    if name == "compare_hyperparameters":
        assert "n_epochs" in expected(name, datasets["binned"][0]).columns
    js, directory = datasets["binned"]
    want = expected(name, js)
    if name == "effect_learning_rate":
        assert want.schema["learning_rate"] == pl.String() and want.height == 8
    con = duckdb.connect()
    *views, query = sql.statements(sql.script(name, directory, engine="duckdb"))
    for view in views:
        con.execute(view)
    assert_frame_equal(in_ftkits_form(name, con.sql(query).pl(), want), want)


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


def test_the_readme_runs_a_query_in_duckdb_as_it_says(datasets, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## When your dumps outgrow a notebook", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    (code,) = [b for b in blocks if "import duckdb" in b]
    js, directory = datasets["sample"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tables").symlink_to(directory)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert_frame_equal(namespace["lifecycle"], ftkit.lifecycle(js).sort("job_id"))
    # the lazy block: its last line (an expression) gives the 10 jobs of lowest best_valid_loss
    (lazy,) = [b for b in blocks if "scan_tables" in b]
    *statements, last = lazy.strip().splitlines()
    exec(compile("\n".join(statements), "README.md", "exec"), namespace)
    best = eval(compile(last.split("  #")[0], "README.md", "eval"), namespace)
    want = ftkit.checkpoint_summary(js).filter(pl.col("best_valid_loss").is_not_null())
    assert best["best_valid_loss"].to_list() == sorted(want["best_valid_loss"].to_list())[:10]
    assert_frame_equal(best, want.join(best.select("job_id"), on="job_id", how="semi").sort("best_valid_loss"),
                       check_row_order=False)
    commands = [line.split("#")[0].split("|")[0].split() for line in section.splitlines() if line.startswith("ftkit sql ")]
    assert {c[2] for c in commands} == set(sql.names()) - {"compare_hyperparameters", "token_usage", "token_usage_totals"}
    for command in commands:  # each prints the script the DuckDB and Spark tests run
        proc = subprocess.run([sys.executable, "-m", "ftkit", *command[1:]], capture_output=True, text=True, check=True)
        engine = command[command.index("--engine") + 1] if "--engine" in command else "duckdb"
        assert proc.stdout == sql.script(command[2], "tables/", engine=engine)
    for name in sql.names():
        assert f"`{name}`" in section


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
    """All the queries, on the partitioned sample and the real documents, and effect's binned
    case (one test: Spark is slow to warm up)."""
    binned = ["effect_learning_rate", "lifecycle", "pareto", "compare_hyperparameters"]
    for key, names in (("sample-by-month", sql.names()), ("real", sql.names()), ("binned", binned)):
        js, directory = datasets[key]
        for name in names:
            *views, query = sql.statements(sql.script(name, directory, engine="spark"))
            for view in views:
                spark.sql(view)
            want = expected(name, js)
            result = spark.sql(query)
            rows = [row.asDict() for row in result.collect()]
            schema = {field: want.schema.get(field, pl.Float64()) for field in result.columns}
            got = in_ftkits_form(name, pl.DataFrame(rows, schema=schema, orient="row"), want)
            assert_frame_equal(got, want, check_exact=False)

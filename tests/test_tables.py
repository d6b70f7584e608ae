"""The Parquet dataset: convert_jobs (streaming, partitioned, appended, atomic) and scan_tables."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.convert import convert_jobs
from ftkit.tables import MANIFEST, SCHEMA_VERSION, TABLES, DatasetError, scan_tables, table_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-jobs.ndjson.gz"


@pytest.fixture(scope="module")
def sample() -> ftkit.JobSet:
    return ftkit.read_jobs(SAMPLE)


def assert_same_tables(tables: ftkit.Tables, js: ftkit.JobSet, *, check_row_order: bool = True) -> None:
    for name in TABLES:
        got = getattr(tables, name).collect()
        expected = getattr(js, name)
        if not check_row_order:  # rows of a job keep their order; jobs may not
            got, expected = got.sort("job_id", maintain_order=True), expected.sort("job_id", maintain_order=True)
        assert_frame_equal(got, expected)


def snapshots(tmp_path: Path) -> tuple[Path, Path]:
    """Two dumps: ``old`` (12 jobs) and ``new`` (newer snapshots of 4 of them, and 3 new jobs)."""
    lines = ftkit.synth.make_jobs_bytes(15, seed=3).splitlines()
    jobs = [json.loads(line) for line in lines]
    newer = []
    for job in jobs[:4]:
        job = dict(job, modified_at=job["modified_at"] + 3600, status="CANCELLED", suffix="newer")
        newer.append(job)
    old, new = tmp_path / "old.ndjson", tmp_path / "new.ndjson"
    old.write_bytes(b"\n".join(lines[:12]) + b"\n")
    new.write_text("".join(json.dumps(job) + "\n" for job in [*newer, *jobs[12:]]))
    return old, new


# --- convert ------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [10_000, 64])
def test_convert_the_sample_gives_the_frames(tmp_path, sample, batch_size):
    out = tmp_path / "tables"
    result = convert_jobs(SAMPLE, out, batch_size=batch_size)
    assert result.rows == {name: getattr(sample, name).height for name in TABLES}
    assert (result.jobs_read, result.replaced, result.skipped) == (len(sample), 0, 0)
    assert_same_tables(scan_tables(out), sample)
    files = {name: [p.relative_to(out).as_posix() for p in table_files(out, name)] for name in TABLES}
    n = -(-len(sample) // batch_size)
    assert files["jobs"] == [f"jobs/part-00000-{i:06d}.parquet" for i in range(n)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]  # no temporary directory left


def test_progress_is_called_after_each_batch(tmp_path, sample):
    seen: list[int] = []
    convert_jobs(SAMPLE, tmp_path / "t", batch_size=128, progress=seen.append)
    assert seen == [128, 256, len(sample)]


def test_the_manifest(tmp_path, sample):
    out = tmp_path / "tables"
    convert_jobs(SAMPLE, out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["format"] == "ftkit-tables"
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["ftkit_version"] == ftkit.__version__
    assert manifest["sources"] == [{"name": str(SAMPLE), "generation": 0}]
    assert manifest["rows"] == {name: getattr(sample, name).height for name in TABLES}
    assert manifest["partition_by"] is None
    assert manifest["columns"]["checkpoints"]["created_at"] == "Datetime(time_unit='us', time_zone='UTC')"
    assert scan_tables(out).manifest == manifest


def test_convert_the_real_documents(tmp_path, mistral_paths):
    js = ftkit.read_jobs(mistral_paths)
    convert_jobs(mistral_paths, tmp_path / "real")
    assert_same_tables(scan_tables(tmp_path / "real"), js)


def test_duplicates_across_batches_keep_the_latest_snapshot(tmp_path):
    old, new = snapshots(tmp_path)
    both = ftkit.read_jobs([old, new])
    result = convert_jobs([old, new], tmp_path / "tables", batch_size=5)
    # 19 records of 15 ids: whether the reader or the dataset drops the older ones, 15 rows stay.
    assert result.rows["jobs"] == 15 and result.jobs_read - result.replaced == 15
    tables = scan_tables(tmp_path / "tables")
    assert_same_tables(tables, both, check_row_order=False)
    newer = tables.jobs.filter(pl.col("suffix") == "newer").select("job_id").collect()
    assert newer.height == 4


def test_partition_by_created_month(tmp_path, sample):
    out = tmp_path / "tables"
    convert_jobs(SAMPLE, out, partition_by="created_month", batch_size=100)
    months = sorted(sample.jobs["created_at"].dt.strftime("%Y-%m").unique().to_list())
    assert sorted(p.name for p in (out / "jobs").iterdir()) == [f"created_month={m}" for m in months]
    for name in TABLES:
        for path in table_files(out, name):
            assert path.parent.parent == out / name  # table/created_month=.../part-...
    # A job's checkpoints sit in the folder of the month the job was created.
    one = (out / "checkpoints" / f"created_month={months[0]}").glob("*.parquet")
    ids = pl.read_parquet(list(one))["job_id"].unique()
    created = sample.jobs.filter(pl.col("job_id").is_in(ids.implode()))["created_at"].dt.strftime("%Y-%m")
    assert created.unique().to_list() == [months[0]]
    tables = scan_tables(out)
    assert tables.jobs.collect_schema() == pl.Schema(ftkit.frames.JOBS_SCHEMA)  # no partition column
    assert_same_tables(tables, sample, check_row_order=False)


# --- append -----------------------------------------------------------------------------


@pytest.mark.parametrize("partition_by", [None, "created_month"])
def test_append_replaces_older_snapshots_and_rewrites_only_their_files(tmp_path, partition_by):
    old, new = snapshots(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(old, out, batch_size=3, partition_by=partition_by)  # 4 files per table
    before = {p.relative_to(out): p.stat().st_ino for name in TABLES for p in table_files(out, name)}
    result = convert_jobs(new, out, append=True)
    assert (result.jobs_read, result.replaced, result.rows["jobs"]) == (7, 4, 15)
    tables = scan_tables(out)
    assert_same_tables(tables, ftkit.read_jobs([old, new]), check_row_order=False)
    after = {p.relative_to(out): p.stat().st_ino for name in TABLES for p in table_files(out, name)}
    kept = {path for path in before if after.get(path) == before[path]}
    # The 4 replaced jobs were the first 4 read: batches 0 and 1; the other files are untouched.
    touched = {path for path in before if path not in kept}
    assert {p.name for p in touched} == {"part-00000-000000.parquet", "part-00000-000001.parquet"}
    assert {p.name for p in after if p not in before} == {"part-00001-000000.parquet"}
    manifest = tables.manifest
    assert manifest["generations"] == 2
    assert manifest["partition_by"] == partition_by
    assert manifest["sources"] == [{"name": str(old), "generation": 0}, {"name": str(new), "generation": 1}]


def test_append_an_older_snapshot_keeps_the_newer(tmp_path):
    old, new = snapshots(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(new, out)
    result = convert_jobs(old, out, append=True)
    assert result.replaced == 4  # the old snapshots, just appended, lost
    assert_same_tables(scan_tables(out), ftkit.read_jobs([old, new]), check_row_order=False)


def test_append_keeps_the_partitioning_and_refuses_another(tmp_path):
    old, new = snapshots(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(old, out, partition_by="created_month")
    convert_jobs(new, out, append=True)
    assert scan_tables(out).manifest["partition_by"] == "created_month"
    convert_jobs(old, tmp_path / "flat")
    with pytest.raises(DatasetError, match="partitioned by None, not 'created_month'"):
        convert_jobs(new, tmp_path / "flat", append=True, partition_by="created_month")


# --- atomic, and never over an input ---------------------------------------------------------


def test_a_failure_leaves_the_old_dataset(tmp_path):
    old, _ = snapshots(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(old, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(ftkit.synth.make_jobs_bytes(30, seed=9) + b'{"id": 7}\n')
    for append in (False, True):
        with pytest.raises(ftkit.JobDecodeError, match="bad.ndjson: line 31"):
            convert_jobs([bad], out, append=append, batch_size=10)
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ndjson", "new.ndjson", "old.ndjson", "tables"]


def test_skip_bad_counts_what_it_left_out(tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(ftkit.synth.make_jobs_bytes(3, seed=9) + b'{"id": 7}\n')
    result = convert_jobs(bad, tmp_path / "t", errors="skip")
    assert (result.rows["jobs"], result.skipped) == (3, 1)
    assert scan_tables(tmp_path / "t").manifest["skipped_records"] == 1


def test_refuses_outputs_that_hold_inputs_or_other_files(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "a.ndjson").write_bytes(ftkit.synth.make_jobs_bytes(2, seed=0))
    with pytest.raises(DatasetError, match="holds the input"):
        convert_jobs(dumps, dumps)
    with pytest.raises(DatasetError, match="holds the input"):
        convert_jobs(dumps / "a.ndjson", tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("kept")
    with pytest.raises(DatasetError, match="not an ftkit dataset"):
        convert_jobs(dumps, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    with pytest.raises(DatasetError, match="no dataset to append to"):
        convert_jobs(dumps, tmp_path / "new", append=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="is not a directory"):
        convert_jobs(dumps, tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dumps", "file", "mine"]


def test_an_empty_directory_becomes_the_dataset(tmp_path, sample):
    out = tmp_path / "tables"
    out.mkdir()
    convert_jobs(SAMPLE, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([*TABLES, MANIFEST])
    assert_same_tables(scan_tables(out), sample)


def test_the_current_directory_as_output(tmp_path, sample, monkeypatch):
    out = tmp_path / "tables"
    out.mkdir()
    monkeypatch.chdir(out)
    for given in (".", out, ".."):
        with pytest.raises(DatasetError, match="is or holds the current directory"):
            convert_jobs(SAMPLE, given)
    convert_jobs(SAMPLE, "t")  # relative, inside it
    assert sorted(p.name for p in out.iterdir()) == ["t"]


def test_a_jobset_converts_too(tmp_path, sample):
    convert_jobs(sample, tmp_path / "t")
    assert_same_tables(scan_tables(tmp_path / "t"), sample)


def test_only_completion_jobs_still_give_a_targets_table(tmp_path):
    js = ftkit.read_jobs(SAMPLE).filter(job_type="completion")
    convert_jobs(js, tmp_path / "t", partition_by="created_month")
    assert_frame_equal(scan_tables(tmp_path / "t").targets.collect(), js.targets)


# --- scan_tables ----------------------------------------------------------------------------


def test_scan_tables_refuses_what_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="not an ftkit dataset: no manifest.json"):
        scan_tables(tmp_path)
    (tmp_path / MANIFEST).write_text('{"format": "ftkit-tables", "schema_version": 99}')
    with pytest.raises(DatasetError, match=r"schema_version: this ftkit reads datasets of schema version 1, found 99"):
        scan_tables(tmp_path)


def test_tables_by_name(tmp_path, sample):
    convert_jobs(SAMPLE, tmp_path / "t")
    tables = scan_tables(tmp_path / "t")
    assert tables["events"] is tables.events
    with pytest.raises(KeyError, match="no table 'jobz'"):
        tables["jobz"]
    assert_frame_equal(tables.collect()["targets"], sample.targets)


# --- no empty files; one convert at a time ----------------------------------------------------


def file_rows(directory: Path) -> dict[str, list[int]]:
    """Rows of each Parquet file of each table (from the footers)."""
    return {
        name: [pl.scan_parquet(path).select(pl.len()).collect().item() for path in table_files(directory, name)]
        for name in TABLES
    }


def assert_no_empty_files(directory: Path) -> None:
    """Every file holds rows, but the one empty file of a table without rows."""
    for name, rows in file_rows(directory).items():
        assert rows == [0] if sum(rows) == 0 else 0 not in rows, (name, rows)


def split_sample(tmp_path: Path) -> tuple[Path, Path]:
    """The sample's jobs without classifier targets and those with, as two dumps."""
    import gzip

    lines = gzip.decompress(SAMPLE.read_bytes()).splitlines()
    classifier = [line for line in lines if json.loads(line).get("classifier_targets")]
    others = [line for line in lines if not json.loads(line).get("classifier_targets")]
    assert classifier and others
    paths = tmp_path / "completion.ndjson", tmp_path / "classifier.ndjson"
    for path, chosen in zip(paths, (others, classifier)):
        path.write_bytes(b"\n".join(chosen) + b"\n")
    return paths


@pytest.mark.parametrize("partition_by", [None, "created_month"])
def test_append_leaves_no_empty_parquet_files(tmp_path, partition_by):
    completion, classifier = split_sample(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(completion, out, batch_size=50, partition_by=partition_by)
    assert file_rows(out)["targets"] == [0]  # no targets: one empty file, for its columns
    assert_no_empty_files(out)
    convert_jobs(classifier, out, append=True, batch_size=20)  # targets now: the empty file goes
    assert_no_empty_files(out)
    result = convert_jobs(classifier, out, append=True, batch_size=20)  # every row replaced
    assert result.replaced == result.jobs_read > 0
    assert_no_empty_files(out)
    assert not [p for name in TABLES for p in (out / name).iterdir() if p.is_dir() and not any(p.iterdir())]
    convert_jobs(tmp_path / "completion.ndjson", out, append=True, batch_size=50)  # nothing to add
    assert_no_empty_files(out)
    assert_same_tables(scan_tables(out), ftkit.read_jobs(SAMPLE), check_row_order=False)
    assert not (out / ftkit.tables.LOCK).exists()


def test_a_convert_holding_the_lock_makes_another_fail_at_once(tmp_path):
    from ftkit.atomic import lock_in

    old, new = snapshots(tmp_path)
    out = tmp_path / "tables"
    convert_jobs(old, out)
    before = {p: p.read_bytes() for name in TABLES for p in table_files(out, name)}
    held = lock_in(out, ftkit.tables.LOCK)  # as a convert running in another process does
    try:
        for append in (True, False):
            with pytest.raises(DatasetError, match=r"another `ftkit convert` is writing this dataset"):
                convert_jobs(new, out, append=append)
        import subprocess
        import sys

        proc = subprocess.run(
            [sys.executable, "-m", "ftkit", "convert", str(new), "-o", str(out), "--append", "--quiet"],
            capture_output=True, text=True,
        )
        assert proc.returncode == 2
        assert proc.stderr == (
            f"ftkit: error: {out}: another `ftkit convert` is writing this dataset (it holds"
            " .ftkit-convert.lock); wait for it to finish, then run again\n"
        )
    finally:
        held.close()
    assert {p: p.read_bytes() for name in TABLES for p in table_files(out, name)} == before
    convert_jobs(new, out, append=True)  # released: the next one runs
    assert_same_tables(scan_tables(out), ftkit.read_jobs([old, new]), check_row_order=False)


def test_the_lock_is_held_across_the_swap_and_a_new_directory_is_locked_too(tmp_path, monkeypatch):
    """While a convert moves its staging directory into place, the lock file at the dataset's
    path is locked all along; a failed convert into a new directory leaves nothing."""
    from ftkit import convert, tables
    from ftkit.atomic import lock_in

    old, new = snapshots(tmp_path)
    out = tmp_path / "tables"
    seen = []
    move = convert._move_into_place

    def spying(tmp, directory):
        move(tmp, directory)
        seen.append(lock_in(directory, tables.LOCK))  # another convert, just after the swap

    monkeypatch.setattr(convert, "_move_into_place", spying)
    convert_jobs(old, out)  # a new directory
    convert_jobs(new, out, append=True)
    assert seen == [None, None]
    monkeypatch.undo()

    def failing(tmp, directory):
        raise OSError("disk went away")

    monkeypatch.setattr(convert, "_move_into_place", failing)
    with pytest.raises(OSError, match="disk went away"):
        convert_jobs(old, tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.ndjson", "old.ndjson", "tables"]


# --- the split: ftkit.tables reads, ftkit.convert writes -----------------------------------


def test_reading_imports_nothing_of_writing_and_writing_no_private_names():
    """ftkit.tables (low) never imports ftkit.convert; ftkit.convert imports only public
    names of ftkit.tables."""
    import ast

    def imports(module: str) -> list[tuple[str, str]]:
        tree = ast.parse((ROOT / "ftkit" / f"{module}.py").read_text(encoding="utf-8"))
        return [(node.module or "", alias.name) for node in tree.body if isinstance(node, ast.ImportFrom)
                for alias in node.names]

    assert not [pair for pair in imports("tables") if pair[0] == "convert" or pair[1] == "convert"]
    from_tables = [name for module, name in imports("convert") if module == "tables"]
    assert from_tables and not [name for name in from_tables if name.startswith("_")]

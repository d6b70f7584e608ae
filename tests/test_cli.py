"""The ``ftkit`` command line, run as the installed console script on the sample and on bad input."""

from __future__ import annotations

import io
import json
import os
import pty
import shutil
import textwrap
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.progress import Progress, render_line
from ftkit.summary import best_jobs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-jobs.ndjson.gz"
COMMANDS = ("summary", "report", "convert", "validate")


def ftkit_command() -> list[str]:
    """The installed console script, or ``python -m ftkit`` where it is not installed."""
    script = shutil.which("ftkit")
    return [script] if script else [sys.executable, "-m", "ftkit"]


def run(*args: str | os.PathLike, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ftkit_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        **kwargs,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *, status: int = 2, mentions: str = "") -> None:
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ftkit: error: "), lines[0]
    assert mentions in lines[0]


def job(job_id: str, **fields) -> dict:
    """A small valid completion job; ``fields`` override keys."""
    out = {
        "id": job_id,
        "model": "open-mistral-7b",
        "status": "SUCCESS",
        "created_at": 1717171717,
        "modified_at": 1717171817,
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001},
    }
    out.update(fields)
    return out


@pytest.fixture(scope="module")
def sample() -> ftkit.JobSet:
    assert SAMPLE.is_file(), f"the shipped sample is missing: {SAMPLE}"
    return ftkit.read_jobs(SAMPLE)


@pytest.fixture
def bad_dumps(tmp_path: Path) -> dict[str, Path]:
    """An NDJSON dump with a bad record on lines 2 and 3, and a JSON array with a bad item 1."""
    ndjson = tmp_path / "jobs.ndjson"
    ndjson.write_text(
        json.dumps(job("good-1")) + "\n" + json.dumps(job("bad-2", status=7)) + "\nnot json\n"
    )
    array = tmp_path / "jobs.json"
    array.write_text(json.dumps([job("good-2"), job(5)]))
    notjson = tmp_path / "notes.json"
    notjson.write_text("these are my notes, not jobs\n")
    return {"ndjson": ndjson, "array": array, "notjson": notjson}


# --- help ----------------------------------------------------------------------------


def test_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0
    for command in (*COMMANDS, "export"):
        assert command in proc.stdout


@pytest.mark.parametrize("command", [*COMMANDS, "export"])
def test_every_command_has_help(command):
    proc = run(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: ftkit {command}")
    assert proc.stderr == ""


def test_no_command_prints_usage_and_fails():
    proc = run()
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: ftkit")


def test_unknown_option_is_a_usage_error():
    proc = run("summary", str(SAMPLE), "--top", "zero")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "expected a positive whole number" in proc.stderr


# --- summary ----------------------------------------------------------------------------


def test_summary_of_the_sample(sample):
    proc = run("summary", SAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # piped: no progress line, no notes
    out = proc.stdout
    assert out.startswith(f"{len(sample)} jobs in {SAMPLE}, created ")

    counts = dict(sample.jobs["status"].value_counts().iter_rows())
    status_lines = out.split("\n\n")[1].splitlines()[2:]
    shown = {line.split()[0]: int(line.split()[1]) for line in status_lines}
    assert shown == counts

    # The best finished, successful jobs of each type, ranked only against their type.
    best = best_jobs(sample, top=10)
    blocks = out.split("\n\n")
    for i, part in enumerate(best.partition_by("job_type", maintain_order=True)):
        kind = part["job_type"][0]
        n = best_jobs(sample, top=None).filter(pl.col("job_type") == kind).height
        block = blocks[2 + i].splitlines()
        assert block[0] == f"Best 10 of {n} successful {kind} jobs with a measured valid loss, lowest first:"
        assert [line.split()[0] for line in block[3:]] == part["job_id"].to_list()
        assert "learning rate" in block[1]
    assert blocks[4].startswith("Not ranked: ")

    cost = blocks[5].splitlines()
    assert cost[0] == "Tokens and cost per currency:"
    assert [line.split()[0] for line in cost[3:]] == ["EUR", "USD", "(none)"]


def test_summary_top(sample):
    proc = run("summary", SAMPLE, "--top", "3")
    assert proc.returncode == 0
    blocks = proc.stdout.split("\n\n")[2:4]
    shown = [line.split()[0] for block in blocks for line in block.splitlines()[3:]]
    assert shown == best_jobs(sample, top=3)["job_id"].to_list() and len(shown) == 6


def test_python_dash_m_without_arguments_summarises_the_sample(sample):
    proc = subprocess.run([sys.executable, "-m", "ftkit"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Summary of the shipped sample" in proc.stdout
    assert f"{len(sample)} jobs in " in proc.stdout


def test_summary_skip_bad_leaves_out_bad_records(bad_dumps):
    proc = run("summary", bad_dumps["ndjson"], "--skip-bad")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 jobs in ")
    assert proc.stderr == "ftkit: warning: left out 2 unreadable records (run `ftkit validate` to list them)\n"


# --- report -----------------------------------------------------------------------------


def test_report_of_the_sample(tmp_path, sample):
    out = tmp_path / "report.html"
    started = time.perf_counter()
    proc = run("report", SAMPLE, "-o", out)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"{out}: report on {len(sample)} jobs")
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count('<img src="data:image/png;base64,') >= 6
    assert all(job_id in text for job_id in sample.ids)
    assert "<script" not in text
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
    assert elapsed < 60


def test_report_default_output_name(tmp_path, bad_dumps):
    proc = run("report", bad_dumps["ndjson"], "--skip-bad", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert (tmp_path / "report.html").is_file()


def test_report_into_a_missing_directory(tmp_path):
    out = tmp_path / "nope" / "report.html"
    proc = run("report", SAMPLE, "-o", out)
    assert_one_line_error(proc, mentions="does not exist")
    assert not out.parent.exists()


# --- convert ----------------------------------------------------------------------------


def test_convert_the_sample(tmp_path, sample):
    out = tmp_path / "tables"
    proc = run("convert", SAMPLE, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "events", "jobs", "manifest.json", "targets"]
    tables = ftkit.scan_tables(out)
    for name in ("jobs", "checkpoints", "events", "targets"):
        assert_frame_equal(getattr(tables, name).collect(), getattr(sample, name))
    # Another engine reads them too (DuckDB and Spark read Parquet the same way).
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "checkpoints")
    assert table.num_rows == sample.checkpoints.height
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]  # no temporary directory left
    rows = f"jobs {len(sample)}, checkpoints {sample.checkpoints.height}, events {sample.events.height}, targets {sample.targets.height}"
    assert proc.stderr == f"{out}: Parquet dataset of {rows} rows\n"


def test_convert_partitioned_then_append(tmp_path, sample):
    out = tmp_path / "tables"
    assert run("convert", SAMPLE, "-o", out, "--partition-by", "created_month", "-q").returncode == 0
    assert all(p.name.startswith("created_month=") for p in (out / "jobs").iterdir())
    proc = run("convert", SAMPLE, "-o", out, "--append")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.endswith(f"; {len(sample)} older snapshots replaced\n")
    assert_frame_equal(
        ftkit.scan_tables(out).jobs.collect().sort("job_id"), sample.jobs.sort("job_id")
    )


def test_convert_replaces_a_dataset_and_refuses_other_directories(tmp_path, sample):
    out = tmp_path / "tables"
    assert run("convert", SAMPLE, "-o", out, "-q").returncode == 0
    proc = run("convert", SAMPLE, "-o", out, "-q")  # an ftkit dataset: replaced whole
    assert proc.returncode == 0, proc.stderr
    assert ftkit.scan_tables(out).jobs.collect().height == len(sample)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("kept")
    proc = run("convert", SAMPLE, "-o", mine)
    assert_one_line_error(proc, mentions="exists and is not an ftkit dataset")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    proc = run("convert", SAMPLE, "-o", ROOT / "data")
    assert_one_line_error(proc, mentions="holds the input")


def test_convert_onto_a_file(tmp_path):
    target = tmp_path / "tables"
    target.write_text("a file")
    proc = run("convert", SAMPLE, "-o", target)
    assert_one_line_error(proc, mentions="is not a directory")
    assert target.read_text() == "a file"


# --- validate ---------------------------------------------------------------------------


def test_validate_the_sample(sample):
    proc = run("validate", SAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == f"ftkit validate: {len(sample)} jobs read, no bad records\n"


def test_validate_lists_every_bad_record(bad_dumps):
    ndjson, array = bad_dumps["ndjson"], bad_dumps["array"]
    proc = run("validate", ndjson, array)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{ndjson}:2: $.status: Expected `str`, got `int`",
        f"{ndjson}:3: $: JSON is malformed: invalid character (byte 4)",
        f"{array}: index 1: $.id: Expected `str`, got `int`",
    ]
    assert proc.stderr == "ftkit validate: 2 jobs read, 3 bad records\n"


def test_validate_a_file_that_is_not_json(bad_dumps):
    proc = run("validate", bad_dumps["notjson"])
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{bad_dumps['notjson']}: $: not JSON")


def test_validate_strict_reports_unknown_keys(tmp_path):
    dump = tmp_path / "new-api.ndjson"
    dump.write_text(json.dumps(job("j1")) + "\n" + json.dumps(job("j2", colour="blue")) + "\n")
    assert run("validate", dump).returncode == 0
    proc = run("validate", dump, "--strict")
    assert proc.returncode == 1
    assert proc.stdout == f"{dump}:2: $.colour: unknown keys (strict=True): $.colour\n"


# --- bad input: one line, exit 2, nothing written -----------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_dump(tmp_path, command):
    out = tmp_path / "out"
    extra = ["-o", str(out)] if command in ("report", "convert") else []
    proc = run(command, tmp_path / "missing.ndjson", *extra)
    assert_one_line_error(proc, mentions="missing.ndjson: no such file or directory")
    assert not out.exists()


@pytest.mark.parametrize("command", ["summary", "report", "convert"])
def test_dump_that_is_not_json(tmp_path, bad_dumps, command):
    out = tmp_path / "out"
    extra = ["-o", str(out)] if command in ("report", "convert") else []
    proc = run(command, bad_dumps["notjson"], *extra)
    assert_one_line_error(proc, mentions="not JSON")
    assert "--skip-bad" in proc.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_bad_record_names_file_line_and_path(bad_dumps):
    proc = run("summary", bad_dumps["ndjson"])
    assert_one_line_error(proc, mentions=f"{bad_dumps['ndjson']}: line 2: at $.status: Expected `str`, got `int`")


def test_empty_directory(tmp_path):
    proc = run("summary", tmp_path)
    assert_one_line_error(proc, mentions="directory holds no job dumps")


# --- progress -----------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_after_the_delay_and_clears_its_line():
    stream = FakeTerminal()
    with Progress("drawing plots", total=4, stream=stream, delay=0.05) as bar:
        for _ in range(4):
            time.sleep(0.06)
            bar.advance()
    text = stream.getvalue()
    assert "\rdrawing plots [" in text
    assert "/4" in text
    assert text.endswith("\r")  # the line is blanked and the cursor back at its start
    assert text.split("\r")[-2].strip() == ""


def test_progress_is_silent_for_quick_work_and_when_piped():
    terminal = FakeTerminal()
    with Progress("reading", stream=terminal, delay=1.0):
        pass
    assert terminal.getvalue() == ""
    piped = io.StringIO()
    with Progress("reading", stream=piped, delay=0.0) as bar:
        time.sleep(0.15)
        bar.advance()
    assert piped.getvalue() == ""


def test_render_line():
    assert render_line("x", done=0, total=2, elapsed=0.0) == "x [------------------------] 0/2  0.0 s"
    assert render_line("x", done=2, total=2, elapsed=1.25) == "x [########################] 2/2  1.2 s"


def test_progress_shows_on_a_terminal_stderr_of_the_real_command(tmp_path):
    """``ftkit report`` takes more than a second: on a terminal its stderr shows a progress line."""
    out = tmp_path / "report.html"
    main_fd, tty_fd = pty.openpty()
    try:
        proc = subprocess.run(
            [*ftkit_command(), "report", str(SAMPLE), "-o", str(out)],
            stdout=subprocess.PIPE,
            stderr=tty_fd,
            timeout=120,
        )
        os.close(tty_fd)
        tty_fd = -1
        chunks = []
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if tty_fd != -1:
            os.close(tty_fd)
        os.close(main_fd)
    seen = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "\rdrawing plots [" in seen or "\rwriting report" in seen or "\rreading " in seen
    assert "report on 300 jobs" in seen


def test_python_dash_m_says_when_the_sample_is_missing(tmp_path, monkeypatch, capsys):
    import ftkit.__main__ as entry

    monkeypatch.setattr(entry, "SAMPLE", tmp_path / "data" / "sample-jobs.ndjson.gz")
    assert entry.run([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ftkit: error: the shipped sample {tmp_path / 'data' / 'sample-jobs.ndjson.gz'} was not found")
    assert len(err.splitlines()) == 1


def test_report_onto_a_directory(tmp_path):
    proc = run("report", SAMPLE, "-o", tmp_path)
    assert_one_line_error(proc, mentions="is a directory")
    assert list(tmp_path.iterdir()) == []


def test_control_characters_in_job_text_do_not_reach_the_terminal(tmp_path):
    dump = tmp_path / "jobs.ndjson"
    checkpoint = {"step_number": 1, "created_at": 1717171718, "metrics": {"valid_loss": 0.5}}
    dump.write_text(json.dumps(job("j\x1b[2J1", suffix="s\x07", checkpoints=[checkpoint])) + "\n")
    proc = run("summary", dump)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "j\\x1b[2J1  s\\x07" in proc.stdout


def test_outputs_that_are_not_regular_files_are_refused_before_reading(tmp_path) -> None:
    target = tmp_path / "target.html"
    target.write_text("keep me")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    for args in (["report", str(SAMPLE), "-o", str(link)], ["report", str(SAMPLE), "-o", "/dev/null"]):
        result = run(*args)
        assert result.returncode == 2, result.stderr
        assert "is not a regular file" in result.stderr
        assert "Traceback" not in result.stderr
    assert link.is_symlink() and target.read_text() == "keep me"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: nothing to check
            return
        result = run("report", str(SAMPLE), "-o", str(locked / "r.html"))
        assert result.returncode == 2 and "no permission" in result.stderr
    finally:
        locked.chmod(0o700)


# --- never overwrite an input; usage and input errors are one line, exit 2 ----------------


def _main(capsys, *args) -> tuple[int, str]:
    """Run ``ftkit.cli.main`` in this process; (status, stderr)."""
    from ftkit.cli import main

    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    return status, capsys.readouterr().err


def test_no_command_writes_over_one_of_its_inputs(tmp_path, capsys):
    dump = tmp_path / "jobs.ndjson"
    dump.write_bytes(ftkit.synth.make_jobs_bytes(3, seed=0))
    original = dump.read_bytes()
    (tmp_path / "same.ndjson").hardlink_to(dump)
    outputs = [dump, tmp_path / "same.ndjson", tmp_path / "sub" / ".." / "jobs.ndjson"]
    (tmp_path / "sub").mkdir()
    for source in (dump, tmp_path, str(tmp_path / "*.ndjson")):  # a file, a directory, a glob
        for output in outputs:
            status, err = _main(capsys, "report", "-q", source, "-o", output)
            assert status == 2, err
            assert err.count("\n") == 1 and "is one of the inputs" in err and "would be overwritten" in err
    assert dump.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.ndjson", "same.ndjson", "sub"]


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["report", SAMPLE, "-o", ""], "-o/--output: expected the HTML file to write"),
        (["convert", SAMPLE, "-o", ""], "-o/--output: expected a directory for the Parquet files"),
        (["summary", SAMPLE, "--top", "99999999999999999999"], "summary: argument --top: expected a positive"),
        (["report", SAMPLE, "--top", "0"], "report: argument --top: expected a positive whole number up to"),
        (["summary", SAMPLE, "--top", "\x1b[2J"], "got '\\x1b[2J'"),
        (["summary", SAMPLE, "--no-such-option\x07"], "unrecognized arguments: --no-such-option\\x07"),
    ],
    ids=["report-o-empty", "convert-o-empty", "top-huge", "top-zero", "top-escape", "unknown-option"],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, args, mentions):
    monkeypatch.chdir(tmp_path)
    status, err = _main(capsys, *args)
    assert status == 2
    assert err.startswith("ftkit: error: ") and err.count("\n") == 1, err
    assert mentions in err
    assert "\x1b" not in err and "\x07" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even in the current directory


def _tiny_tmpfs(path: Path) -> bool:
    """Mount a 64 KiB tmpfs at ``path`` if this process may (root in a container usually can)."""
    path.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def test_convert_onto_a_full_filesystem_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    full = tmp_path / "full"
    if _tiny_tmpfs(full):
        try:
            status, err = _main(capsys, "convert", "-q", SAMPLE, "-o", full / "tables")
            left = list(full.iterdir())
        finally:
            subprocess.run(["umount", str(full)], check=True)
    else:  # simulate: the disk fills while polars writes
        import errno

        def no_space(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(pl.DataFrame, "write_parquet", no_space)
        status, err = _main(capsys, "convert", "-q", SAMPLE, "-o", full / "tables")
        left = list(full.iterdir())
    assert status == 2
    assert err == f"ftkit: error: {full / 'tables'}: cannot write the Parquet files: no space left on the device (nothing was written)\n"
    assert left == []


def test_control_characters_in_job_text_never_reach_stderr_or_a_repr(tmp_path):
    """Reprs, strict-mode errors, and matplotlib's missing-glyph warnings in report and browser."""
    dump = tmp_path / "jobs.ndjson"
    checkpoints = [{"step_number": s, "created_at": 1717171718 + s, "metrics": {"valid_loss": 1 / s, "train_loss": 1 / s}}
                   for s in (1, 2)]
    dump.write_text(json.dumps(job("j\x1b[2J1", suffix="s\x1b]0;x\x07", status="RUN\x1bNING", checkpoints=checkpoints,
                                   **{"unknown\x1b[31m": 1})) + "\n")

    proc = run("report", dump, "-o", tmp_path / "report.html")
    assert proc.returncode == 0, proc.stderr
    # job text reaches the figures escaped, so no font lacks a glyph for it
    assert "missing from font" not in proc.stderr
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr

    code = textwrap.dedent(
        f"""
        import warnings, ftkit
        from ftkit.browser import JobBrowser
        js = ftkit.read_jobs({str(dump)!r})
        print(repr(js)); print(repr(JobBrowser(js)))
        try:
            ftkit.read_jobs({str(dump)!r}, strict=True)
        except ftkit.JobDecodeError as exc:
            print(repr(exc)); print(str(exc))
        browser = JobBrowser(js)
        browser.selected = [js.jobs["job_id"][0]]
        assert browser.plot_png
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    assert "JobSet(1 jobs: 1 RUN\\x1bNING)" in proc.stdout
    assert "unknown\\x1b[31m" in proc.stdout and "s\\x1b]0;x\\x07" in proc.stdout
    for text in (proc.stdout, proc.stderr):
        assert "\x1b" not in text and "\x07" not in text

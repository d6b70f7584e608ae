"""ftkit.atomic and the commands that write through it: unpredictable temp names, no leftovers.

Signals are sent to a child process that runs a command paused inside its atomic write
(its temporary file exists then), so that the test does not depend on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import ftkit
import ftkit.cli
from ftkit.atomic import atomic_write, remove_stale_temps, temp_prefix

import fake_mistral_api  # tests/fake_mistral_api.py: tests/ is on sys.path (pyproject's pythonpath)

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-atomic-0123456789abcdef"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".ftkit-" in p.name or ".tmp" in p.name)


# --- the writer --------------------------------------------------------------------------


def test_temp_names_are_unpredictable_and_a_planted_link_is_not_followed(tmp_path):
    target = tmp_path / "jobs.ndjson"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    # The names older versions used, planted as links to another file.
    for planted in (f".{target.name}.tmp-{os.getpid()}", f"{temp_prefix(target)}{os.getpid()}-x.tmp"):
        (tmp_path / planted).symlink_to(victim)
    planted_names = set(_leftovers(tmp_path))
    names = []
    for text in ("one", "two"):
        with atomic_write(target) as f:
            (name,) = set(_leftovers(tmp_path)) - planted_names
            names.append(name)
            f.write(text.encode())

    assert names[0] != names[1] and all(n.startswith(temp_prefix(target)) for n in names)
    assert target.read_text() == "two" and victim.read_text() == "keep me"
    assert not target.is_symlink()

    jobs = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(2, seed=0))
    ftkit.write_jobs(jobs, target)  # write_jobs writes through the same writer
    assert list(ftkit.read_jobs(target)) == list(jobs) and victim.read_text() == "keep me"


def test_concurrent_writers_of_one_path_never_collide(tmp_path):
    target = tmp_path / "out.bin"
    errors: list[BaseException] = []
    contents = [bytes([i]) * 200_000 for i in range(8)]

    def write(data: bytes) -> None:
        try:
            for _ in range(5):
                with atomic_write(target) as f:
                    for start in range(0, len(data), 10_000):
                        f.write(data[start : start + 10_000])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(data,)) for data in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert target.read_bytes() in contents  # one writer's whole file, never a mix
    assert _leftovers(tmp_path) == []


def test_failed_write_leaves_the_target_and_no_temp(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_stale_temps_are_removed_only_when_safely_ours(tmp_path):
    target = tmp_path / "jobs.ndjson"
    prefix = temp_prefix(target)
    dead = tmp_path / f"{prefix}999999999-abc.tmp"  # no such process
    dead.write_bytes(b"partial")
    dead_dir = tmp_path / f"{prefix}999999998-def.tmp"
    dead_dir.mkdir()
    (dead_dir / "jobs.parquet").write_bytes(b"partial")
    alive = tmp_path / f"{prefix}{os.getppid()}-ghi.tmp"  # its process runs
    alive.write_bytes(b"in progress")
    link = tmp_path / f"{prefix}999999997-jkl.tmp"
    link.symlink_to(alive)
    other = tmp_path / ".other.ndjson.ftkit-999999999-abc.tmp"  # another target's
    other.write_bytes(b"not ours to judge")

    removed = remove_stale_temps(target)

    assert sorted(p.name for p in removed) == sorted([dead.name, dead_dir.name])
    assert alive.exists() and link.is_symlink() and other.exists()


# --- signals sent to commands ------------------------------------------------------------

#: Runs ``ftkit.cli.main(argv)`` with ``module.name`` (an atomic writer) pausing once its
#: temporary file exists, after printing "ready".
_PAUSING_CHILD = textwrap.dedent(
    """
    import contextlib, importlib, sys, time
    module, name, *argv = sys.argv[1:]
    module = importlib.import_module(module)
    real = getattr(module, name)

    @contextlib.contextmanager
    def pausing(*args, **kwargs):
        with real(*args, **kwargs) as out:
            print("ready", flush=True)
            time.sleep(60)
            yield out

    setattr(module, name, pausing)
    from ftkit.cli import main
    sys.exit(main(argv))
    """
)


@pytest.fixture
def api():
    server = fake_mistral_api.FakeMistralAPI(key=KEY)
    for i in range(3):
        job = {"id": f"job-{i}", "status": "SUCCESS", "created_at": i, "modified_at": 10 + i,
               "model": "open-mistral-7b", "hyperparameters": {}, "events": [], "checkpoints": []}
        server.set_job(json.dumps(job).encode())
    with server:
        yield server


def _command(kind: str, tmp_path: Path, api) -> tuple[str, str, list[str], Path, dict[str, str]]:
    """(module, writer, argv, output, env) for one command whose atomic write is paused."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    dump = tmp_path / "jobs.ndjson"
    if kind == "export":
        env |= {"MISTRAL_API_KEY": KEY, "MISTRAL_API_URL": api.url}
        ftkit.export_jobs(dump, api_key=KEY, base_url=api.url, progress=False)
        with dump.open("ab") as f:  # an older snapshot: the next export compacts
            f.write(b'{"id":"job-0","status":"RUNNING","created_at":0,"modified_at":1}\n')
        return "ftkit.export_dump", "atomic_write", ["export", "-q", "-o", str(dump)], dump, env
    dump.write_bytes(ftkit.synth.make_jobs_bytes(4, seed=0))
    if kind == "report":
        out = tmp_path / "report.html"
        return "ftkit.report", "atomic_write", ["report", "-q", str(dump), "-o", str(out)], out, env
    out = tmp_path / "tables"
    return "ftkit.convert", "staging_directory", ["convert", "-q", str(dump), "-o", str(out)], out, env


def _start_paused(module: str, writer: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSING_CHILD, module, writer, *argv],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout.readline() == "ready\n", child.stderr.read()
    return child


@pytest.mark.parametrize("kind", ["report", "convert", "export"])
def test_sigterm_during_the_write_leaves_no_temp_and_the_output_untouched(tmp_path, api, kind):
    module, writer, argv, output, env = _command(kind, tmp_path, api)
    before = output.read_bytes() if output.is_file() else None
    child = _start_paused(module, writer, argv, env)
    try:
        assert _leftovers(tmp_path)  # the temporary file exists while it writes
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=20)
        stderr = child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()

    assert child.returncode == 143, stderr
    assert stderr == "ftkit: terminated\n"
    assert _leftovers(tmp_path) == []
    assert (output.read_bytes() if output.is_file() else None) == before
    if kind == "convert":
        assert not output.exists()


@pytest.mark.parametrize("kind", ["convert", "export"])  # report writes as export does
def test_after_a_sigkill_the_next_run_removes_what_the_killed_run_left(tmp_path, api, kind, monkeypatch):
    module, writer, argv, output, env = _command(kind, tmp_path, api)
    child = _start_paused(module, writer, argv, env)
    child.kill()
    child.wait(timeout=20)
    child.stdout.close()
    child.stderr.close()
    left = _leftovers(tmp_path)
    assert len(left) == 1 and left[0].startswith(temp_prefix(output))

    for name in ("MISTRAL_API_KEY", "MISTRAL_API_URL"):
        if name in env:
            monkeypatch.setenv(name, env[name])

    assert ftkit.cli.main(argv) == 0
    assert _leftovers(tmp_path) == []
    assert output.exists()


def test_a_new_file_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(tmp_path):
    mask = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.txt") as f:
            f.write(b"x")
    finally:
        os.umask(mask)
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"old")
    kept.chmod(0o604)
    with atomic_write(kept) as f:
        f.write(b"new")
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600
    assert kept.stat().st_mode & 0o777 == 0o604 and kept.read_bytes() == b"new"

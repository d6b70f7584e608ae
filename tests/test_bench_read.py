"""The read benchmark's contenders build ftkit's frames, and its memory probe finds every descendant.

Not timed: these check that ``benchmarks/bench_read.py`` compares like with like.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.synth import write_dump

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _descendants  # noqa: E402
import _read_contenders  # noqa: E402

SHAPES = {"standard": {}, "events": {"checkpoints_per_job": 8, "events_per_job": 60}}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def dump(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / f"{request.param}.ndjson"
    return write_dump(path, 300, seed=0, sdk_readable=True, **SHAPES[request.param])


@pytest.mark.parametrize(
    "build",
    [
        lambda p: _read_contenders.polars_frames(p, explicit=True),
        lambda p: _read_contenders.polars_frames(p, explicit=False),
        lambda p: _read_contenders.orjson_frames(p),
    ],
    ids=["polars-schema", "polars-infer", "orjson"],
)
def test_contenders_build_ftkits_frames(dump, build):
    pytest.importorskip("orjson")
    js = ftkit.read_jobs(dump)
    jobs, checkpoints = build(dump)
    assert_frame_equal(jobs, js.jobs)
    assert_frame_equal(checkpoints, js.checkpoints)


def test_the_sdk_contender_builds_ftkits_frames(dump):
    pytest.importorskip("mistralai.models")
    js = ftkit.read_jobs(dump)
    jobs, checkpoints, failures = _read_contenders.sdk_frames(dump)
    assert failures == 0
    assert_frame_equal(jobs, js.jobs)
    assert_frame_equal(checkpoints, js.checkpoints)


def test_descendant_peaks_include_grandchildren():
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(30)'])"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10

        def started(peaks: dict) -> bool:  # both seen, and both running Python (not just forked)
            return len(peaks) == 2 and all(p["peak_mb"] > 1 for p in peaks.values())

        while not started(peaks := _descendants.descendant_peaks(os.getpid())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.pid in {p["pid"] for p in peaks.values()}
        assert len(peaks) == 2 and all(p["peak_mb"] > 1 for p in peaks.values())
    finally:
        for pid in _descendants.descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()


def test_descendant_cpu_counts_what_children_and_grandchildren_used():
    burn = "import time; end = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"
    before = _descendants.descendant_cpu(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            used = _descendants.descendant_cpu(os.getpid())
            grandchildren = [key for key in used if not key.startswith(f"{child.pid}:")]
            if grandchildren and used[grandchildren[0]] >= 0.3:
                break
            time.sleep(0.05)
        assert len(used) == 2 and f"{child.pid}:" in " ".join(used)
        assert sum(used.values()) - sum(before.values()) >= 0.3
    finally:
        for pid in _descendants.descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()


def test_the_chunk_ab_times_both_checkouts_on_whole_lines(dump, tmp_path) -> None:
    import bench_chunk_ab

    chunks = bench_chunk_ab.chunks_of(dump, 3, size=dump.stat().st_size // 4)
    assert len(chunks) == 3 and all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == dump.read_bytes()[: sum(map(len, chunks))]
    assert len(bench_chunk_ab.chunks_of(dump, 10)) == 1  # a small dump: one chunk, the whole file
    script = BENCHMARKS / "bench_chunk_ab.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(dump), "--other", str(BENCHMARKS.parent), "--chunks", "1", "--turns", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{dump.name}: 1 chunks")
    assert [line.split()[0] for line in lines[1:3]] == ["this", "other"]
    assert lines[3].startswith("  this / other = ")
    refused = subprocess.run(
        [sys.executable, str(script), str(dump), "--other", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "is not a checkout of ftkit" in refused.stderr


def test_the_chunk_stages_add_up_from_decoding_to_the_arrow_write(dump) -> None:
    script = BENCHMARKS / "bench_chunk_stages.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(dump), "--chunks", "1", "--turns", "1"],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{dump.name}: 1 chunks of ")
    stages = [line[:16].strip() for line in lines[1:7]]
    assert stages == ["decode", "+ columns", "+ parts", "decode_chunk", "+ arrow", "polars-schema"]
    ms = [float(line[16:]) for line in lines[1:7]]
    assert all(value > 0 for value in ms)
    assert lines[7].startswith("  polars-schema / + arrow = ")
    missing = str(dump.with_name("missing.ndjson"))
    for command in (["bench_chunk_stages.py", missing], ["bench_chunk_ab.py", missing, "--other", "."]):
        refused = subprocess.run(
            [sys.executable, str(BENCHMARKS / command[0]), *command[1:]], capture_output=True, text=True, timeout=60
        )
        assert refused.returncode == 2 and "missing.ndjson: no such file" in refused.stderr, refused.stderr

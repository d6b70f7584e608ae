"""Worker processes: how they start (fork, fork server, new interpreter) and that a read
with workers never hangs, after polars has run, in a script or in a notebook kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ftkit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork rule reads /proc (Linux)")


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    """A dump of 2,000 jobs (about 10 MB): read with workers once the thresholds are lowered."""
    path = tmp_path_factory.mktemp("workers") / "dump.ndjson"
    return ftkit.synth.write_dump(path, 2000, seed=3)


@pytest.fixture()
def two_cores() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: reads are never parallel here")


#: Run in a fresh Python: read ``path`` with workers (thresholds lowered so that a 10 MB
#: dump is split), compare with the in-process read, and say how the workers started.
_READ = """
import json, os, sys
import polars as pl
from polars.testing import assert_frame_equal
import ftkit
from ftkit.read import chunks, processes, reader, workers
reader.MIN_PARALLEL_BYTES = reader.MIN_COLD_PARALLEL_BYTES = 1
chunks.MIN_CHUNK_BYTES = 1 << 20
result = {"before": processes.start_method()}
BEFORE
result["chosen"] = processes.start_method()
os.environ.pop("FTKIT_WORKERS", None)
parallel = ftkit.read_jobs(sys.argv[1])
frames = (parallel.jobs, parallel.checkpoints, parallel.events)
result["methods"] = workers.pool_start_methods()
os.environ["FTKIT_WORKERS"] = "0"
serial = ftkit.read_jobs(sys.argv[1])
for got, expected in zip(frames, (serial.jobs, serial.checkpoints, serial.events)):
    assert_frame_equal(got, expected)
assert list(parallel) == list(serial)
result["jobs"] = len(parallel)
print(json.dumps(result))
"""


def _run(code: str, path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_fresh_script_forks_its_workers(dump: Path, two_cores) -> None:
    # importing ftkit (and polars) starts no polars thread pool: forking is safe
    out = _run(_READ.replace("BEFORE", "pass"), dump)
    assert out == {"before": "fork", "chosen": "fork", "methods": ["fork", "fork"], "jobs": 2000}


def test_after_polars_ran_workers_come_from_the_fork_server(dump: Path, two_cores) -> None:
    # a group_by large enough to start polars' thread pool: a fork now could hang the child
    before = textwrap.dedent("""
    frame = pl.DataFrame({"k": [i % 97 for i in range(2_000_000)], "v": range(2_000_000)})
    assert frame.group_by("k").agg(pl.col("v").sum()).height == 97
    """)
    out = _run(_READ.replace("BEFORE", before), dump)
    assert out == {"before": "fork", "chosen": "forkserver", "methods": ["forkserver", "forkserver"], "jobs": 2000}


def test_a_thread_unknown_to_python_rules_out_fork() -> None:
    code = textwrap.dedent("""
    import ftkit
    from ftkit.read import processes
    import threading
    first = processes.start_method()
    # Python threads are known (their native ids), so they do not rule out fork
    event = threading.Event()
    thread = threading.Thread(target=event.wait)
    thread.start()
    second = processes.start_method()
    event.set()
    thread.join()
    import polars as pl
    pl.DataFrame({"a": [1, 2]}).sum()  # starts polars' thread pool
    print(first, second, processes.start_method())
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["fork", "fork", "forkserver"]


def test_a_notebook_kernel_that_used_polars_reads_with_workers(dump: Path, two_cores) -> None:
    jupyter_client = pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, extra_arguments=["--HistoryManager.enabled=False"])
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        code = _READ.replace("BEFORE", textwrap.dedent("""
        frame = pl.DataFrame({"k": [i % 97 for i in range(2_000_000)], "v": range(2_000_000)})
        assert frame.group_by("k").agg(pl.col("v").sum()).height == 97
        """)).replace("sys.argv[1]", repr(str(dump)))
        outputs: list[str] = []

        def output(message: dict) -> None:
            if message["msg_type"] == "stream":
                outputs.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                outputs.append("\n".join(message["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=240, output_hook=output)
        assert reply["content"]["status"] == "ok", "".join(outputs)
        out = json.loads("".join(outputs).strip().splitlines()[-1])
        # a kernel runs threads of its own (zmq's among them) besides polars' pool
        assert out == {"before": "forkserver", "chosen": "forkserver", "methods": ["forkserver", "forkserver"], "jobs": 2000}
        client.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)


def test_the_pool_and_fork_server_end_with_the_process(dump: Path, two_cores) -> None:
    # the calling process ends without closing anything: its workers and fork server go too
    code = textwrap.dedent("""
    import os, sys
    import polars as pl
    import ftkit
    from ftkit.read import chunks, processes, reader
    reader.MIN_PARALLEL_BYTES = reader.MIN_COLD_PARALLEL_BYTES = 1
    chunks.MIN_CHUNK_BYTES = 1 << 20
    pl.DataFrame({"a": [1, 2]}).sum()
    ftkit.read_jobs(sys.argv[1])
    children = [p.name for p in __import__("pathlib").Path("/proc").glob("[0-9]*")
                if (p / "stat").exists() and (p / "stat").read_text().split()[3] == str(os.getpid())]
    print(" ".join(children), flush=True)
    os._exit(0)  # no atexit: as if killed
    """)
    env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
    proc = subprocess.run([sys.executable, "-c", code, str(dump)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    server = [int(pid) for pid in proc.stdout.split()]
    assert len(server) == 1  # the fork server; the workers are its children
    import time

    for _ in range(100):
        if not Path(f"/proc/{server[0]}").exists() or "Z" in Path(f"/proc/{server[0]}/stat").read_text().split()[2]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the fork server outlived its process")

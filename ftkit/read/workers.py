"""Decode large NDJSON dumps in worker processes, one per core.

msgspec decodes while holding the GIL, so threads cannot share the work: worker
*processes* can. Each worker (``python -m ftkit.read.workers``, started on the first large
read, reused by the next ones, and ended after a minute without work)
receives a run of whole lines over a pipe, decodes and validates every record with the
same code as :func:`ftkit.read_jobs` uses in-process, builds the four frames, and sends
them back as Arrow IPC with the byte range of each job. The calling process keeps the
bytes and decodes a job's Struct only when it is first asked for.

Worker processes are started by ``subprocess`` (not ``multiprocessing``), so scripts
need no ``if __name__ == "__main__"`` guard and notebooks work as they are. Set the
environment variable ``FTKIT_WORKERS`` to choose how many, at most the usable cores
(``0`` or ``1`` decodes in this process).
"""

from __future__ import annotations

import atexit
import gc
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import polars as pl

from ..errors import JobDecodeError
from ..frames import frames_with_positions
from .reader import (
    _DECODE_ERRORS,
    _Decoding,
    _job_decoder,
    _layout,
    _list_decoder,
    _streamed_layout,
    decode_bytes,
    worth_decoding,
)
from ..schema import Job, WireJob, to_job
from ..snapshots import merge_snapshots
from .sources import BOM, GZIP_MAGIC, Input

__all__ = ["wants_parallel", "read_parallel", "worker_count"]

#: Inputs smaller than this in total are decoded in this process.
MIN_PARALLEL_BYTES = 16 << 20
#: The smallest run of lines sent to a worker.
MIN_CHUNK_BYTES = 8 << 20
_FRAME_NAMES = ("jobs", "checkpoints", "events", "targets")


def worker_count() -> int:
    """How many worker processes to use: ``FTKIT_WORKERS``, else the usable cores.

    ``FTKIT_WORKERS`` is capped at the usable cores: more processes than cores only add
    memory (each worker holds its chunk), never speed.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    value = os.environ.get("FTKIT_WORKERS", "").strip()
    if value:
        try:
            return min(max(0, int(value)), cores)
        except ValueError:
            msg = f"FTKIT_WORKERS must be a whole number, got {value!r}"
            raise ValueError(msg) from None
    return cores


def wants_parallel(inputs: list[Input], *, strict: bool) -> bool:
    """Whether these inputs are worth decoding in worker processes."""
    if strict or worker_count() < 2:
        return False
    sizes = [item.size() for item in inputs]
    # Inputs too small to be split are decoded here anyway, each on its own: many small
    # files are faster read in one go by the in-process path.
    return sum(sizes) >= MIN_PARALLEL_BYTES and max(sizes, default=0) >= MIN_CHUNK_BYTES


# --- the worker side -----------------------------------------------------------------


class _Request(msgspec.Struct, array_like=True):
    source: str
    errors: str
    size: int
    #: Read ``size`` bytes from this file at ``start``; without it they follow on the pipe.
    path: str | None = None
    start: int = 0
    #: Write the frames as Arrow IPC files here, named ``<prefix>-<frame>.arrow``.
    spill: str = ""


class _Reply(msgspec.Struct, array_like=True):
    #: Lines in the chunk: line numbers in ``errors`` count from the chunk's start.
    lines: int
    errors: list[tuple[str, str, int | None, int | None, str | None]]
    starts: list[int]
    ends: list[int]
    subs: list[int]
    #: Arrow IPC files of the frames, in ``_FRAME_NAMES`` order (from worker processes).
    files: list[str] = []
    #: OpenAI records met (jobs, events and checkpoints lists): read in-process instead.
    openai: int = 0


def decode_chunk(
    data: bytes | memoryview, *, source: str, errors: str, first_line: int = 1
) -> tuple[list[Any], _Reply, dict[str, pl.DataFrame]]:
    """Decode a run of NDJSON lines: the wire jobs, the reply for the caller, the frames.

    Each kept job gets the byte range of its line in ``data`` and, for a line holding a
    list response, its index in ``data``.
    """
    state = _Decoding(source, errors, False)  # type: ignore[arg-type]
    decode = _job_decoder.decode
    jobs = state.jobs
    subs = state.subs
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    line_number = first_line
    lines = bytes(data).split(b"\n")
    final = first_line + len(lines) - 1  # not blank only if no newline ends the data
    try:
        for line in lines:
            end = position + len(line)
            try:
                jobs.append(decode(line))
                subs.append(-1)
                starts.append(position)
                ends.append(end)
            except _DECODE_ERRORS:
                if line.strip():
                    before = len(jobs)
                    state.record(line, line=line_number, index=None, unterminated=line_number == final)
                    starts += [position] * (len(jobs) - before)
                    ends += [end] * (len(jobs) - before)
            position = end + 1
            line_number += 1
    except JobDecodeError as exc:  # errors="raise": the first bad record ends the chunk
        state.errors.append(exc)
    reply = _Reply(
        lines=line_number - first_line - 1,
        errors=[(e.reason, e.source, e.line, e.index, e.path) for e in state.errors],
        starts=starts,
        ends=ends,
        subs=subs,
        openai=_openai_records(jobs, state.lists),
    )
    if reply.openai:
        return [], reply, frames_with_positions([])
    return jobs, reply, frames_with_positions(jobs)


class OpenAIRecords(Exception):
    """Raised by :func:`read_parallel` when the inputs hold OpenAI records, whose events
    and checkpoints attach across inputs: :func:`ftkit.read_jobs` then reads in-process."""


def _openai_records(jobs: list[Any], lists: list[Any]) -> int:
    return len(lists) + sum(type(job) is not WireJob for job in jobs)


def _serve() -> None:
    """The worker's loop: read requests on stdin, answer on stdout, until stdin closes."""
    gc.disable()  # nothing here makes reference cycles; see ftkit.reading.gc_paused
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    encode = msgspec.msgpack.Encoder().encode
    decode_request = msgspec.msgpack.Decoder(_Request).decode
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        request = decode_request(stdin.read(int.from_bytes(head, "little")))
        if request.path is None:
            data = stdin.read(request.size)
        else:
            with open(request.path, "rb") as file:
                file.seek(request.start)
                data = file.read(request.size)
        jobs, reply, frames = decode_chunk(data, source=request.source, errors=request.errors)
        del data
        for name, frame in frames.items():
            path = f"{request.spill}-{name}.arrow"
            frame.write_ipc(path, compression="uncompressed")
            reply.files.append(path)
        del frames
        out = encode(reply)
        stdout.write(len(out).to_bytes(8, "little"))
        stdout.write(out)
        stdout.flush()
        del jobs  # freed while the caller reads the frames


# --- the calling side ------------------------------------------------------------------


class _WorkerFailed(RuntimeError):
    pass


class _Worker:
    """One worker process and the pipe protocol to it."""

    _encode = msgspec.msgpack.Encoder().encode
    _decode_reply = msgspec.msgpack.Decoder(_Reply).decode

    def __init__(self) -> None:
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["POLARS_MAX_THREADS"] = "1"
        env["FTKIT_WORKERS"] = "0"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ftkit.read.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            bufsize=0,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, request: _Request, data: memoryview | None) -> _Reply:
        try:
            header = self._encode(request)
            stdin = self.process.stdin
            stdin.write(len(header).to_bytes(4, "little"))
            stdin.write(header)
            if data is not None:
                stdin.write(data)
            stdin.flush()
            head = _read_exactly(self.process.stdout, 8)
            return self._decode_reply(_read_exactly(self.process.stdout, int.from_bytes(head, "little")))
        except (OSError, ValueError, EOFError, msgspec.MsgspecError) as exc:
            self.close()
            raise _WorkerFailed(str(exc)) from None

    def close(self) -> None:
        try:
            if self.process.stdin:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _read_exactly(stream: Any, size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(min(size, 1 << 24))
        if not chunk:
            raise EOFError("worker process ended unexpectedly")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_POOL: list[_Worker] = []
_POOL_LOCK = threading.Lock()
#: Seconds a pool may stay idle before its workers exit (they keep the memory of their
#: last chunk): reads close together reuse the pool, a notebook left alone gets it back.
IDLE_SECONDS = 60.0
_idle_timer: threading.Timer | None = None


def _workers(count: int) -> list[_Worker]:
    """The worker pool, started (or restarted) as needed. Call with _POOL_LOCK held."""
    global _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
        _idle_timer = None
    _POOL[:] = [worker for worker in _POOL if worker.alive]
    while len(_POOL) < count:
        _POOL.append(_Worker())
    return _POOL[:count]


def _release_later() -> None:
    """Close the pool after IDLE_SECONDS unless a read uses it first. Call with _POOL_LOCK held."""
    global _idle_timer
    _idle_timer = threading.Timer(IDLE_SECONDS, _close_idle)
    _idle_timer.daemon = True
    _idle_timer.start()


def _close_idle() -> None:
    if _POOL_LOCK.acquire(blocking=False):  # a read in progress keeps its pool
        try:
            _shutdown()
        finally:
            _POOL_LOCK.release()


@atexit.register
def _shutdown() -> None:
    for worker in _POOL:
        worker.close()
    _POOL.clear()


@dataclass
class _Task:
    input_index: int
    start: int
    end: int
    #: Read by the worker from this file (else sent the bytes over the pipe).
    path: str | None = None
    local: bool = False
    reply: _Reply | None = None
    jobs: list[Any] = field(default_factory=list)
    #: The frames, where this process built them.
    frames: dict[str, pl.DataFrame] | None = None


def _split(data: bytes, input_index: int, pieces: int) -> list[_Task]:
    """Cut NDJSON bytes into about ``pieces`` runs of whole lines."""
    tasks = []
    start = 0
    step = max(MIN_CHUNK_BYTES, len(data) // max(pieces, 1) + 1)
    while start < len(data):
        end = data.find(b"\n", min(start + step, len(data)) - 1)
        end = len(data) if end == -1 else end + 1
        tasks.append(_Task(input_index, start, end))
        start = end
    return tasks


def _split_file(path: Path, size: int, input_index: int, pieces: int) -> list[_Task]:
    """Cut an NDJSON file into about ``pieces`` runs of whole lines, reading only near the cuts."""
    tasks = []
    start = 0
    step = max(MIN_CHUNK_BYTES, size // max(pieces, 1) + 1)
    with open(path, "rb") as file:
        if file.read(3) == BOM:
            start = 3
        while start < size:
            end = min(start + step, size)
            if end < size:
                # the cut goes after the first newline at or past byte end - 1
                position = end - 1
                file.seek(position)
                while True:
                    window = file.read(1 << 16)
                    if not window:
                        end = size
                        break
                    newline = window.find(b"\n")
                    if newline != -1:
                        end = position + newline + 1
                        break
                    position += len(window)
            tasks.append(_Task(input_index, start, end, path=str(path)))
            start = end
    return tasks


def read_parallel(
    inputs: list[Input],
    *,
    errors: str,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> Any:
    """Read inputs with worker processes; see :func:`ftkit.read_jobs`."""
    from ..jobset import JobSet

    count = worker_count()
    with _POOL_LOCK:
        workers = _workers(count)  # they start while this process looks at the inputs
        datas: list[bytes | None] = [None] * len(inputs)
        # Errors found while reading an input, listed after those of its records.
        read_errors: dict[int, list[JobDecodeError]] = {}
        tasks: list[_Task] = []
        total = sum(item.size() for item in inputs)
        for index, item in enumerate(inputs):
            size = item.size()
            share = max(1, round(4 * count * size / max(total, 1)))
            if item.path is not None and MIN_CHUNK_BYTES <= size <= (limit or size) and _plain_ndjson(item.path):
                # Workers read their share of the file themselves; this process reads it
                # only when a job's Struct is first asked for.
                tasks += _split_file(item.path, size, index, share)
                datas[index] = _LazyFile(item.path)
                continue
            damage: list[JobDecodeError] = []
            try:
                data = item.read(damage, limit)
            except JobDecodeError as exc:
                read_errors[index] = [exc]
                continue
            if damage:
                read_errors[index] = damage
            if not worth_decoding(data, damage):
                continue
            datas[index] = data
            if len(data) >= MIN_CHUNK_BYTES and _layout(data) == "ndjson":
                tasks += _split(data, index, share)
            else:
                tasks.append(_Task(index, 0, len(data), local=True))
        spill = _make_spill()
        try:
            with _removed_on_sigterm(spill):
                _run(tasks, workers, datas, inputs, errors, spill, progress)
                return _assemble(tasks, datas, inputs, read_errors, errors, JobSet)
        except JobDecodeError:
            raise
        except BaseException:
            # Interrupted (Ctrl-C) or failed: what the workers were doing is unknown, so
            # the pool is ended rather than reused out of step.
            _shutdown()
            raise
        finally:
            # The frames were read from these files (on Linux, a memory map would outlive the name).
            shutil.rmtree(spill, ignore_errors=True)
            _release_later()


#: Spill directories are named ``ftkit-spill-<pid>-<random>``: the pid tells the next
#: read whether their process is gone (killed) and they can be removed.
SPILL_PREFIX = "ftkit-spill-"


def _spill_root() -> str | None:
    """Where workers write frames for this process: shared memory if the system has it."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _make_spill() -> str:
    """A new spill directory, after removing those left by processes that were killed."""
    root = _spill_root()
    _sweep_spills(root or tempfile.gettempdir())
    return tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=root)


def _sweep_spills(root: str) -> None:
    """Remove this user's spill directories whose process no longer exists."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(SPILL_PREFIX):
            continue
        try:
            pid = int(entry.name[len(SPILL_PREFIX) :].split("-", 1)[0])
            if entry.stat(follow_symlinks=False).st_uid != os.getuid() or not entry.is_dir(follow_symlinks=False):
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except (ValueError, OSError):
            continue


@contextmanager
def _removed_on_sigterm(path: str) -> Iterator[None]:
    """Remove ``path`` if SIGTERM arrives meanwhile, then let the signal do what it did before.

    Only in the main thread (where Python runs signal handlers), and not where SIGTERM is
    ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        yield
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        shutil.rmtree(path, ignore_errors=True)
        _shutdown()
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        else:  # the default: end the process as the signal would have
            os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)


def _plain_ndjson(path: Path) -> bool:
    """Whether a file is uncompressed NDJSON, judged from its first megabyte."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 20)
    except OSError:
        return False
    # "unsure" (a first line that is not whole JSON) is left to the whole-input reading
    return head[:2] != GZIP_MAGIC and _streamed_layout(head) == "ndjson"


def _run(
    tasks: list[_Task],
    workers: list[_Worker],
    datas: list[bytes | None],
    inputs: list[Input],
    errors: str,
    spill: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the remote tasks on the workers (one feeding thread each) and the local ones here."""
    pending: queue.Queue[_Task] = queue.Queue()
    for task in tasks:
        if not task.local:
            pending.put(task)
    total = sum(task.end - task.start for task in tasks)
    done = 0
    done_lock = threading.Lock()

    def report(task: _Task) -> None:
        nonlocal done
        if progress is not None:
            with done_lock:
                done += task.end - task.start
                progress(done, total)

    if progress is not None:
        progress(0, total)

    def feed(worker: _Worker) -> None:
        while True:
            try:
                task = pending.get_nowait()
            except queue.Empty:
                return
            name = inputs[task.input_index].name
            request = _Request(
                name, errors, task.end - task.start, task.path, task.start, f"{spill}/{id(task)}"
            )
            view = None
            if task.path is None:
                view = memoryview(datas[task.input_index])[task.start : task.end]
            try:
                task.reply = worker.run(request, view)
                # polars reads without the GIL: this overlaps with the workers' next tasks
                task.frames = {name: pl.read_ipc(path) for name, path in zip(_FRAME_NAMES, task.reply.files)}
            except Exception:  # noqa: BLE001 - the worker failed, or the read was interrupted
                task.reply = task.frames = None
                pending.put(task)  # another worker, or this process, takes it
                return
            report(task)

    threads = [threading.Thread(target=feed, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    for task in tasks:
        if task.local:
            _run_here(task, datas, inputs, errors)
            report(task)
    for thread in threads:
        thread.join()
    while not pending.empty():  # every worker failed: finish here
        task = pending.get_nowait()
        _run_here(task, datas, inputs, errors)
        report(task)


def _run_here(task: _Task, datas: list[bytes], inputs: list[Input], errors: str) -> None:
    data = _bytes_of(datas, task.input_index)
    name = inputs[task.input_index].name
    if task.local:
        openai = 0
        try:
            decoded = decode_bytes(data, source=name, errors=errors)  # type: ignore[arg-type]
        except JobDecodeError as exc:
            decoded_jobs, decoded_errors = [], [exc]
        else:
            decoded_jobs, decoded_errors = decoded.jobs, decoded.errors
            openai = _openai_records(decoded.jobs, decoded.lists)
        task.jobs = decoded_jobs
        task.frames = frames_with_positions(decoded_jobs)
        task.reply = _Reply(
            lines=0,
            errors=[(e.reason, e.source, e.line, e.index, e.path) for e in decoded_errors],
            starts=[],
            ends=[],
            subs=[],
            openai=openai,
        )
    else:
        _, task.reply, task.frames = decode_chunk(
            memoryview(data)[task.start : task.end], source=name, errors=errors
        )  # the jobs are decoded again on demand, like the workers' jobs


def _assemble(tasks, datas, inputs, read_errors, errors, jobset_cls):
    """Join the tasks' frames in input order, resolve snapshots of one job, build the JobSet."""
    if any(task.reply.openai for task in tasks):
        raise OpenAIRecords
    all_errors: list[JobDecodeError] = []
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in _FRAME_NAMES}
    # Where each job's Struct comes from: (task, index within the task).
    origin: list[tuple[_Task, int]] = []
    tasks_by_input: dict[int, list[_Task]] = {}
    for task in tasks:
        tasks_by_input.setdefault(task.input_index, []).append(task)
    for index in range(len(inputs)):
        lines_before = 0
        for task in tasks_by_input.get(index, []):
            reply = task.reply
            for reason, source, line, idx, path in reply.errors:
                if line is not None:
                    line += lines_before
                all_errors.append(JobDecodeError(reason, source=source, line=line, index=idx, path=path))
            lines_before += reply.lines
            base = len(origin)
            frames = [task.frames[name] for name in _FRAME_NAMES]
            task.frames = None
            n = frames[0].height
            origin += [(task, i) for i in range(n)]
            for name, frame in zip(_FRAME_NAMES, frames):
                parts[name].append(frame.with_columns(pl.col("_position") + base) if base else frame)
        all_errors += read_errors.get(index, [])
    if errors == "raise" and all_errors:
        raise all_errors[0]
    frames = {
        name: pl.concat(chunks, how="vertical") if chunks else None for name, chunks in parts.items()
    }
    if frames["jobs"] is None:
        return jobset_cls(errors=all_errors)
    jobs = frames["jobs"]
    loader = _Loader(origin, datas)
    if jobs["job_id"].n_unique() < jobs.height:
        frames, kept, merged = _resolve_snapshots(frames, loader)
        loader.origin = [origin[i] for i in kept]
        loader.overrides = merged
    frames = {name: frame.drop("_position") for name, frame in frames.items()}
    ids = frames["jobs"]["job_id"].to_list()
    return jobset_cls.from_parts(ids=ids, loader=loader, frames=frames, errors=all_errors)


def _resolve_snapshots(
    frames: dict[str, pl.DataFrame], loader: _Loader
) -> tuple[dict[str, pl.DataFrame], list[int], dict[int, Job]]:
    """Keep one job per id by the rule of :mod:`ftkit.snapshots`, on the assembled frames.

    Returns the frames of the kept jobs, the positions kept (in order) and, by index
    among the kept, the jobs merged from tied records (their rows rebuilt).
    """
    latest = (
        frames["jobs"]
        .select("job_id", "modified_at", "_position")
        .filter(pl.col("modified_at") == pl.col("modified_at").max().over("job_id"))
        .group_by("job_id")
        .agg(pl.col("_position"))
        .with_columns(pl.col("_position").list.max().alias("kept"))
        .sort("kept")
    )
    kept = latest["kept"]
    merged: dict[int, Job] = {}
    tied = latest.filter(pl.col("_position").list.len() > 1)
    for positions, position in zip(tied["_position"].to_list(), tied["kept"].to_list()):
        job = merge_snapshots([loader(p) for p in sorted(positions)])
        if job != loader(position):
            merged[position] = job
    keep = kept.implode()
    frames = {name: frame.filter(pl.col("_position").is_in(keep)) for name, frame in frames.items()}
    if merged:
        rebuilt = frames_with_positions(list(merged.values()))
        at = pl.Series(list(merged), dtype=pl.Int64())
        replaced = at.implode()
        frames = {
            name: pl.concat(
                [
                    frame.filter(~pl.col("_position").is_in(replaced)),
                    rebuilt[name].with_columns(at.gather(rebuilt[name]["_position"]).alias("_position")),
                ],
                how="vertical",
            ).sort("_position", maintain_order=True)
            for name, frame in frames.items()
        }
    kept_list = kept.to_list()
    index = {position: i for i, position in enumerate(kept_list)}
    return frames, kept_list, {index[p]: job for p, job in merged.items()}


class _LazyFile:
    """A file's bytes, read on first use, refused if the file changed since it was decoded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stat = path.stat()
        self.stamp = (stat.st_size, stat.st_mtime_ns)
        self.data: bytes | None = None

    def get(self) -> bytes:
        if self.data is None:
            stat = self.path.stat()
            if (stat.st_size, stat.st_mtime_ns) != self.stamp:
                msg = (
                    f"{self.path}: the file changed after it was read; read it again "
                    "with ftkit.read_jobs to get its jobs"
                )
                raise RuntimeError(msg)
            self.data = self.path.read_bytes()
        return self.data


def _bytes_of(datas: list[Any], index: int) -> bytes:
    data = datas[index]
    return data.get() if isinstance(data, _LazyFile) else data


class _Loader:
    """Decodes the Struct of the job at a position, from the bytes kept for it."""

    def __init__(self, origin: list[tuple[_Task, int]], datas: list[bytes]) -> None:
        self.origin = origin
        self.datas = datas
        #: Jobs merged from tied snapshots, by position.
        self.overrides: dict[int, Job] = {}
        self._listing: tuple[tuple[int, int], list[Any]] | None = None

    def __call__(self, position: int) -> Job:
        merged = self.overrides.get(position)
        if merged is not None:
            return merged
        task, i = self.origin[position]
        if task.jobs:  # decoded in this process and kept
            return to_job(task.jobs[i])
        reply = task.reply
        start = task.start + reply.starts[i]
        end = task.start + reply.ends[i]
        sub = reply.subs[i]
        raw = memoryview(_bytes_of(self.datas, task.input_index))[start:end]
        if sub < 0:
            return to_job(_job_decoder.decode(raw))
        key = (task.input_index, start)
        if self._listing is None or self._listing[0] != key:
            # a line holding a list response: keep its jobs' raw bytes for the next call
            self._listing = (key, _list_decoder.decode(raw).data)
        return to_job(_job_decoder.decode(self._listing[1][sub]))


if __name__ == "__main__":
    # Ctrl-C reaches every process of the terminal's group: the calling process handles
    # it (and ends its workers); a worker says nothing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve()
    except (OSError, EOFError, ValueError):  # the caller went away mid-request
        pass

"""Decode chunks in worker processes, one per core: the pool, its spill files, the feeding.

msgspec decodes while holding the GIL, so threads cannot share the work: worker
*processes* can (:mod:`ftkit.read.processes` starts them and speaks to them). A pool of
them starts on the first large read, serves the next ones, and ends after
:data:`IDLE_SECONDS` without a read. :func:`run_chunks` feeds each worker a chunk at a
time from a thread of its own (the next chunk sent before the last one's result is read
back) and decodes here the chunks meant to stay here; the workers write their frame
parts as Arrow IPC stream files in a spill directory, each file removed once read, the
directory after the read, on SIGTERM, or (left by a killed process) by the next read. Set the
environment variable ``FTKIT_WORKERS`` to choose how many workers, at most the usable
cores (``0`` or ``1`` decodes in this process).

Examples
--------
>>> import os
>>> 0 <= worker_count() <= len(os.sched_getaffinity(0))
True
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import polars as pl

from ..errors import JobDecodeError
from ..frames import FRAME_NAMES
from .chunks import Chunk, read_range
from .decode import DecodedChunk, OpenAIRecords, decode_chunk, decode_input
from .processes import WorkerProcess, WorkerRequest, close_fork_server, fork_server_running, start_method
from .sources import Input, bytes_of

__all__ = [
    "IDLE_SECONDS",
    "SPILL_PREFIX",
    "make_spill",
    "pool_pids",
    "pool_start_methods",
    "removed_on_sigterm",
    "run_chunks",
    "shutdown",
    "spill_directory",
    "spill_root",
    "start_is_cheap",
    "worker_count",
    "worker_pool",
]


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


_POOL: list[WorkerProcess] = []
_POOL_LOCK = threading.Lock()
#: Seconds a pool may stay idle before its workers exit (they keep the memory of their
#: last chunk): reads close together reuse the pool, a notebook left alone gets it back.
IDLE_SECONDS = 60.0
_idle_timer: threading.Timer | None = None


@contextmanager
def worker_pool(count: int) -> Iterator[list[WorkerProcess]]:
    """``count`` workers for one read, started (or restarted) as needed, the pool held meanwhile.

    After the read the pool waits :data:`IDLE_SECONDS` for the next read; a read
    interrupted (Ctrl-C) or failed otherwise than on bad input ends the pool, since what
    the workers were doing is unknown.
    """
    with _POOL_LOCK:
        try:
            yield _workers(count)  # they start while the caller looks at the inputs
        except (JobDecodeError, OpenAIRecords):
            raise
        except BaseException:
            shutdown()
            raise
        finally:
            _release_later()


@contextmanager
def spill_directory() -> Iterator[str]:
    """A new directory for the workers' frames, removed after the read and on SIGTERM."""
    spill = make_spill()
    try:
        with removed_on_sigterm(spill):
            yield spill
    finally:
        # The frames were read from these files (on Linux, a memory map would outlive the name).
        shutil.rmtree(spill, ignore_errors=True)


def _workers(count: int) -> list[WorkerProcess]:
    """The worker pool, started (or restarted) as needed. Call with _POOL_LOCK held."""
    global _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
        _idle_timer = None
    _POOL[:] = [worker for worker in _POOL if worker.alive]
    while len(_POOL) < count:
        try:
            _POOL.append(WorkerProcess())
        except OSError:  # no more processes (memory, limits): fewer workers, or the chunks are decoded here
            break
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
            shutdown()
        finally:
            _POOL_LOCK.release()


def start_is_cheap(count: int) -> bool:
    """Whether ``count`` workers are running, or those missing start without a new
    interpreter (by fork, or from a fork server already running)."""
    if sum(worker.alive for worker in list(_POOL)) >= count:
        return True
    method = start_method()
    return method == "fork" or (method == "forkserver" and fork_server_running())


def pool_start_methods() -> list[str]:
    """How the live workers of the pool were started (see :func:`~ftkit.read.processes.start_method`).

    Examples
    --------
    >>> shutdown()
    >>> pool_start_methods()
    []
    """
    return [worker.method for worker in _POOL if worker.alive]


def pool_pids() -> list[int]:
    """The process ids of the live workers of the pool.

    Examples
    --------
    >>> shutdown()
    >>> pool_pids()
    []
    """
    return [worker.pid for worker in list(_POOL) if worker.alive]


@atexit.register
def shutdown() -> None:
    """End every worker of the pool, and the fork server (at exit, on SIGTERM, after an
    interrupted read, after :data:`IDLE_SECONDS` without a read)."""
    for worker in _POOL:
        worker.close()
    _POOL.clear()
    close_fork_server()


#: Spill directories are named ``ftkit-spill-<pid>-<random>``: the pid tells the next
#: read whether their process is gone (killed) and they can be removed.
SPILL_PREFIX = "ftkit-spill-"


def spill_root() -> str | None:
    """Where workers write frames for this process: shared memory if the system has it."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def make_spill() -> str:
    """A new spill directory, after removing those left by processes that were killed."""
    root = spill_root()
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
def removed_on_sigterm(path: str) -> Iterator[None]:
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
        shutdown()
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


def run_chunks(
    chunks: list[Chunk],
    workers: list[WorkerProcess],
    datas: list[Any],
    inputs: list[Input],
    errors: str,
    spill: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[DecodedChunk]:
    """Decode the chunks: the remote ones on the workers (one feeding thread each), the
    local ones here (and the remote ones too if every worker fails); in chunk order."""
    results: list[DecodedChunk | None] = [None] * len(chunks)
    pending: queue.Queue[int] = queue.Queue()
    for at, chunk in enumerate(chunks):
        if not chunk.local:
            pending.put(at)
    total = sum(chunk.end - chunk.start for chunk in chunks)
    done = 0
    done_lock = threading.Lock()

    def report(chunk: Chunk) -> None:
        nonlocal done
        if progress is not None:
            with done_lock:
                done += chunk.end - chunk.start
                progress(done, total)

    if progress is not None:
        progress(0, total)

    def send_next(worker: WorkerProcess) -> int | None:
        """Send the worker the next chunk waiting, if any: its index (None: none left)."""
        try:
            at = pending.get_nowait()
        except queue.Empty:
            return None
        chunk = chunks[at]
        name = inputs[chunk.input_index].name
        request = WorkerRequest(name, errors, chunk.end - chunk.start, chunk.path, chunk.start, f"{spill}/{at}")
        view = None
        if chunk.path is None:
            view = memoryview(datas[chunk.input_index])[chunk.start : chunk.end]
        try:
            worker.send(request, view)
        except Exception:
            pending.put(at)  # another worker, or this process, takes it
            raise
        return at

    def feed(worker: WorkerProcess) -> None:
        """Keep one worker busy: its next chunk is sent before this thread reads the
        frame parts of the last one, so that the worker does not wait for this process."""
        in_flight: int | None = None
        try:
            in_flight = send_next(worker)
            while in_flight is not None:
                at = in_flight
                try:
                    reply = worker.receive()
                except Exception:  # noqa: BLE001 - the worker failed (and is closed)
                    in_flight = None
                    pending.put(at)
                    return
                try:
                    in_flight = send_next(worker)
                except Exception:  # noqa: BLE001 - the worker failed: this chunk is read, then the thread ends
                    in_flight = None
                try:
                    # polars reads without the GIL: this overlaps with the workers' chunks
                    frames = {name: pl.read_ipc_stream(path) for name, path in zip(FRAME_NAMES, reply.files)}
                except Exception:  # noqa: BLE001 - the read was interrupted
                    pending.put(at)
                    return
                for path in reply.files:  # freed now rather than all at the end of the read
                    with suppress(OSError):
                        os.unlink(path)
                results[at] = DecodedChunk(chunks[at], reply, frames)
                report(chunks[at])
        finally:
            if in_flight is not None:  # left unanswered: the worker cannot serve another read
                pending.put(in_flight)
                worker.close()

    threads = [threading.Thread(target=feed, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    for at, chunk in enumerate(chunks):
        if chunk.local:
            results[at] = _run_here(chunk, datas, inputs, errors)
            report(chunk)
    for thread in threads:
        thread.join()
    # every worker failed (or a feeding thread ended on an error of its own), or there
    # are none: finish here
    for at, result in enumerate(results):
        if result is None:
            results[at] = result = _run_here(chunks[at], datas, inputs, errors)
            if result.reply.openai and not workers:
                raise OpenAIRecords  # no need to decode the rest (no thread is running)
            report(chunks[at])
    return results  # type: ignore[return-value]


def _run_here(chunk: Chunk, datas: list[Any], inputs: list[Input], errors: str) -> DecodedChunk:
    name = inputs[chunk.input_index].name
    if chunk.local:
        jobs, reply, frames = decode_input(bytes_of(datas, chunk.input_index), source=name, errors=errors)
        return DecodedChunk(chunk, reply, frames, jobs)
    # the jobs are decoded again on demand, like the workers' jobs
    data: Any
    if chunk.path is not None:  # a chunk of a file: its bytes only, as a worker reads them
        data = read_range(chunk.path, chunk.start, chunk.end - chunk.start)
    else:
        data = memoryview(bytes_of(datas, chunk.input_index))[chunk.start : chunk.end]
    reply, frames = decode_chunk(data, source=name, errors=errors)
    return DecodedChunk(chunk, reply, frames)

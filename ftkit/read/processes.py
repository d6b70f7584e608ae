"""Worker processes: how they start, what they run, and the pipe protocol between.

A worker reads a request (a chunk of NDJSON lines, sent over the pipe or read from a
file), decodes it with :func:`~ftkit.read.decode.decode_chunk` (the function this process
uses for chunks it decodes itself), writes the frame parts (only the columns that vary,
:func:`~ftkit.frames.mistral_frame_parts`) as Arrow IPC stream files and answers with
a :class:`~ftkit.read.decode.ChunkReply`. How it starts is chosen per worker by
:func:`start_method`: forked from this process where that is safe, else forked by a fork
server that has the imports loaded, else a new interpreter. None of them needs an
``if __name__ == "__main__"`` guard in scripts (no ``multiprocessing``: nothing of the
calling script is run again), and notebooks work as they are.

Examples
--------
>>> start_method() in ("fork", "forkserver", "subprocess")
True
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from .chunks import read_range
from .decode import ChunkReply, decode_chunk

__all__ = [
    "FORK_SAFE_THREADS",
    "START",
    "WorkerFailed",
    "WorkerProcess",
    "WorkerRequest",
    "close_fork_server",
    "fork_server_running",
    "main",
    "serve",
    "start_method",
]


# --- the worker side -----------------------------------------------------------------


class WorkerRequest(msgspec.Struct, array_like=True):
    """One chunk for a worker to decode (sent as msgpack ahead of its bytes)."""

    source: str
    errors: str
    size: int
    #: Read ``size`` bytes from this file at ``start``; without it they follow on the pipe.
    path: str | None = None
    start: int = 0
    #: Write the frame parts as Arrow IPC streams here, named ``<prefix>-<frame>.arrows``
    #: (polars reads and writes the stream format for less CPU than the file format).
    spill: str = ""


def serve(stdin: Any, stdout: Any) -> None:
    """The worker's loop: read requests on ``stdin``, answer on ``stdout``, until ``stdin`` closes.

    Both are buffered binary streams (a read of n bytes gives n bytes unless the stream ends).
    """
    gc.disable()  # nothing here makes reference cycles; see ftkit.gc_pause
    encode = msgspec.msgpack.Encoder().encode
    decode_request = msgspec.msgpack.Decoder(WorkerRequest).decode
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        request = decode_request(stdin.read(int.from_bytes(head, "little")))
        if request.path is None:
            data = stdin.read(request.size)
        else:
            data = read_range(request.path, request.start, request.size)
        reply, frames = decode_chunk(data, source=request.source, errors=request.errors)
        del data
        for name, frame in frames.items():
            path = f"{request.spill}-{name}.arrows"
            frame.write_ipc_stream(path, compression="uncompressed")
            reply.files.append(path)
        del frames
        out = encode(reply)
        stdout.write(len(out).to_bytes(8, "little"))
        stdout.write(out)
        stdout.flush()


# --- starting workers ----------------------------------------------------------------

#: How workers start: ``None`` chooses (see :func:`start_method`); tests set
#: ``"fork"``, ``"forkserver"`` or ``"subprocess"`` to use one.
START: str | None = None

#: Threads that importing polars starts and that a fork may leave behind: jemalloc's
#: background threads (jemalloc's own fork handlers take its locks around a fork) and
#: polars' out-of-core file cleaner (the worker never spills out of core). Any other
#: thread unknown to ``threading`` (polars' thread pool "polars-N", tokio, zmq in a
#: notebook kernel, ...) makes a fork unsafe: a child would wait for it forever.
FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd", "polars-ooc-clea"})


def start_method() -> str:
    """How the next worker starts: ``"fork"``, ``"forkserver"`` or ``"subprocess"``.

    ``"fork"`` (this process forked: no start-up cost) on Linux where this process runs
    no thread but Python's own threads and those in :data:`FORK_SAFE_THREADS`, i.e. where
    polars' thread pool has not started yet; else ``"forkserver"`` (forked from a
    helper process that has the imports loaded and never runs polars) where the system
    can pass file descriptors; else ``"subprocess"`` (a new interpreter per worker).
    None needs an ``if __name__ == "__main__"`` guard: no ``multiprocessing``, nothing of
    the calling script is run again.
    """
    if START is not None:
        return START
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return "subprocess"
    return "fork" if _only_fork_safe_threads() else "forkserver"


def _only_fork_safe_threads() -> bool:
    """Whether every OS thread of this process is a Python thread or in FORK_SAFE_THREADS (Linux)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return False
    python = {thread.native_id for thread in threading.enumerate()}
    for task in tasks:
        if int(task) in python:
            continue
        try:
            with open(f"/proc/self/task/{task}/comm") as file:
                name = file.read().strip()
        except OSError:
            continue  # the thread ended meanwhile
        if name not in FORK_SAFE_THREADS:
            return False
    return True


def _worker_child(read_fd: int, write_fd: int) -> None:
    """Run in a forked child: serve on the two pipe ends, then exit without Python's cleanup."""
    code = 0
    try:
        # Ctrl-C reaches every process of the terminal's group: the calling process
        # handles it (and ends its workers); a worker says nothing.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ["FTKIT_WORKERS"] = "0"
        # as a subprocess would: hold no other descriptor of the parent (another worker's
        # pipe held open here would never see its end)
        low, high = sorted((read_fd, write_fd))
        os.closerange(3, low)
        os.closerange(low + 1, high)
        os.closerange(high + 1, _max_fd())
        with os.fdopen(read_fd, "rb") as stdin, os.fdopen(write_fd, "wb") as stdout:
            serve(stdin, stdout)
    except (OSError, EOFError, ValueError):  # the caller went away mid-request
        pass
    except BaseException:  # noqa: BLE001 - say what failed, then exit: never return into the parent's code
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):  # pragma: no cover
        return 1 << 16


def _child_env() -> dict[str, str]:
    """The environment of a new interpreter (worker or fork server): this package importable,
    one polars thread (the workers are the parallelism), no workers of its own."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["POLARS_MAX_THREADS"] = "1"
    env["FTKIT_WORKERS"] = "0"
    return env


#: The command that starts a worker (or, with ``--fork-server FD``, the fork server) as a
#: new interpreter. ``-c`` rather than ``-m``: this module is imported by the package first.
_ENTRY = [sys.executable, "-c", "from ftkit.read.processes import main; main()"]


class _ForkServer:
    """A helper process (:data:`_ENTRY` ``--fork-server FD``) that forks workers.

    It imports what a worker needs once and never runs polars, so forking it is safe
    whatever this process runs. It gets each worker's two pipe ends over a Unix socket
    and answers with the worker's pid; it ends when the socket closes (this process
    ended or closed it).
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs:
            self.process = subprocess.Popen(
                [*_ENTRY, "--fork-server", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=_child_env(),
                pass_fds=(theirs.fileno(),),
            )
        self.socket = ours
        #: Requests sent, and the pids answered so far (in the order of the requests).
        self.lock = threading.Lock()
        self.sent = 0
        self.pids: list[int] = []

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, read_fd: int, write_fd: int) -> Callable[[], int]:
        """Ask for a new worker serving on these pipe ends (close them here after the call).

        Returns at once (the request waits in the socket while the server starts);
        the function returned gives the worker's pid, waiting for it if need be.
        """
        with self.lock:
            socket.send_fds(self.socket, [b"F"], [read_fd, write_fd])
            ticket = self.sent
            self.sent += 1

        def pid() -> int:
            with self.lock:
                while len(self.pids) <= ticket:
                    answer = b""
                    while len(answer) < 8:
                        part = self.socket.recv(8 - len(answer))
                        if not part:
                            raise EOFError("the fork server ended unexpectedly")
                        answer += part
                    self.pids.append(int.from_bytes(answer, "little"))
                return self.pids[ticket]

        return pid

    def close(self) -> None:
        self.socket.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _fork_server_main(fd: int) -> None:
    """The fork server's loop (see :class:`_ForkServer`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the workers are reaped by the system
    connection = socket.socket(fileno=fd)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(connection, 16, 2)
        except OSError:
            return
        if not message or len(fds) != 2:
            return
        pid = os.fork()
        if pid == 0:
            connection.close()
            _worker_child(*fds)
        for descriptor in fds:
            os.close(descriptor)
        connection.sendall(pid.to_bytes(8, "little"))


_FORK_SERVER: _ForkServer | None = None


def _fork_server() -> _ForkServer:
    global _FORK_SERVER
    if _FORK_SERVER is None or not _FORK_SERVER.alive:
        _FORK_SERVER = _ForkServer()
    return _FORK_SERVER


# --- the calling side: one worker ------------------------------------------------------


class WorkerFailed(RuntimeError):
    """A worker ended or broke the protocol; its chunk is decoded elsewhere."""


class WorkerProcess:
    """One worker process and the pipe protocol to it, started by :func:`start_method`."""

    _encode = msgspec.msgpack.Encoder().encode
    _decode_reply = msgspec.msgpack.Decoder(ChunkReply).decode

    def __init__(self) -> None:
        self.method = start_method()
        self.process: subprocess.Popen | None = None
        self._pid = 0
        #: For a worker asked of the fork server: gives its pid once the server answered.
        self._pid_of: Callable[[], int] | None = None
        if self.method == "subprocess":
            self.process = subprocess.Popen(
                _ENTRY,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=_child_env(),
                bufsize=0,
            )
            self._pid = self.process.pid
            self.stdin, self.stdout = self.process.stdin, self.process.stdout
            return
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        try:
            if self.method == "fork":
                self._pid = os.fork()
                if self._pid == 0:
                    os.close(request_write)
                    os.close(reply_read)
                    _worker_child(request_read, reply_write)
            else:
                # the server may still be starting: the chunks go down the pipe meanwhile
                self._pid_of = _fork_server().fork(request_read, reply_write)
        except BaseException:
            for descriptor in (request_write, reply_read):
                os.close(descriptor)
            raise
        finally:
            os.close(request_read)
            os.close(reply_write)
        self.stdin = os.fdopen(request_write, "wb", buffering=0)
        self.stdout = os.fdopen(reply_read, "rb", buffering=0)

    @property
    def pid(self) -> int:
        """The worker's process id (0 once it is closed, or if the fork server failed)."""
        if self._pid_of is not None:
            pid_of, self._pid_of = self._pid_of, None
            try:
                self._pid = pid_of()
            except (OSError, EOFError):
                self._pid = 0
        return self._pid

    @property
    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        pid = self.pid
        return pid != 0 and _running(pid, child=self.method == "fork")

    def run(self, request: WorkerRequest, data: memoryview | None) -> ChunkReply:
        """Send a chunk and wait for the reply."""
        self.send(request, data)
        return self.receive()

    def send(self, request: WorkerRequest, data: memoryview | None) -> None:
        """Send a chunk (its bytes follow the request unless the worker reads them from a
        file); the worker answers the requests in order (:meth:`receive`)."""
        try:
            header = self._encode(request)
            stdin = self.stdin
            stdin.write(len(header).to_bytes(4, "little"))
            stdin.write(header)
            if data is not None:
                stdin.write(data)
            stdin.flush()
        except (OSError, ValueError) as exc:
            self.close()
            raise WorkerFailed(str(exc)) from None

    def receive(self) -> ChunkReply:
        """The reply to the oldest request not answered yet."""
        try:
            head = _read_exactly(self.stdout, 8)
            return self._decode_reply(_read_exactly(self.stdout, int.from_bytes(head, "little")))
        except (OSError, ValueError, EOFError, msgspec.MsgspecError) as exc:
            self.close()
            raise WorkerFailed(str(exc)) from None

    def close(self) -> None:
        """Close the pipe (the worker ends when it sees that), and wait for it (2 s at most)."""
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
            return
        pid = self.pid
        if pid:
            self._pid = 0
            _end(pid, child=self.method == "fork")


def _running(pid: int, *, child: bool) -> bool:
    """Whether a worker process is running (``child``: a child of this process, reaped here)."""
    try:
        if child:
            return os.waitpid(pid, os.WNOHANG) == (0, 0)
        os.kill(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        return False
    except PermissionError:  # pragma: no cover - the pid went to another user's process
        return False
    return True


def _end(pid: int, *, child: bool, timeout: float = 2.0) -> None:
    """Wait up to ``timeout`` seconds for a worker whose pipe was closed to end, then kill it."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while _running(pid, child=child):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
                if child:
                    os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _read_exactly(stream: Any, size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(min(size, 1 << 24))
        if not chunk:
            raise EOFError("worker process ended unexpectedly")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def fork_server_running() -> bool:
    """Whether a fork server is running (workers then start from it at little cost)."""
    return _FORK_SERVER is not None and _FORK_SERVER.alive


def close_fork_server() -> None:
    """End the fork server, if one runs (its workers run on until their pipes close)."""
    global _FORK_SERVER
    if _FORK_SERVER is not None:
        server, _FORK_SERVER = _FORK_SERVER, None
        server.close()


def main(argv: list[str] | None = None) -> None:
    """The entry of a worker or fork server started as a new interpreter (see :data:`_ENTRY`)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--fork-server"]:
        _fork_server_main(int(argv[1]))
        return
    # Ctrl-C reaches every process of the terminal's group: the calling process handles
    # it (and ends its workers); a worker says nothing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except (OSError, EOFError, ValueError):  # the caller went away mid-request
        pass

"""The dump on disk: an NDJSON file of job snapshots, appended to and compacted.

See :mod:`ftkit.export` for the format. This module reads a dump's index (the latest
snapshot of each job), appends lines under an exclusive lock, and compacts.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import errno
import hashlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import msgspec

from ftkit.atomic import atomic_write, try_lock
from ftkit.errors import ExportError, ExportUsageError

try:  # POSIX only: guards a dump against two exports writing to it at once.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "Appender",
    "DumpIndex",
    "Snapshot",
    "Summary",
    "check_appendable",
    "check_output",
    "compact_dump",
    "decode_summary",
    "digest",
    "ends_with_newline",
    "fetch_into_dump",
    "index_dump",
    "iter_lines",
    "lock_dump",
    "normalize_body",
    "open_regular",
    "rewrite_dump",
]

if TYPE_CHECKING:
    from ftkit.export_http import ApiClient

logger = logging.getLogger("ftkit.export.dump")

#: How often appended lines are fsynced (they are flushed to the OS at once).
_FSYNC_INTERVAL = 1.0


class Summary(msgspec.Struct, gc=False):
    """The keys of a job that decide whether to fetch it; the rest stays in the bytes."""

    id: str
    status: str
    modified_at: int


#: Decodes a job's JSON into its :class:`Summary` only (the rest is skipped, not built).
decode_summary = msgspec.json.Decoder(Summary).decode


@dataclasses.dataclass(slots=True)
class Snapshot:
    """Where the winning snapshot of one job sits in the dump."""

    modified_at: int
    status: str
    offset: int
    digest: bytes


@dataclasses.dataclass(slots=True)
class DumpIndex:
    """The dump's jobs (latest snapshot each), its line count and its valid length."""

    jobs: dict[str, Snapshot]
    lines: int
    end: int  # bytes up to the end of the last complete, valid line
    torn_tail: bool  # whether bytes after ``end`` are a line cut short by a kill

    @property
    def stale(self) -> int:
        return self.lines - len(self.jobs)


def digest(line: bytes) -> bytes:
    return hashlib.blake2b(line, digest_size=16).digest()


def iter_lines(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, line)`` for each line of ``f``, newline included."""
    offset = 0
    for line in f:
        yield offset, line
        offset += len(line)


def index_dump(path: Path, *, summarize: Callable[[bytes], Summary] = decode_summary) -> DumpIndex:
    """Read a dump's snapshots; raise :class:`ExportError` on a line that is not a job.

    A last line without its newline that does not decode is a write cut short by a
    kill: it is reported as ``torn_tail`` rather than as an error. ``summarize`` reads
    a line's :class:`Summary` (raising ``msgspec.DecodeError`` or ``ValueError``); the
    default reads Mistral's ``id``, ``status`` and ``modified_at``, another provider
    maps its own keys (its version of a job goes to ``modified_at``).
    """
    jobs: dict[str, Snapshot] = {}
    lines = end = 0
    torn_tail = False
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
        if head[:1] == b"[":
            msg = (
                f"cannot export into {str(path)!r}: expected an NDJSON dump (one job per"
                " line), found a JSON array; export to a new file instead"
            )
            raise ExportError(msg)
        f.seek(0)
        for lineno, (offset, raw) in enumerate(iter_lines(f), start=1):
            line = raw.strip()
            if not line:
                end = offset + len(raw)
                continue
            try:
                job = summarize(line)
            except (msgspec.DecodeError, ValueError) as exc:
                if not raw.endswith(b"\n"):
                    torn_tail = True
                    break
                msg = (
                    f"{path}:{lineno}: expected a job (JSON object with id, status and"
                    f" modified_at), found a line that does not decode: {exc}"
                )
                raise ExportError(msg) from None
            lines += 1
            end = offset + len(raw)
            old = jobs.get(job.id)
            if old is None or job.modified_at >= old.modified_at:
                jobs[job.id] = Snapshot(job.modified_at, job.status, offset, digest(line))
    return DumpIndex(jobs, lines, end, torn_tail)


def compact_dump(path: str | os.PathLike[str], *, summarize: Callable[[bytes], Summary] = decode_summary) -> int:
    """Rewrite a dump so that it holds each job once, keeping its latest snapshot.

    A job's latest snapshot is its line with the greatest ``modified_at``; among equal
    ones, the later line. The file is written to a temporary file beside it and moved
    into place with ``os.replace``, so a crash leaves either the old or the new dump.
    Nothing is rewritten when the dump already holds each job once.

    Parameters
    ----------
    path
        An NDJSON dump, as written by :func:`ftkit.export.export_jobs`.
    summarize
        Reads a line's :class:`Summary`; see :func:`index_dump`.

    Returns
    -------
    int
        The number of stale lines removed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> dump = pathlib.Path(tempfile.mkdtemp()) / "jobs.ndjson"
    >>> _ = dump.write_bytes(
    ...     b'{"id":"a","status":"RUNNING","modified_at":1}\\n'
    ...     b'{"id":"b","status":"SUCCESS","modified_at":5}\\n'
    ...     b'{"id":"a","status":"SUCCESS","modified_at":9,"new_key":true}\\n'
    ... )
    >>> compact_dump(dump)
    1
    >>> print(dump.read_text(), end="")
    {"id":"b","status":"SUCCESS","modified_at":5}
    {"id":"a","status":"SUCCESS","modified_at":9,"new_key":true}
    """
    path = Path(path)
    with open(open_regular(path, os.O_RDONLY), "rb") as held:
        lock_dump(held, path)
        index = index_dump(path, summarize=summarize)
        if index.stale == 0 and not index.torn_tail and index.end == path.stat().st_size:
            return 0
        rewrite_dump(path, index)
    return index.stale


def rewrite_dump(path: Path, index: DumpIndex) -> None:
    """Write the winning snapshots of ``index`` to a temporary file, then replace ``path``.

    The temporary file is unpredictable and created exclusively beside the dump
    (:func:`ftkit.atomic.atomic_write`): removed on any error, interrupt or SIGTERM, and
    by the next compaction if a kill left it behind.
    """
    keep = {snap.offset for snap in index.jobs.values()}
    with atomic_write(path, fsync=True) as out, open(path, "rb") as f:
        for offset, raw in iter_lines(f):
            if offset >= index.end:
                break
            if offset in keep:
                out.write(raw.strip() + b"\n")
    logger.info("compacted %s: %d jobs, %d stale lines removed", path, len(index.jobs), index.stale)


def open_regular(path: Path, flags: int, *, what: str = "the dump") -> int:
    """``os.open`` that refuses (ExportUsageError) a path that is not a regular file.

    The file is opened without blocking and without following a link, then checked, so
    that a FIFO, a device or a link put at ``path`` is neither waited on nor written
    through.
    """
    extra = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | extra, 0o666)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EMLINK):
            msg = f"cannot use {str(path)!r} as {what}: expected a regular file, found a link, FIFO, device or directory"
            raise ExportUsageError(msg) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        msg = f"cannot use {str(path)!r} as {what}: expected a regular file, found a FIFO, device or directory"
        raise ExportUsageError(msg)
    if fcntl is not None and extra & getattr(os, "O_NONBLOCK", 0):
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return fd


def normalize_body(body: bytes) -> bytes:
    """Make one NDJSON line of a job body, keeping every byte but CR/LF and the edges.

    Examples
    --------
    >>> normalize_body(b'{"id": "a",\\n  "x": [1, 2]}\\n')
    b'{"id": "a",  "x": [1, 2]}'
    """
    body = body.strip()
    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\r", b"").replace(b"\n", b"")
    return body


def lock_dump(file: BinaryIO, path: Path) -> None:
    """Lock an open dump for this process (released when the file is closed)."""
    if not try_lock(file):
        msg = f"cannot write to the dump {str(path)!r}: another export is writing to it (expected no other)"
        raise ExportError(msg)


class Appender:
    """Appends lines to the dump: flushed at once, fsynced at least once a second."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Whether this appender created the file (it did not exist before).
        self.created = False
        for _ in range(10):
            self.created = not path.exists()
            fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            self._file = open(fd, "ab", buffering=0)  # noqa: SIM115 - closed in close()
            try:
                lock_dump(self._file, path)
                # Another export may have replaced (compacted) or removed the file
                # between our open and our lock: then we locked an orphan; open again.
                if os.path.samestat(os.fstat(self._file.fileno()), os.stat(path)):
                    break
            except FileNotFoundError:
                pass
            except BaseException:
                self._file.close()
                raise
            self._file.close()
        else:
            msg = f"cannot write to the dump {str(path)!r}: another process keeps replacing it (expected no other)"
            raise ExportError(msg)
        self._last_sync = time.monotonic()

    def sync(self) -> None:
        os.fsync(self._file.fileno())

    def truncate(self, size: int) -> None:
        os.ftruncate(self._file.fileno(), size)

    def append(self, line: bytes) -> None:
        view = memoryview(line + b"\n")
        while view:  # an unbuffered write may be short
            view = view[self._file.write(view) :]
        now = time.monotonic()
        if now - self._last_sync >= _FSYNC_INTERVAL:
            os.fsync(self._file.fileno())
            self._last_sync = now

    def discard_if_unused(self) -> None:
        """Remove the dump if this appender created it and nothing was written to it.

        Called on failure, before :meth:`close` (the lock is still held), so that an
        export that fails before fetching anything leaves no empty file behind.
        """
        if self.created and not self._file.closed:
            with contextlib.suppress(OSError):
                held = os.fstat(self._file.fileno())
                if held.st_size == 0 and os.path.samestat(held, os.stat(self.path)):
                    self.path.unlink()

    def close(self) -> None:
        if not self._file.closed:
            with contextlib.suppress(OSError):
                os.fsync(self._file.fileno())
            self._file.close()  # also releases the lock


def check_appendable(path: Path) -> None:
    """Refuse a dump path the export cannot append to: a gzip file (by its name)."""
    if path.suffix == ".gz":
        msg = (
            f"cannot append to the gzip dump {str(path)!r}: expected a plain NDJSON path"
            f" (e.g. {path.with_suffix('').name!r}); export to it and compress it afterwards"
        )
        raise ExportUsageError(msg)


def check_output(path: Path) -> None:
    """Refuse a dump path that is not (and cannot become) a regular file: a FIFO, device, link, directory."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        msg = f"cannot use {str(path)!r} as the dump: {exc.strerror}"
        raise ExportUsageError(msg) from None
    if not stat.S_ISREG(info.st_mode):
        mode = info.st_mode
        kinds = {
            "a symbolic link": stat.S_ISLNK(mode),
            "a directory": stat.S_ISDIR(mode),
            "a FIFO": stat.S_ISFIFO(mode),
            "a device": stat.S_ISCHR(mode) or stat.S_ISBLK(mode),
        }
        kind = next((name for name, hit in kinds.items() if hit), "a socket or other special file")
        msg = f"cannot export into {str(path)!r}: expected a regular file (or a new path), found {kind}"
        raise ExportUsageError(msg)


def ends_with_newline(path: Path, end: int) -> bool:
    """Whether the dump's byte before ``end`` is a newline."""
    with open(path, "rb") as f:
        f.seek(end - 1)
        return f.read(1) == b"\n"


def fetch_into_dump(
    client: ApiClient,
    appender: Appender,
    index: DumpIndex,
    todo: list[tuple[str, Callable[[], bytes | None]]],
    *,
    summarize: Callable[[bytes], Summary],
    missing: str,
    concurrency: int,
    stop: threading.Event,
    report: Callable[[int, int], None] | None,
) -> tuple[int, set[str], int, int, int]:
    """Fetch each job's dump line on a thread pool; append it from this thread, in order
    of arrival, with the API key masked wherever the server echoed it.

    ``todo`` holds ``(job id, fetch)`` pairs, ``fetch()`` returning the job's line or
    ``None`` when the job is gone (a 404: logged as "its ``missing`` answered 404" and
    skipped). A line whose masked key cannot be told apart from its id is not written; a
    line unchanged from the dump's (``index``) is not written again. Threads rather than
    asyncio so that the export also runs inside Jupyter, whose event loop is already
    running. On any error, or a KeyboardInterrupt, the requests not yet started are
    cancelled, the ones in flight are waited for (their results dropped), ``stop`` is
    set and the error propagates.

    Returns ``(fetched, ids written, gone, masked, refused)``.
    """
    log = logging.getLogger("ftkit.export")
    fetched = gone = masked = refused = 0
    written: set[str] = set()
    if not todo:
        return 0, written, 0, 0, 0

    def same_id(line: bytes, job_id: str) -> bool:
        try:
            return summarize(line).id == job_id
        except (msgspec.DecodeError, ValueError):
            return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ftkit-export") as pool:
        futures = {pool.submit(fetch): job_id for job_id, fetch in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                job_id = futures[future]
                line = future.result()
                if line is None:
                    gone += 1
                    log.warning("job %s was listed but %s answered 404; skipped", client.scrub(job_id), missing)
                else:
                    fetched += 1
                    line, times = client.mask(line)
                    if times and not same_id(line, job_id):
                        refused += 1
                        log.warning("job %s: its id holds the API key, which cannot be masked there; not written",
                                    client.scrub(job_id))
                    else:
                        if times:
                            masked += 1
                            log.warning("job %s: its body held the API key (%d times); replaced with *** before writing",
                                        client.scrub(job_id), times)
                        stored = index.jobs.get(job_id)
                        if stored is None or stored.digest != digest(line):
                            appender.append(line)
                            written.add(job_id)
                if report is not None:
                    report(fetched + gone, len(todo))
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return fetched, written, gone, masked, refused

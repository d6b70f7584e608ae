"""Export fine-tuning jobs from the Mistral API into an NDJSON dump, incrementally.

:func:`export_jobs` lists every page of ``GET /v1/fine_tuning/jobs`` (whose jobs carry
no events and no checkpoints), then fetches each job's details
(``GET /v1/fine_tuning/jobs/{id}``) with bounded concurrency, and appends them to a dump
as they arrive.

The dump
--------
A dump is NDJSON: one detailed job per line, **the bytes the API sent for that job**,
not a re-serialisation (an SDK round trip drops the keys it does not know, and the API
adds keys over time). Leading and trailing whitespace is stripped; if a body spans
several lines (pretty-printed JSON), its raw CR and LF bytes are removed. Valid JSON can
hold those bytes only as whitespace between tokens (inside strings they must be
escaped), and no token needs whitespace to be told from the next one, so the line
decodes to exactly the same value and every other byte is kept as sent.

Each line is flushed as soon as it is written, so a run that is interrupted or killed
keeps every job it had received; at most the requests in flight are lost. A later run
resumes: it skips the jobs that the dump already holds in a final status with the same
``modified_at``, and fetches the rest.

A job that is fetched again (new ``modified_at``, or not yet in a final status) is
appended as a newer *snapshot* line; a byte-identical snapshot is not appended. At the
end of a completed run the dump is compacted (written to a temporary file, then
``os.replace``): it keeps, for each job, the snapshot with the latest ``modified_at``
(the later line wins ties), so after a completed run **the dump holds every job exactly
once**. A run that was killed may leave older snapshots behind; readers that meet them
should apply the same rule, and the next run (or :func:`compact_dump`) removes them.
Lines are in the order they were written; do not rely on it.

Gzip dumps cannot be appended to and are refused: export to a plain file and compress
it afterwards.

The API key
-----------
The key comes from ``api_key=`` or the ``MISTRAL_API_KEY`` environment variable. It is
sent only in the ``Authorization`` header and never written to the dump, to logs, to
error messages or to reprs; it must be printable ASCII (HTTP headers carry nothing
else), and a key that is not is refused without being shown. If the server echoes the
key back in an error body, it is replaced with ``***`` before the body is shortened for
a message, so no part of it shows. A key shorter than 8 characters cannot be hidden
that way without mangling ordinary words (the key ``k`` is in "network"): such a key
is replaced only where it stands as a whole token (not between letters or digits).
The base URL is ``https://api.mistral.ai`` unless
``base_url=`` or ``MISTRAL_API_URL`` says otherwise.

Examples
--------
>>> import ftkit.export
>>> ftkit.export.export_jobs("jobs.ndjson.gz", api_key="k")
Traceback (most recent call last):
...
ftkit.export.ExportError: cannot append to the gzip dump 'jobs.ndjson.gz': expected a plain NDJSON path (e.g. 'jobs.ndjson'); export to it and compress it afterwards
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import email.utils
import hashlib
import logging
import os
import random
import re
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import msgspec

from ftkit.progress import Progress
from ftkit.schema import FINAL_STATUSES

try:  # POSIX only: guards a dump against two exports writing to it at once.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_BASE_URL",
    "ExportError",
    "ExportResult",
    "export_jobs",
    "compact_dump",
    "add_export_command",
    "run_export",
]

logger = logging.getLogger("ftkit.export")

#: Where the Mistral API lives, unless ``base_url=`` or ``MISTRAL_API_URL`` says otherwise.
DEFAULT_BASE_URL = "https://api.mistral.ai"

_JOBS_PATH = "/v1/fine_tuning/jobs"
#: The list endpoint's filters, as ``export_jobs`` accepts them.
_FILTERS = (
    "model",
    "status",
    "created_after",
    "created_before",
    "created_by_me",
    "wandb_project",
    "wandb_name",
    "suffix",
)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest wait a ``Retry-After`` header can impose, in seconds.
_MAX_RETRY_AFTER = 120.0
#: Longest wait between retries without ``Retry-After``, in seconds.
_MAX_BACKOFF = 30.0
#: How often appended lines are fsynced (they are flushed to the OS at once).
_FSYNC_INTERVAL = 1.0


class ExportError(RuntimeError):
    """An export could not go on; the message says what was expected, found, and where."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What one :func:`export_jobs` run did.

    Attributes
    ----------
    path
        The dump.
    listed
        Jobs the list endpoint returned (after the filters), each counted once.
    fetched
        Jobs whose details were fetched.
    skipped_unchanged
        Listed jobs not fetched: the dump already held them in a final status with the
        same ``modified_at``.
    written
        Lines appended to the dump (fetched jobs whose bytes differed from the dump's).
    total
        Jobs in the dump at the end, each once.
    not_found
        Listed jobs whose details answered 404 (deleted in between); not written.
    """

    path: Path
    listed: int
    fetched: int
    skipped_unchanged: int
    written: int
    total: int
    not_found: int = 0


# --- wire shapes: only the keys the export needs -------------------------------------


class _Summary(msgspec.Struct, gc=False):
    """The keys of a job that decide whether to fetch it; the rest stays in the bytes."""

    id: str
    status: str
    modified_at: int


class _Page(msgspec.Struct, gc=False):
    """A list response; ``total`` is absent in older API versions."""

    data: list[_Summary]
    total: int | None = None


_decode_summary = msgspec.json.Decoder(_Summary).decode
_decode_page = msgspec.json.Decoder(_Page).decode


class _Secret:
    """A string that never shows itself in a repr or str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Secret('***')"

    __str__ = __repr__


#: Keys at least this long are redacted wherever they occur; shorter ones as whole tokens.
_MIN_REDACT_ANYWHERE = 8


def _redact(text: str, key: str) -> str:
    """``text`` with ``key`` replaced by ``***``; see :meth:`_ApiClient._redact`.

    Examples
    --------
    >>> _redact("401: bad key Bearer sk-0123456789", "sk-0123456789")
    '401: bad key Bearer ***'
    >>> _redact("network error for Bearer k", "k")
    'network error for Bearer ***'
    """
    if not key:
        return text
    if len(key) >= _MIN_REDACT_ANYWHERE:
        return text.replace(key, "***")
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", "***", text)


class _Cancelled(Exception):
    """Raised in a worker when the export stops before its request was made."""


# --- the dump on disk -----------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Snapshot:
    """Where the winning snapshot of one job sits in the dump."""

    modified_at: int
    status: str
    offset: int
    digest: bytes


@dataclasses.dataclass(slots=True)
class _DumpIndex:
    """The dump's jobs (latest snapshot each), its line count and its valid length."""

    jobs: dict[str, _Snapshot]
    lines: int
    end: int  # bytes up to the end of the last complete, valid line
    torn_tail: bool  # whether bytes after ``end`` are a line cut short by a kill

    @property
    def stale(self) -> int:
        return self.lines - len(self.jobs)


def _digest(line: bytes) -> bytes:
    return hashlib.blake2b(line, digest_size=16).digest()


def _iter_lines(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, line)`` for each line of ``f``, newline included."""
    offset = 0
    for line in f:
        yield offset, line
        offset += len(line)


def _index_dump(path: Path) -> _DumpIndex:
    """Read a dump's snapshots; raise :class:`ExportError` on a line that is not a job.

    A last line without its newline that does not decode is a write cut short by a
    kill: it is reported as ``torn_tail`` rather than as an error.
    """
    jobs: dict[str, _Snapshot] = {}
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
        for lineno, (offset, raw) in enumerate(_iter_lines(f), start=1):
            line = raw.strip()
            if not line:
                end = offset + len(raw)
                continue
            try:
                job = _decode_summary(line)
            except msgspec.DecodeError as exc:
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
                jobs[job.id] = _Snapshot(job.modified_at, job.status, offset, _digest(line))
    return _DumpIndex(jobs, lines, end, torn_tail)


def compact_dump(path: str | os.PathLike[str]) -> int:
    """Rewrite a dump so that it holds each job once, keeping its latest snapshot.

    A job's latest snapshot is its line with the greatest ``modified_at``; among equal
    ones, the later line. The file is written to a temporary file beside it and moved
    into place with ``os.replace``, so a crash leaves either the old or the new dump.
    Nothing is rewritten when the dump already holds each job once.

    Parameters
    ----------
    path
        An NDJSON dump, as written by :func:`export_jobs`.

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
    with open(path, "rb") as held:
        _lock(held, path)
        index = _index_dump(path)
        if index.stale == 0 and not index.torn_tail and index.end == path.stat().st_size:
            return 0
        _rewrite(path, index)
    return index.stale


def _rewrite(path: Path, index: _DumpIndex) -> None:
    """Write the winning snapshots of ``index`` to a temporary file, then replace ``path``."""
    keep = {snap.offset for snap in index.jobs.values()}
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as f:
            for offset, raw in _iter_lines(f):
                if offset >= index.end:
                    break
                if offset in keep:
                    out.write(raw.strip() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    logger.info("compacted %s: %d jobs, %d stale lines removed", path, len(index.jobs), index.stale)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _normalize_body(body: bytes) -> bytes:
    """Make one NDJSON line of a job body, keeping every byte but CR/LF and the edges.

    Examples
    --------
    >>> _normalize_body(b'{"id": "a",\\n  "x": [1, 2]}\\n')
    b'{"id": "a",  "x": [1, 2]}'
    """
    body = body.strip()
    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\r", b"").replace(b"\n", b"")
    return body


def _lock(file: BinaryIO, path: Path) -> None:
    """Lock an open dump for this process (released when the file is closed)."""
    if fcntl is None:
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        msg = f"cannot write to the dump {str(path)!r}: another export is writing to it (expected no other)"
        raise ExportError(msg) from None


class _Appender:
    """Appends lines to the dump: flushed at once, fsynced at least once a second."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Whether this appender created the file (it did not exist before).
        self.created = False
        for _ in range(10):
            self.created = not path.exists()
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
            try:
                _lock(self._file, path)
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


# --- HTTP ---------------------------------------------------------------------------


class _ApiClient:
    """The Mistral fine-tuning endpoints over one ``httpx.Client``, with retries.

    The API key lives only in the client's ``Authorization`` header (which httpx shows
    as ``[secure]``); this object's repr shows the base URL only.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: _Secret,
        timeout: float,
        max_retries: int,
        backoff: float,
        concurrency: int,
        stop: threading.Event,
        key_source: str = "MISTRAL_API_KEY or api_key=",
    ) -> None:
        self.base_url = base_url
        self.key_source = key_source
        self._secret = api_key
        self.max_retries = max_retries
        self.backoff = backoff
        self._stop = stop
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {api_key.reveal()}",
                "Accept": "application/json",
                "User-Agent": "ftkit-export",
            },
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency + 1),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"_ApiClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def _redact(self, text: str) -> str:
        """``text`` with the key replaced by ``***`` (redact the whole text, then shorten it).

        A key of at least :data:`_MIN_REDACT_ANYWHERE` characters is replaced wherever it
        occurs; a shorter one only where it is a whole token, so that the key ``k`` does
        not turn "network error" into "networ*** error".
        """
        return _redact(text, self._secret.reveal())

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Cancelled

    def get(self, path: str, *, params: dict[str, str] | None, what: str, check: Callable[[bytes], Any]) -> tuple[bytes, Any]:
        """GET ``path`` and return its body and ``check(body)``, retrying what may pass.

        Retried: 429 and 5xx (honouring ``Retry-After``), timeouts, network errors, and
        a 200 whose body ``check`` rejects. Raised at once: 401/403 (the key was
        refused), other 4xx. ``None`` is returned for a 404 of a job's details.
        """
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                raise _Cancelled
            last = attempt == self.max_retries
            try:
                response = self._http.get(path, params=params)
            except httpx.TimeoutException as exc:
                problem = f"no answer within {self._http.timeout.read}s ({type(exc).__name__})"
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                problem = self._redact(f"network error: {type(exc).__name__}: {exc}")
                delay = self._backoff(attempt)
            else:
                code = response.status_code
                if code in (401, 403):
                    msg = (
                        f"the API refused the API key (HTTP {code}) for {what} at {url}:"
                        f" expected a valid key in {self.key_source}, with access"
                        " to fine-tuning jobs"
                    )
                    raise ExportError(msg)
                if code == 200:
                    try:
                        return response.content, check(response.content)
                    except (msgspec.DecodeError, ValueError) as exc:
                        snippet = self._redact(response.content.decode("utf-8", "replace"))[:80]
                        problem = self._redact(f"malformed response: {exc} (body starts {snippet!r})")
                        delay = self._backoff(attempt)
                elif code == 404 and what.startswith("job "):
                    return b"", None
                elif code in _RETRY_STATUSES:
                    problem = f"HTTP {code}"
                    delay = self._retry_after(response)
                    if delay is None:
                        delay = self._backoff(attempt)
                else:
                    snippet = self._redact(response.text)[:200]
                    msg = f"the API answered HTTP {code} for {what} at {url}: expected 200, found {snippet!r}"
                    raise ExportError(msg)
            if last:
                break
            logger.warning(
                "%s for %s; retry %d of %d in %.2fs", problem, what, attempt + 1, self.max_retries, delay
            )
            self._wait(delay)
        msg = f"gave up on {what} at {url} after {self.max_retries + 1} attempts: last problem was {problem}"
        raise ExportError(msg)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter on the upper half."""
        ceiling = min(_MAX_BACKOFF, self.backoff * 2**attempt)
        return ceiling / 2 + random.random() * ceiling / 2  # noqa: S311 - not crypto

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            seconds = when.timestamp() - time.time()
        return min(max(seconds, 0.0), _MAX_RETRY_AFTER)

    def list_jobs(self, *, params: dict[str, str], page_size: int) -> list[_Summary]:
        """Every listed job, each once, in the API's order."""
        seen: dict[str, _Summary] = {}
        page = 0
        while True:
            query = {**params, "page": str(page), "page_size": str(page_size)}
            _, decoded = self.get(_JOBS_PATH, params=query, what=f"page {page} of the job list", check=_decode_page)
            new = 0
            for job in decoded.data:
                if job.id not in seen:
                    seen[job.id] = job
                    new += 1
            logger.info("listed page %d: %d jobs (%d new)", page, len(decoded.data), new)
            if not decoded.data:
                break
            if decoded.total is not None:
                # The API may send fewer jobs per page than asked: page on until all
                # ``total`` jobs were seen (or an empty page, should some vanish).
                if len(seen) >= decoded.total:
                    break
            elif len(decoded.data) < page_size:
                break
            if new == 0:
                logger.warning("page %d repeated earlier jobs only; stopping the listing there", page)
                break
            page += 1
        return list(seen.values())

    def fetch_job(self, job_id: str) -> bytes | None:
        """The job's detailed JSON as one NDJSON line, or ``None`` if it is gone (404)."""

        def check(body: bytes) -> _Summary:
            job = _decode_summary(body)
            if job.id != job_id:
                msg = f"expected job {job_id!r}, found job {job.id!r}"
                raise ValueError(msg)
            return job

        path = f"{_JOBS_PATH}/{urllib.parse.quote(job_id, safe='')}"
        body, job = self.get(path, params=None, what=f"job {job_id}", check=check)
        return None if job is None else _normalize_body(body)


# --- options ----------------------------------------------------------------------------


def _to_query_time(value: Any, *, name: str) -> str:
    """A datetime, UNIX seconds or ISO 8601 string as the ISO 8601 string the API takes."""
    if isinstance(value, bool):
        pass
    elif isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    elif isinstance(value, str):
        try:
            return _to_query_time(_parse_time(value), name=name)
        except ValueError:
            pass
    msg = f"{name}: expected a datetime, UNIX seconds or an ISO 8601 string, found {value!r}"
    raise ExportError(msg)


def _parse_time(text: str) -> datetime | float:
    """UNIX seconds or an ISO 8601 date/datetime (naive means UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _query_params(since: Any, filters: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(filters) - set(_FILTERS))
    if unknown:
        msg = f"export_jobs() got unknown filter(s) {', '.join(unknown)}: expected some of {', '.join(_FILTERS)}"
        raise TypeError(msg)
    if since is not None:
        if filters.get("created_after") is not None:
            msg = "export_jobs(): expected since= or created_after=, found both"
            raise TypeError(msg)
        filters = {**filters, "created_after": since}
    params: dict[str, str] = {}
    for name in _FILTERS:
        value = filters.get(name)
        if value is None:
            continue
        if name in ("created_after", "created_before"):
            params[name] = _to_query_time(value, name=name)
        elif name == "created_by_me":
            params[name] = "true" if value else "false"
        else:
            params[name] = str(value)
    return params


def _resolve_base_url(base_url: str | None, *, env: str = "MISTRAL_API_URL", default: str = DEFAULT_BASE_URL) -> str:
    url = (base_url or os.environ.get(env) or default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        msg = f"base URL: expected http:// or https://, found {url!r} (from base_url= or {env})"
        raise ExportError(msg)
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        msg = f"base URL: expected a valid http(s) URL, found {url!r} ({exc}) (from base_url= or {env})"
        raise ExportError(msg) from None
    if not parsed.host or (port is not None and not 0 < port < 65536):
        msg = f"base URL: expected a host (and a port up to 65535), found {url!r} (from base_url= or {env})"
        raise ExportError(msg)
    return url


# --- the export -------------------------------------------------------------------------


def export_jobs(
    path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    since: datetime | float | str | None = None,
    base_url: str | None = None,
    page_size: int = 100,
    concurrency: int = 8,
    timeout: float = 30.0,
    max_retries: int = 5,
    backoff: float = 0.5,
    progress: bool | Callable[[int, int], None] | None = None,
    **filters: Any,
) -> ExportResult:
    """Export fine-tuning jobs, with their events and checkpoints, into an NDJSON dump.

    Lists every page of ``GET /v1/fine_tuning/jobs``, then fetches the details of each
    job that is new, changed (another ``modified_at``) or not yet in a final status, at
    most ``concurrency`` at a time, and appends each to ``path`` as it arrives. A dump
    that exists is resumed: jobs it holds in a final status with the listed
    ``modified_at`` are not fetched again. At the end the dump holds each job once
    (see the module docs for the format).

    Parameters
    ----------
    path
        The NDJSON dump to create or update. ``.gz`` paths are refused.
    api_key
        The Mistral API key; by default ``MISTRAL_API_KEY``. Never written anywhere.
    since
        Only jobs created at or after this time: a datetime (naive means UTC), UNIX
        seconds, or an ISO 8601 string. Sent as the ``created_after`` filter.
    base_url
        The API's base URL; by default ``MISTRAL_API_URL``, else
        ``https://api.mistral.ai``.
    page_size
        Jobs per list page.
    concurrency
        Most detail requests in flight at once.
    timeout
        Seconds to wait for a connection or for data, per request.
    max_retries
        Retries per request after 429, 5xx, a timeout, a network error or a malformed
        body; waits follow ``Retry-After`` when given (up to 120 s), else exponential
        backoff from ``backoff`` seconds (up to 30 s).
    backoff
        The first retry's wait, in seconds, when the API gives no ``Retry-After``.
    progress
        A progress line on stderr (:class:`ftkit.progress.Progress`): ``None``
        (default) draws it when stderr is a terminal and the export takes over a
        second, ``True``/``False`` always/never. A callable ``progress(done, total)``
        is called instead after each job (``done`` counts the jobs answered, ``total``
        the jobs to fetch).
    **filters
        The list endpoint's filters: ``model``, ``status``, ``created_after``,
        ``created_before`` (datetime, UNIX seconds or ISO 8601), ``created_by_me``
        (bool), ``wandb_project``, ``wandb_name``, ``suffix``.

    Returns
    -------
    ExportResult
        The counts of this run.

    Raises
    ------
    ExportError
        When the key is missing or refused (HTTP 401/403; the message never holds the
        key), the API keeps failing after ``max_retries``, answers another 4xx, sends a
        body that is not a job, or the dump cannot be appended to. What was written
        before stays in the dump; re-running resumes.
    TypeError
        On an unknown filter.

    Examples
    --------
    With ``MISTRAL_API_KEY`` set:

    >>> result = export_jobs("jobs.ndjson", since="2025-01-01")  # doctest: +SKIP
    >>> result  # doctest: +SKIP
    ExportResult(path=PosixPath('jobs.ndjson'), listed=412, fetched=412, skipped_unchanged=0, written=412, total=412, not_found=0)

    Without a key, nothing is requested:

    >>> import os
    >>> saved = os.environ.pop("MISTRAL_API_KEY", None)
    >>> export_jobs("jobs.ndjson")
    Traceback (most recent call last):
    ...
    ftkit.export.ExportError: no API key: expected api_key= or the MISTRAL_API_KEY environment variable, found neither
    >>> if saved is not None:
    ...     os.environ["MISTRAL_API_KEY"] = saved
    """
    path = Path(path)
    if path.suffix == ".gz":
        msg = (
            f"cannot append to the gzip dump {str(path)!r}: expected a plain NDJSON path"
            f" (e.g. {path.with_suffix('').name!r}); export to it and compress it afterwards"
        )
        raise ExportError(msg)
    params = _query_params(since, filters)
    key = api_key if api_key is not None else os.environ.get("MISTRAL_API_KEY", "")
    key = key.strip()
    if not key:
        msg = "no API key: expected api_key= or the MISTRAL_API_KEY environment variable, found neither"
        raise ExportError(msg)
    if not (key.isascii() and key.isprintable()):
        msg = (
            "API key: expected printable ASCII characters only (as an HTTP header must be),"
            " found others; check api_key= or MISTRAL_API_KEY (the key is not shown)"
        )
        raise ExportError(msg)
    secret = _Secret(key)
    del key, api_key
    url = _resolve_base_url(base_url)
    if page_size < 1 or concurrency < 1 or max_retries < 0 or timeout <= 0:
        msg = (
            "expected page_size >= 1, concurrency >= 1, max_retries >= 0 and timeout > 0,"
            f" found {page_size}, {concurrency}, {max_retries} and {timeout}"
        )
        raise ExportError(msg)

    stop = threading.Event()
    try:
        client = _ApiClient(
            base_url=url,
            api_key=secret,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            concurrency=concurrency,
            stop=stop,
        )
    except (httpx.InvalidURL, ValueError) as exc:  # not expected after the checks above
        msg = f"cannot set up the HTTP client for {url!r}: {type(exc).__name__} (check base_url= and the key)"
        raise ExportError(msg) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        appender = _Appender(path)  # holds the dump's lock until the end
    except BaseException:
        client.close()
        raise
    try:
        index = _index_dump(path)
        if path.stat().st_size != index.end:
            # A line cut short by a kill: drop it, so that the next line starts clean.
            logger.warning("%s ended in an incomplete line (a run was killed); removed it", path)
            appender.truncate(index.end)
        if index.end and not _ends_with_newline(path, index.end):
            appender.append(b"")  # a last line written without its newline: end it
        with _progress_line(progress) as (bar, report):
            logger.info("listing jobs at %s%s", url, _JOBS_PATH)
            listed = client.list_jobs(params=params, page_size=page_size)
            todo = [job for job in listed if _needs_fetch(job, index.jobs.get(job.id))]
            skipped = len(listed) - len(todo)
            logger.info("%d jobs listed: fetching %d, %d unchanged", len(listed), len(todo), skipped)
            if bar is not None:
                bar.set_label(f"exporting: {skipped} unchanged, fetching", total=len(todo))
            fetched, written_ids, not_found = _fetch_all(
                client, appender, index, todo, concurrency=concurrency, stop=stop, report=report
            )
        total = len(index.jobs.keys() | written_ids)
        if index.stale or not written_ids.isdisjoint(index.jobs):
            # Older snapshots are in the dump (from this run or a killed one): compact,
            # still holding the lock.
            appender.sync()
            final = _index_dump(path)
            _rewrite(path, final)
            total = len(final.jobs)
    except BaseException:
        appender.discard_if_unused()
        raise
    finally:
        stop.set()
        client.close()
        appender.close()
    result = ExportResult(
        path=path,
        listed=len(listed),
        fetched=fetched,
        skipped_unchanged=skipped,
        written=len(written_ids),
        total=total,
        not_found=not_found,
    )
    logger.info("export done: %s", result)
    return result


def _ends_with_newline(path: Path, end: int) -> bool:
    with open(path, "rb") as f:
        f.seek(end - 1)
        return f.read(1) == b"\n"


@contextlib.contextmanager
def _progress_line(
    progress: bool | Callable[[int, int], None] | None,
) -> Iterator[tuple[Progress | None, Callable[[int, int], None] | None]]:
    """The progress line to draw (if any) and the callback to call after each job."""
    if callable(progress):
        yield None, progress
        return
    if progress is False:
        yield None, None
        return
    delay = 0.0 if progress else 1.0
    with Progress("exporting: listing jobs", stream=sys.stderr, delay=delay, enabled=progress) as bar:
        yield bar, lambda done, total: bar.advance()


def _needs_fetch(listed: _Summary, stored: _Snapshot | None) -> bool:
    """Whether a listed job is new, changed, or may still change."""
    if stored is None:
        return True
    if listed.modified_at != stored.modified_at:
        return True
    return not (stored.status in FINAL_STATUSES and listed.status in FINAL_STATUSES)


def _fetch_all(
    client: _ApiClient,
    appender: _Appender,
    index: _DumpIndex,
    todo: list[_Summary],
    *,
    concurrency: int,
    stop: threading.Event,
    report: Callable[[int, int], None] | None,
) -> tuple[int, set[str], int]:
    """Fetch ``todo`` on a thread pool; append each result from this thread, in order of arrival.

    Threads rather than asyncio so that the export also runs inside Jupyter, whose
    event loop is already running. On any error, or a KeyboardInterrupt, the requests
    not yet started are cancelled, the ones in flight are waited for (their results are
    dropped), and the error propagates.
    """
    fetched = not_found = 0
    written: set[str] = set()
    total = len(todo)
    if not todo:
        return 0, written, 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ftkit-export") as pool:
        futures = {pool.submit(client.fetch_job, job.id): job for job in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                line = future.result()
                if line is None:
                    not_found += 1
                    logger.warning("job %s was listed but its details answered 404; skipped", job.id)
                else:
                    fetched += 1
                    stored = index.jobs.get(job.id)
                    if stored is None or stored.digest != _digest(line):
                        appender.append(line)
                        written.add(job.id)
                if report is not None:
                    report(fetched + not_found, total)
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return fetched, written, not_found


# --- command line -----------------------------------------------------------------------


def add_export_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to an ``argparse`` subparsers object.

    The parser's ``func`` default is :func:`run_export`, so that a CLI can dispatch
    with ``args.func(args)``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="ftkit")
    >>> sub = parser.add_subparsers(dest="command")
    >>> _ = add_export_command(sub)
    >>> args = parser.parse_args(["export", "-o", "jobs.ndjson", "--status", "SUCCESS"])
    >>> args.output, args.status, args.concurrency, args.func is run_export
    ('jobs.ndjson', 'SUCCESS', 8, True)
    """
    parser = subparsers.add_parser(
        "export",
        help="export jobs from the Mistral (or OpenAI) API into an NDJSON dump",
        description=(
            "Export fine-tuning jobs, with events and checkpoints, from the Mistral API into"
            " an NDJSON dump (one job per line, as the API sent it). Re-running updates the"
            " dump: only new, changed and unfinished jobs are fetched again. The API key is"
            " read from MISTRAL_API_KEY, the base URL from MISTRAL_API_URL."
        ),
    )
    parser.add_argument("-o", "--output", required=True, metavar="DUMP", help="the dump to create or update (.ndjson)")
    parser.add_argument(
        "--provider",
        choices=("mistral", "openai"),
        default="mistral",
        help="whose API: mistral (default) or openai (OPENAI_API_KEY, OPENAI_BASE_URL; see ftkit.export_openai)",
    )
    parser.add_argument("--model", help="only jobs fine-tuning this base model")
    parser.add_argument("--status", help="only jobs in this status (e.g. SUCCESS, RUNNING)")
    parser.add_argument(
        "--since", metavar="TIME", help="only jobs created at/after TIME (ISO 8601 date or datetime, or UNIX seconds)"
    )
    parser.add_argument("--created-before", metavar="TIME", help="only jobs created before TIME")
    parser.add_argument("--created-by-me", action="store_true", default=None, help="only jobs created with this key's user")
    parser.add_argument("--wandb-project", metavar="PROJECT", help="only jobs logging to this W&B project")
    parser.add_argument("--wandb-name", metavar="NAME", help="only jobs with this W&B run name")
    parser.add_argument("--suffix", help="only jobs whose fine-tuned model has this suffix")
    parser.add_argument("--concurrency", type=int, default=8, metavar="N", help="detail requests in flight (default 8)")
    parser.add_argument("--page-size", type=int, default=100, metavar="N", help="jobs per list page (default 100)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per-request timeout (default 30)")
    parser.add_argument("--base-url", metavar="URL", help="API base URL (default: MISTRAL_API_URL or https://api.mistral.ai)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    parser.set_defaults(func=run_export)
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Run ``ftkit export`` for parsed ``args``; print a one-line error and return 1 on failure.

    A one-line summary goes to stderr (unless ``--quiet``). Returns 0 on success, 1 on
    an error (``ftkit: error: export: ...``, no traceback), 130 when interrupted (the
    dump keeps what was fetched; re-running resumes).
    """
    if getattr(args, "provider", "mistral") == "openai":
        from .export_openai import run_openai_export

        return run_openai_export(args)
    filters = {
        "model": args.model,
        "status": args.status,
        "created_before": args.created_before,
        "created_by_me": args.created_by_me,
        "wandb_project": args.wandb_project,
        "wandb_name": args.wandb_name,
        "suffix": args.suffix,
    }
    try:
        result = export_jobs(
            args.output,
            since=args.since,
            base_url=args.base_url,
            page_size=args.page_size,
            concurrency=args.concurrency,
            timeout=args.timeout,
            progress=False if args.quiet else None,
            **filters,
        )
    except (ExportError, OSError) as exc:
        message = " ".join(str(exc).split())
        print(f"ftkit: error: export: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ftkit: interrupted; {args.output} keeps the jobs fetched so far: re-run to resume", file=sys.stderr)
        return 130
    if not args.quiet:
        print(
            f"{result.path}: {result.total} jobs ({result.listed} listed, {result.fetched} fetched,"
            f" {result.skipped_unchanged} unchanged, {result.written} written)",
            file=sys.stderr,
        )
    return 0


# --- shared with ftkit.export_openai ------------------------------------------------------
# The OpenAI export reuses this module's HTTP client, dump appender, key handling and
# progress line under these names.

ApiClient = _ApiClient
Appender = _Appender
Secret = _Secret
redact = _redact
normalize_body = _normalize_body
resolve_base_url = _resolve_base_url
progress_line = _progress_line
fsync_dir = _fsync_dir
Cancelled = _Cancelled
DumpIndex = _DumpIndex
Snapshot = _Snapshot
digest = _digest
iter_lines = _iter_lines
rewrite_dump = _rewrite
ends_with_newline = _ends_with_newline
parse_time = _parse_time

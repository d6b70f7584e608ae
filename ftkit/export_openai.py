"""Export fine-tuning jobs from the OpenAI API (or a compatible one) into an NDJSON dump.

:func:`export_openai_jobs` pages through ``GET /fine_tuning/jobs`` (cursor pagination:
``limit``, ``after`` = the last id of the previous page, until ``has_more`` is false),
then, for each job that is new or may still change, pages through its
``/fine_tuning/jobs/{id}/events`` and ``/fine_tuning/jobs/{id}/checkpoints``, with
bounded concurrency and the retries of :mod:`ftkit.export` (429 and 5xx with
``Retry-After``, timeouts, network errors, malformed bodies).

The dump
--------
One line per job: **the bytes OpenAI sent for the job object**, with two keys appended
before its closing brace, ``"events"`` and ``"checkpoints"``, each an array of the bytes
OpenAI sent for each event and checkpoint, in the order served (newest first). Only the
list envelopes (``object``, ``has_more``, ``first_id``, ``last_id``) are not kept. CR and
LF are removed as in :mod:`ftkit.export`. :func:`ftkit.read_jobs` reads such a line as an
OpenAI job with its events and checkpoints attached (``events``/``checkpoints`` are
ftkit's keys on :class:`~ftkit.openai_schema.OpenAIJob`).

Lines are flushed as written; a run that is killed keeps every job it had finished, and a
line cut short is removed by the next run, which resumes: a job the dump holds in a final
status (``succeeded``, ``failed``, ``cancelled``) and that is listed in a final status is
not fetched again. A job fetched again is appended if its line changed; at the end of a
completed run the dump is compacted to one line per job (the later line wins).

The key comes from ``api_key=`` or ``OPENAI_API_KEY`` and goes only into the
``Authorization`` header: never to the dump, logs or messages (a server that echoes it in
an error body has it replaced by ``***``). The base URL comes from ``base_url=``,
``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from .errors import ExportError, ExportUsageError
from .export import ExportResult, parse_time, progress_line
from .export_dump import (
    Appender,
    Summary,
    check_appendable,
    check_output,
    ends_with_newline,
    fetch_into_dump,
    index_dump,
    normalize_body,
    rewrite_dump,
)
from .export_http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    ApiClient,
    api_key_from,
    check_limits,
    resolve_base_url,
)

__all__ = ["DEFAULT_OPENAI_BASE_URL", "DEFAULT_MAX_PAGES", "export_openai_jobs", "job_line", "summarize_line"]

logger = logging.getLogger("ftkit.export")

#: Where the OpenAI API lives, unless ``base_url=`` or ``OPENAI_BASE_URL`` says otherwise.
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
_JOBS_PATH = "/fine_tuning/jobs"
_FINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Most pages followed for one list (jobs, or one job's events or checkpoints), by default.
DEFAULT_MAX_PAGES = 10_000


class _Item(msgspec.Struct, gc=False):
    """The keys of a listed object the export needs; the rest stays in the bytes."""

    id: str
    status: str | None = None
    created_at: int | None = None


class _Page(msgspec.Struct, gc=False):
    """A cursor-paginated list page, its items left as the bytes sent."""

    data: list[msgspec.Raw]
    has_more: bool = False


_decode_page = msgspec.json.Decoder(_Page).decode
_decode_item = msgspec.json.Decoder(_Item).decode


class _Stored(msgspec.Struct, gc=False):
    id: str
    status: str
    created_at: int = 0
    finished_at: int | None = None


_decode_stored = msgspec.json.Decoder(_Stored).decode


def summarize_line(line: bytes) -> Summary:
    """A dump line's :class:`~ftkit.export_dump.Summary`, for the dump store.

    OpenAI jobs have no ``modified_at``: the latest of ``created_at`` and ``finished_at``
    stands in for it, and on a tie the later line wins (a later fetch is never older).

    Examples
    --------
    >>> summarize_line(b'{"id": "ftjob-a", "status": "succeeded", "created_at": 5, "finished_at": 9}')
    Summary(id='ftjob-a', status='succeeded', modified_at=9)
    """
    job = _decode_stored(line)
    return Summary(job.id, job.status, max(job.created_at, job.finished_at or 0))


def _check_page(body: bytes) -> tuple[list[bytes], list[_Item], bool]:
    page = _decode_page(body)
    raws = [bytes(raw) for raw in page.data]
    return raws, [_decode_item(raw) for raw in raws], page.has_more


def _pages(client: ApiClient, path: str, *, limit: int, what: str, max_pages: int, missing_ok: bool) -> list[tuple[bytes, _Item]] | None:
    """Every item of a cursor-paginated list, each once, in the API's order; ``None`` if a
    job's list answered 404 (the job was deleted since it was listed)."""
    items: list[tuple[bytes, _Item]] = []
    seen: set[str] = set()
    after: str | None = None
    for page_number in range(max_pages):
        params = {"limit": str(limit)}
        if after is not None:
            params["after"] = after
        _, checked = client.get(
            path, params=params, what=f"{what} (page {page_number})", check=_check_page, missing_ok=missing_ok
        )
        if checked is None:  # 404 (only for a job's lists): the job is gone
            return None
        raws, decoded, has_more = checked
        new = 0
        for raw, item in zip(raws, decoded):
            if item.id not in seen:
                seen.add(item.id)
                items.append((raw, item))
                new += 1
        if not has_more or not decoded:
            return items
        if new == 0:
            logger.warning("%s: a page repeated earlier items only; stopping there", what)
            return items
        after = decoded[-1].id
    msg = f"{what}: more than {max_pages:,} pages (max_pages): expected has_more to become false"
    raise ExportError(msg)


def job_line(job: bytes, events: list[bytes], checkpoints: list[bytes]) -> bytes:
    """One dump line: the job's bytes with ``events`` and ``checkpoints`` spliced in.

    Examples
    --------
    >>> job_line(b'{"id": "ftjob-a",\\n "status": "running"}', [b'{"id": "e1"}'], [])
    b'{"id": "ftjob-a", "status": "running","events":[{"id": "e1"}],"checkpoints":[]}'
    """
    body = normalize_body(job)
    if not body.endswith(b"}"):
        msg = f"expected a JSON object for a job, found {body[:40]!r}"
        raise ExportError(msg)
    head = body[:-1].rstrip()
    comma = b"" if head.endswith(b"{") else b","
    listed = b"".join(
        [
            b'"events":[', b",".join(normalize_body(e) for e in events), b"],",
            b'"checkpoints":[', b",".join(normalize_body(c) for c in checkpoints), b"]",
        ]
    )
    return head + comma + listed + b"}"


def export_openai_jobs(
    path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    since: datetime | float | str | None = None,
    base_url: str | None = None,
    page_size: int = 100,
    concurrency: int = 8,
    timeout: float = 30.0,
    deadline: float = DEFAULT_DEADLINE,
    max_retries: int = 5,
    backoff: float = 0.5,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
    progress: bool | Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Export OpenAI fine-tuning jobs, with their events and checkpoints, into an NDJSON dump.

    Parameters are those of :func:`ftkit.export.export_jobs`, with ``OPENAI_API_KEY`` and
    ``OPENAI_BASE_URL``; ``since`` keeps the jobs created at or after it (OpenAI's list
    has no such filter: it is applied to the listed jobs). ``max_pages`` bounds each
    list (the jobs, and each job's events and checkpoints). The limits, the key and the
    output path are checked before any request (:class:`~ftkit.errors.ExportUsageError`).
    See the module docs for the dump. ``ExportResult.skipped_unchanged`` counts the jobs
    the dump already held in a final status.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.pop("OPENAI_API_KEY", None)
    >>> export_openai_jobs("jobs.ndjson")
    Traceback (most recent call last):
    ...
    ftkit.errors.ExportUsageError: no API key: expected api_key= or the OPENAI_API_KEY environment variable, found neither
    >>> if saved is not None:
    ...     os.environ["OPENAI_API_KEY"] = saved
    """
    path = Path(path)
    check_appendable(path)
    secret = api_key_from(api_key, env="OPENAI_API_KEY")
    del api_key
    url = resolve_base_url(base_url, env="OPENAI_BASE_URL", default=DEFAULT_OPENAI_BASE_URL)
    check_limits(
        page_size=page_size,
        concurrency=concurrency,
        max_retries=max_retries,
        timeout=timeout,
        backoff=backoff,
        deadline=deadline,
        max_response_bytes=max_response_bytes,
        max_pages=max_pages,
    )
    check_output(path)
    since_s = _since_seconds(since)
    stop = threading.Event()
    client = ApiClient(
        base_url=url,
        api_key=secret,
        timeout=timeout,
        max_retries=max_retries,
        backoff=backoff,
        concurrency=concurrency,
        stop=stop,
        deadline=deadline,
        max_response_bytes=max_response_bytes,
        key_hint="OPENAI_API_KEY or api_key=",
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        appender = Appender(path)
    except BaseException:
        client.close()
        raise
    try:
        index = index_dump(path, summarize=summarize_line)
        if path.stat().st_size != index.end:
            logger.warning("%s ended in an incomplete line (a run was killed); removed it", path)
            appender.truncate(index.end)
        if index.end and not ends_with_newline(path, index.end):
            appender.append(b"")
        with progress_line(progress) as (bar, report):
            listed = _pages(
                client, _JOBS_PATH, limit=page_size, what="the job list", max_pages=max_pages, missing_ok=False
            ) or []
            if since_s is not None:
                listed = [(raw, job) for raw, job in listed if job.created_at is None or job.created_at >= since_s]
            todo = [(raw, job) for raw, job in listed if _needs_fetch(job, index.jobs.get(job.id))]
            skipped = len(listed) - len(todo)
            if bar is not None:
                bar.set_label(f"exporting: {skipped} unchanged, fetching", total=len(todo))
            fetched, written, gone, masked, refused = fetch_into_dump(
                client, appender, index,
                [(job.id, functools.partial(_fetch_one, client, raw, job, page_size, max_pages)) for raw, job in todo],
                summarize=summarize_line, missing="its events or checkpoints", concurrency=concurrency, stop=stop,
                report=report,
            )
        total = len(index.jobs.keys() | written)
        if index.stale or not written.isdisjoint(index.jobs):
            appender.sync()
            final = index_dump(path, summarize=summarize_line)
            rewrite_dump(path, final)
            total = len(final.jobs)
    except BaseException:
        appender.discard_if_unused()
        raise
    finally:
        stop.set()
        client.close()
        appender.close()
    return ExportResult(
        path=path, listed=len(listed), fetched=fetched, skipped_unchanged=skipped,
        written=len(written), total=total, not_found=gone, masked=masked, refused=refused,
    )


def _since_seconds(since: Any) -> float | None:
    if since is None:
        return None
    value = since
    if isinstance(since, str):
        try:
            value = parse_time(since)
        except ValueError:
            msg = f"since: expected a datetime, UNIX seconds or an ISO 8601 string, found {since!r}"
            raise ExportUsageError(msg) from None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    msg = f"since: expected a datetime, UNIX seconds or an ISO 8601 string, found {since!r}"
    raise ExportUsageError(msg)


def _needs_fetch(listed: _Item, stored: Any) -> bool:
    return stored is None or not (stored.status in _FINAL and listed.status in _FINAL)


def _fetch_one(client: ApiClient, raw: bytes, job: _Item, limit: int, max_pages: int) -> bytes | None:
    """The job's dump line, or ``None`` if it was deleted since it was listed (a 404)."""
    quoted = urllib.parse.quote(job.id, safe="")
    events = _pages(
        client, f"{_JOBS_PATH}/{quoted}/events", limit=limit, what=f"job {job.id} events", max_pages=max_pages, missing_ok=True
    )
    if events is None:
        return None
    checkpoints = _pages(
        client, f"{_JOBS_PATH}/{quoted}/checkpoints", limit=limit, what=f"job {job.id} checkpoints",
        max_pages=max_pages, missing_ok=True,
    )
    if checkpoints is None:
        return None
    return job_line(raw, [e for e, _ in events], [c for c, _ in checkpoints])



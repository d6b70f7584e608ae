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
else), and a key that is not is refused without being shown. Wherever a message is
built from server text, the key is replaced with ``***`` in every form a server may echo
it in (as is, JSON-escaped, percent-encoded, as HTML references, in base64: see
:func:`ftkit.export_http.redact`) before the text is shortened, and control characters
are escaped. A key shorter than 8 characters cannot be hidden that way without mangling
ordinary words (the key ``k`` is in "network"): such a key is replaced only where it
stands as a whole token. A job body that holds the key (of 8 characters or more) is
written with it replaced by ``***``, with a warning; a job whose id holds it is not
written at all.

Limits
------
Each request has a ``deadline`` besides its ``timeout``, each answer a size limit
(``max_response_bytes``), and the listing a page limit (``max_pages``); see
:func:`export_jobs`. The HTTP client (:mod:`ftkit.export_http`) and the dump store
(:mod:`ftkit.export_dump`) know nothing of Mistral, so another provider can use them.

The base URL is ``https://api.mistral.ai`` unless
``base_url=`` or ``MISTRAL_API_URL`` says otherwise.

Examples
--------
>>> import ftkit.export
>>> ftkit.export.export_jobs("jobs.ndjson.gz", api_key="k")
Traceback (most recent call last):
...
ftkit.errors.ExportUsageError: cannot append to the gzip dump 'jobs.ndjson.gz': expected a plain NDJSON path (e.g. 'jobs.ndjson'); export to it and compress it afterwards
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import msgspec

from ftkit.errors import ExportError, ExportUsageError
from ftkit.export_dump import (
    Appender,
    Snapshot,
    Summary,
    check_appendable,
    check_output,
    compact_dump,
    decode_summary,
    ends_with_newline,
    fetch_into_dump,
    index_dump,
    normalize_body,
    rewrite_dump,
)
from ftkit.export_http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    ApiClient,
    api_key_from,
    check_limits,
    resolve_base_url,
)
from ftkit.progress import Progress
from ftkit.schema import FINAL_STATUSES

__all__ = [
    "DEFAULT_BASE_URL",
    "ExportError",
    "ExportUsageError",
    "ExportResult",
    "export_jobs",
    "compact_dump",
]

logger = logging.getLogger("ftkit.export")

#: Where the Mistral API lives, unless ``base_url=`` or ``MISTRAL_API_URL`` says otherwise.
DEFAULT_BASE_URL = "https://api.mistral.ai"
#: Default most list pages read: a million jobs at 100 a page.
DEFAULT_MAX_PAGES = 10_000

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
    masked
        Jobs whose body held the API key: it was replaced with ``***`` before writing.
    refused
        Jobs not written because the key was in their id, where it cannot be masked.
    """

    path: Path
    listed: int
    fetched: int
    skipped_unchanged: int
    written: int
    total: int
    not_found: int = 0
    masked: int = 0
    refused: int = 0


class _Page(msgspec.Struct, gc=False):
    """A list response; ``total`` is absent in older API versions."""

    data: list[Summary]
    total: int | None = None


_decode_page = msgspec.json.Decoder(_Page).decode


def list_jobs(client: ApiClient, *, params: dict[str, str], page_size: int, max_pages: int = DEFAULT_MAX_PAGES) -> list[Summary]:
    """Every listed job, each once, in the API's order.

    Stops at an empty page, once ``total`` jobs were seen, at a short page when the API
    gives no ``total``, or at a page that brings no new job; a listing that needs more
    than ``max_pages`` pages is an :class:`ExportError`.
    """
    seen: dict[str, Summary] = {}
    page = 0
    while True:
        if page >= max_pages:
            msg = (
                f"the job list did not end within {max_pages:,} pages of {page_size} (max_pages):"
                f" expected at most that many, found {len(seen):,} jobs so far and more pages;"
                " narrow the export with filters (e.g. since=) or raise max_pages"
            )
            raise ExportError(msg)
        query = {**params, "page": str(page), "page_size": str(page_size)}
        _, decoded = client.get(_JOBS_PATH, params=query, what=f"page {page} of the job list", check=_decode_page)
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


def fetch_job(client: ApiClient, job_id: str) -> bytes | None:
    """The job's detailed JSON as one NDJSON line, or ``None`` if it is gone (404)."""

    def check(body: bytes) -> Summary:
        job = decode_summary(body)
        if job.id != job_id:
            msg = f"expected job {job_id!r}, found job {job.id!r}"
            raise ValueError(client.scrub(msg))
        return job

    path = f"{_JOBS_PATH}/{urllib.parse.quote(job_id, safe='')}"
    body, job = client.get(path, params=None, what=f"job {job_id}", check=check, missing_ok=True)
    return None if job is None else normalize_body(body)


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
            return _to_query_time(parse_time(value), name=name)
        except ValueError:
            pass
    msg = f"{name}: expected a datetime, UNIX seconds or an ISO 8601 string, found {value!r}"
    raise ExportUsageError(msg)


def parse_time(text: str) -> datetime | float:
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


def _resolve_base_url(base_url: str | None) -> str:
    return resolve_base_url(base_url, env="MISTRAL_API_URL", default=DEFAULT_BASE_URL)


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
    deadline: float = DEFAULT_DEADLINE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
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
        Seconds to wait for a connection or for the next bytes of an answer.
    max_retries
        Retries per request after 429, 5xx, a timeout, a network error or a malformed
        body; waits follow ``Retry-After`` when it is a sane number of seconds or an HTTP
        date (up to 120 s), else exponential backoff from ``backoff`` seconds (up to 30 s).
    backoff
        The first retry's wait, in seconds, when the API gives no usable ``Retry-After``.
    deadline
        Seconds one request may take in all, from sending it to the last byte of its
        answer (``timeout`` bounds each wait for bytes; this bounds their sum, so a
        server trickling bytes cannot hold the export). Past it, the request is retried.
    max_response_bytes
        The largest answer accepted (after decompression), 64 MiB by default; a larger
        one ends the export with an :class:`ExportError`.
    max_pages
        The most list pages read (10,000 by default); a listing that goes on is an
        :class:`ExportError`. The listing also stops at a page that brings no new job.
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
    ExportUsageError
        Before any request: no key (or one that is not printable ASCII), a bad base URL,
        option or filter value, a ``.gz`` dump, or a dump path that is a FIFO, device,
        link or directory. A subclass of :class:`ExportError`.
    ExportError
        When the key is refused (HTTP 401/403; no message ever holds the key, in any
        encoding), the API keeps failing after ``max_retries``, answers another 4xx,
        sends a body that is not a job or is over ``max_response_bytes``, the listing
        passes ``max_pages``, or the dump cannot be appended to. What was written
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
    ftkit.errors.ExportUsageError: no API key: expected api_key= or the MISTRAL_API_KEY environment variable, found neither
    >>> if saved is not None:
    ...     os.environ["MISTRAL_API_KEY"] = saved
    """
    path = Path(path)
    check_appendable(path)
    params = _query_params(since, filters)
    secret = api_key_from(api_key, env="MISTRAL_API_KEY")
    del api_key
    url = _resolve_base_url(base_url)
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

    stop = threading.Event()
    try:
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
            key_hint="MISTRAL_API_KEY or api_key=",
        )
    except (httpx.InvalidURL, ValueError) as exc:  # not expected after the checks above
        msg = f"cannot set up the HTTP client for {url!r}: {type(exc).__name__} (check base_url= and the key)"
        raise ExportUsageError(msg) from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        appender = Appender(path)  # holds the dump's lock until the end
    except BaseException:
        client.close()
        raise
    try:
        index = index_dump(path)
        if path.stat().st_size != index.end:
            # A line cut short by a kill: drop it, so that the next line starts clean.
            logger.warning("%s ended in an incomplete line (a run was killed); removed it", path)
            appender.truncate(index.end)
        if index.end and not ends_with_newline(path, index.end):
            appender.append(b"")  # a last line written without its newline: end it
        with progress_line(progress) as (bar, report):
            logger.info("listing jobs at %s%s", url, _JOBS_PATH)
            listed = list_jobs(client, params=params, page_size=page_size, max_pages=max_pages)
            todo = [job for job in listed if _needs_fetch(job, index.jobs.get(job.id))]
            skipped = len(listed) - len(todo)
            logger.info("%d jobs listed: fetching %d, %d unchanged", len(listed), len(todo), skipped)
            if bar is not None:
                bar.set_label(f"exporting: {skipped} unchanged, fetching", total=len(todo))
            fetched, written_ids, not_found, masked, refused = fetch_into_dump(
                client, appender, index, [(job.id, functools.partial(fetch_job, client, job.id)) for job in todo],
                summarize=decode_summary, missing="its details", concurrency=concurrency, stop=stop, report=report,
            )
        total = len(index.jobs.keys() | written_ids)
        if index.stale or not written_ids.isdisjoint(index.jobs):
            # Older snapshots are in the dump (from this run or a killed one): compact,
            # still holding the lock.
            appender.sync()
            final = index_dump(path)
            rewrite_dump(path, final)
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
        masked=masked,
        refused=refused,
    )
    logger.info("export done: %s", result)
    return result


@contextlib.contextmanager
def progress_line(
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


def _needs_fetch(listed: Summary, stored: Snapshot | None) -> bool:
    """Whether a listed job is new, changed, or may still change."""
    if stored is None:
        return True
    if listed.modified_at != stored.modified_at:
        return True
    return not (stored.status in FINAL_STATUSES and listed.status in FINAL_STATUSES)



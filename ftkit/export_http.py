"""An HTTP client for a provider's JSON API: one ``httpx.Client``, retries, limits, a hidden key.

It knows nothing of any provider's endpoints (:mod:`ftkit.export` holds Mistral's), only
how to GET a JSON body within bounds and keep the API key out of every message:

- each request has an overall ``deadline`` that bounds every socket operation (a server
  trickling its headers or body one byte at a time is cut off), besides ``timeout``, the
  longest wait for a connection or for the next bytes;
- a body larger than ``max_response_bytes`` (after decompression) is refused;
- 429 and 5xx are retried after ``Retry-After`` when it is a sane number of seconds or an
  HTTP date (at most 120 s), else after exponential backoff (``NaN``, negative or garbage
  values fall back to the backoff);
- every message built from server text has the key redacted in each encoding a server
  may echo it back in (:func:`redact`) and control characters escaped.

Examples
--------
>>> key = Secret("sk-0123456789abcdef")
>>> key
Secret('***')
>>> redact('echo: {"auth": "Bearer sk-0123456789abcdef"}', key.reveal())
'echo: {"auth": "Bearer ***"}'
"""

from __future__ import annotations

import base64
import email.utils
import functools
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpcore  # httpx's own transport layer, to bound each socket operation
import httpx
import msgspec

from ftkit.errors import ExportError, ExportUsageError
from ftkit.escape import printable

__all__ = [
    "ApiClient",
    "Cancelled",
    "Secret",
    "redact",
    "key_pattern",
    "might_contain",
    "mask_key",
    "MIN_REDACT_ANYWHERE",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "api_key_from",
    "check_limits",
    "resolve_base_url",
]

logger = logging.getLogger("ftkit.export.http")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest wait a ``Retry-After`` header can impose, in seconds.
_MAX_RETRY_AFTER = 120.0
#: Longest wait between retries without ``Retry-After``, in seconds.
_MAX_BACKOFF = 30.0
#: Default longest time one request may take, from sending it to its body's last byte.
DEFAULT_DEADLINE = 120.0
#: Default largest response body accepted, in bytes (after decompression).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Most bytes of an error body read for its message.
_ERROR_BODY_BYTES = 4096


class Secret:
    """A string that never shows itself in a repr or str."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


#: Keys at least this long are redacted wherever they occur; shorter ones as whole tokens.
MIN_REDACT_ANYWHERE = 8


def _char_forms(c: str) -> str:
    """A regex for one character of the key as it may come back: as is, JSON-escaped,
    percent-encoded or as an HTML character reference."""
    code = ord(c)
    forms = [re.escape(c), rf"\\u{_hex_ci(code, 4)}", f"%{_hex_ci(code, 2)}", f"&#0*{code};", f"&#[xX]0*{_hex_ci(code, 2)};"]
    if c in "/\"\\":
        forms.append(re.escape("\\" + c))
    if c == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def _hex_ci(code: int, width: int) -> str:
    """``code`` in hex as a case-insensitive regex: ``2f`` -> ``2[fF]``."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{code:0{width}x}")


def _base64_forms(key: str) -> list[str]:
    """The runs of base64 (standard and URL-safe) that only the key's bytes decide, at each
    of the three alignments the key can have inside a longer encoded string."""
    raw = key.encode()
    forms = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = -(-shift * 4 // 3)  # characters that also depend on what precedes the key
        stop = (shift + len(raw)) * 4 // 3  # ...and on what follows
        run = encoded[start:stop].decode()
        if len(run) >= MIN_REDACT_ANYWHERE:
            forms.add(run)
            forms.add(run.replace("+", "-").replace("/", "_"))
    return sorted(forms, key=len, reverse=True)


@functools.lru_cache(maxsize=4)
def key_pattern(key: str) -> re.Pattern[str]:
    """The regex that finds ``key`` in text in any encoding :func:`redact` knows.

    Examples
    --------
    >>> bool(key_pattern("sk-abc/123XYZ").search("token=sk%2Dabc%2f123XYZ"))
    True
    """
    chars = "".join(_char_forms(c) for c in key)
    forms = [chars]
    if len(key) >= MIN_REDACT_ANYWHERE:
        edge = "[A-Za-z0-9+/_-]?"
        forms += [f"{edge}{re.escape(run)}{edge}=*" for run in _base64_forms(key)]
        return re.compile("|".join(forms))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{chars})(?![A-Za-z0-9])")


def redact(text: str, key: str) -> str:
    r"""``text`` with ``key`` replaced by ``***``, in every form a server may echo it in.

    The forms: as is; JSON-escaped (``\u0073``, ``\/``), percent-encoded (``%2F``, any
    case), as HTML character references (``&#115;``), each character independently; and
    base64 (standard or URL-safe) of any text that contains the key (with the characters
    next to it, which carry some of its bits). A key shorter than
    :data:`MIN_REDACT_ANYWHERE` characters is replaced only where it stands as a whole
    token, so that the key ``k`` does not turn "network" into "networ***".

    Examples
    --------
    >>> key = "sk-0123456789"
    >>> redact("401: bad key Bearer sk-0123456789", key)
    '401: bad key Bearer ***'
    >>> redact('{"echo": "\u0073k-0123456789"} and sk%2D0123456789', key)
    '{"echo": "***"} and ***'
    >>> import base64
    >>> redact(base64.b64encode(b"Bearer sk-0123456789").decode(), key)
    'QmVhcmVyI***'
    >>> redact("network error for Bearer k", "k")
    'network error for Bearer ***'
    """
    if not key:
        return text
    return key_pattern(key).sub("***", text)


_ESCAPES = re.compile(r'\\u([0-9a-fA-F]{4})|%([0-9a-fA-F]{2})|&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));|\\([/"\\])|\+')


def _unescape(match: re.Match[str]) -> str:
    number = match[1] or match[2] or match[3]
    code = int(number, 16) if number else int(match[4]) if match[4] else None
    if code is not None:
        return chr(code) if code < 0x110000 else ""
    return match[5] or " "


def might_contain(text: str, key: str) -> bool:
    """A fast screen: ``False`` only when ``text`` holds ``key`` in none of the forms of :func:`redact`.

    Examples
    --------
    >>> might_contain("a%73k-0123456789 b", "sk-0123456789"), might_contain("nothing", "sk-0123456789")
    (True, False)
    """
    if key in text:
        return True
    if len(key) >= MIN_REDACT_ANYWHERE and any(run in text for run in _base64_forms(key)):
        return True
    return any(c in text for c in "\\%&+") and key in _ESCAPES.sub(_unescape, text)


def mask_key(body: bytes, key: str) -> tuple[bytes, int]:
    """``body`` with each form of ``key`` (see :func:`redact`) replaced by ``***``, and how many.

    Every other byte is kept. Keys shorter than :data:`MIN_REDACT_ANYWHERE` are not
    looked for (as whole tokens they would match ordinary values of a job).

    Examples
    --------
    >>> mask_key(b'{"id":"a","note":"key sk-0123456789"}', "sk-0123456789")
    (b'{"id":"a","note":"key ***"}', 1)
    """
    if len(key) < MIN_REDACT_ANYWHERE:
        return body, 0
    text = body.decode("latin-1")  # one char per byte: the bytes come back unchanged
    if not might_contain(text, key):
        return body, 0
    masked, count = key_pattern(key).subn("***", text)
    return masked.encode("latin-1"), count


# --- the deadline, down to each socket operation ------------------------------------

#: The monotonic time the current thread's request must end by (httpx is synchronous:
#: a request's reads and writes happen in the thread that made it).
_deadline = threading.local()


def _clamp(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline."""
    until = getattr(_deadline, "until", None)
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("past the request's deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and handshake ends by the request's deadline,
    so that a server trickling its headers or body a byte at a time is cut off."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with connections that keep the request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _deadline_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport, its connections keeping each request's deadline.

    httpx takes no network backend, so the one of its connection pool is wrapped. Should a
    later httpx lay its pool out otherwise, the transport is returned as is: the deadline
    is then checked as the body arrives only (see :meth:`ApiClient._read`).
    """
    transport = httpx.HTTPTransport(limits=limits)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


class Cancelled(Exception):
    """Raised in a worker when the export stops before its request was made."""


class ApiClient:
    """GET JSON from one API over one ``httpx.Client``, with retries and bounds.

    The API key lives only in the client's ``Authorization`` header (which httpx shows
    as ``[secure]``); this object's repr shows the base URL only.

    Parameters
    ----------
    base_url
        The API's base URL; paths given to :meth:`get` are relative to it.
    api_key
        The key, sent as ``Authorization: Bearer <key>``.
    timeout
        Seconds to wait for a connection or for the next bytes of an answer.
    deadline
        Seconds one request may take in all, from connecting to its body's last byte:
        every socket operation (connect, TLS handshake, each read and write) waits at
        most what is left of it, so a server trickling its headers or body is cut off.
    max_response_bytes
        The largest body accepted, after decompression.
    max_retries, backoff
        Retries per request, and the first retry's wait without ``Retry-After``.
    concurrency
        Most requests in flight at once (the connection pool's size).
    stop
        Set to cancel: waits between retries end and no new request starts.
    key_hint
        Where the key comes from, for the message when the API refuses it.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: Secret,
        timeout: float,
        max_retries: int,
        backoff: float,
        concurrency: int,
        stop: threading.Event,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        key_hint: str = "the API key",
    ) -> None:
        self.base_url = base_url
        self._secret = api_key
        self.timeout = timeout
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.backoff = backoff
        self.key_hint = key_hint
        self._stop = stop
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {api_key.reveal()}",
                "Accept": "application/json",
                "User-Agent": "ftkit-export",
            },
            timeout=httpx.Timeout(min(timeout, deadline)),
            transport=_deadline_transport(httpx.Limits(max_connections=concurrency + 1)),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def scrub(self, text: str) -> str:
        """``text`` (built from server text) with the key redacted and control characters escaped."""
        return printable(redact(text, self._secret.reveal()))

    def mask(self, body: bytes) -> tuple[bytes, int]:
        """``body`` with the key masked (see :func:`mask_key`), and how many times it was."""
        return mask_key(body, self._secret.reveal())

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Cancelled

    def _read(self, response: httpx.Response, *, until: float, what: str, url: str) -> bytes | None:
        """The body (``None`` past ``until``); ExportError past ``max_response_bytes``.

        Of an error answer (not 200), only the first bytes are read, for its message.
        """
        whole = response.status_code == 200
        limit = self.max_response_bytes if whole else _ERROR_BODY_BYTES
        declared = response.headers.get("Content-Length", "")
        if whole and declared.isdigit() and int(declared) > limit:
            msg = (
                f"the API's answer to {what} at {url} is too large: expected at most"
                f" {self.max_response_bytes:,} bytes (max_response_bytes), found Content-Length {int(declared):,}"
            )
            raise ExportError(msg)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                if not whole:  # an error body: its start is enough
                    chunks.append(chunk)
                    break
                msg = (
                    f"the API's answer to {what} at {url} is too large: expected at most"
                    f" {self.max_response_bytes:,} bytes (max_response_bytes), found more"
                )
                raise ExportError(msg)
            chunks.append(chunk)
            if time.monotonic() > until:
                return None
        return b"".join(chunks)[:limit]

    def get(
        self,
        path: str,
        *,
        params: dict[str, str] | None,
        what: str,
        check: Callable[[bytes], Any],
        missing_ok: bool = False,
    ) -> tuple[bytes, Any]:
        """GET ``path`` and return its body and ``check(body)``, retrying what may pass.

        Retried: 429 and 5xx (honouring ``Retry-After``), timeouts, a request past its
        deadline, network errors, and a 200 whose body ``check`` rejects. Raised at
        once: 401/403 (the key was refused), other 4xx, a body over
        ``max_response_bytes``. ``(b"", None)`` is returned for a 404 if ``missing_ok``.
        """
        what = self.scrub(what)
        url = self.scrub(f"{self.base_url}{path}")
        problem = "no attempt"
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                raise Cancelled
            last = attempt == self.max_retries
            until = _deadline.until = time.monotonic() + self.deadline
            try:
                with self._http.stream("GET", path, params=params) as response:
                    code = response.status_code
                    body = self._read(response, until=until, what=what, url=url)
                    retry_after = self._retry_after(response) if code in _RETRY_STATUSES else None
            except httpx.TimeoutException as exc:
                if time.monotonic() >= until:
                    problem = f"the answer took longer than the deadline of {self.deadline}s"
                else:
                    problem = f"no answer within {min(self.timeout, self.deadline)}s ({type(exc).__name__})"
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                problem = self.scrub(f"network error: {type(exc).__name__}: {exc}")
                delay = self._backoff(attempt)
            else:
                if body is None:
                    problem = f"the answer took longer than the deadline of {self.deadline}s"
                    delay = self._backoff(attempt)
                elif code in (401, 403):
                    msg = (
                        f"the API refused the API key (HTTP {code}) for {what} at {url}:"
                        f" expected a valid key in {self.key_hint}, with access"
                        " to fine-tuning jobs"
                    )
                    raise ExportError(msg)
                elif code == 200:
                    try:
                        return body, check(body)
                    except (msgspec.DecodeError, ValueError) as exc:
                        snippet = self.scrub(body[:400].decode("utf-8", "replace"))[:80]
                        problem = self.scrub(f"malformed response: {exc} (body starts {snippet!r})")
                        delay = self._backoff(attempt)
                elif code == 404 and missing_ok:
                    return b"", None
                elif code in _RETRY_STATUSES:
                    problem = f"HTTP {code}"
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                else:
                    snippet = self.scrub(body.decode("utf-8", "replace"))[:200]
                    msg = f"the API answered HTTP {code} for {what} at {url}: expected 200, found {snippet!r}"
                    raise ExportError(msg)
            finally:
                _deadline.until = None
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
        """``Retry-After`` in seconds (at most 120); ``None`` when absent or not a sane value.

        Examples
        --------
        >>> [ApiClient._retry_after(httpx.Response(429, headers={"Retry-After": v}))
        ...  for v in ("2", "NaN", "inf", "-1", "soon", "1e999")]
        [2.0, None, None, None, None, None]
        """
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when is None:
                return None
            try:
                seconds = max(when.timestamp() - time.time(), 0.0)
            except (OverflowError, ValueError, OSError):
                return None
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return min(seconds, _MAX_RETRY_AFTER)


# --- options shared by the exports ------------------------------------------------------


def api_key_from(api_key: str | None, *, env: str) -> Secret:
    """The API key given as ``api_key``, else the environment variable ``env``, checked
    and wrapped so that it never shows itself (:class:`~ftkit.errors.ExportUsageError`
    when missing or not printable ASCII; the key itself is never in a message).

    Examples
    --------
    >>> api_key_from(" sk-123 ", env="MISTRAL_API_KEY")
    Secret('***')
    >>> api_key_from("", env="MISTRAL_API_KEY")
    Traceback (most recent call last):
    ...
    ftkit.errors.ExportUsageError: no API key: expected api_key= or the MISTRAL_API_KEY environment variable, found neither
    """
    key = (api_key if api_key is not None else os.environ.get(env, "")).strip()
    if not key:
        msg = f"no API key: expected api_key= or the {env} environment variable, found neither"
        raise ExportUsageError(msg)
    if not (key.isascii() and key.isprintable()):
        msg = (
            "API key: expected printable ASCII characters only (as an HTTP header must be),"
            f" found others; check api_key= or {env} (the key is not shown)"
        )
        raise ExportUsageError(msg)
    return Secret(key)


def resolve_base_url(base_url: str | None, *, env: str, default: str) -> str:
    """``base_url``, else the environment variable ``env``, else ``default``, checked.

    Raises :class:`~ftkit.errors.ExportUsageError` naming where the URL came from.

    Examples
    --------
    >>> resolve_base_url("http://127.0.0.1:8000/", env="NO_SUCH_VARIABLE", default="https://x")
    'http://127.0.0.1:8000'
    """
    url = (base_url or os.environ.get(env) or default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        msg = f"base URL: expected http:// or https://, found {url!r} (from base_url= or {env})"
        raise ExportUsageError(msg)
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        msg = f"base URL: expected a valid http(s) URL, found {url!r} ({exc}) (from base_url= or {env})"
        raise ExportUsageError(msg) from None
    if not parsed.host or (port is not None and not 0 < port < 65536):
        msg = f"base URL: expected a host (and a port up to 65535), found {url!r} (from base_url= or {env})"
        raise ExportUsageError(msg)
    return url


def check_limits(**limits: Any) -> None:
    """Refuse limits out of range, naming each (an ExportUsageError)."""
    least = {"page_size": 1, "concurrency": 1, "max_pages": 1, "max_response_bytes": 1, "max_retries": 0}
    bad = []
    for name, value in limits.items():
        if name in least:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= least[name]
        else:  # seconds: timeout and deadline > 0, backoff >= 0, all finite
            ok = (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and math.isfinite(value)
                and (value >= 0 if name == "backoff" else value > 0)
            )
        if not ok:
            bad.append(f"{name}={value!r}")
    if bad:
        msg = (
            "expected whole numbers page_size, concurrency, max_pages, max_response_bytes >= 1 and"
            " max_retries >= 0, and finite seconds timeout, deadline > 0 and backoff >= 0;"
            f" found {', '.join(bad)}"
        )
        raise ExportUsageError(msg)

"""An HTTP client for a provider's JSON API: one ``httpx.Client``, retries, a hidden key.

Used by the exporters (:mod:`ftkit.export.mistral`): it knows nothing of any provider's
endpoints, only how to GET a JSON body with retries and keep the API key out of every
message.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from ftkit.errors import ExportError

__all__ = ["ApiClient", "Cancelled", "Secret", "redact", "MIN_REDACT_ANYWHERE"]

logger = logging.getLogger("ftkit.export.http")

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Longest wait a ``Retry-After`` header can impose, in seconds.
_MAX_RETRY_AFTER = 120.0
#: Longest wait between retries without ``Retry-After``, in seconds.
_MAX_BACKOFF = 30.0


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


def redact(text: str, key: str) -> str:
    """``text`` with ``key`` replaced by ``***``; see :meth:`ApiClient._redact`.

    Examples
    --------
    >>> redact("401: bad key Bearer sk-0123456789", "sk-0123456789")
    '401: bad key Bearer ***'
    >>> redact("network error for Bearer k", "k")
    'network error for Bearer ***'
    """
    if not key:
        return text
    if len(key) >= MIN_REDACT_ANYWHERE:
        return text.replace(key, "***")
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", "***", text)


class Cancelled(Exception):
    """Raised in a worker when the export stops before its request was made."""



class ApiClient:
    """The Mistral fine-tuning endpoints over one ``httpx.Client``, with retries.

    The API key lives only in the client's ``Authorization`` header (which httpx shows
    as ``[secure]``); this object's repr shows the base URL only.
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
    ) -> None:
        self.base_url = base_url
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
        return f"ApiClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def _redact(self, text: str) -> str:
        """``text`` with the key replaced by ``***`` (redact the whole text, then shorten it).

        A key of at least :data:`MIN_REDACT_ANYWHERE` characters is replaced wherever it
        occurs; a shorter one only where it is a whole token, so that the key ``k`` does
        not turn "network error" into "networ*** error".
        """
        return redact(text, self._secret.reveal())

    def _wait(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Cancelled

    def get(self, path: str, *, params: dict[str, str] | None, what: str, check: Callable[[bytes], Any]) -> tuple[bytes, Any]:
        """GET ``path`` and return its body and ``check(body)``, retrying what may pass.

        Retried: 429 and 5xx (honouring ``Retry-After``), timeouts, network errors, and
        a 200 whose body ``check`` rejects. Raised at once: 401/403 (the key was
        refused), other 4xx. ``None`` is returned for a 404 of a job's details.
        """
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                raise Cancelled
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
                        " expected a valid key in MISTRAL_API_KEY or api_key=, with access"
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

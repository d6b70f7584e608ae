"""A local HTTP server that imitates OpenAI's fine-tuning jobs API, for tests.

It serves ``GET /v1/fine_tuning/jobs``, ``/v1/fine_tuning/jobs/{id}/events`` and
``/v1/fine_tuning/jobs/{id}/checkpoints`` with cursor pagination (``limit``, ``after``,
``has_more``), each item as the exact bytes given to :meth:`FakeOpenAIAPI.set_job`. It
listens on a free port of 127.0.0.1, answers 401 to a wrong key, records every request,
and can be told to fail: :meth:`FakeOpenAIAPI.inject` queues a status (with
``Retry-After: 0``) and a body, in which ``{authorization}`` stands for the request's
``Authorization`` header, as servers that echo it do.

Examples
--------
>>> import httpx
>>> with FakeOpenAIAPI(key="k") as api:
...     api.set_job(b'{"object": "fine_tuning.job", "id": "ftjob-a", "status": "running", "created_at": 1}')
...     page = httpx.get(api.url + "/fine_tuning/jobs", headers={"Authorization": "Bearer k"}).json()
...     [job["id"] for job in page["data"]], page["has_more"]
(['ftjob-a'], False)
"""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeOpenAIAPI"]

PREFIX = "/v1/fine_tuning/jobs"


@dataclasses.dataclass(frozen=True)
class Request:
    """One request the server got."""

    path: str
    query: dict[str, str]
    authorized: bool


class FakeOpenAIAPI:
    """The fake API; use as a context manager. ``url`` ends in ``/v1``."""

    def __init__(self, *, key: str = "sk-test-key-0123456789") -> None:
        self.key = key
        self.jobs: dict[str, bytes] = {}  # newest first, as OpenAI lists them
        self.events: dict[str, list[bytes]] = {}
        self.checkpoints: dict[str, list[bytes]] = {}
        self.requests: list[Request] = []
        self.faults: list[tuple[int, bytes]] = []
        #: Jobs listed whose events and checkpoints answer 404 (deleted in between).
        self.gone: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAIAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def set_job(self, job: bytes, *, events: list[bytes] = (), checkpoints: list[bytes] = ()) -> None:
        """Serve this job (its exact bytes) with these events and checkpoints (newest first)."""
        job_id = json.loads(job)["id"]
        with self._lock:
            self.jobs = {job_id: job, **{k: v for k, v in self.jobs.items() if k != job_id}}
            self.events[job_id] = list(events)
            self.checkpoints[job_id] = list(checkpoints)

    def inject(self, status: int, body: bytes = b'{"error": {"message": "try again"}}') -> None:
        """Answer the next request with ``status`` (and ``Retry-After: 0``)."""
        with self._lock:
            self.faults.append((status, body))

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                authorization = self.headers.get("Authorization", "")
                authorized = authorization == f"Bearer {api.key}"
                with api._lock:
                    api.requests.append(Request(parsed.path, query, authorized))
                    fault = api.faults.pop(0) if api.faults else None
                if fault is not None:
                    status, body = fault
                    self._send(status, body.replace(b"{authorization}", authorization.encode()), retry=True)
                    return
                if not authorized:
                    self._send(401, b'{"error": {"message": "Incorrect API key provided"}}')
                    return
                path = parsed.path
                if path == PREFIX:
                    self._page(list(api.jobs.items()), query)
                    return
                rest = path[len(PREFIX) + 1 :] if path.startswith(PREFIX + "/") else ""
                job_id, _, kind = rest.partition("/")
                job_id = urllib.parse.unquote(job_id)
                source = {"events": api.events, "checkpoints": api.checkpoints}.get(kind)
                if source is None or job_id not in api.jobs or job_id in api.gone:
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                self._page([(json.loads(item)["id"], item) for item in source[job_id]], query)

            def _page(self, items: list[tuple[str, bytes]], query: dict[str, str]) -> None:
                limit = int(query.get("limit", "20"))
                start = 0
                if "after" in query:
                    ids = [item_id for item_id, _ in items]
                    start = ids.index(query["after"]) + 1 if query["after"] in ids else len(ids)
                chunk = items[start : start + limit]
                has_more = start + limit < len(items)
                body = (
                    b'{"object": "list", "data": ['
                    + b", ".join(raw for _, raw in chunk)
                    + b'], "has_more": '
                    + (b"true" if has_more else b"false")
                    + b"}"
                )
                self._send(200, body)

            def _send(self, status: int, body: bytes, *, retry: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if retry:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

        return Handler

"""A local HTTP server that imitates the Mistral fine-tuning jobs API, for tests.

It serves ``GET /v1/fine_tuning/jobs`` (pages of jobs without events and checkpoints,
newest first, with the API's filters) and ``GET /v1/fine_tuning/jobs/{id}`` (the job's
details, as the exact bytes given to :meth:`FakeMistralAPI.set_job`). It listens on a
free port of 127.0.0.1, answers 401 to a wrong key, records every request, and can be
told to fail: :meth:`FakeMistralAPI.inject` queues a 429 with ``Retry-After``, a 5xx, a
response slower than the client's timeout, or a malformed body (in which
``{authorization}`` stands for the request's ``Authorization`` header, as servers that
echo it do), trickled a byte at a time, or without a Content-Length. ``max_page_size`` caps the jobs per list page below what was asked for,
and ``list_total=False`` leaves ``total`` out of list pages, as older API versions do.

Examples
--------
>>> import httpx, json
>>> job = {"id": "j1", "status": "SUCCESS", "created_at": 1, "modified_at": 2,
...        "events": [], "checkpoints": []}
>>> with FakeMistralAPI(key="k") as api:
...     api.set_job(json.dumps(job).encode())
...     page = httpx.get(api.url + "/v1/fine_tuning/jobs", headers={"Authorization": "Bearer k"}).json()
...     [sorted(j) for j in page["data"]], page["total"], api.requests[0].path
([['created_at', 'id', 'modified_at', 'status']], 1, '/v1/fine_tuning/jobs')
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeMistralAPI", "Fault", "Request"]

JOBS_PATH = "/v1/fine_tuning/jobs"


@dataclasses.dataclass(frozen=True)
class Request:
    """One request the server got."""

    path: str
    query: dict[str, str]
    authorized: bool
    at: float  # time.monotonic() when it arrived
    authorization: str = dataclasses.field(default="", repr=False)  # the header, as sent

    @property
    def job_id(self) -> str | None:
        """The job id of a details request, else ``None``."""
        prefix = JOBS_PATH + "/"
        return urllib.parse.unquote(self.path[len(prefix) :]) if self.path.startswith(prefix) else None

    @property
    def page(self) -> int | None:
        """The page of a list request, else ``None``."""
        return int(self.query.get("page", "0")) if self.path == JOBS_PATH else None


@dataclasses.dataclass
class Fault:
    """A failure to inject into the next ``times`` matching requests.

    ``target`` is ``"list"`` (any page), ``"page:N"``, ``"job:ID"`` or ``"job"`` (any).
    ``status`` replaces the answer's status (with ``retry_after`` as the header);
    ``delay`` sleeps before answering; ``body`` replaces the answer's body (with 200
    unless ``status`` is given), with ``{authorization}`` in it replaced by the request's
    ``Authorization`` header.
    """

    target: str
    times: int = 1
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes | None = None
    #: Seconds between the body's bytes (a server that trickles its answer).
    trickle: float = 0.0
    #: Send no Content-Length (the body ends when the connection closes).
    no_length: bool = False
    #: Seconds between the bytes of the status line and headers (a trickle before any body).
    trickle_headers: float = 0.0
    #: A Content-Encoding header to send (the body given must be encoded so).
    content_encoding: str | None = None

    def matches(self, request: Request) -> bool:
        if self.target == "list":
            return request.page is not None
        if self.target.startswith("page:"):
            return request.page == int(self.target[5:])
        if self.target == "job":
            return request.job_id is not None
        if self.target.startswith("job:"):
            return request.job_id == self.target[4:]
        return False


def _parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()


class FakeMistralAPI:
    """The fine-tuning jobs API on 127.0.0.1; a context manager that starts and stops it."""

    def __init__(
        self, *, key: str, detail_delay: float = 0.0, max_page_size: int | None = None, list_total: bool = True
    ) -> None:
        self.key = key
        #: Seconds every details answer waits, to make an export slow enough to kill.
        self.detail_delay = detail_delay
        #: The most jobs a list page holds, whatever ``page_size`` asked for.
        self.max_page_size = max_page_size
        #: Whether list pages say ``total`` (older API versions did not).
        self.list_total = list_total
        self._bodies: dict[str, bytes] = {}  # id -> the details' exact bytes
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        #: The most requests it was answering at once.
        self.max_in_flight = 0
        self._in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-mistral-api", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMistralAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeMistralAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- state ---

    def set_job(self, body: bytes) -> None:
        """Serve a job (new or updated) whose details are exactly ``body``."""
        job = json.loads(body)
        with self._lock:
            self._bodies[job["id"]] = body

    def body(self, job_id: str) -> bytes:
        """The exact bytes served as ``job_id``'s details."""
        return self._bodies[job_id]

    @property
    def job_ids(self) -> set[str]:
        return set(self._bodies)

    def inject(self, target: str, **fault: Any) -> None:
        """Queue a :class:`Fault` for the requests that ``target`` names."""
        with self._lock:
            self._faults.append(Fault(target, **fault))

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def detail_requests(self) -> list[str]:
        """The job ids whose details were requested, in order, repeats included."""
        return [r.job_id for r in self.requests if r.job_id is not None]

    # --- answers ---

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(request):
                    fault.times -= 1
                    return fault
        return None

    def _list(self, query: dict[str, str]) -> bytes:
        with self._lock:
            jobs = [json.loads(body) for body in self._bodies.values()]
        jobs.sort(key=lambda job: (job["created_at"], job["id"]), reverse=True)
        for name in ("model", "status", "suffix"):
            if name in query:
                jobs = [job for job in jobs if job.get(name) == query[name]]
        if "created_after" in query:
            after = _parse_time(query["created_after"])
            jobs = [job for job in jobs if job["created_at"] >= after]
        if "created_before" in query:
            before = _parse_time(query["created_before"])
            jobs = [job for job in jobs if job["created_at"] < before]
        if "wandb_project" in query:
            jobs = [
                job
                for job in jobs
                if any(i.get("project") == query["wandb_project"] for i in job.get("integrations") or [])
            ]
        page, size = int(query.get("page", "0")), int(query.get("page_size", "100"))
        if self.max_page_size is not None:
            size = min(size, self.max_page_size)
        chunk = jobs[page * size : (page + 1) * size]
        for job in chunk:  # the list endpoint has neither events nor checkpoints
            job.pop("events", None)
            job.pop("checkpoints", None)
        answer: dict[str, Any] = {"object": "list", "data": chunk}
        if self.list_total:
            answer["total"] = len(jobs)
        return json.dumps(answer).encode()

    def answer(self, request: Request) -> tuple[int, dict[str, str], bytes, float, Fault | None]:
        """Status, headers, body, delay and the fault applied for one request."""
        if not request.authorized:
            return 401, {}, b'{"detail":"Unauthorized"}', 0.0, None
        fault = self._take_fault(request)
        delay = self.detail_delay if request.job_id is not None else 0.0
        if request.page is not None:
            status, body = 200, self._list(request.query)
        elif request.job_id is not None and request.job_id in self._bodies:
            status, body = 200, self._bodies[request.job_id]
        else:
            status, body = 404, b'{"detail":"Not found"}'
        headers: dict[str, str] = {}
        if fault is not None:
            delay += fault.delay
            if fault.body is not None:
                body = fault.body
            if fault.status is not None:
                status = fault.status
                body = fault.body if fault.body is not None else json.dumps({"detail": f"HTTP {status}"}).encode()
            if fault.body is not None:
                body = body.replace(b"{authorization}", request.authorization.encode())
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            if fault.content_encoding is not None:
                headers["Content-Encoding"] = fault.content_encoding
        return status, headers, body, delay, fault


def _make_handler(api: FakeMistralAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes
        timeout = 10  # idle keep-alive connections end on their own

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query))
            request = Request(
                path=split.path,
                query=query,
                authorized=self.headers.get("Authorization") == f"Bearer {api.key}",
                at=time.monotonic(),
                authorization=self.headers.get("Authorization", ""),
            )
            with api._lock:
                api.requests.append(request)
                api._in_flight += 1
                api.max_in_flight = max(api.max_in_flight, api._in_flight)
            try:
                status, headers, body, delay, fault = api.answer(request)
                if delay:
                    time.sleep(delay)
            finally:
                with api._lock:
                    api._in_flight -= 1
            if fault is not None and fault.trickle_headers:
                head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                try:
                    for byte in head.encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(fault.trickle_headers)
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if fault is not None and fault.no_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if fault is not None and fault.trickle:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(fault.trickle)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet

    return Handler

"""Tests of ftkit.export against a local imitation of the Mistral API (tests/fake_mistral_api.py)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ftkit.export import ExportError, ExportResult, ExportUsageError, compact_dump, export_jobs
from ftkit.export_cli import add_export_command

import fake_mistral_api  # tests/fake_mistral_api.py: tests/ is on sys.path (pyproject's pythonpath)

FakeMistralAPI = fake_mistral_api.FakeMistralAPI

KEY = "sk-test-5f0c1e9a7b3d4c2e8f6a1b0c9d8e7f6a"
ROOT = Path(__file__).resolve().parents[1]
N_JOBS = 30
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z


# --- realistic jobs ------------------------------------------------------------------


def job_id(i: int) -> str:
    return f"{i:08x}-1895-4309-92d9-9ac881b1b117"


def make_job(i: int, *, status: str | None = None, modified_at: int | None = None) -> dict:
    """A detailed job as the API sends it: every third a classifier, every fifth RUNNING."""
    created = T0 + 3600 * i
    status = status or ("RUNNING" if i % 5 == 0 else "SUCCESS")
    modified = modified_at if modified_at is not None else created + 1800
    classifier = i % 3 == 0
    events = [
        {"name": "status-updated", "created_at": created, "data": {"status": "QUEUED"}},
        {"name": "status-updated", "created_at": created + 60, "data": {"status": "RUNNING"}},
    ]
    if status != "RUNNING":
        events.append({"name": "status-updated", "created_at": modified, "data": {"status": status}})
    checkpoints = [
        {
            "metrics": {"train_loss": round(2.0 / step, 6), "valid_loss": 0.0, "valid_mean_token_accuracy": 1.0004},
            "step_number": step,
            "created_at": created + 100 * step,
        }
        for step in (3, 2, 1)
    ]
    job: dict = {
        "id": job_id(i),
        "auto_start": True,
        "model": "ministral-3b-latest" if classifier else "open-mistral-7b",
        "status": status,
        "job_type": "classifier" if classifier else "completion",
        "created_at": created,
        "modified_at": modified,
        "training_files": [f"{i:08x}-d2f8-4f98-9679-1c55625e09d5"],
        "validation_files": None,
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001, "epochs": None},
        "fine_tuned_model": None if status == "RUNNING" else f"ft:open-mistral-7b:abc123:20250101:{i:04x}",
        "suffix": "intent" if classifier else None,
        "integrations": [{"type": "wandb", "project": "intent" if classifier else "chat", "name": None}],
        "trained_tokens": None,
        "metadata": {"cost": 0.0, "cost_currency": None, "train_tokens": 1000 * i},
        "object": "job",
        "events": events,
        "checkpoints": checkpoints,
        "x_future_key": {"added_by": "a later API release", "n": i},  # unknown keys must survive
    }
    if classifier:
        job["classifier_targets"] = [{"name": "intent", "labels": ["buy", "sell"], "weight": 1.0}]
        job["hyperparameters"]["seq_len"] = 16384
    else:
        job["repositories"] = []
        job["hyperparameters"]["fim_ratio"] = None
    return job


def encode(job: dict, i: int) -> bytes:
    """Bytes with some variety, as servers send them: compact, spaced, pretty-printed."""
    if i == 7:
        return json.dumps(job, indent=2).encode() + b"\n"
    if i % 2:
        return json.dumps(job).encode()
    return json.dumps(job, separators=(",", ":"), ensure_ascii=False).encode()


def as_line(body: bytes) -> bytes:
    """What the dump must hold for a body: the same bytes without the raw newlines."""
    return body.strip().replace(b"\n", b"")


@pytest.fixture
def api():
    """The imitation API on 127.0.0.1, serving N_JOBS jobs; stopped after the test."""
    server = FakeMistralAPI(key=KEY)
    for i in range(N_JOBS):
        server.set_job(encode(make_job(i), i))
    with server:
        yield server


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    return tmp_path / "jobs.ndjson"


def export(api, dump: Path, **options) -> ExportResult:
    options = {"api_key": KEY, "base_url": api.url, "page_size": 8, "backoff": 0.01, "progress": False, **options}
    return export_jobs(dump, **options)


def dump_lines(dump: Path) -> list[bytes]:
    data = dump.read_bytes()
    assert data.endswith(b"\n")
    return data.splitlines()


def dump_ids(dump: Path) -> list[str]:
    return [json.loads(line)["id"] for line in dump_lines(dump)]


def assert_dump_matches_server(dump: Path, api) -> None:
    """Every job once, each line exactly the bytes the server sent for it."""
    lines = dump_lines(dump)
    ids = dump_ids(dump)
    assert len(ids) == len(set(ids)) == len(api.job_ids)
    assert set(ids) == api.job_ids
    for line, id_ in zip(lines, ids, strict=True):
        assert line == as_line(api.body(id_))
        assert json.loads(line) == json.loads(api.body(id_))


# --- the dump holds every job once, as sent ------------------------------------------


def test_export_writes_every_job_once_with_its_bytes_events_and_checkpoints(api, dump):
    result = export(api, dump)

    assert result == ExportResult(
        path=dump, listed=N_JOBS, fetched=N_JOBS, skipped_unchanged=0, written=N_JOBS, total=N_JOBS
    )
    assert_dump_matches_server(dump, api)
    jobs = [json.loads(line) for line in dump_lines(dump)]
    assert all(len(job["events"]) >= 2 and len(job["checkpoints"]) == 3 for job in jobs)
    assert all("x_future_key" in job for job in jobs)
    assert {job["job_type"] for job in jobs} == {"classifier", "completion"}
    assert {job["status"] for job in jobs} == {"RUNNING", "SUCCESS"}
    # The compact and spaced bodies are kept byte for byte, not re-serialised.
    assert dump.read_bytes().count(api.body(job_id(1))) == 1
    assert dump.read_bytes().count(api.body(job_id(2))) == 1
    # 4 list pages of 8, then one details request per job.
    pages = [(r.query["page"], r.query["page_size"]) for r in api.requests if r.page is not None]
    assert pages == [("0", "8"), ("1", "8"), ("2", "8"), ("3", "8")]
    assert sorted(api.detail_requests()) == sorted(api.job_ids)


def test_detail_requests_are_bounded_by_concurrency(dump):
    server = FakeMistralAPI(key=KEY, detail_delay=0.03)
    for i in range(12):
        server.set_job(encode(make_job(i), i))
    with server:
        export(server, dump, concurrency=3)
    assert server.max_in_flight == 3
    assert len(dump_lines(dump)) == 12


def test_pretty_printed_body_loses_only_its_newlines(api, dump):
    export(api, dump)

    body = api.body(job_id(7))
    assert b"\n" in body.strip()
    (line,) = [line for line in dump_lines(dump) if job_id(7).encode() in line]
    assert line == body.strip().replace(b"\n", b"")
    assert json.loads(line) == json.loads(body)


# --- retries, timeouts, malformed answers, refused keys ----------------------------------


def test_429_with_retry_after_and_500s_are_retried(api, dump, caplog):
    api.inject("page:1", status=429, retry_after="1")
    api.inject(f"job:{job_id(3)}", status=500, times=2)
    api.inject(f"job:{job_id(4)}", status=503)
    caplog.set_level(logging.WARNING, logger="ftkit.export")

    result = export(api, dump)

    assert result.total == result.fetched == N_JOBS
    assert_dump_matches_server(dump, api)
    page1 = [r.at for r in api.requests if r.page == 1]
    assert len(page1) == 2
    assert page1[1] - page1[0] >= 0.95  # Retry-After: 1 was honoured
    assert api.detail_requests().count(job_id(3)) == 3
    assert api.detail_requests().count(job_id(4)) == 2
    assert "HTTP 429 for page 1 of the job list; retry 1 of 5" in caplog.text


def test_slow_response_past_the_timeout_is_retried(api, dump):
    api.inject(f"job:{job_id(5)}", delay=1.0)

    started = time.monotonic()
    result = export(api, dump, timeout=0.3)

    assert time.monotonic() - started < 1.0  # did not wait for the slow answer
    assert result.total == N_JOBS
    assert api.detail_requests().count(job_id(5)) == 2
    assert_dump_matches_server(dump, api)


def test_malformed_page_and_details_are_retried(api, dump):
    api.inject("page:2", body=b'{"object": "list", "total": 30, "data": [{"id": ')
    api.inject(f"job:{job_id(1)}", body=b'{"id": "' + job_id(1).encode() + b'", "status": "SUCC')
    api.inject(f"job:{job_id(2)}", body=api.body(job_id(3)))  # another job's details

    export(api, dump)

    assert [r.page for r in api.requests if r.page is not None] == [0, 1, 2, 2, 3]
    assert api.detail_requests().count(job_id(1)) == api.detail_requests().count(job_id(2)) == 2
    assert_dump_matches_server(dump, api)


def test_malformed_page_that_stays_malformed_is_a_clear_error(api, dump):
    api.inject("page:1", body=b"<html>502 Bad Gateway</html>", times=10)

    with pytest.raises(ExportError) as info:
        export(api, dump, max_retries=2)

    message = str(info.value)
    assert "gave up on page 1 of the job list" in message
    assert "after 3 attempts" in message
    assert "malformed response" in message and "<html>502" in message
    assert api.detail_requests() == []


def test_500_that_persists_is_an_error_after_max_retries(api, dump):
    api.inject(f"job:{job_id(0)}", status=500, times=10)

    with pytest.raises(ExportError, match=r"gave up on job 00000000-.* after 3 attempts: last problem was HTTP 500"):
        export(api, dump, max_retries=2, concurrency=2)

    # What arrived before the error is kept, once each.
    ids = dump_ids(dump)
    assert len(ids) == len(set(ids)) and job_id(0) not in ids


def test_refused_key_is_a_clear_error_without_the_key(api, dump, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-0123456789abcdef"

    with pytest.raises(ExportError) as info:
        export(api, dump, api_key=wrong)

    message = str(info.value)
    assert "refused the API key (HTTP 401)" in message
    assert "MISTRAL_API_KEY" in message
    assert wrong not in message and wrong not in repr(info.value) and wrong not in caplog.text
    assert len(api.requests) == 1  # not retried
    assert not dump.exists()  # it did not exist before: an export that fetched nothing leaves nothing


def test_job_deleted_between_list_and_details_is_counted_not_written(api, dump):
    api.inject(f"job:{job_id(6)}", status=404)

    result = export(api, dump)

    assert result.not_found == 1 and result.fetched == result.total == N_JOBS - 1
    assert job_id(6) not in dump_ids(dump)


def test_two_exports_into_one_dump_at_once_are_refused(api, dump):
    import fcntl

    with dump.open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ExportError, match="another export is writing to it"):
            export(api, dump)
    assert api.requests == []


def test_missing_key_and_gzip_dumps_are_refused(api, tmp_path, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    with pytest.raises(ExportError, match="no API key: expected api_key= or the MISTRAL_API_KEY"):
        export_jobs(tmp_path / "jobs.ndjson", base_url=api.url)
    with pytest.raises(ExportError, match="cannot append to the gzip dump"):
        export_jobs(tmp_path / "jobs.ndjson.gz", api_key=KEY, base_url=api.url)
    with pytest.raises(TypeError, match="unknown filter.*statuses"):
        export_jobs(tmp_path / "jobs.ndjson", api_key=KEY, base_url=api.url, statuses="SUCCESS")
    assert api.requests == []


def test_key_and_base_url_come_from_the_environment(api, dump, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    monkeypatch.setenv("MISTRAL_API_URL", api.url + "/")

    result = export_jobs(dump, page_size=50, progress=False)

    assert result.total == N_JOBS
    assert all(r.authorized for r in api.requests)


def test_short_pages_are_followed_until_total_jobs_are_listed(dump):
    server = FakeMistralAPI(key=KEY, max_page_size=5)  # sends fewer than the 8 asked for
    for i in range(N_JOBS):
        server.set_job(encode(make_job(i), i))
    with server:
        result = export(server, dump)

        assert result.listed == result.total == N_JOBS
        assert_dump_matches_server(dump, server)
        assert [r.page for r in server.requests if r.page is not None] == [0, 1, 2, 3, 4, 5]


def test_without_total_a_short_page_ends_the_listing(dump):
    server = FakeMistralAPI(key=KEY, list_total=False)
    for i in range(20):
        server.set_job(encode(make_job(i), i))
    with server:
        result = export(server, dump)

        assert result.listed == result.total == 20
        assert [r.page for r in server.requests if r.page is not None] == [0, 1, 2]


# --- interrupted runs resume without loss or duplicates ---------------------------------


def test_run_interrupted_midway_then_rerun_loses_nothing_and_duplicates_nothing(api, dump):
    class Interrupted(Exception):
        pass

    def stop_after_ten(done: int, total: int) -> None:
        if done == 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        export(api, dump, progress=stop_after_ten, concurrency=2)
    kept = dump_ids(dump)
    assert len(kept) == len(set(kept)) == 10
    for line in dump_lines(dump):
        assert line == as_line(api.body(json.loads(line)["id"]))
    api.clear_requests()

    result = export(api, dump)

    assert_dump_matches_server(dump, api)
    running = {job_id(i) for i in range(N_JOBS) if i % 5 == 0}
    kept_final = set(kept) - running
    assert set(api.detail_requests()) == api.job_ids - kept_final
    assert len(api.detail_requests()) == len(set(api.detail_requests()))
    assert result.skipped_unchanged == len(kept_final)
    assert result.total == N_JOBS


def test_run_killed_by_sigkill_then_rerun_loses_nothing_and_duplicates_nothing(dump, tmp_path):
    server = FakeMistralAPI(key=KEY, detail_delay=0.05)
    for i in range(N_JOBS):
        server.set_job(encode(make_job(i), i))
    code = textwrap.dedent(
        f"""
        from ftkit.export import export_jobs
        export_jobs({str(dump)!r}, base_url={server.url!r}, page_size=8, concurrency=2, progress=False)
        """
    )
    env = {**os.environ, "MISTRAL_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    with server:
        child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and (not dump.exists() or dump.read_bytes().count(b"\n") < 6):
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=5)
        finally:
            if child.poll() is None:
                child.kill()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        kept = dump.read_bytes().count(b"\n")
        assert 6 <= kept < N_JOBS

        result = export(server, dump)

        assert_dump_matches_server(dump, server)
        assert result.total == N_JOBS
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_line_cut_short_by_a_kill_is_dropped_and_refetched(api, dump):
    export(api, dump)
    whole = dump.read_bytes()
    last = dump_lines(dump)[-1]
    dump.write_bytes(whole[: len(whole) - len(last) // 2])  # the last write was cut short

    result = export(api, dump)

    assert_dump_matches_server(dump, api)
    assert json.loads(last)["id"] in api.detail_requests()[N_JOBS:]
    assert result.total == N_JOBS


def test_a_dump_that_is_not_ndjson_is_refused_with_where(api, dump):
    dump.write_bytes(b'{"id": "a", "status": "SUCCESS", "modified_at": 1}\nnot json\n{"id": "b"}\n')

    with pytest.raises(ExportError, match=r"jobs.ndjson:2: expected a job .* found a line that does not decode"):
        export(api, dump)
    assert api.requests == []


# --- incremental runs ----------------------------------------------------------------


def test_incremental_run_fetches_only_new_changed_and_unfinished_jobs(api, dump):
    export(api, dump)
    api.clear_requests()
    changed = job_id(4)  # a SUCCESS job that was modified since
    api.set_job(encode(make_job(4, modified_at=T0 + 999_999) | {"suffix": "renamed"}, 4))
    finished = job_id(10)  # a RUNNING job that finished
    api.set_job(encode(make_job(10, status="SUCCESS", modified_at=T0 + 999_999), 10))
    new = {job_id(i) for i in range(N_JOBS, N_JOBS + 3)}
    for i in range(N_JOBS, N_JOBS + 3):
        api.set_job(encode(make_job(i), i))
    still_running = {job_id(i) for i in (0, 5, 15, 20, 25, 30)}

    result = export(api, dump)

    assert sorted(api.detail_requests()) == sorted(new | {changed, finished} | still_running)
    assert result.listed == N_JOBS + 3
    assert result.fetched == len(new | {changed, finished} | still_running) == 10
    assert result.skipped_unchanged == N_JOBS + 3 - 10
    # Still-running jobs came back byte-identical: nothing to append for them.
    assert result.written == len(new | {changed, finished}) == 5
    assert result.total == N_JOBS + 3
    assert_dump_matches_server(dump, api)
    assert json.loads(next(l for l in dump_lines(dump) if changed.encode() in l))["suffix"] == "renamed"

    api.clear_requests()
    again = export(api, dump)
    assert sorted(api.detail_requests()) == sorted(still_running - {finished})
    assert again.written == 0


def test_since_and_filters_reach_the_list_endpoint(api, dump):
    result = export(api, dump, since=T0 + 3600 * 20, model="open-mistral-7b", created_by_me=True)

    expected = {job_id(i) for i in range(20, N_JOBS) if i % 3 != 0}
    assert set(dump_ids(dump)) == expected and result.total == len(expected)
    query = api.requests[0].query
    assert query["created_after"] == "2025-01-01T20:00:00+00:00"
    assert query["model"] == "open-mistral-7b" and query["created_by_me"] == "true"


def test_stale_snapshots_left_by_a_killed_run_are_compacted(api, dump):
    export(api, dump)
    old = json.loads(api.body(job_id(3)))
    older = dict(old, modified_at=old["modified_at"] - 100, status="RUNNING")
    with dump.open("ab") as f:  # an older snapshot after the newer one
        f.write(json.dumps(older).encode() + b"\n")

    assert compact_dump(dump) == 1
    assert_dump_matches_server(dump, api)
    assert compact_dump(dump) == 0


# --- the key stays secret ---------------------------------------------------------------


def test_key_never_reaches_files_logs_or_reprs(api, dump, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    api.inject("page:0", status=429, retry_after="0")
    api.inject("job", status=500, times=3)
    api.inject(f"job:{job_id(2)}", delay=0.5)

    result = export(api, dump, timeout=0.2, progress=True)
    export(api, dump)
    with pytest.raises(ExportError) as info:
        export(api, dump, base_url=api.url + "/nowhere")

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(KEY.encode() not in p.read_bytes() for p in written)
    assert KEY not in caplog.text
    assert "HTTP Request" in caplog.text  # httpx did log at DEBUG, without the key
    out, err = capsys.readouterr()
    assert KEY not in out + err
    assert "\rexporting: " in err  # the progress line was drawn
    assert KEY not in str(info.value) + repr(info.value) + repr(result)


def _key_fragments(key: str, size: int = 6) -> list[str]:
    return [key[i : i + size] for i in range(len(key) - size + 1)]


@pytest.mark.parametrize(
    ("status", "cut"),
    [(400, 200), (200, 80)],  # a 4xx body is shown up to 200 characters, a malformed 200 up to 80
)
def test_key_echoed_across_the_cut_of_an_error_body_is_not_shown(api, dump, caplog, status, cut):
    caplog.set_level(logging.DEBUG, logger="ftkit.export")
    # The server echoes "Bearer <key>" so that the key straddles where the body is cut.
    prefix = b'{"detail": "'
    padding = b"x" * (cut - len(prefix) - len("Bearer ") - 10)
    body = prefix + padding + b'{authorization} is not allowed here"}'
    api.inject("page:0", status=status, body=body, times=10)

    with pytest.raises(ExportError) as info:
        export(api, dump, max_retries=1)

    shown = str(info.value) + repr(info.value) + caplog.text
    assert "Bearer ***" in shown and "xxxx" in shown
    assert not [frag for frag in _key_fragments(KEY) if frag in shown]
    assert not dump.exists()


def test_short_key_redaction_does_not_mangle_words():
    from ftkit.export_http import redact as _redact

    assert _redact("network error: connect failed", "k") == "network error: connect failed"
    assert _redact('{"detail": "Bearer k refused"}', "k") == '{"detail": "Bearer *** refused"}'
    assert _redact("token ab12cd3 or xab12cd3", "ab12cd3") == "token *** or xab12cd3"
    # From 8 characters on, the key is redacted wherever it is, even inside a word.
    assert _redact("xxsk-12345678yy", "sk-12345678") == "xx***yy"


@pytest.mark.parametrize("base_url", ["http://[::1", "http://", "http://host:99999"])
def test_bad_base_url_is_a_clear_error_and_leaves_nothing(dump, base_url):
    with pytest.raises(ExportError, match="base URL: expected"):
        export_jobs(dump, api_key=KEY, base_url=base_url, progress=False)
    assert not dump.exists()


def test_non_ascii_key_is_refused_without_showing_it(api, dump, capsys, monkeypatch):
    for key in ("sk-SECR\u00c9T-0123456789", "sk-SECRET\x01-0123456789"):
        with pytest.raises(ExportError, match="printable ASCII") as info:
            export(api, dump, api_key=key)
        message = str(info.value) + repr(info.value)
        assert "SECR" not in message and "\u00c9" not in message and "\\xc9" not in message
        assert not dump.exists()
    assert api.requests == []

    monkeypatch.setenv("MISTRAL_API_KEY", "sk-SECR\u00c9T")
    args = parser().parse_args(["export", "-o", str(dump), "--base-url", "http://[::1"])
    assert args.func(args) == 2  # a usage error, found before any request
    out, err = capsys.readouterr()
    assert err.startswith("ftkit: error: export: API key: expected printable ASCII")
    assert err.count("\n") == 1 and "Traceback" not in err and "SECR" not in err


def test_failed_export_releases_the_dump_and_keeps_an_existing_one(api, dump):
    saved = []
    for _ in range(2):  # the error is kept (as Jupyter keeps the last traceback): no lock stays held
        with pytest.raises(ExportError, match="refused the API key") as info:
            export(api, dump, api_key="sk-wrong-0123456789")
        saved.append(info.value)
        assert not dump.exists()
    dump.write_bytes(b"")  # a dump that existed before is left in place
    with pytest.raises(ExportError, match="refused the API key"):
        export(api, dump, api_key="sk-wrong-0123456789")
    assert dump.exists()
    assert export(api, dump).total == N_JOBS


def test_client_repr_hides_the_key():
    import threading

    from ftkit.export_http import ApiClient as _ApiClient, Secret as _Secret

    client = _ApiClient(
        base_url="http://127.0.0.1:9", api_key=_Secret(KEY), timeout=1, max_retries=0,
        backoff=0, concurrency=1, stop=threading.Event(),
    )
    try:
        shown = repr(client) + repr(client._http.headers) + repr(client._secret) + str(vars(client))
        assert KEY not in shown
    finally:
        client.close()


# --- command line -------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ftkit")
    add_export_command(root.add_subparsers(dest="command"))
    return root


def test_cli_help_lists_the_filters(capsys):
    with pytest.raises(SystemExit) as info:
        parser().parse_args(["export", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("-o DUMP", "--model", "--status", "--since", "--created-before", "--created-by-me",
                   "--wandb-project", "--wandb-name", "--suffix", "--concurrency"):
        assert option in out


def test_cli_exports_and_reports(api, dump, monkeypatch, capsys):
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    args = parser().parse_args(["export", "-o", str(dump), "--base-url", api.url, "--status", "RUNNING",
                                "--since", "2025-01-01"])

    assert args.func(args) == 0

    assert set(dump_ids(dump)) == {job_id(i) for i in range(0, N_JOBS, 5)}
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"{dump}: 6 jobs (6 listed, 6 fetched, 0 unchanged, 6 written)\n")
    assert api.requests[0].query["status"] == "RUNNING"


def test_cli_error_is_one_line_without_traceback(api, dump, monkeypatch, capsys):
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-wrong-key")
    args = parser().parse_args(["export", "-o", str(dump), "--base-url", api.url])

    assert args.func(args) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("ftkit: error: export: the API refused the API key (HTTP 401)")
    assert err.count("\n") == 1 and "Traceback" not in err and "sk-wrong-key" not in err


@pytest.mark.skipif(not (ROOT / "ftkit" / "__main__.py").exists(), reason="python -m ftkit is not there yet")
def test_ftkit_export_command_in_a_subprocess(api, dump):
    command = [sys.executable, "-m", "ftkit"]
    env = {**os.environ, "MISTRAL_API_KEY": KEY, "MISTRAL_API_URL": api.url, "PYTHONPATH": str(ROOT)}

    done = subprocess.run(
        [*command, "export", "-o", str(dump), "--model", "ministral-3b-latest", "--concurrency", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
    )

    assert done.returncode == 0, done.stderr
    classifiers = {job_id(i) for i in range(0, N_JOBS, 3)}
    assert set(dump_ids(dump)) == classifiers
    assert done.stderr == f"{dump}: 10 jobs (10 listed, 10 fetched, 0 unchanged, 10 written)\n"

    refused = subprocess.run(
        [*command, "export", "-o", str(dump)], cwd=ROOT, env={**env, "MISTRAL_API_KEY": "sk-nope"},
        capture_output=True, text=True, timeout=30,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("ftkit: error: export: the API refused the API key (HTTP 401)")
    assert refused.stderr.count("\n") == 1 and "sk-nope" not in refused.stderr


# --- hostile servers: bounded in time, size and pages; nothing leaked ----------------


@pytest.mark.parametrize("where", ["trickle", "trickle_headers"])
def test_a_trickling_answer_ends_at_the_deadline(api, dump, where):
    api.inject("page:0", **{where: 0.05})  # the page would take a minute at this pace
    started = time.monotonic()

    with pytest.raises(ExportError, match=r"gave up on page 0 .* longer than the deadline of 0\.5s"):
        export(api, dump, deadline=0.5, timeout=5.0, max_retries=0)

    assert time.monotonic() - started < 3
    assert len(api.requests) == 1


@pytest.mark.parametrize("no_length", [False, True], ids=["content-length", "streamed"])
def test_an_answer_over_max_response_bytes_is_refused(api, dump, no_length):
    huge = b'{"id": "x", "pad": "' + b"a" * 300_000 + b'"}'
    api.inject("job", body=huge, no_length=no_length)

    with pytest.raises(ExportError, match=r"too large: expected at most 100,000 bytes \(max_response_bytes\)"):
        export(api, dump, max_response_bytes=100_000, concurrency=1)
    requested = api.detail_requests()
    assert len(requested) == len(set(requested)) <= 2  # not retried; at most the one in flight besides


def test_a_compressed_answer_is_bounded_by_its_decompressed_size(api, dump):
    import gzip

    bomb = gzip.compress(b'{"id": "x", "pad": "' + b"a" * 5_000_000 + b'"}', compresslevel=9)
    assert len(bomb) < 20_000
    api.inject("page:0", body=bomb, content_encoding="gzip")

    with pytest.raises(ExportError, match=r"too large: expected at most 1,000,000 bytes \(max_response_bytes\), found more"):
        export(api, dump, max_response_bytes=1_000_000)


def test_listing_is_bounded_by_max_pages(dump):
    with FakeMistralAPI(key=KEY, list_total=False) as server:  # every page full: no end in sight
        for i in range(N_JOBS):
            server.set_job(encode(make_job(i), i))
        with pytest.raises(ExportError, match=r"did not end within 3 pages of 2 \(max_pages\)"):
            export(server, dump, page_size=2, max_pages=3)
        assert [r.page for r in server.requests] == [0, 1, 2]
        assert server.detail_requests() == []


def test_a_page_that_brings_no_new_id_ends_the_listing(api, dump, caplog):
    for page in range(1, 50):
        api.inject(f"page:{page}", body=json.dumps({"data": [{"id": job_id(N_JOBS - 1), "status": "SUCCESS",
                                                               "modified_at": 1}], "total": 10**6}).encode())
    caplog.set_level(logging.WARNING, logger="ftkit.export")

    result = export(api, dump)

    assert [r.page for r in api.requests if r.page is not None] == [0, 1]
    assert result.listed == 8
    assert "page 1 repeated earlier jobs only" in caplog.text


@pytest.mark.parametrize("value", ["NaN", "inf", "-5", "soon", "Wed, 99 Foo 2025 99:99:99 GMT"])
def test_garbage_retry_after_falls_back_to_the_backoff(api, dump, caplog, value):
    api.inject("page:0", status=429, retry_after=value)
    caplog.set_level(logging.WARNING, logger="ftkit.export")
    started = time.monotonic()

    result = export(api, dump, backoff=0.01)

    assert result.total == N_JOBS
    assert time.monotonic() - started < 5
    assert "HTTP 429 for page 0 of the job list; retry 1 of 5 in 0.0" in caplog.text


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink"])
def test_a_dump_path_that_is_not_a_regular_file_is_refused(api, tmp_path, kind):
    path = tmp_path / "jobs.ndjson"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        (tmp_path / "elsewhere.ndjson").write_bytes(b"")
        path.symlink_to(tmp_path / "elsewhere.ndjson")
    else:
        path = Path(os.devnull)

    with pytest.raises(ExportUsageError, match=r"expected a regular file \(or a new path\), found a"):
        export(api, path)
    with pytest.raises(ExportUsageError, match="expected a regular file"):
        compact_dump(path)
    assert api.requests == []


def _echoes(key: str) -> list[str]:
    """The key as a server may send it back."""
    import base64
    import urllib.parse

    return [
        key,
        json.dumps(key).strip('"'),
        "".join(f"\\u{ord(c):04x}" for c in key),
        key[:5] + "".join(f"\\u{ord(c):04X}" for c in key[5:9]) + key[9:],
        urllib.parse.quote(key, safe=""),
        "".join(f"%{ord(c):02x}" for c in key),
        base64.b64encode(f"Bearer {key}".encode()).decode(),
        base64.urlsafe_b64encode(f"user:{key}!".encode()).decode(),
    ]


def _leaks(text: str, key: str) -> list[str]:
    """The echoes of ``key`` and the runs of 12 of its characters found in ``text``."""
    found = [echo for echo in _echoes(key) if echo in text]
    found += [key[i : i + 12] for i in range(len(key) - 11) if key[i : i + 12] in text]
    return found


def test_error_messages_redact_the_key_in_every_encoding_and_escape_control_characters(api, dump):
    body = json.dumps({"detail": "bad request \x1b[2J\x07", "echo": _echoes(KEY)}, ensure_ascii=False)
    api.inject("page:0", status=400, body=body.encode())

    with pytest.raises(ExportError) as info:
        export(api, dump)

    message = str(info.value)
    assert message.startswith("the API answered HTTP 400 for page 0 of the job list")
    assert _leaks(message, KEY) == []
    assert "\x1b" not in message and "\x07" not in message and "***" in message


def test_malformed_answers_and_job_ids_redact_the_key(api, dump, caplog):
    caplog.set_level(logging.DEBUG, logger="ftkit.export")
    for echo in _echoes(KEY)[:4]:
        api.inject("page:0", body=('{"not": "a page", "echo": "%s \x1b]0;x\x07"}' % echo).encode())

    with pytest.raises(ExportError) as info:
        export(api, dump, max_retries=3)

    assert _leaks(str(info.value) + caplog.text, KEY) == []
    assert "\x1b" not in str(info.value) + caplog.text


def test_a_job_body_holding_the_key_is_masked_and_one_with_it_in_its_id_is_refused(api, dump, caplog):
    leaky = make_job(1)
    leaky["integrations"] = [{"type": "wandb", "project": "p", "api_key": KEY, "note": "NOTE"}]
    api.set_job(json.dumps(leaky).replace('"NOTE"', f'"{_echoes(KEY)[2]}"').encode())  # JSON-escaped: \u0073...
    bad_id = make_job(2)
    bad_id["id"] = f"job-{KEY}"
    api.set_job(json.dumps(bad_id).encode())
    caplog.set_level(logging.WARNING, logger="ftkit.export")

    result = export(api, dump)

    assert (result.masked, result.refused, result.total) == (1, 1, N_JOBS)
    data = dump.read_text()
    assert _leaks(data, KEY) == []
    written = {job["id"]: job for job in map(json.loads, data.splitlines())}
    assert written[job_id(1)]["integrations"][0]["api_key"] == "***"
    assert written[job_id(1)]["integrations"][0]["note"] == "***"
    assert f"job-{KEY}" not in written
    assert "replaced with *** before writing" in caplog.text
    assert "its id holds the API key" in caplog.text
    assert _leaks(caplog.text, KEY) == []


def test_cli_without_a_key_is_a_usage_error_naming_the_variable(dump, monkeypatch, capsys):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    args = parser().parse_args(["export", "-o", str(dump)])

    assert args.func(args) == 2

    out, err = capsys.readouterr()
    assert err.startswith("ftkit: error: export: no API key") and "MISTRAL_API_KEY" in err
    assert err.count("\n") == 1
    assert not dump.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--deadline", "0"), ("--deadline", "nan"), ("--max-response-bytes", "0"), ("--max-pages", "0"),
     ("--max-retries", "-1"), ("--timeout", "inf")],
)
def test_cli_limits_out_of_range_are_usage_errors(api, dump, monkeypatch, capsys, option, value):
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    args = parser().parse_args(["export", "-o", str(dump), "--base-url", api.url, option, value])

    assert args.func(args) == 2

    err = capsys.readouterr().err
    assert err.startswith("ftkit: error: export: expected whole numbers") and err.count("\n") == 1
    assert option.lstrip("-").replace("-", "_") in err
    assert api.requests == []

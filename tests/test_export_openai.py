"""ftkit export --provider openai, against a local imitation of OpenAI's API (tests/fake_openai_api.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ftkit
from ftkit.cli import main
from ftkit.export import ExportError
from ftkit.export_openai import export_openai_jobs

import fake_openai_api  # tests/fake_openai_api.py: tests/ is on sys.path (pyproject's pythonpath)

FakeOpenAIAPI = fake_openai_api.FakeOpenAIAPI
KEY = "sk-proj-test-0123456789abcdef"
N_JOBS = 5


def job_bytes(i: int, status: str = "succeeded") -> bytes:
    # pretty-printed and with a key ftkit does not know, as a server might send
    return json.dumps({
        "object": "fine_tuning.job", "id": f"ftjob-{i:04d}", "model": "gpt-4o-mini-2024-07-18",
        "created_at": 1_735_689_600 + 3600 * i, "status": status, "error": {},
        "hyperparameters": {"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 2},
        "future_key": {"x": 1},
    }, indent=2).encode()


def event_bytes(i: int, k: int) -> bytes:
    return json.dumps({"object": "fine_tuning.job.event", "id": f"ftevent-{i}-{k}", "created_at": 1_735_700_000 + k,
                       "level": "info", "message": f"Step {k}: training loss=0.{k}", "type": "metrics",
                       "data": {"step": k, "train_loss": k / 10}}).encode()


def checkpoint_bytes(i: int, step: int) -> bytes:
    return json.dumps({"object": "fine_tuning.job.checkpoint", "id": f"ftckpt_{i}_{step}", "created_at": 1_735_700_100 + step,
                       "fine_tuned_model_checkpoint": f"ft:gpt-4o-mini:acme::ckpt-step-{step}",
                       "fine_tuning_job_id": f"ftjob-{i:04d}", "step_number": step,
                       "metrics": {"step": float(step), "train_loss": 0.5}}).encode()


def serve_jobs(api, *, running: int | None = None) -> None:
    for i in range(N_JOBS):
        api.set_job(
            job_bytes(i, "running" if i == running else "succeeded"),
            events=[event_bytes(i, k) for k in range(7, 0, -1)],  # newest first
            checkpoints=[checkpoint_bytes(i, s) for s in (6, 3)],
        )


@pytest.fixture()
def api():
    with FakeOpenAIAPI(key=KEY) as server:
        serve_jobs(server)
        yield server


def export(api, path: Path, **kwargs):
    return export_openai_jobs(path, api_key=KEY, base_url=api.url, page_size=2, backoff=0.0, progress=False, **kwargs)


def test_export_pages_every_list_and_keeps_the_bytes_sent(api, tmp_path: Path) -> None:
    dump = tmp_path / "openai.ndjson"
    result = export(api, dump)
    assert (result.listed, result.fetched, result.written, result.total) == (N_JOBS, N_JOBS, N_JOBS, N_JOBS)
    lines = dump.read_bytes().splitlines()
    assert len(lines) == N_JOBS
    # the job's bytes (CR/LF removed), then every event and checkpoint as sent
    line = next(line for line in lines if b'"ftjob-0002"' in line)
    assert line.startswith(job_bytes(2).replace(b"\n", b"")[:-1].rstrip())
    for k in range(1, 8):
        assert event_bytes(2, k) in line
    assert checkpoint_bytes(2, 6) in line and checkpoint_bytes(2, 3) in line
    # cursor pagination: after= the last id of the previous page, until has_more is false
    job_pages = [r.query.get("after") for r in api.requests if r.path == "/v1/fine_tuning/jobs"]
    assert job_pages == [None, "ftjob-0003", "ftjob-0001"]
    event_pages = [r.query.get("after") for r in api.requests if r.path == "/v1/fine_tuning/jobs/ftjob-0002/events"]
    assert event_pages == [None, "ftevent-2-6", "ftevent-2-4", "ftevent-2-2"]
    # read back: every event and checkpoint attached to its job
    js = ftkit.read_jobs(dump)
    assert sorted(js.ids) == [f"ftjob-{i:04d}" for i in range(N_JOBS)]
    assert js.jobs["n_events"].to_list() == [7] * N_JOBS and js.jobs["n_checkpoints"].to_list() == [2] * N_JOBS
    assert KEY.encode() not in dump.read_bytes()


def test_a_second_run_fetches_only_what_may_change(api, tmp_path: Path) -> None:
    dump = tmp_path / "openai.ndjson"
    serve_jobs(api, running=1)
    export(api, dump)
    api.requests.clear()
    result = export(api, dump)
    assert (result.skipped_unchanged, result.fetched, result.written, result.total) == (N_JOBS - 1, 1, 0, N_JOBS)
    assert {r.path for r in api.requests if r.path != "/v1/fine_tuning/jobs"} == {
        "/v1/fine_tuning/jobs/ftjob-0001/events", "/v1/fine_tuning/jobs/ftjob-0001/checkpoints",
    }
    # the running job finished: its new line replaces the old one
    api.set_job(job_bytes(1), events=[event_bytes(1, 8), *[event_bytes(1, k) for k in range(7, 0, -1)]])
    result = export(api, dump)
    assert (result.written, result.total) == (1, N_JOBS)
    lines = dump.read_bytes().splitlines()
    assert len(lines) == N_JOBS
    assert ftkit.read_jobs(dump)["ftjob-0001"].status == "succeeded"


def test_retries_429_and_5xx(api, tmp_path: Path) -> None:
    api.inject(429)
    api.inject(503)
    result = export(api, tmp_path / "openai.ndjson")
    assert result.total == N_JOBS


def test_the_key_never_shows_even_when_the_server_echoes_it(api, tmp_path: Path) -> None:
    api.inject(400, b'{"error": {"message": "bad request from {authorization}"}}')
    with pytest.raises(ExportError) as info:
        export(api, tmp_path / "openai.ndjson", max_retries=0)
    assert KEY not in str(info.value) and "Bearer ***" in str(info.value)
    assert not (tmp_path / "openai.ndjson").exists()  # nothing fetched: no file left
    with pytest.raises(ExportError, match="refused the API key .* OPENAI_API_KEY") as info:
        export_openai_jobs(tmp_path / "x.ndjson", api_key="sk-wrong-key-000000", base_url=api.url, progress=False)
    assert "sk-wrong" not in str(info.value)


def test_a_line_cut_short_by_a_kill_is_dropped_and_the_run_resumes(api, tmp_path: Path) -> None:
    dump = tmp_path / "openai.ndjson"
    export(api, dump)
    whole = dump.read_bytes()
    first, rest = whole.split(b"\n", 1)
    dump.write_bytes(first + b"\n" + rest[:40])  # a kill in the middle of the second line
    result = export(api, dump)
    assert result.total == N_JOBS
    assert sorted(dump.read_bytes().splitlines()) == sorted(whole.splitlines())


def test_command_line_reads_the_key_and_base_url_from_the_environment(api, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api.url)
    dump = tmp_path / "openai.ndjson"
    assert main(["export", "--provider", "openai", "-o", str(dump), "--page-size", "3"]) == 0
    err = capsys.readouterr().err
    assert f"{N_JOBS} jobs ({N_JOBS} listed" in err and KEY not in err
    assert len(ftkit.read_jobs(dump)) == N_JOBS
    # a Mistral filter is a usage error (exit 2, as for the Mistral export), before any request
    requests = len(api.requests)
    assert main(["export", "--provider", "openai", "-o", str(dump), "--status", "SUCCESS"]) == 2
    assert "--status: filters of Mistral's job list, expected none with --provider openai" in capsys.readouterr().err
    assert len(api.requests) == requests


def test_command_line_limits_and_usage_errors_as_for_mistral(api, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", api.url)
    dump = tmp_path / "openai.ndjson"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["export", "--provider", "openai", "-o", str(dump)]) == 2
    assert "no API key: expected api_key= or the OPENAI_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert main(["export", "--provider", "openai", "-o", str(dump), "--max-pages", "0"]) == 2
    assert "max_pages=0" in capsys.readouterr().err
    assert not api.requests and not dump.exists()
    # --max-pages bounds the job list: 2 pages of 3 cannot hold every job
    assert main(["export", "--provider", "openai", "-o", str(dump), "--page-size", "3", "--max-pages", "2"]) == 1
    assert "more than 2 pages (max_pages)" in capsys.readouterr().err


def test_a_job_deleted_after_the_listing_is_counted_not_written(api, tmp_path: Path) -> None:
    api.gone.add("ftjob-0003")
    result = export(api, tmp_path / "openai.ndjson")
    assert (result.listed, result.fetched, result.not_found, result.total) == (N_JOBS, N_JOBS - 1, 1, N_JOBS - 1)
    assert "ftjob-0003" not in ftkit.read_jobs(tmp_path / "openai.ndjson")

"""Mistral and OpenAI jobs in one set: analysis, plots, browser, report and command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit import plot
from ftkit.browser import JobBrowser, compare_html, detail_html
from ftkit.cli import main
from ftkit.report import render_report
from ftkit.summary import summary_text

AZURE_JOB = "ftjob-900fcfc7ea1d4360a9f0cb1697b4eaa6"
CURL_JOB = "ftjob-fleKSpQCbZyvqCJpXJ8ilU7T"
DOCS_JOB = "2813b7e6-c511-43ac-a16a-1a54a5b884b2"  # platformdocs-2: checkpoints with valid metrics


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def mixed_dir(real_dir: Path, tmp_path: Path) -> Path:
    """platformdocs-2 (Mistral), the Azure job with its events beside it, the curl job, and
    a job whose suffix is HTML."""
    shutil.copy(real_dir / "platformdocs-2.json", tmp_path / "platformdocs-2.json")
    shutil.copy(real_dir / "openai-azure-1.json", tmp_path / f"{AZURE_JOB}.json")
    shutil.copy(real_dir / "openai-azure-2.json", tmp_path / f"{AZURE_JOB}.events.json")
    curl = json.loads((real_dir / "openai-curl-1.json").read_bytes())
    curl["user_provided_suffix"] = "<b>x</b>\x1b[31m"
    (tmp_path / "curl.json").write_text(json.dumps(curl))
    return tmp_path


@pytest.fixture()
def mixed(mixed_dir: Path) -> ftkit.JobSet:
    return ftkit.read_jobs(mixed_dir)


def test_the_mixed_directory_reads_in_path_order(mixed: ftkit.JobSet) -> None:
    assert mixed.ids == [CURL_JOB, AZURE_JOB, DOCS_JOB]  # curl.json, ftjob-....json, platformdocs-2.json
    assert mixed.jobs["provider"].to_list() == ["openai", "openai", "mistral"]
    assert mixed.unattached == []


def test_checkpoint_summary_uses_metric_events_of_openai_jobs(mixed: ftkit.JobSet) -> None:
    got = ftkit.checkpoint_summary(mixed).select("job_id", "n_checkpoints", "n_evaluated", "last_step", "best_step")
    expected = pl.DataFrame(
        {"job_id": [CURL_JOB, AZURE_JOB, DOCS_JOB], "n_checkpoints": [None, None, 10],
         "n_evaluated": [None, 6, 10], "last_step": [None, 100, 100], "best_step": [None, 50, 100]},
        schema={"job_id": pl.String, "n_checkpoints": pl.Int64, "n_evaluated": pl.Int64,
                "last_step": pl.Int64, "best_step": pl.Int64},
    )
    assert_frame_equal(got, expected)


def test_compare_hyperparameters_compares_each_provider_among_its_own(mixed: ftkit.JobSet) -> None:
    got = ftkit.compare_hyperparameters(mixed)
    # learning_rate is one value among the Mistral jobs; OpenAI's differ (auto is null)
    expected = pl.DataFrame(
        {"job_id": [CURL_JOB, AZURE_JOB, DOCS_JOB], "n_epochs": [6, None, None],
         "batch_size": [1, None, None], "learning_rate_multiplier": [2.0, 1.0, None]},
        schema={"job_id": pl.String, "n_epochs": pl.Int64, "batch_size": pl.Int64,
                "learning_rate_multiplier": pl.Float64},
    )
    assert_frame_equal(got, expected)
    assert "n_epochs" not in ftkit.compare_hyperparameters(mixed.filter(provider="mistral"), varying_only=False).columns


def test_loss_curves_draw_one_line_per_job_of_either_provider(mixed: ftkit.JobSet) -> None:
    fig, ax = plt.subplots()
    out = plot.plot_loss_curves(mixed, metric="train_loss", ax=ax, mark_best=False)
    assert out is ax
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert len(lines) == 2
    azure = next(line for label, line in lines.items() if AZURE_JOB[:8] in label or "ftjob-90" in label)
    assert list(azure.get_xdata()) == [50, 60, 70, 80, 90, 100]


def test_effect_of_an_openai_hyperparameter(real_dir: Path) -> None:
    js = ftkit.read_jobs(ftkit.synth.make_openai_jobs_bytes(60, seed=0))
    table = ftkit.effect(js, param="learning_rate_multiplier", metric="best_valid_loss")
    assert table["learning_rate_multiplier"].to_list() == [0.5, 1.0, 1.8, 2.0, None]  # None: auto
    fig, ax = plt.subplots()
    plot.plot_effect(js, param="learning_rate_multiplier", metric="best_valid_loss", ax=ax)
    assert ax.get_xlabel() == "learning rate multiplier"


def test_timeline_and_status_counts_take_mixed_sets(mixed: ftkit.JobSet) -> None:
    fig, ax = plt.subplots()
    plot.plot_status_counts(mixed, ax=ax)
    assert sorted(t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels() if t.get_text()) != []
    fig, ax = plt.subplots()
    assert plot.plot_timeline(mixed, ax=ax) is ax
    assert isinstance(plot.plot_job(mixed[AZURE_JOB]), matplotlib.figure.Figure)


def test_browser_detail_and_compare_panes_of_openai_jobs(mixed: ftkit.JobSet) -> None:
    pane = detail_html(mixed, AZURE_JOB)
    assert "<td>provider</td><td>openai</td>" in pane.replace("<th>", "<td>").replace("</th>", "</td>")
    assert "status as written" in pane and "pending" in pane
    assert "n_epochs" in pane and "auto" in pane and "learning_rate_multiplier" in pane
    pane = detail_html(mixed, CURL_JOB)
    assert "<b>x</b>" not in pane and "&lt;b&gt;x&lt;/b&gt;" in pane
    pane = compare_html(mixed, [DOCS_JOB, CURL_JOB])
    assert "<b>x</b>" not in pane


def test_browser_widget_filters_and_shows_an_openai_job(mixed: ftkit.JobSet) -> None:
    browser = JobBrowser(mixed)
    browser.filters = {"text": "ftjob-900"}
    assert browser.matching == [AZURE_JOB]
    browser.selected = [AZURE_JOB]
    assert browser.mode == "detail" and AZURE_JOB in browser.pane_html
    assert browser.plot_png.startswith(b"\x89PNG")  # its curves, from the metrics events


def test_report_and_summary_count_jobs_by_provider(mixed: ftkit.JobSet) -> None:
    page = render_report(mixed)
    assert 'id="by-provider"' in page and "<b>x</b>" not in page
    text = summary_text(mixed)
    assert "provider" in text and "\x1b" not in text
    mistral_only = summary_text(mixed.filter(provider="mistral"))
    assert "provider" not in mistral_only


def test_command_line_on_a_mixed_directory(mixed_dir: Path, real_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["summary", str(mixed_dir), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "openai" in out and "mistral" in out
    in_memory = ftkit.read_jobs(mixed_dir)
    out_dir = tmp_path / "parquet"
    assert main(["convert", str(mixed_dir), "-o", str(out_dir), "--quiet"]) == 0
    tables = ftkit.scan_tables(out_dir).collect()
    assert sorted(tables["jobs"]["provider"].to_list()) == ["mistral", "openai", "openai"]
    for name in ("jobs", "checkpoints", "events"):  # the dataset holds what read_jobs reads
        key = ["job_id"] if name == "jobs" else ["job_id", "created_at" if name == "events" else "step_number"]
        assert_frame_equal(tables[name].sort(key, maintain_order=True), getattr(in_memory, name).sort(key, maintain_order=True))
    assert main(["summary", str(real_dir / "openai-azure-3.json")]) == 0
    err = capsys.readouterr().err
    assert "3 OpenAI checkpoints without their job (job ftjob-372c72db22c34e6f9ccb62c26ee0fbd9, not read)" in err


def test_effect_of_a_providers_hyperparameter_leaves_the_other_provider_out(mixed: ftkit.JobSet) -> None:
    # the Mistral job has no learning_rate_multiplier: it is not a null group beside OpenAI's
    got = ftkit.effect(mixed, param="learning_rate_multiplier", metric="best_train_loss")
    assert got.select("learning_rate_multiplier", "n_jobs").rows() == [(1.0, 1), (2.0, 1)]
    got = ftkit.effect(mixed, param="learning_rate", metric="best_train_loss")
    assert got.select("learning_rate", "n_jobs").rows() == [(0.0001, 1)]


# --- snapshots and iter_jobs -----------------------------------------------------------


def _openai_job(status: str, **extra) -> dict:
    return {"object": "fine_tuning.job", "id": "ftjob-snap1", "model": "gpt-4o-mini", "status": status,
            "created_at": 100, **extra}


@pytest.mark.parametrize("order", [0, 1])
def test_openai_snapshots_the_latest_time_the_record_shows_wins(order: int) -> None:
    running = _openai_job("running")
    done = _openai_job("succeeded", finished_at=200, trained_tokens=10)
    docs = [running, done] if order == 0 else [done, running]
    data = b"".join(json.dumps(d).encode() + b"\n" for d in docs)
    js = ftkit.read_jobs(data)
    assert js.jobs.select("status", "trained_tokens").rows() == [("SUCCESS", 10)]
    batches = list(ftkit.iter_jobs(data, batch_size=1))
    assert [b.jobs.select("status", "trained_tokens").rows() for b in batches] == [[("SUCCESS", 10)]]


def test_openai_records_tied_on_their_time_are_merged() -> None:
    # neither record says which is newer (no finished_at, no modified_at): merged key by key
    a = _openai_job("running", trained_tokens=10)
    b = _openai_job("running", fine_tuned_model="ft:x")
    for docs in ([a, b], [b, a]):
        js = ftkit.read_jobs(b"".join(json.dumps(d).encode() + b"\n" for d in docs))
        assert js.jobs.select("trained_tokens", "fine_tuned_model").rows() == [(10, "ft:x")]
        assert type(js["ftjob-snap1"]).__name__ == "OpenAIJob"


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_iter_jobs_attaches_lists_across_batches_like_read_jobs(tmp_path: Path, batch_size: int) -> None:
    # jobs each followed by their events and checkpoints lists, then lists read *before*
    # their job (a file sorted before the job's): with dedupe, every batch size gives
    # read_jobs's frames, and nothing is left unattached
    ftkit.synth.write_openai_dump(tmp_path / "b-dump.ndjson", 5, seed=3)
    azure = json.loads((Path(__file__).parent / "data" / "real" / "openai-azure-1.json").read_bytes())
    (tmp_path / f"a-{AZURE_JOB}.events.json").write_bytes(
        (Path(__file__).parent / "data" / "real" / "openai-azure-2.json").read_bytes()
    )
    (tmp_path / "c-azure.json").write_text(json.dumps(azure))
    whole = ftkit.read_jobs(tmp_path)
    assert not whole.unattached and whole[AZURE_JOB].events
    batches = list(ftkit.iter_jobs(tmp_path, batch_size=batch_size))
    assert not any(b.unattached for b in batches)
    for name in ("jobs", "events", "checkpoints"):
        got = pl.concat([getattr(b, name) for b in batches])
        key = ["job_id"] + (["created_at"] if name != "jobs" else [])
        assert_frame_equal(got.sort(key, maintain_order=True), getattr(whole, name).sort(key, maintain_order=True))

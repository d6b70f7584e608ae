"""Tests of ftkit.synth: determinism, the real quirks, and reading back."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.schema import ClassifierJob, CompletionJob
from ftkit.synth import (
    END,
    START,
    iter_job_lines,
    make_job_dicts,
    make_jobs,
    make_jobs_bytes,
    write_dump,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-jobs.ndjson.gz"
N = 400


@pytest.fixture(scope="module")
def wire() -> list[dict]:
    """The wire dicts of the sample, to check which keys are absent."""
    return list(make_job_dicts(N, seed=0))


@pytest.fixture(scope="module")
def jobs() -> list:
    return make_jobs(N, seed=0)


@pytest.fixture(scope="module")
def js() -> ftkit.JobSet:
    return ftkit.read_jobs(make_jobs_bytes(N, seed=0), strict=True)


# --- determinism ------------------------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_other_bytes():
    first = make_jobs_bytes(60, seed=5)
    assert make_jobs_bytes(60, seed=5) == first
    assert make_jobs_bytes(60, seed=6) != first


def test_a_job_depends_only_on_seed_and_index():
    assert make_jobs(300, seed=2)[:25] == make_jobs(25, seed=2)
    assert make_jobs_bytes(300, seed=2).startswith(make_jobs_bytes(25, seed=2))


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    out = write_dump(tmp_path / "sample-jobs.ndjson.gz", 300, seed=0)
    assert out.read_bytes() == SAMPLE.read_bytes(), "re-run data/make_sample.py and commit the result"
    assert SAMPLE.stat().st_size < 400_000


def test_write_dump_plain_and_gzip_hold_the_same_bytes(tmp_path):
    plain = write_dump(tmp_path / "jobs.ndjson", 40, seed=3)
    packed = write_dump(tmp_path / "jobs.ndjson.gz", 40, seed=3)
    assert plain.read_bytes() == make_jobs_bytes(40, seed=3)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


def test_ids_are_unique(jobs):
    assert len({job.id for job in jobs}) == len(jobs)


# --- reading back -----------------------------------------------------------------


@pytest.mark.parametrize("layout", ["ndjson", "array", "list"])
def test_every_layout_reads_back_to_make_jobs(layout):
    data = make_jobs_bytes(120, seed=4, layout=layout)
    js = ftkit.read_jobs(data, strict=True)
    assert list(js) == make_jobs(120, seed=4)
    assert js.errors.height == 0


def test_list_layout_is_a_list_response():
    data = msgspec.json.decode(make_jobs_bytes(7, seed=0, layout="list"))
    assert list(data) == ["object", "data", "total"]
    assert (data["object"], data["total"], len(data["data"])) == ("list", 7, 7)


def test_bad_layout_is_refused():
    with pytest.raises(ValueError, match="layout must be"):
        make_jobs_bytes(1, seed=0, layout="csv")


def test_reads_strictly_without_errors(js):
    assert len(js) == N
    assert js.jobs.height == N
    assert js.checkpoints.height == sum(len(job.checkpoints or ()) for job in js)


def test_the_sample_file_reads(tmp_path):
    js = ftkit.read_jobs(SAMPLE, strict=True)
    assert len(js) == 300
    assert list(js) == make_jobs(300, seed=0)


# --- the quirks of real dumps -----------------------------------------------------


def test_both_job_types_and_every_job_type_spelling(jobs, js):
    assert {type(job) for job in jobs} == {ClassifierJob, CompletionJob}
    spellings = Counter(job.job_type for job in jobs)
    assert set(spellings) == {"FT", None, "completion", "classifier"}
    assert all(job.kind == "completion" for job in jobs if job.job_type == "FT")
    counts = js.jobs.group_by("job_type").len().sort("job_type")
    assert counts["job_type"].to_list() == ["classifier", "completion"]


def test_2024_jobs_lack_the_later_keys(wire):
    old = [job for job in wire if job.get("job_type") == "FT" and "auto_start" not in job]
    assert old, "some 2024 (SDK 0.x) jobs"
    for job in old:
        for key in ("auto_start", "suffix", "trained_tokens", "metadata", "repositories"):
            assert key not in job
        assert set(job["hyperparameters"]) == {"training_steps", "learning_rate"}
    assert any("estimated_start_time" in job for job in old)
    assert any("estimated_start_time" not in job for job in old)


def test_2024_jobs_decode_with_absent_keys_as_none(jobs):
    old = [job for job in jobs if job.auto_start is None]
    assert old and all(job.metadata is None and job.trained_tokens is None for job in old)


def test_sdk_dumps_drop_object_and_job_type_and_integration_type(wire):
    sdk = [job for job in wire if "object" not in job]
    assert sdk and all("job_type" not in job or "classifier_targets" not in job for job in sdk)
    types = {("type" in w) for job in wire for w in job["integrations"]}
    assert types == {True, False}


def test_events_order_same_second_and_missing_data(jobs):
    newest_first = oldest_first = same_second = no_data = 0
    for job in jobs:
        stamps = [e.created_at for e in job.events]
        if len(stamps) > 1 and stamps[0] > stamps[-1]:
            newest_first += 1
            assert job.job_type == "FT"
        if len(stamps) > 1 and stamps[0] < stamps[-1]:
            oldest_first += 1
        same_second += len(stamps) != len(set(stamps))
        no_data += any(e.data is None for e in job.events)
        assert all(e.name == "status-updated" for e in job.events)
    assert newest_first and oldest_first and same_second and no_data


def test_events_frame_puts_them_in_time_order(js):
    events = js.events
    assert events.height > 0
    unordered = events.group_by("job_id").agg(pl.col("created_at").is_sorted().alias("ok")).filter(~pl.col("ok"))
    assert unordered.height == 0


def test_final_event_after_modified_at_sometimes(jobs):
    assert any(job.events and max(e.created_at for e in job.events) > job.modified_at for job in jobs)


def test_checkpoints_newest_first_and_both_styles(jobs):
    per_step = every_n = 0
    for job in jobs:
        steps = [c.step_number for c in job.checkpoints or ()]
        assert steps == sorted(steps, reverse=True)
        if len(steps) > 1:
            gap = steps[0] - steps[1]
            per_step += gap == 1
            every_n += gap > 1
    assert per_step and every_n


def test_placeholder_metrics_become_null_in_the_frame(jobs, js):
    placeholders = sum(
        c.metrics.valid_loss == 0.0 and c.metrics.valid_mean_token_accuracy == 0.0
        for job in jobs
        for c in job.checkpoints or ()
    )
    assert placeholders > 0
    cp = js.checkpoints
    assert cp.filter(pl.col("valid_loss") == 0.0).height == 0
    assert cp["valid_loss"].null_count() == placeholders
    # a job without a validation file: every checkpoint a placeholder
    assert any(
        job.checkpoints and not job.validation_files and all(c.metrics.valid_loss == 0.0 for c in job.checkpoints)
        for job in jobs
    )


def test_a_2025_success_job_has_a_checkpoint_per_step(jobs):
    assert any(
        job.status == "SUCCESS"
        and job.job_type != "FT"
        and job.checkpoints
        and len(job.checkpoints) == job.hyperparameters.training_steps
        for job in jobs
    )


def test_accuracy_above_one_is_kept(js):
    accuracy = js.checkpoints["valid_mean_token_accuracy"].drop_nulls()
    assert (accuracy > 1).any() and (accuracy < 1).any()


def test_success_without_checkpoints(jobs):
    assert any(job.status == "SUCCESS" and job.checkpoints == [] for job in jobs)


def test_statuses_mostly_success(jobs):
    counts = Counter(job.status for job in jobs)
    assert set(counts) == {
        "QUEUED", "VALIDATING", "VALIDATED", "RUNNING", "SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED",
    }  # fmt: skip
    assert counts.most_common(1)[0][0] == "SUCCESS"
    assert 0.5 < counts["SUCCESS"] / len(jobs) < 0.8


def test_epochs_null_on_creation_then_fractional(js):
    frame = js.jobs
    created = frame.filter(pl.col("status") == "QUEUED", pl.col("auto_start").is_not_null())
    assert created["epochs"].null_count() > 0
    epochs = frame["epochs"].drop_nulls()
    assert (epochs != epochs.round(0)).any()


def test_cost_currencies_and_zero_cost_at_creation(js):
    frame = js.jobs
    assert set(frame["cost_currency"].drop_nulls()) == {"USD", "EUR"}
    # the placeholder 0.0 without a currency a job carries at creation (js.jobs reads it as null)
    placeholders = [j.id for j in js if j.metadata and j.metadata.cost == 0.0 and j.metadata.cost_currency is None]
    assert placeholders
    assert frame.filter(pl.col("job_id").is_in(placeholders))["cost"].null_count() == len(placeholders)


def test_trained_tokens_differs_from_train_tokens_sometimes(js):
    both = js.jobs.drop_nulls(["trained_tokens", "train_tokens"])
    assert (both["trained_tokens"] != both["train_tokens"]).any()
    assert (both["trained_tokens"] == both["train_tokens"]).any()


def test_wandb_integrations(js):
    frame = js.jobs
    assert frame["wandb_project"].drop_nulls().len() > 0
    assert frame["wandb_run_name"].drop_nulls().len() > 0
    assert frame["wandb_url"].drop_nulls().str.starts_with("https://wandb.ai/").all()
    assert frame["wandb_url"].drop_nulls().len() > 0


def test_codestral_jobs_with_repositories(jobs, js):
    repo_jobs = [job for job in jobs if job.kind == "completion" and job.repositories]
    assert repo_jobs and all(job.model == "codestral-latest" for job in repo_jobs)
    assert any(job.training_files == [] for job in repo_jobs)
    assert js.jobs.filter(pl.col("fim_ratio") == 0.9)["model"].unique().to_list() == ["codestral-latest"]


def test_models_suffixes_and_fine_tuned_names(js):
    frame = js.jobs
    assert set(frame["model"]) == {
        "open-mistral-7b", "mistral-small-latest", "codestral-latest", "open-mistral-nemo",
        "ministral-3b-latest", "ministral-8b-latest", "pixtral-12b-latest",
    }  # fmt: skip
    assert frame["suffix"].drop_nulls().len() > 0
    names = frame.filter(pl.col("status") == "SUCCESS")["fine_tuned_model"]
    assert names.null_count() == 0 and names.str.starts_with("ft:").all()
    assert names.str.starts_with("ft:classifier:").any()


def test_hyperparameters_vary(js):
    frame = js.jobs
    assert set(frame["learning_rate"]) >= {1e-5, 4e-5, 1e-4}
    assert frame["training_steps"].min() >= 10 and frame["training_steps"].max() <= 500
    assert frame["training_steps"].n_unique() > 5
    assert frame["weight_decay"].drop_nulls().n_unique() > 1
    assert frame["warmup_fraction"].drop_nulls().n_unique() > 1
    assert frame["seq_len"].drop_nulls().n_unique() > 1


def test_created_at_spread_over_the_api_lifetime(jobs):
    stamps = [job.created_at for job in jobs]
    assert START <= min(stamps) and max(stamps) <= END
    months = {datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m") for t in stamps}
    assert {"2024-06", "2024-12", "2025-06", "2025-10"} <= months


def test_classifier_targets_mostly_name_and_labels(js):
    targets = js.targets
    assert targets.height > 0
    assert targets["weight"].null_count() > targets.height / 2
    assert targets["loss_function"].drop_nulls().len() > 0


def test_a_too_high_learning_rate_overfits():
    """Median rise of the last validation loss over the job's minimum, by learning rate."""
    js = ftkit.read_jobs(make_jobs_bytes(2000, seed=0))
    measured = js.checkpoints.drop_nulls("valid_loss").join(
        js.jobs.select("job_id", "learning_rate", "training_steps"), on="job_id"
    )
    rise = (
        measured.filter(pl.col("training_steps") >= 100)
        .group_by("job_id", "learning_rate")
        .agg((pl.col("valid_loss").sort_by("step_number").last() / pl.col("valid_loss").min()).alias("rise"))
        .group_by("learning_rate")
        .agg(pl.col("rise").median())
        .sort("learning_rate")
    )
    by_lr = dict(rise.iter_rows())
    assert by_lr[1e-5] == pytest.approx(1.0, abs=0.02)  # still falling at the end
    assert by_lr[2e-4] > 1.3  # overfits: well above its minimum


def test_first_checkpoints_of_a_job():
    job = next(job for job in make_jobs(20, seed=0) if job.checkpoints and job.job_type != "FT")
    frame = ftkit.checkpoints_frame([job]).head(3).select(
        "step_number", "train_loss", "valid_loss", "valid_mean_token_accuracy"
    )
    expected = pl.DataFrame(
        {
            "step_number": [1, 2, 3],
            "train_loss": [1.32926, 1.363222, 1.170781],
            "valid_loss": [None, None, None],
            "valid_mean_token_accuracy": [None, None, None],
        },
        schema={
            "step_number": pl.Int64(),
            "train_loss": pl.Float64(),
            "valid_loss": pl.Float64(),
            "valid_mean_token_accuracy": pl.Float64(),
        },
    )
    assert_frame_equal(frame, expected)


# --- options --------------------------------------------------------------------


@pytest.mark.parametrize("target", [15, 30, 80])
def test_checkpoints_per_job_sets_the_average(target):
    js = ftkit.read_jobs(make_jobs_bytes(1500, seed=1, checkpoints_per_job=target))
    assert js.checkpoints.height / len(js) == pytest.approx(target, rel=0.25)


def test_no_checkpoints():
    assert all(not job.checkpoints for job in make_jobs(100, seed=0, checkpoints_per_job=0))


def test_events_per_job_adds_running_updates_and_leaves_the_rest():
    plain = make_job_dicts(300, seed=2, checkpoints_per_job=10)
    busy = make_job_dicts(300, seed=2, checkpoints_per_job=10, events_per_job=60)
    grew = 0
    for before, after in zip(plain, busy, strict=True):
        assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
        added = [e for e in after["events"] if e not in before["events"]]
        assert {e["name"] for e in added} <= {"status-updated"}
        assert all(e.get("data", {"status": "RUNNING"}) == {"status": "RUNNING"} for e in added)
        grew += len(after["events"]) > len(before["events"])
    js = ftkit.read_jobs(make_jobs_bytes(1000, seed=2, checkpoints_per_job=10, events_per_job=60))
    ran = js.jobs.filter(pl.col("n_checkpoints") > 0)["n_events"]
    assert ran.mean() == pytest.approx(60, rel=0.1)
    assert grew > 100


def test_sdk_readable_mends_what_the_sdk_rejects():
    jobs = make_jobs(300, seed=0, sdk_readable=True)
    assert {job.job_type for job in jobs} == {"completion", "classifier"}
    assert all(job.auto_start is not None for job in jobs)
    targets = [t for job in jobs if job.kind == "classifier" for t in job.classifier_targets]
    assert targets and all(t.weight is not None and t.loss_function for t in targets)


def test_sdk_readable_jobs_validate_with_the_sdk():
    models = pytest.importorskip("mistralai.models")
    for line in iter_job_lines(200, seed=0, sdk_readable=True):
        if b'"job_type":"classifier"' in line:
            models.ClassifierDetailedJobOut.model_validate_json(line)
        else:
            models.CompletionDetailedJobOut.model_validate_json(line)


def test_negative_n_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        make_jobs(-1, seed=0)


# --- OpenAI jobs ------------------------------------------------------------------------

OPENAI_SAMPLE = SAMPLE.with_name("sample-openai-jobs.ndjson.gz")


def test_openai_sample_is_what_the_generator_writes(tmp_path):
    from ftkit.synth import write_openai_dump

    out = write_openai_dump(tmp_path / "sample-openai-jobs.ndjson.gz", 60, seed=0)
    assert out.read_bytes() == OPENAI_SAMPLE.read_bytes(), "re-run data/make_sample.py and commit the result"


def test_openai_jobs_carry_the_real_quirks_and_attach_their_lists():
    from ftkit.synth import make_openai_jobs_bytes

    js = ftkit.read_jobs(make_openai_jobs_bytes(300, seed=3), strict=True)
    assert len(js) == 300 and js.unattached == []
    jobs = js.jobs
    assert set(jobs["provider"]) == {"openai"}
    assert {"pending", "validating_files", "queued", "running", "succeeded", "failed", "cancelled"} <= set(jobs["status_raw"])
    assert jobs["n_epochs_auto"].any() and not jobs["n_epochs_auto"].all()
    assert set(jobs["method"].drop_nulls()) == {"supervised"}
    origins = js.checkpoints.group_by("origin").len().sort("origin")["origin"].to_list()
    assert origins == ["checkpoint", "event"]
    # every succeeded job has a curve and its checkpoints attached
    done = jobs.filter(pl.col("status") == "SUCCESS")
    assert done["n_checkpoints"].min() >= 1
    raw = [job for job in js if job.status == "pending"]
    assert raw and all(job.hyperparameters.n_epochs == -1 for job in raw)  # Azure sentinel


def test_openai_generation_is_deterministic_per_job():
    from ftkit.synth import make_openai_jobs_bytes

    ten = make_openai_jobs_bytes(10, seed=5)
    assert make_openai_jobs_bytes(30, seed=5).startswith(ten)
    assert make_openai_jobs_bytes(10, seed=6) != ten

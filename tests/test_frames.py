"""Frames from real documents, compared whole against literal frames built from the JSON."""

from __future__ import annotations

import doctest
import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
import ftkit.frames

UTC = pl.Datetime("us", "UTC")

JOBS = {
    "job_id": pl.String, "job_type": pl.String, "model": pl.String, "status": pl.String,
    "auto_start": pl.Boolean, "created_at": UTC, "modified_at": UTC,
    "fine_tuned_model": pl.String, "suffix": pl.String, "trained_tokens": pl.Int64,
    "training_files": pl.List(pl.String), "validation_files": pl.List(pl.String),
    "learning_rate": pl.Float64, "training_steps": pl.Int64, "epochs": pl.Float64,
    "weight_decay": pl.Float64, "warmup_fraction": pl.Float64, "seq_len": pl.Int64,
    "fim_ratio": pl.Float64, "cost": pl.Float64, "cost_currency": pl.String,
    "train_tokens": pl.Int64, "train_tokens_per_step": pl.Int64, "data_tokens": pl.Int64,
    "expected_duration_seconds": pl.Int64, "estimated_start_time": UTC,
    "wandb_project": pl.String, "wandb_run_name": pl.String, "wandb_url": pl.String,
    "n_checkpoints": pl.Int64, "n_events": pl.Int64,
    "provider": pl.String, "status_raw": pl.String, "method": pl.String,
    "n_epochs": pl.Int64, "n_epochs_auto": pl.Boolean, "batch_size": pl.Int64,
    "batch_size_auto": pl.Boolean, "learning_rate_multiplier": pl.Float64,
    "learning_rate_multiplier_auto": pl.Boolean, "seed": pl.Int64, "organization_id": pl.String,
    "finished_at": UTC, "estimated_finish": UTC, "error_code": pl.String, "error_message": pl.String,
}
CHECKPOINTS = {
    "job_id": pl.String, "step_number": pl.Int64, "created_at": UTC,
    "train_loss": pl.Float64, "valid_loss": pl.Float64, "valid_mean_token_accuracy": pl.Float64,
    "provider": pl.String, "train_mean_token_accuracy": pl.Float64, "full_valid_loss": pl.Float64,
    "full_valid_mean_token_accuracy": pl.Float64, "checkpoint_id": pl.String,
    "fine_tuned_model_checkpoint": pl.String, "origin": pl.String,
}
EVENTS = {
    "job_id": pl.String, "created_at": UTC, "name": pl.String, "status": pl.String, "data": pl.String,
    "provider": pl.String, "level": pl.String, "message": pl.String,
}
TARGETS = {
    "job_id": pl.String, "name": pl.String, "labels": pl.List(pl.String),
    "weight": pl.Float64, "loss_function": pl.String,
}


def ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


def frame(schema: dict, rows: list[tuple]) -> pl.DataFrame:
    """A literal frame; integer seconds in Datetime columns become UTC datetimes."""
    names = list(schema)
    converted = [
        tuple(ts(v) if schema[n] == UTC else v for n, v in zip(names, row)) for row in rows
    ]
    return pl.DataFrame(converted, schema=schema, orient="row")


def cps(rows: list[tuple]) -> pl.DataFrame:
    """Mistral checkpoint rows (job, step, time, train_loss, valid_loss, accuracy): the
    OpenAI-only columns are null, provider "mistral", origin "checkpoint"."""
    return frame(CHECKPOINTS, [(*row, "mistral", None, None, None, None, None, "checkpoint") for row in rows])


def evs(rows: list[tuple]) -> pl.DataFrame:
    """Mistral event rows (job, time, name, status, data): provider "mistral", no level or message."""
    return frame(EVENTS, [(*row, "mistral", None, None) for row in rows])


def read(real_dir: Path, *names: str) -> ftkit.JobSet:
    return ftkit.read_jobs([real_dir / name for name in names])


# --- schemas ------------------------------------------------------------------------


def test_frame_schemas_are_fixed_even_when_empty() -> None:
    empty = ftkit.read_jobs(b"[]")
    assert len(empty) == 0
    for got, schema in (
        (empty.jobs, JOBS), (empty.checkpoints, CHECKPOINTS), (empty.events, EVENTS),
        (empty.targets, TARGETS),
        (ftkit.jobs_frame([]), JOBS), (ftkit.checkpoints_frame(iter([])), CHECKPOINTS),
        (ftkit.events_frame(()), EVENTS), (ftkit.targets_frame([]), TARGETS),
    ):
        assert_frame_equal(got, pl.DataFrame(schema=schema))
    assert_frame_equal(
        empty.errors,
        pl.DataFrame(schema={"source": pl.String, "line": pl.Int64, "index": pl.Int64,
                             "path": pl.String, "message": pl.String}),
    )


def test_frame_functions_match_the_jobset_frames(mistral_paths: list[Path]) -> None:
    js = ftkit.read_jobs(mistral_paths)
    jobs = list(js)
    for name, function in (
        ("jobs", ftkit.jobs_frame), ("checkpoints", ftkit.checkpoints_frame),
        ("events", ftkit.events_frame), ("targets", ftkit.targets_frame),
    ):
        expected = getattr(js, name)
        assert_frame_equal(function(jobs), expected)
        assert_frame_equal(function(iter(jobs)), expected)  # any iterable of jobs
        assert_frame_equal(function(js), expected)


# --- checkpoints --------------------------------------------------------------------

PLATFORMDOCS_2 = "2813b7e6-c511-43ac-a16a-1a54a5b884b2"


def test_checkpoints_of_platformdocs_2_in_step_order(real_dir: Path) -> None:
    # The JSON lists them newest first (100 .. 10); the frame is in step order.
    expected = cps([
        (PLATFORMDOCS_2, 10, 1717172702, 0.803578, 0.914257, 1.884598),
        (PLATFORMDOCS_2, 20, 1717172788, 0.880803, 0.852521, 1.805653),
        (PLATFORMDOCS_2, 30, 1717172874, 0.8704, 0.835169, 1.784066),
        (PLATFORMDOCS_2, 40, 1717172960, 0.786473, 0.827982, 1.775201),
        (PLATFORMDOCS_2, 50, 1717173045, 0.823884, 0.824598, 1.771041),
        (PLATFORMDOCS_2, 60, 1717173131, 0.840297, 0.822249, 1.76816),
        (PLATFORMDOCS_2, 70, 1717173217, 0.775537, 0.821105, 1.766759),
        (PLATFORMDOCS_2, 80, 1717173303, 0.816602, 0.820234, 1.765692),
        (PLATFORMDOCS_2, 90, 1717173388, 0.84643, 0.819768, 1.765122),
        (PLATFORMDOCS_2, 100, 1717173470, 0.816135, 0.819697, 1.765035),
    ])
    assert_frame_equal(read(real_dir, "platformdocs-2.json").checkpoints, expected)


INTENT_3 = "db22ea7e-1895-4309-92d9-9ac881b1b117"
# (step, created_at, train_loss) of cookbook-classifier-intent-3; every step but 100 has
# the placeholder valid_loss = valid_mean_token_accuracy = 0.0 (the notebook elided 20..92).
INTENT_3_STEPS = [
    (1, 1744814739, 0.00189), (2, 1744814739, 0.001893), (3, 1744814739, 0.001917),
    (4, 1744814739, 0.001887), (5, 1744814749, 0.001819), (6, 1744814749, 0.001787),
    (7, 1744814749, 0.001749), (8, 1744814749, 0.001721), (9, 1744814749, 0.001688),
    (10, 1744814749, 0.001646), (11, 1744814759, 0.001623), (12, 1744814759, 0.001585),
    (13, 1744814759, 0.001536), (14, 1744814759, 0.001528), (15, 1744814759, 0.001482),
    (16, 1744814769, 0.001489), (17, 1744814769, 0.001453), (18, 1744814769, 0.001442),
    (19, 1744814769, 0.001401), (93, 1744814899, 0.000196), (94, 1744814899, 0.000174),
    (95, 1744814909, 0.000192), (96, 1744814909, 0.000186), (97, 1744814909, 0.000189),
    (98, 1744814909, 0.000221), (99, 1744814909, 0.000181),
]


def test_checkpoints_of_a_classifier_placeholder_zeros_are_null(real_dir: Path) -> None:
    expected = cps(
        [(INTENT_3, step, at, loss, None, None) for step, at, loss in INTENT_3_STEPS]
        + [(INTENT_3, 100, 1744814919, 0.000191, 0.000625, 1.000433)],  # evaluated; > 1 kept
    )
    js = read(real_dir, "cookbook-classifier-intent-3.json")
    assert_frame_equal(js.checkpoints, expected)
    # the Struct keeps the raw 0.0
    assert js[INTENT_3].checkpoints[1].metrics.valid_loss == 0.0


def test_checkpoints_of_pixtral_without_validation_file(real_dir: Path, load_json) -> None:
    doc = load_json(real_dir / "cookbook-pixtral-1.json")
    by_step = sorted(doc["checkpoints"], key=lambda c: c["step_number"])
    expected = cps([
        (doc["id"], c["step_number"], c["created_at"], c["metrics"]["train_loss"], None, None)
        for c in by_step
    ])
    got = read(real_dir, "cookbook-pixtral-1.json").checkpoints
    assert_frame_equal(got, expected)
    assert got["step_number"].to_list() == list(range(1, 70))


def test_checkpoints_sorted_by_job_in_input_order_then_step(job_bytes) -> None:
    def cp(step, loss):
        return {"step_number": step, "created_at": 100 + step, "metrics": {"train_loss": loss}}

    data = b"\n".join([
        job_bytes("b", checkpoints=[cp(3, 0.3), cp(1, 0.1), cp(2, 0.2)]),  # shuffled
        job_bytes("a", checkpoints=[cp(2, 0.2), cp(1, 0.1)]),
        job_bytes("c", checkpoints=[]),
        job_bytes("d"),
        job_bytes("e", checkpoints=[cp(1, 0.1), cp(1, 0.15)]),  # a repeated step keeps its order
    ])
    expected = cps([
        ("b", 1, 101, 0.1, None, None), ("b", 2, 102, 0.2, None, None), ("b", 3, 103, 0.3, None, None),
        ("a", 1, 101, 0.1, None, None), ("a", 2, 102, 0.2, None, None),
        ("e", 1, 101, 0.1, None, None), ("e", 1, 101, 0.15, None, None),
    ])
    assert_frame_equal(ftkit.read_jobs(data).checkpoints, expected)


def test_only_both_zero_is_a_placeholder(job_bytes) -> None:
    metrics = [
        {"train_loss": 1.0, "valid_loss": 0.0, "valid_mean_token_accuracy": 0.0},  # placeholder
        {"train_loss": 0.0, "valid_loss": 0.5, "valid_mean_token_accuracy": 0.0},  # measured
        {"valid_loss": 0.0, "valid_mean_token_accuracy": 1.2},  # measured
        {},
    ]
    data = job_bytes("j", checkpoints=[
        {"step_number": i + 1, "created_at": 10, "metrics": m} for i, m in enumerate(metrics)
    ])
    expected = cps([
        ("j", 1, 10, 1.0, None, None),
        ("j", 2, 10, 0.0, 0.5, 0.0),
        ("j", 3, 10, None, 0.0, 1.2),
        ("j", 4, 10, None, None, None),
    ])
    assert_frame_equal(ftkit.read_jobs(data).checkpoints, expected)


def test_a_lone_zero_beside_a_null_is_kept(job_bytes) -> None:
    data = job_bytes("j", checkpoints=[
        {"step_number": 1, "created_at": 10, "metrics": {"valid_loss": 0.0}},
        {"step_number": 2, "created_at": 10, "metrics": {"valid_loss": None, "valid_mean_token_accuracy": 0.0}},
    ])
    expected = cps([("j", 1, 10, None, 0.0, None), ("j", 2, 10, None, None, 0.0)])
    assert_frame_equal(ftkit.read_jobs(data).checkpoints, expected)


# --- events -------------------------------------------------------------------------


def test_events_of_a_2024_doc_newest_first_in_time_order(real_dir: Path) -> None:
    expected = evs([
        (PLATFORMDOCS_2, 1717172592, "status-updated", "QUEUED", None),
        (PLATFORMDOCS_2, 1717172594, "status-updated", "RUNNING", None),
        (PLATFORMDOCS_2, 1717173491, "status-updated", "SUCCESS", None),
    ])
    assert_frame_equal(read(real_dir, "platformdocs-2.json").events, expected)


def test_events_same_second_ties_of_real_docs(real_dir: Path) -> None:
    # intent-2: oldest first (2025), VALIDATING and VALIDATED in the same second keep
    # their order; sdk1-2: newest first (2024), no data, 3 + 2 events share a second.
    sdk1 = "20178c3c-d75b-428e-b20d-7d39aa2b7468"
    expected = evs([
        (INTENT_3, 1744814706, "status-updated", "QUEUED", None),
        (INTENT_3, 1744814709, "status-updated", "VALIDATING", None),
        (INTENT_3, 1744814709, "status-updated", "VALIDATED", None),
        (sdk1, 1721405548, "status-updated", None, None),
        (sdk1, 1721405548, "status-updated", None, None),
        (sdk1, 1721405549, "status-updated", None, None),
        (sdk1, 1721405549, "status-updated", None, None),
        (sdk1, 1721405549, "status-updated", None, None),
    ])
    assert_frame_equal(read(real_dir, "cookbook-classifier-intent-2.json", "cookbook-sdk1-2.json").events, expected)


def test_events_ties_in_newest_first_lists_are_read_in_reverse(job_bytes) -> None:
    def ev(at, status, **rest):
        return {"name": "status-updated", "created_at": at, "data": {"status": status, **rest}}

    newest_first = [ev(9, "SUCCESS"), ev(5, "RUNNING"), ev(1, "VALIDATED"), ev(1, "VALIDATING"), ev(0, "QUEUED")]
    oldest_first = [ev(0, "QUEUED"), ev(1, "VALIDATING"), ev(1, "VALIDATED"), ev(5, "RUNNING"), ev(9, "SUCCESS")]
    # the final event can be stamped after modified_at (pixtral-2): still kept, in order
    late = [ev(0, "QUEUED"), ev(3, "SUCCESS", reason="done", steps=[1, 2])]
    data = b"\n".join([
        job_bytes("new", events=newest_first),
        job_bytes("old", events=oldest_first),
        job_bytes("late", events=late, modified_at=2),
        job_bytes("none"),
        job_bytes("odd", events=[{"name": "log", "created_at": 4}, {"name": "x", "created_at": 4, "data": {}}]),
    ])
    rows = [("QUEUED", 0), ("VALIDATING", 1), ("VALIDATED", 1), ("RUNNING", 5), ("SUCCESS", 9)]
    expected = evs([
        *[("new", at, "status-updated", status, None) for status, at in rows],
        *[("old", at, "status-updated", status, None) for status, at in rows],
        ("late", 0, "status-updated", "QUEUED", None),
        ("late", 3, "status-updated", "SUCCESS", '{"reason":"done","steps":[1,2]}'),
        ("odd", 4, "log", None, None),
        ("odd", 4, "x", None, None),
    ])
    assert_frame_equal(ftkit.read_jobs(data).events, expected)


def test_events_keep_a_non_string_status_somewhere(job_bytes) -> None:
    data = job_bytes("j", events=[{"name": "status-updated", "created_at": 1, "data": {"status": 5, "k": 1}}])
    (row,) = ftkit.read_jobs(data).events.rows()
    assert row[3] == "5" or json.loads(row[4]) == {"status": 5, "k": 1}


# --- jobs ---------------------------------------------------------------------------


def jobs_row(**values) -> tuple:
    """A Mistral jobs row: every column null unless given, but provider "mistral" and
    status_raw the status as given."""
    values = {"provider": "mistral", "status_raw": values.get("status"), **values}
    unknown = values.keys() - JOBS.keys()
    assert not unknown, unknown
    return tuple(values.get(name) for name in JOBS)


def test_jobs_row_of_sdk0x_4_with_top_level_estimated_start_time(real_dir: Path) -> None:
    expected = frame(JOBS, [jobs_row(
        job_id="7a65d35f-fd50-4e07-a90a-498f773c7bda", job_type="completion", model="open-mistral-7b",
        status="SUCCESS", auto_start=None, created_at=1719231392, modified_at=1719231693,
        fine_tuned_model="ft:open-mistral-7b:9fda217c:20240624:7a65d35f",
        training_files=["404eedd6-cf99-4372-9d46-aa661f2f0021"],
        validation_files=["954aa9f1-a8c9-4950-a312-9aecf389b757"],
        learning_rate=0.0001, training_steps=63, n_checkpoints=5, n_events=3,
    )])
    assert_frame_equal(read(real_dir, "cookbook-sdk0x-4.json").jobs, expected)


def test_jobs_estimated_start_time_top_level_or_metadata(job_bytes) -> None:
    data = b"\n".join([
        job_bytes("top", estimated_start_time=1719231400),
        job_bytes("meta", metadata={"estimated_start_time": 1744806861, "cost": 6.56, "cost_currency": "EUR"}),
        job_bytes("both", estimated_start_time=1, metadata={"estimated_start_time": 2}),
    ])
    got = ftkit.read_jobs(data).jobs.select("job_id", "estimated_start_time", "cost", "cost_currency")
    expected = frame(
        {"job_id": pl.String, "estimated_start_time": UTC, "cost": pl.Float64, "cost_currency": pl.String},
        [("top", 1719231400, None, None), ("meta", 1744806861, 6.56, "EUR"), ("both", 2, None, None)],
    )
    assert_frame_equal(got, expected)


SDK0X_3 = [
    # id, model, status, created, modified, fine_tuned_model, steps, lr, training, validation, wandb
    ("63be4026-cb98-4dc0-becd-83c424a42e0e", "open-mistral-7b", "SUCCESS", 1717492375, 1717492452,
     "ft:open-mistral-7b:8e2706f0:20240604:63be4026", 10, 0.0001,
     ["872aa786-538f-4510-a7b0-2cffee00b71d"], ["d0ffa827-aca2-42ab-99a8-d449a2cd4da3"], None),
    ("54e86210-7eee-4486-a47f-a00c84880b02", "open-mistral-7b", "RUNNING", 1717492217, 1717492217,
     None, 100, 0.0001,
     ["872aa786-538f-4510-a7b0-2cffee00b71d"], ["d0ffa827-aca2-42ab-99a8-d449a2cd4da3"], None),
    ("3dec82fa-3466-48a5-8f01-729489217bcc", "mistral-small-latest", "FAILED", 1717434108, 1717434300,
     None, 80, 0.0001,
     ["33c5a6b7-dcff-4a2c-ad92-44b72cb826a5"], ["747d2b0b-5a6e-4bc0-898d-c444c7e52b8f"],
     ("small_SlackStral", "run_3_split_big")),
    ("26905786-c0c7-4e93-907f-78ad79c77a41", "mistral-small-latest", "SUCCESS", 1717430336, 1717432905,
     "ft:mistral-small-latest:8e2706f0:20240603:26905786", 500, 0.0001,
     ["951ce495-1d1d-46b2-82d4-0b55d80a3cfd"], [], ("test_api", "abstractstral")),
    ("b611179e-c5de-4c71-adbd-2f6e9d209903", "mistral-small-latest", "SUCCESS", 1717430161, 1717430803,
     "ft:mistral-small-latest:8e2706f0:20240603:b611179e", 100, 0.0001,
     ["951ce495-1d1d-46b2-82d4-0b55d80a3cfd"], [], ("test_api", "abstractstral")),
    ("a0f51b5f-9431-4b30-a934-307ebb1fb71a", "mistral-small-latest", "FAILED", 1717428505, 1717430243,
     None, 100, 0.0001,
     ["5723cc21-8a4e-4796-9479-4c1f6d203bec"], ["0ace7ae4-9d51-445e-bc50-54d87e5b4fd4"],
     ("test_api", "abstractstral")),
    ("018c9dbc-80c3-44d2-8c40-d45e4a8c9115", "mistral-small-latest", "SUCCESS", 1717427445, 1717428010,
     "ft:mistral-small-latest:8e2706f0:20240603:018c9dbc", 80, 0.0001,
     ["76696115-090b-4478-8b1f-0cccbcc9e69a"], ["2fa5ead2-45fa-4fb9-9445-951947458f30"],
     ("small_SlackStral", "run_3_split")),
    ("480c9e19-fc8d-49cf-8763-bbe882b35077", "mistral-small-latest", "FAILED", 1717427336, 1717430228,
     None, 1000, 0.0001,
     ["5723cc21-8a4e-4796-9479-4c1f6d203bec"], ["0ace7ae4-9d51-445e-bc50-54d87e5b4fd4"],
     ("test_api", "abstractstral")),
    ("f3cc2bf9-0cbb-4120-b35d-ef1d20a96da9", "mistral-small-latest", "SUCCESS", 1717174575, 1717174844,
     "ft:mistral-small-latest:8e2706f0:20240531:f3cc2bf9", 40, 0.0005,
     ["8e1b5a29-7f43-44f1-9984-fb8061f73b13"], ["58630896-a238-4f80-a20e-0a35c1bc001e"],
     ("test_api", "menchstral")),
    ("2303145d-fd09-4969-aeb9-e409cc1b4755", "mistral-small-latest", "SUCCESS", 1717174233, 1717174403,
     "ft:mistral-small-latest:8e2706f0:20240531:2303145d", 20, 0.001,
     ["8e1b5a29-7f43-44f1-9984-fb8061f73b13"], ["58630896-a238-4f80-a20e-0a35c1bc001e"],
     ("test_api", "menchstral")),
    ("df895bef-7cea-4091-98bf-d65ea387d50a", "mistral-small-latest", "SUCCESS", 1717173957, 1717174071,
     "ft:mistral-small-latest:8e2706f0:20240531:df895bef", 10, 0.0001,
     ["8e1b5a29-7f43-44f1-9984-fb8061f73b13"], ["58630896-a238-4f80-a20e-0a35c1bc001e"],
     ("test_api", "menchstral")),
]


def test_jobs_of_the_list_without_total(real_dir: Path) -> None:
    expected = frame(JOBS, [
        jobs_row(
            job_id=i, job_type="completion", model=m, status=s, created_at=c, modified_at=mo,
            fine_tuned_model=ft, training_steps=steps, learning_rate=lr, training_files=tf,
            validation_files=vf, wandb_project=w and w[0], wandb_run_name=w and w[1],
            # list responses carry no events or checkpoints: null, not 0
            n_checkpoints=None, n_events=None,
        )
        for i, m, s, c, mo, ft, steps, lr, tf, vf, w in SDK0X_3
    ])
    assert_frame_equal(read(real_dir, "cookbook-sdk0x-3.json").jobs, expected)


def test_jobs_of_the_uppercase_object_list(real_dir: Path, load_json) -> None:
    doc = load_json(real_dir / "cookbook-sdk1-4.json")
    assert "OBJECT" in doc and "object" not in doc
    got = read(real_dir, "cookbook-sdk1-4.json").jobs
    assert got.height == 32
    # first and last rows whole, from the JSON
    first = jobs_row(
        job_id="20178c3c-d75b-428e-b20d-7d39aa2b7468", job_type="completion", model="open-mistral-7b",
        status="SUCCESS", auto_start=True, created_at=1721405548, modified_at=1721405693,
        fine_tuned_model="ft:open-mistral-7b:b6e34a5e:20240719:20178c3c", trained_tokens=1310720,
        training_files=["ec5af16a-77fe-4e14-ad09-47ead2848ce6"],
        validation_files=["d0c643a2-a57c-4031-bda7-5c9d6c3ec3e4"],
        learning_rate=0.0001, training_steps=10, epochs=0.0431941570306258, cost=2.6214,
        cost_currency="USD", train_tokens=1310720, train_tokens_per_step=131072,
        data_tokens=30344845, expected_duration_seconds=120,
    )
    last_json = doc["data"][-1]
    last = jobs_row(
        job_id=last_json["id"], job_type="completion", model=last_json["model"],
        status=last_json["status"], auto_start=last_json["auto_start"],
        created_at=last_json["created_at"], modified_at=last_json["modified_at"],
        fine_tuned_model=last_json["fine_tuned_model"], trained_tokens=last_json["trained_tokens"],
        training_files=last_json["training_files"], validation_files=last_json["validation_files"],
        learning_rate=last_json["hyperparameters"]["learning_rate"],
        training_steps=last_json["hyperparameters"]["training_steps"],
        epochs=last_json["hyperparameters"].get("epochs"),
        wandb_project=(last_json["integrations"] or [{}])[0].get("project"),
        wandb_run_name=(last_json["integrations"] or [{}])[0].get("run_name"),
    )
    assert all(v is None for v in last_json["metadata"].values())  # May 2024: metadata all null
    assert_frame_equal(got.slice(0, 1), frame(JOBS, [first]))
    assert_frame_equal(got.slice(31, 1), frame(JOBS, [last]))
    assert_frame_equal(
        got.select("job_id", "status"),
        pl.DataFrame({"job_id": [j["id"] for j in doc["data"]], "status": [j["status"] for j in doc["data"]]}),
    )


def test_jobs_rows_of_2025_classifier_and_pixtral(real_dir: Path) -> None:
    expected = frame(JOBS, [
        jobs_row(
            job_id=INTENT_3, job_type="classifier", model="ministral-3b-latest", status="SUCCESS",
            auto_start=False, created_at=1744814706, modified_at=1744814940,
            fine_tuned_model="ft:classifier:ministral-3b-latest:8e2706f0:20250416:db22ea7e",
            trained_tokens=1638400, training_files=["c36d490e-d2f8-4f98-9679-1c55625e09d5"],
            validation_files=["4b62db5b-47b8-42fb-a782-89457766cff7"], learning_rate=4e-05,
            training_steps=100, epochs=47.74101432172152, weight_decay=0.1, warmup_fraction=0.05,
            seq_len=16384, cost=3.28, cost_currency="EUR", train_tokens=6553600,
            train_tokens_per_step=65536, data_tokens=137274, expected_duration_seconds=400,
            wandb_project="intent-classifier",
            wandb_url="https://wandb.ai/mistral-ai/intent-classifier/runs/tpyu9twr",
            n_checkpoints=27, n_events=5,
        ),
        jobs_row(
            job_id="9def64f2-fc63-435c-80ee-c3fac35dff8b", job_type="completion",
            model="pixtral-12b-latest", status="SUCCESS", auto_start=True,
            created_at=1751532719, modified_at=1751533075,
            fine_tuned_model="ft:pixtral-12b-latest:d3417809:20250703:9def64f2",
            trained_tokens=4587520, training_files=["cbfd90ac-0ff2-4620-8df0-ceb8c199edba"],
            validation_files=[], learning_rate=0.0001, training_steps=35, epochs=1.0,
            weight_decay=0.1, warmup_fraction=0.05, seq_len=32768, cost=8.94, cost_currency="USD",
            train_tokens=4468728, train_tokens_per_step=127677, data_tokens=4468728,
            expected_duration_seconds=1715, n_checkpoints=35, n_events=5,
        ),
        jobs_row(
            job_id="19f5943a-3000-4568-b227-e45c36ac15f1", job_type="completion",
            model="open-mistral-7b", status="SUCCESS", created_at=1718613228, modified_at=1718613306,
            fine_tuned_model="ft:open-mistral-7b:35c6fa92:20240617:19f5943a",
            training_files=["07270085-65e6-441e-b99d-ef6f75dd5a30"], validation_files=[],
            learning_rate=0.0001, training_steps=5, wandb_project="mistralai",
            wandb_run_name="finetuning", n_checkpoints=0, n_events=3,  # SUCCESS, no checkpoints
        ),
    ])
    got = read(real_dir, "cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json", "llamaindex-sdk0x-1.json")
    assert_frame_equal(got.jobs, expected)


# --- targets ------------------------------------------------------------------------


def test_targets_without_weight_or_loss_function(real_dir: Path, load_json) -> None:
    product = load_json(real_dir / "cookbook-classifier-product-1.json")
    intent = load_json(real_dir / "cookbook-classifier-intent-2.json")
    expected = frame(TARGETS, [
        (product["id"], "food", product["classifier_targets"][0]["labels"], None, None),
        (product["id"], "country_label", product["classifier_targets"][1]["labels"], None, None),
        (intent["id"], "intent", intent["classifier_targets"][0]["labels"], None, None),
    ])
    assert expected["labels"].list.len().to_list() == [8, 8, 16]
    got = read(real_dir, "cookbook-classifier-product-1.json", "platformdocs-2.json", "cookbook-classifier-intent-2.json")
    assert_frame_equal(got.targets, expected)


def test_targets_with_weight_and_loss_function(job_bytes) -> None:
    data = job_bytes("c", classifier_targets=[
        {"name": "a", "labels": ["x", "y"], "weight": 0.7, "loss_function": "single_class"},
        {"name": "b", "labels": [], "weight": 1, "loss_function": "multi_class"},
    ])
    expected = frame(TARGETS, [("c", "a", ["x", "y"], 0.7, "single_class"), ("c", "b", [], 1.0, "multi_class")])
    assert_frame_equal(ftkit.read_jobs(data).targets, expected)


# --- values the frames cannot hold -----------------------------------------------


def test_integers_beyond_int64_are_rejected_when_read(job_bytes) -> None:
    data = job_bytes("j", trained_tokens=18446744073709551615)
    with pytest.raises(ftkit.JobDecodeError, match=r"\$\.trained_tokens"):
        ftkit.read_jobs(data)


def test_out_of_range_timestamps_do_not_wrap_silently(job_bytes) -> None:
    data = job_bytes("j", created_at=9223372036854775807)
    try:
        js = ftkit.read_jobs(data)
    except ftkit.JobDecodeError:
        return  # rejected when read: fine
    assert js.jobs["created_at"][0] != ts(-1)


@pytest.mark.parametrize("module", [ftkit.frames, ftkit], ids=lambda m: m.__name__)
def test_doctests(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

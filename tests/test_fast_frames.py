"""The fast frame builders (ftkit.mistral_frames, assembled by ftkit.frames) against the
straightforward ones they replaced (tests/reference_frames.py): equal frames, whole, on the
samples, the real documents, odd shapes and mixes of providers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.frames import complete_frame_parts, frames_with_positions, mistral_frame_parts
from ftkit.openai_schema import OpenAIJob
from ftkit.schema import WireJob, to_job

import reference_frames  # tests/reference_frames.py: tests/ is on sys.path (pyproject's pythonpath)

DATA = Path(__file__).resolve().parents[1] / "data"
FUNCTIONS = ("jobs_frame", "checkpoints_frame", "events_frame", "targets_frame")


def assert_same_frames(jobs: list) -> None:
    """Every frame function, and frames_with_positions, equal to the reference's on ``jobs``."""
    for name in FUNCTIONS:
        assert_frame_equal(getattr(ftkit, name)(jobs), getattr(reference_frames, name)(jobs), check_exact=True)
    expected = reference_frames.frames_with_positions(jobs)
    got = frames_with_positions(jobs)
    assert list(got) == list(expected)
    for name, frame in got.items():
        assert_frame_equal(frame, expected[name], check_exact=True)
    if not any(isinstance(job, OpenAIJob) for job in jobs):
        assert_parts_complete(jobs, expected)


def assert_parts_complete(jobs: list, expected: dict) -> None:
    """The parts a worker sends, of the jobs in two chunks joined as ftkit.read.assemble
    joins them, completed: the frames, ``_position`` dropped."""
    half = len(jobs) // 2
    chunks = [mistral_frame_parts(jobs[:half]), mistral_frame_parts(jobs[half:])]
    joined = {
        name: pl.concat([chunks[0][name], chunks[1][name].with_columns(pl.col("_position") + half)], how="diagonal")
        for name in chunks[0]
    }
    got = complete_frame_parts(joined, joined["jobs"]["job_id"])
    assert list(got) == list(expected)
    for name, frame in got.items():
        assert_frame_equal(frame, expected[name].drop("_position"), check_exact=True)


def _wire(records: list[dict]) -> list[WireJob]:
    return [msgspec.json.decode(json.dumps(record).encode(), type=WireJob) for record in records]


def test_the_sample_dump() -> None:
    js = ftkit.read_jobs(DATA / "sample-jobs.ndjson.gz")
    assert_same_frames(list(js))


def test_the_sample_dump_as_wire_jobs() -> None:
    lines = gzip.decompress((DATA / "sample-jobs.ndjson.gz").read_bytes()).splitlines()
    wire = [msgspec.json.decode(line, type=WireJob) for line in lines if line.strip()]
    assert len(wire) >= 300
    assert_same_frames(wire)
    assert_same_frames([to_job(job) for job in wire])


def test_the_openai_sample_and_a_mix_of_providers() -> None:
    openai = list(ftkit.read_jobs(DATA / "sample-openai-jobs.ndjson.gz"))
    mistral = list(ftkit.read_jobs(DATA / "sample-jobs.ndjson.gz"))
    assert_same_frames(openai)
    mixed = [job for pair in zip(mistral, openai) for job in pair] + mistral[len(openai):]
    assert_same_frames(mixed)


def test_each_real_document(mistral_path: Path) -> None:
    assert_same_frames(list(ftkit.read_jobs(mistral_path)))


def test_all_real_documents_together(real_dir: Path) -> None:
    assert_same_frames(list(ftkit.read_jobs(sorted(real_dir.glob("*.json")))))


def test_empty_inputs() -> None:
    assert_same_frames([])


def test_odd_shapes(job_json) -> None:
    records = [
        # events: null data, empty data, non-string status, status beside other keys,
        # one second for all (oriented by status), newest first, out of order
        job_json(
            "e1",
            events=[
                {"name": "a", "created_at": 5, "data": None},
                {"name": "b", "created_at": 5},
                {"name": "c", "created_at": 5, "data": {}},
                {"name": "d", "created_at": 5, "data": {"status": 3}},
                {"name": "e", "created_at": 5, "data": {"status": "RUNNING", "x": [1, {"y": None}]}},
                {"name": "f", "created_at": 5, "data": {"other": "ü\u2028"}},
            ],
        ),
        job_json(
            "e2",
            events=[
                {"name": "s", "created_at": 7, "data": {"status": "VALIDATED"}},
                {"name": "s", "created_at": 7, "data": {"status": "QUEUED"}},
            ],
        ),
        job_json(
            "e3",
            events=[
                {"name": "s", "created_at": 9, "data": {"status": "RUNNING"}},
                {"name": "s", "created_at": 3, "data": {"status": "VALIDATED"}},
                {"name": "s", "created_at": 4, "data": {"status": "VALIDATING"}},
                {"name": "s", "created_at": 1, "data": {"status": "QUEUED"}},
            ],
        ),
        job_json("e4", events=[{"name": "s", "created_at": 2, "data": {"status": "QUEUED"}},
                               {"name": "s", "created_at": 1, "data": {"status": "RUNNING"}},
                               {"name": "s", "created_at": 3, "data": {"status": "SUCCESS"}}]),
        # checkpoints: unsorted, repeated steps, placeholder zeros, lone zero, no metrics,
        # an empty list, no list at all
        job_json(
            "c1",
            checkpoints=[
                {"step_number": 3, "created_at": 30, "metrics": {"train_loss": 1, "valid_loss": 0.0,
                                                                 "valid_mean_token_accuracy": 0.0}},
                {"step_number": 1, "created_at": 10, "metrics": {"valid_loss": 0.0}},
                {"step_number": 1, "created_at": 11},
                {"step_number": 2, "created_at": 20, "metrics": {"train_loss": None, "valid_loss": 0.5,
                                                                 "valid_mean_token_accuracy": 1.9}},
            ],
        ),
        # newest first, with a repeated step whose rows differ: they keep the list's order
        job_json(
            "c4",
            checkpoints=[
                {"step_number": 3, "created_at": 30, "metrics": {"train_loss": 0.3}},
                {"step_number": 2, "created_at": 21, "metrics": {"train_loss": 0.21}},
                {"step_number": 2, "created_at": 20, "metrics": {"train_loss": 0.2}},
                {"step_number": 1, "created_at": 10, "metrics": {"train_loss": 0.1}},
            ],
        ),
        job_json("c5", checkpoints=[{"step_number": s, "created_at": s} for s in (9, 7, 5, 0)]),
        job_json("c6", checkpoints=[{"step_number": s, "created_at": s} for s in (0, 4, 4, 8)]),
        job_json("c7", checkpoints=[{"step_number": 1, "created_at": 1, "metrics": {"train_loss": 1}},
                                    {"step_number": 1, "created_at": 2, "metrics": {"train_loss": 2}}]),
        job_json("c2", checkpoints=[], events=[]),
        job_json("c3", checkpoints=None, events=None),
        # jobs: metadata null or placeholder cost, integrations of other types, legacy time
        job_json("j1", metadata=None, integrations=[], estimated_start_time=99),
        job_json("j2", metadata={"cost": 0.0, "estimated_start_time": 5}, estimated_start_time=6,
                 integrations=[{"type": "other", "project": "no"}, {"project": "p", "run_name": "r"}]),
        job_json("j3", metadata={"cost": 0.0, "cost_currency": "EUR"}, validation_files=None,
                 training_files=["a", "b\"c"], auto_start=False, job_type="FT"),
        # classifiers: targets without weight, none, without labels; one known by shape
        job_json("k1", job_type="classifier", classifier_targets=[{"name": "t", "labels": ["x"]},
                                                                  {"name": "u"}]),
        job_json("k2", job_type="classifier", classifier_targets=None),
        job_json("k3", classifier_targets=[{"name": "v", "labels": [], "weight": 2, "loss_function": "f"}]),
        job_json("k4", job_type="classifier", classifier_targets=[]),
    ]
    wire = _wire(records)
    assert_same_frames(wire)
    assert_same_frames([to_job(job) for job in wire])
    assert_same_frames(wire[::-1] + wire)  # one id twice: each record is its own row
    for job in wire:  # alone: the sorted paths of one job
        assert_same_frames([job])


def test_openai_odd_shapes_mixed_in(real_dir: Path) -> None:
    openai = list(ftkit.read_jobs(sorted(real_dir.glob("openai-*.json"))))
    mistral = list(ftkit.read_jobs(sorted(p for p in real_dir.glob("*.json") if not p.name.startswith("openai-"))))
    assert openai
    assert_same_frames(openai + mistral)
    assert_same_frames(mistral[:3] + openai + mistral[3:] + openai)


def test_a_larger_synthetic_dump() -> None:
    data = ftkit.synth.make_jobs_bytes(2_000, seed=7)
    wire = [msgspec.json.decode(line, type=WireJob) for line in data.splitlines() if line.strip()]
    assert_same_frames(wire)
    assert frames_with_positions(wire)["checkpoints"].height > 10_000


def test_frames_with_positions_builds_the_frames_named(job_json) -> None:
    wire = _wire([job_json("a", checkpoints=[{"step_number": 2, "created_at": 2}, {"step_number": 1, "created_at": 1}],
                           events=[{"name": "s", "created_at": 1}]),
                  job_json("b", job_type="classifier", classifier_targets=[{"name": "t", "labels": ["x"]}])])
    every = frames_with_positions(wire)
    assert list(every) == ["jobs", "checkpoints", "events", "targets"]
    for names in (["checkpoints"], ["events", "jobs"], ["targets", "checkpoints"], []):
        some = frames_with_positions(wire, names=names)
        assert list(some) == [name for name in every if name in names]
        for name, frame in some.items():
            assert_frame_equal(frame, every[name])
    with pytest.raises(ValueError, match="names must be among"):
        frames_with_positions(wire, names=["jobs", "errors"])


def test_frame_parts_leave_out_what_every_mistral_row_holds_alike(job_json) -> None:
    wire = _wire([job_json("a", checkpoints=[{"step_number": 1, "created_at": 1, "metrics": {"valid_loss": 0.0,
                                              "valid_mean_token_accuracy": 0.0}}],
                           events=[{"name": "s", "created_at": 1, "data": {"status": "QUEUED", "x": 1}}])])
    parts = mistral_frame_parts(wire)
    # train_loss is null; the parts hold raw values (UNIX seconds, the placeholder zeros of
    # valid_loss and its accuracy), which complete_frame_parts converts
    assert parts["checkpoints"].columns == [
        "_position", "step_number", "created_at", "valid_loss", "valid_mean_token_accuracy"
    ]
    assert parts["checkpoints"].row(0) == (0, 1, 1, 0.0, 0.0)
    assert parts["events"].columns == ["_position", "created_at", "name", "status", "data"]
    assert parts["targets"].columns == ["_position"]
    assert parts["jobs"].columns == [  # what the job has (no auto_start, validation_files, suffix...)
        "_position", "job_id", "job_type", "model", "status", "created_at", "modified_at", "training_files",
        "learning_rate", "training_steps", "n_checkpoints", "n_events",
    ]
    whole = complete_frame_parts(parts, parts["jobs"]["job_id"])
    assert whole["checkpoints"].row(0, named=True) | {"created_at": None} == {
        "job_id": "a", "step_number": 1, "created_at": None, "train_loss": None, "valid_loss": None,
        "valid_mean_token_accuracy": None, "provider": "mistral", "train_mean_token_accuracy": None,
        "full_valid_loss": None, "full_valid_mean_token_accuracy": None, "checkpoint_id": None,
        "fine_tuned_model_checkpoint": None, "origin": "checkpoint",
    }
    assert whole["events"].select("job_id", "status", "data", "provider", "level").row(0) == (
        "a", "QUEUED", '{"x":1}', "mistral", None
    )
    assert whole["jobs"].select("provider", "status", "status_raw").row(0) == ("mistral", "SUCCESS", "SUCCESS")


def test_frame_parts_are_for_mistral_jobs_only() -> None:
    openai = list(ftkit.read_jobs(DATA / "sample-openai-jobs.ndjson.gz"))
    with pytest.raises(ValueError, match="Mistral jobs only"):
        mistral_frame_parts(openai[:1])


def test_a_chunk_decodes_to_the_parts_of_its_wire_jobs_whatever_its_events_hold(job_json) -> None:
    """decode_chunk decodes jobs whose events hold only a status into FrameJob Structs, and
    the others as WireJobs: the parts are those of the WireJobs, errors and all."""
    from ftkit.read.decode import decode_chunk
    from ftkit.schema import FrameJob

    odd_data = [None, {}, {"status": None}, {"status": "RUNNING", "progress": 0.5}, {"reason": "x"}, {"status": 3}]
    records = [
        job_json("plain", events=[{"name": "status-updated", "created_at": 2, "data": {"status": "RUNNING"}},
                                  {"name": "status-updated", "created_at": 1, "data": {"status": "QUEUED"}}]),
        job_json("no-data", events=[{"name": "status-updated", "created_at": 1},
                                    {"name": "status-updated", "created_at": 1, "data": None}]),
        job_json("same-second", events=[{"name": "status-updated", "created_at": 1, "data": {"status": "VALIDATED"}},
                                        {"name": "status-updated", "created_at": 1, "data": {"status": "QUEUED"}}]),
        *(job_json(f"odd-{i}", events=[{"name": "status-updated", "created_at": 1, "data": data}])
          for i, data in enumerate(odd_data) if data is not None),
        # a name or a status that the API does not document: decoded as a WireJob too
        job_json("other-name", events=[{"name": "s", "created_at": 1, "data": {"status": "RUNNING"}}]),
        job_json("other-status", events=[{"name": "status-updated", "created_at": 1, "data": {"status": "PAUSED"}}]),
        job_json("no-events"),
    ]
    lines = [json.dumps(record).encode() for record in records]
    bad = json.dumps(job_json("bad", events=[{"name": "s", "created_at": "soon"}])).encode()
    reply, parts = decode_chunk(b"\n".join([*lines, bad]) + b"\n", source="<chunk>", errors="skip")
    # which lines take the FrameJob way: the others are decoded as WireJobs
    frame_shaped = []
    for record, line in zip(records, lines):
        try:
            msgspec.json.decode(line, type=FrameJob)
        except msgspec.ValidationError:
            continue
        frame_shaped.append(record["id"])
    assert frame_shaped == ["plain", "no-data", "same-second", "no-events"]
    assert reply.starts == [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
    assert reply.errors == [("Expected `int`, got `str`", "<chunk>", 12, None, "$.events[0].created_at")]
    assert reply.openai == 0
    expected = mistral_frame_parts(_wire(records))
    for name, frame in parts.items():
        assert_frame_equal(frame, expected[name], check_exact=True)
    assert parts["events"]["status"].to_list() == [
        "QUEUED", "RUNNING", None, None, "QUEUED", "VALIDATED", None, None, "RUNNING", None, None, "RUNNING", "PAUSED"
    ]
    assert parts["events"]["name"].to_list()[-2:] == ["s", "status-updated"]

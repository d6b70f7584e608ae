"""OpenAI fine-tuning documents: Structs, recognition by shape, attachment, frames."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.frames import CHECKPOINTS_SCHEMA, EVENTS_SCHEMA, JOBS_SCHEMA
from ftkit.openai_schema import (
    STATUS_MAP,
    OpenAICheckpointList,
    OpenAIEventList,
    OpenAIJob,
    openai_shape,
)

OPENAI_NAMES = [
    "openai-azure-1.json", "openai-azure-2.json", "openai-azure-3.json", "openai-cequence-1.json",
    "openai-curl-1.json", "openai-repr-1.json", "openai-yival-1.json",
]
JOB_NAMES = ["openai-azure-1.json", "openai-cequence-1.json", "openai-curl-1.json",
             "openai-repr-1.json", "openai-yival-1.json"]
AZURE_JOB = "ftjob-900fcfc7ea1d4360a9f0cb1697b4eaa6"
AZURE_CKPT_JOB = "ftjob-372c72db22c34e6f9ccb62c26ee0fbd9"


def ts(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


def frame(schema: dict, rows: list[dict]) -> pl.DataFrame:
    """A literal frame from rows given as dicts: absent columns are null, times UNIX seconds."""
    utc = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        [tuple(ts(r.get(n)) if t == utc else r.get(n) for n, t in schema.items()) for r in rows],
        schema=schema, orient="row",
    )


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


# --- Structs --------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPENAI_NAMES)
def test_every_real_document_decodes_with_every_value_kept(real_dir: Path, name: str) -> None:
    raw = (real_dir / name).read_bytes()
    cls = {"job": OpenAIJob, "event_list": OpenAIEventList, "checkpoint_list": OpenAICheckpointList}[
        openai_shape(raw)
    ]
    decoded = msgspec.json.decode(raw, type=cls)
    # every non-null value comes back (ints where floats are expected compare equal)
    assert msgspec.json.decode(msgspec.json.encode(decoded)) == without_nulls(json.loads(raw))


def test_quirks_are_kept_as_written(real_dir: Path) -> None:
    azure = msgspec.json.decode((real_dir / "openai-azure-1.json").read_bytes(), type=OpenAIJob)
    assert (azure.status, azure.hyperparameters.n_epochs, azure.result_files) == ("pending", -1, None)
    cequence = msgspec.json.decode((real_dir / "openai-cequence-1.json").read_bytes(), type=OpenAIJob)
    assert cequence.error is not None and msgspec.json.encode(cequence.error) == b"{}"
    assert cequence.hyperparameters.batch_size == "auto"
    checkpoints = msgspec.json.decode((real_dir / "openai-azure-3.json").read_bytes(), type=OpenAICheckpointList)
    assert checkpoints.data[0].metrics.step == 100.0 and checkpoints.data[0].step_number == 100


def test_shapes_of_the_real_documents(real_dir: Path, mistral_paths: list[Path]) -> None:
    shapes = [openai_shape((real_dir / name).read_bytes()) for name in OPENAI_NAMES]
    assert shapes == ["job", "event_list", "checkpoint_list", "job", "job", "job", "job"]
    assert {openai_shape(p.read_bytes()) for p in mistral_paths} == {None}


def test_status_map_covers_openai_and_azure_statuses() -> None:
    assert STATUS_MAP == {
        "validating_files": "VALIDATING", "pending": "QUEUED", "queued": "QUEUED",
        "running": "RUNNING", "succeeded": "SUCCESS", "failed": "FAILED",
        "cancelled": "CANCELLED",
    }


# --- reading and frames -----------------------------------------------------------------

JOB_ROWS = [
    dict(job_id=AZURE_JOB, job_type="completion", model="gpt-4o-mini-2024-07-18", status="QUEUED",
         created_at=1715824115, modified_at=1715824115,
         training_files=["file-0e3aa3f2e81e49a5b8b96166ea214626"],
         validation_files=["file-8556c3bb41b7416bb7519b47fcd1dd6b"],
         provider="openai", status_raw="pending", n_epochs_auto=True, batch_size_auto=True,
         learning_rate_multiplier=1.0, learning_rate_multiplier_auto=False, seed=105),
    dict(job_id="xxx", job_type="completion", model="gpt-4o-2024-08-06", status="VALIDATING",
         created_at=1725983532, modified_at=1725983532, suffix="lala", training_files=["file-xxx"],
         provider="openai", status_raw="validating_files", n_epochs_auto=True, batch_size_auto=True,
         learning_rate_multiplier_auto=True, seed=342466478, organization_id="org-xxx"),
    dict(job_id="ftjob-fleKSpQCbZyvqCJpXJ8ilU7T", job_type="completion", model="gpt-3.5-turbo-0613",
         status="SUCCESS", created_at=1701447416, modified_at=1701447787,
         fine_tuned_model="ft:gpt-3.5-turbo-0613:personal::8R0aC6w3", trained_tokens=26838,
         training_files=["file-Q8zIKN9g0yjeOu2YjmKbYEm0"], provider="openai", status_raw="succeeded",
         n_epochs=6, n_epochs_auto=False, batch_size=1, batch_size_auto=False,
         learning_rate_multiplier=2.0, learning_rate_multiplier_auto=False,
         organization_id="org-1gHuUe4SMTUG6aFFAeNWgMrd", finished_at=1701447787),
    dict(job_id="ftjob-gdIpDJE8NdnaQ9NCBNTYZiwK", job_type="completion", model="gpt-4o-mini-2024-07-18",
         status="VALIDATING", created_at=1751128122, modified_at=1751128122, suffix="pricer",
         training_files=["file-EGpAudFmhAXNpi24L5AoRc"], validation_files=["file-CACbesCbANH9XYioAbW9mc"],
         wandb_project="gpt-pricer", provider="openai", status_raw="validating_files",
         method="supervised", n_epochs=1, n_epochs_auto=False, batch_size_auto=True,
         learning_rate_multiplier_auto=True, seed=42, organization_id="org-1263oXvaxwsZiifX4gfI14Ui"),
    dict(job_id="ftjob-nu11UM5sh6lDPkNT4x861zjB", job_type="completion", model="gpt-3.5-turbo-0613",
         status="SUCCESS", created_at=1694490787, modified_at=1694491092,
         fine_tuned_model="ft:gpt-3.5-turbo-0613:ruming-s-org::7xopR99B", trained_tokens=9696,
         training_files=["file-KJQuIrxN2y31s0viAGQuGaMx"], provider="openai", status_raw="succeeded",
         n_epochs=8, n_epochs_auto=False, organization_id="org-odAK9XIUEfPWLOmkRVEQIURP",
         finished_at=1694491092),
]


def test_jobs_frame_of_the_real_openai_jobs(real_dir: Path) -> None:
    js = ftkit.read_jobs([real_dir / name for name in JOB_NAMES])
    assert_frame_equal(js.jobs, frame(JOBS_SCHEMA, JOB_ROWS))
    assert js.checkpoints.height == 0 and js.events.height == 0 and js.targets.height == 0


def test_events_attach_by_the_job_id_in_the_file_name(real_dir: Path, tmp_path: Path) -> None:
    shutil.copy(real_dir / "openai-azure-1.json", tmp_path / f"{AZURE_JOB}.json")
    shutil.copy(real_dir / "openai-azure-2.json", tmp_path / f"{AZURE_JOB}.events.json")
    js = ftkit.read_jobs(tmp_path)
    assert js.unattached == []
    doc = json.loads((real_dir / "openai-azure-2.json").read_bytes())["data"]
    oldest_first = doc[::-1]
    expected_events = frame(EVENTS_SCHEMA, [
        dict(job_id=AZURE_JOB, created_at=e["created_at"], name=e["type"],
             data=None if "data" not in e else json.dumps(e["data"], separators=(",", ":")),
             provider="openai", level="info", message=e["message"])
        for e in oldest_first
    ])
    assert_frame_equal(js.events, expected_events)
    # metrics events are checkpoint rows: every value of their data, in step order
    expected_checkpoints = frame(CHECKPOINTS_SCHEMA, [
        dict(job_id=AZURE_JOB, step_number=e["data"]["step"], created_at=e["created_at"],
             train_loss=e["data"]["train_loss"], valid_loss=e["data"]["valid_loss"],
             valid_mean_token_accuracy=e["data"]["valid_mean_token_accuracy"], provider="openai",
             train_mean_token_accuracy=float(e["data"]["train_mean_token_accuracy"]),
             full_valid_loss=e["data"]["full_valid_loss"],
             full_valid_mean_token_accuracy=e["data"]["full_valid_mean_token_accuracy"], origin="event")
        for e in oldest_first if e["type"] == "metrics"
    ])
    assert_frame_equal(js.checkpoints, expected_checkpoints)
    row = js.jobs.row(0, named=True)
    assert (row["n_events"], row["n_checkpoints"], row["modified_at"]) == (10, None, ts(1715826339))


def test_checkpoints_attach_by_fine_tuning_job_id_and_win_over_metric_events(real_dir: Path) -> None:
    job = {"object": "fine_tuning.job", "id": AZURE_CKPT_JOB, "model": "gpt-4o-mini-2024-07-18",
           "status": "succeeded", "created_at": 1715740000, "finished_at": 1715743100}
    metrics_event = {"object": "fine_tuning.job.event", "id": "ftevent-1", "created_at": 1715742980,
                     "level": "info", "message": "Step 80", "type": "metrics",
                     "data": {"step": 80, "train_loss": 9.0}}
    events = {"object": "list", "data": [metrics_event], "has_more": False}
    data = b"\n".join([msgspec.json.encode(job), msgspec.json.encode(events),
                       (real_dir / "openai-azure-3.json").read_bytes().replace(b"\n", b"")])
    js = ftkit.read_jobs(data)
    doc = json.loads((real_dir / "openai-azure-3.json").read_bytes())["data"][::-1]
    expected = frame(CHECKPOINTS_SCHEMA, [
        dict(job_id=AZURE_CKPT_JOB, step_number=c["step_number"], created_at=c["created_at"],
             provider="openai", checkpoint_id=c["id"],
             fine_tuned_model_checkpoint=c["fine_tuned_model_checkpoint"], origin="checkpoint",
             **{k: v for k, v in c["metrics"].items() if k != "step"})
        for c in doc
    ])
    assert_frame_equal(js.checkpoints, expected)
    assert [e.id for e in js[AZURE_CKPT_JOB].events] == ["ftevent-1"]  # attached to the job before it
    assert js.jobs["n_checkpoints"].to_list() == [3]


def test_lists_without_their_job_stay_reachable(real_dir: Path) -> None:
    js = ftkit.read_jobs([real_dir / "openai-azure-2.json", real_dir / "openai-azure-3.json"])
    assert len(js) == 0
    assert [(u.kind, len(u.items), Path(u.source).name, u.job_id) for u in js.unattached] == [
        ("events", 10, "openai-azure-2.json", None),
        ("checkpoints", 3, "openai-azure-3.json", AZURE_CKPT_JOB),
    ]
    assert "2 events/checkpoints lists without their job" in repr(js)
    assert "2 events/checkpoints lists without their job" in js._repr_html_()


def test_a_mixed_directory_reads_both_providers(real_dir: Path, mistral_paths: list[Path]) -> None:
    js = ftkit.read_jobs(real_dir)
    counts = js.jobs.group_by("provider").len().sort("provider")
    assert counts.rows() == [("mistral", len(ftkit.read_jobs(mistral_paths))), ("openai", 5)]
    # the Mistral rows are those read alone
    alone = ftkit.read_jobs(mistral_paths).jobs
    assert_frame_equal(js.jobs.filter(pl.col("provider") == "mistral"), alone)
    assert len(js.unattached) == 2


@pytest.mark.parametrize("container", ["array", "ndjson", "gzip", "list"])
def test_every_container_holds_openai_and_mistral_jobs(real_dir: Path, container: str) -> None:
    openai_docs = [json.loads((real_dir / n).read_bytes()) for n in JOB_NAMES]
    mistral = json.loads((real_dir / "cookbook-sdk0x-4.json").read_bytes())
    docs = [openai_docs[0], mistral, *openai_docs[1:]]
    if container == "array":
        data = json.dumps(docs).encode()
    elif container == "list":
        data = json.dumps({"object": "list", "data": openai_docs, "has_more": False}).encode()
        docs = openai_docs
    else:
        data = b"\n".join(json.dumps(d).encode() for d in docs)
        if container == "gzip":
            data = gzip.compress(data)
    js = ftkit.read_jobs(data)
    assert js.ids == [d["id"] for d in docs]
    assert [type(job).__name__ for job in js] == [
        "CompletionJob" if d is mistral else "OpenAIJob" for d in docs
    ]


def test_strict_names_unknown_keys_of_openai_documents(real_dir: Path) -> None:
    doc = json.loads((real_dir / "openai-repr-1.json").read_bytes())
    doc["colour"] = 1
    doc["method"]["supervised"]["hyperparameters"]["warmup"] = 2
    ftkit.read_jobs(json.dumps(doc).encode())  # tolerated by default
    with pytest.raises(ftkit.JobDecodeError) as info:
        ftkit.read_jobs(json.dumps(doc).encode(), strict=True)
    assert info.value.path == "$.method.supervised.hyperparameters.warmup"  # the first, in document order
    assert "$.colour" in str(info.value)
    for name in OPENAI_NAMES:  # the real documents have no key the Structs do not know
        ftkit.read_jobs(real_dir / name, strict=True)


def test_bad_openai_records_name_their_path_and_keep_the_good(real_dir: Path) -> None:
    events = json.loads((real_dir / "openai-azure-2.json").read_bytes())
    events["data"][3]["created_at"] = "yesterday"
    job = json.loads((real_dir / "openai-curl-1.json").read_bytes())
    bad_job = dict(job, id="ftjob-bad", hyperparameters={"n_epochs": "many"})
    data = b"\n".join(json.dumps(d).encode() for d in (job, events, bad_job))
    js = ftkit.read_jobs(data, errors="skip")
    assert js.errors.select("line", "path").rows() == [
        (2, "$.data[3].created_at"), (3, "$.hyperparameters.n_epochs"),
    ]
    assert len(js[job["id"]].events) == 9  # the events after the job attach to it
    with pytest.raises(ftkit.JobDecodeError, match=r"line 2: at \$\.data\[3\]\.created_at"):
        ftkit.read_jobs(data)


def test_write_jobs_round_trips_openai_jobs_with_their_lists(real_dir: Path, tmp_path: Path) -> None:
    shutil.copy(real_dir / "openai-azure-1.json", tmp_path / f"{AZURE_JOB}.json")
    shutil.copy(real_dir / "openai-azure-2.json", tmp_path / f"{AZURE_JOB}-events.json")
    js = ftkit.read_jobs(tmp_path)
    out = ftkit.write_jobs(js, tmp_path / "out" / "jobs.ndjson.gz") if (tmp_path / "out").mkdir() is None else None
    again = ftkit.read_jobs(out)
    assert list(again) == list(js)
    assert_frame_equal(again.events, js.events)


def test_snapshots_of_one_openai_job_keep_the_latest(real_dir: Path) -> None:
    early = {"object": "fine_tuning.job", "id": "ftjob-a", "model": "m", "status": "running", "created_at": 10}
    late = dict(early, status="succeeded", finished_at=20)
    for order in ((early, late), (late, early)):
        js = ftkit.read_jobs([json.dumps(d).encode() for d in order])
        assert js.jobs["status"].to_list() == ["SUCCESS"]


def test_large_dumps_with_openai_records_read_the_same_with_workers(monkeypatch, tmp_path: Path) -> None:
    import ftkit.read.chunks
    import ftkit.read.decode
    import ftkit.read.reader

    mistral = ftkit.synth.make_jobs_bytes(400, seed=4)
    openai = ftkit.synth.make_openai_jobs_bytes(30, seed=4)
    half = mistral.index(b"\n", len(mistral) // 2) + 1
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(mistral[:half] + openai + mistral[half:])
    monkeypatch.setattr(ftkit.read.reader, "MIN_PARALLEL_BYTES", 1 << 16)
    monkeypatch.setattr(ftkit.read.reader, "MIN_COLD_PARALLEL_BYTES", 1 << 16)
    monkeypatch.setattr(ftkit.read.chunks, "MIN_CHUNK_BYTES", 1 << 16)
    outcomes = []
    real = ftkit.read.reader.read_parallel

    def spy(*args, **kwargs):
        by = "workers" if kwargs.get("workers", True) else "chunks here"
        try:
            out = real(*args, **kwargs)
        except ftkit.read.decode.OpenAIRecords:
            outcomes.append(f"{by}: read whole in-process instead")
            raise
        outcomes.append(f"read by {by}")
        return out

    monkeypatch.setattr(ftkit.read.reader, "read_parallel", spy)
    results = {}
    for workers in ("2", "0"):
        monkeypatch.setenv("FTKIT_WORKERS", workers)
        for source in (path, path.read_bytes()):
            js = ftkit.read_jobs(source)
            results[workers, type(source).__name__] = js
    serial = results["0", "PosixPath"]
    assert len(serial) == 430 and serial.unattached == []
    for js in results.values():
        assert js.ids == serial.ids
        for name in ("jobs", "checkpoints", "events"):
            assert_frame_equal(getattr(js, name), getattr(serial, name))
        assert list(js) == list(serial)
    # the workers (or, without workers, the chunks decoded here) met the OpenAI records,
    # and the read was done whole in-process; a Mistral-only dump of that size still goes
    # to the workers
    assert outcomes == ["workers: read whole in-process instead"] * 2 + ["chunks here: read whole in-process instead"] * 2
    monkeypatch.setenv("FTKIT_WORKERS", "2")
    assert len(ftkit.read_jobs(mistral)) == 400
    assert outcomes[4:] == ["read by workers"]


def test_iter_jobs_attaches_lists_within_a_batch() -> None:
    data = ftkit.synth.make_openai_jobs_bytes(6, seed=1)
    batches = list(ftkit.iter_jobs(data, batch_size=100))
    assert [len(b) for b in batches] == [6] and batches[0].unattached == []
    assert_frame_equal(batches[0].events, ftkit.read_jobs(data).events)


def test_attachment_does_not_depend_on_the_order_of_the_files(real_dir: Path, tmp_path: Path) -> None:
    job, events = tmp_path / f"{AZURE_JOB}.json", tmp_path / f"{AZURE_JOB}.events.json"
    shutil.copy(real_dir / "openai-azure-1.json", job)
    shutil.copy(real_dir / "openai-azure-2.json", events)
    job_first, events_first = ftkit.read_jobs([job, events]), ftkit.read_jobs([events, job])
    assert_frame_equal(job_first.events, events_first.events)
    assert_frame_equal(job_first.checkpoints, events_first.checkpoints)
    assert job_first.events.height == 10 and events_first.unattached == []

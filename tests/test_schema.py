"""The wire Structs: every real Mistral document decodes with every value kept."""

from __future__ import annotations

import doctest
import pickle
from pathlib import Path

import msgspec
import pytest

import ftkit
import ftkit.errors
import ftkit.schema
from ftkit import ClassifierJob, CompletionJob, JobDecodeError
from ftkit.schema import (
    Checkpoint,
    ClassifierHyperparameters,
    ClassifierTarget,
    Event,
    JobList,
    Metrics,
    WandbIntegration,
    WireJob,
    to_job,
)

# kind by shape, the raw job_type, number of jobs, for each real document.
EXPECTED_KINDS = {
    # 2025 SDK-1.x model_dump(): no job_type. A create response has no classifier_targets
    # yet, so by the documented rule ("targets present means classifier") it is completion.
    "cookbook-classifier-intent-1.json": ("completion", None, 1),
    "cookbook-classifier-intent-2.json": ("classifier", None, 1),
    "cookbook-classifier-intent-3.json": ("classifier", None, 1),
    "cookbook-classifier-intent-4.json": ("classifier", None, 1),
    "cookbook-classifier-moderation-1.json": ("classifier", None, 1),
    "cookbook-classifier-moderation-2.json": ("classifier", None, 1),
    "cookbook-classifier-product-1.json": ("classifier", None, 1),
    "cookbook-pixtral-1.json": ("completion", "completion", 1),
    "cookbook-pixtral-2.json": ("completion", "completion", 1),
    "cookbook-sdk0x-1.json": ("completion", "FT", 1),
    "cookbook-sdk0x-2.json": ("completion", "FT", 1),
    "cookbook-sdk0x-3.json": ("completion", "FT", 11),
    "cookbook-sdk0x-4.json": ("completion", "FT", 1),
    "cookbook-sdk0x-5.json": ("completion", "FT", 1),
    "cookbook-sdk1-1.json": ("completion", "FT", 1),
    "cookbook-sdk1-2.json": ("completion", "FT", 1),
    "cookbook-sdk1-3.json": ("completion", "FT", 1),
    "cookbook-sdk1-4.json": ("completion", "FT", 32),
    "cookbook-sdk1-5.json": ("completion", "FT", 32),
    "cookbook-sdk1-6.json": ("completion", "FT", 1),
    "llamaindex-sdk0x-1.json": ("completion", "FT", 1),
    "llamaindex-sdk0x-2.json": ("completion", "FT", 1),
    "platformdocs-1.json": ("completion", "FT", 1),
    "platformdocs-2.json": ("completion", "FT", 1),
}


def assert_kept(expected, actual, path: str = "$") -> None:
    """Every key and value of the JSON ``expected`` is in ``actual`` (a Struct or builtins).

    An object key must be an attribute of the Struct (or a key of a dict field) holding the
    same value, with the same JSON type: nothing is dropped, renamed, clipped or converted.
    """
    if isinstance(expected, dict):
        for key, value in expected.items():
            if isinstance(actual, msgspec.Struct):
                assert key in actual.__struct_fields__, f"{path}.{key} was dropped by {type(actual).__name__}"
                assert_kept(value, getattr(actual, key), f"{path}.{key}")
            else:
                assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
                assert key in actual, f"{path}.{key} was dropped"
                assert_kept(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, JSON has {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_kept(e, a, f"{path}[{i}]")
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not {expected!r}"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_expectations_cover_every_real_document(mistral_paths: list[Path]) -> None:
    assert sorted(EXPECTED_KINDS) == [p.name for p in mistral_paths]


def test_every_real_document_keeps_every_value(mistral_path: Path, load_json, json_jobs) -> None:
    document = load_json(mistral_path)
    js = ftkit.read_jobs(mistral_path)
    expected_jobs = json_jobs(document)
    assert len(js) == len(expected_jobs)
    for expected, job in zip(expected_jobs, js):
        assert_kept(expected, job)


def test_every_real_document_is_read_by_shape(mistral_path: Path) -> None:
    kind, job_type, count = EXPECTED_KINDS[mistral_path.name]
    jobs = list(ftkit.read_jobs(mistral_path))
    assert len(jobs) == count
    cls = ClassifierJob if kind == "classifier" else CompletionJob
    assert {type(job) for job in jobs} == {cls}
    assert {job.kind for job in jobs} == {kind}
    # The raw job_type stays what the wire said: "FT" is not rewritten.
    assert {job.job_type for job in jobs} == {job_type}


def test_real_list_responses_decode_as_job_list(real_dir: Path) -> None:
    # The 0.x list has no total; the 1.0 dump spells the key "OBJECT".
    no_total = msgspec.json.decode((real_dir / "cookbook-sdk0x-3.json").read_bytes(), type=JobList)
    assert (no_total.total, no_total.object, len(no_total.data)) == (None, "list", 11)
    upper = msgspec.json.decode((real_dir / "cookbook-sdk1-4.json").read_bytes(), type=JobList)
    assert (upper.total, upper.object, len(upper.data)) == (32, None, 32)
    assert {type(job) for job in upper.data} == {CompletionJob}


def test_real_list_responses_decode_as_wire_job_list(real_dir: Path) -> None:
    from ftkit.schema import WireJobList

    no_total = msgspec.json.decode((real_dir / "cookbook-sdk0x-3.json").read_bytes(), type=WireJobList)
    assert (no_total.total, no_total.object, len(no_total.data)) == (None, "list", 11)
    upper = msgspec.json.decode((real_dir / "cookbook-sdk1-4.json").read_bytes(), type=WireJobList)
    assert (upper.total, upper.object, len(upper.data)) == (32, None, 32)


def test_quirks_of_real_documents_are_kept(real_dir: Path) -> None:
    def one(name: str):
        (job,) = ftkit.read_jobs(real_dir / name)
        return job

    # missing auto_start (0.x) and top-level estimated_start_time
    sdk0x = one("cookbook-sdk0x-4.json")
    assert sdk0x.auto_start is None
    assert "estimated_start_time" in sdk0x.__struct_fields__ and sdk0x.estimated_start_time is None
    assert sdk0x.metadata is None and sdk0x.suffix is None and sdk0x.trained_tokens is None
    # targets with only name and labels
    product = one("cookbook-classifier-product-1.json")
    assert product.classifier_targets == [
        ClassifierTarget(
            name="food",
            labels=[
                "plant-based-foods-and-beverages", "meats-and-their-products", "sweet-snacks",
                "snacks", "dairies", "plant-based-foods", "cereals-and-potatoes", "beverages",
            ],
        ),
        ClassifierTarget(
            name="country_label",
            labels=[
                "united-states", "italy", "germany", "france", "switzerland",
                "united-kingdom", "spain", "belgium",
            ],
        ),
    ]
    assert product.classifier_targets[0].weight is None
    assert product.classifier_targets[0].loss_function is None
    # the Struct keeps the placeholder 0.0 valid metrics and accuracy > 1
    intent = one("cookbook-classifier-intent-3.json")
    assert intent.checkpoints[0].metrics == Metrics(
        train_loss=0.000191, valid_loss=0.000625, valid_mean_token_accuracy=1.000433
    )
    assert intent.checkpoints[1].metrics == Metrics(
        train_loss=0.000181, valid_loss=0.0, valid_mean_token_accuracy=0.0
    )
    # checkpoints and events keep the JSON order in the Struct (newest first in 2024)
    docs = one("platformdocs-2.json")
    assert [c.step_number for c in docs.checkpoints] == list(range(100, 0, -10))
    assert [e.status for e in docs.events] == ["SUCCESS", "RUNNING", "QUEUED"]
    # events without data (SDK 1.0.0)
    running = one("cookbook-sdk1-2.json")
    assert [(e.name, e.data, e.status) for e in running.events] == [("status-updated", None, None)] * 5
    # integrations without type (SDK 1.x), with url (2025)
    assert one("cookbook-classifier-intent-3.json").integrations == [
        WandbIntegration(
            project="intent-classifier", url="https://wandb.ai/mistral-ai/intent-classifier/runs/tpyu9twr"
        )
    ]
    # repositories, training_files [] and fim_ratio (codestral)
    codestral = one("cookbook-sdk1-6.json")
    assert codestral.training_files == [] and codestral.hyperparameters.fim_ratio == 0.9
    assert [(r.owner, r.name, r.ref, r.weight, r.type) for r in codestral.repositories] == [
        ("mistralai", "mistral-inference", "main", 1.0, "github"),
        ("mistralai", "client-python", "main", 1.0, "github"),
    ]
    # metadata cost 0.0 with cost_currency null right after creation
    created = one("cookbook-classifier-intent-1.json")
    assert (created.metadata.cost, created.metadata.cost_currency) == (0.0, None)


def test_unknown_keys_are_tolerated_at_every_level() -> None:
    raw = (
        b'{"id": "j", "model": "m", "status": "RUNNING", "created_at": 1, "modified_at": 2,'
        b' "new_top": {"x": [1]}, "hyperparameters": {"training_steps": 3, "new_hp": 1},'
        b' "metadata": {"cost": 1.5, "vat": 0.2}, "integrations": [{"project": "p", "entity": "e"}],'
        b' "events": [{"name": "status-updated", "created_at": 1, "level": "info"}],'
        b' "checkpoints": [{"step_number": 1, "created_at": 1, "metrics": {"train_loss": 1.0, "f1": 0.5},'
        b' "id": "ck"}], "classifier_targets": [{"name": "t", "labels": ["a"], "extra": true}]}'
    )
    job = to_job(msgspec.json.decode(raw, type=WireJob))
    assert isinstance(job, ClassifierJob)
    assert job.hyperparameters == ClassifierHyperparameters(training_steps=3)
    assert job.metadata.cost == 1.5
    assert job.checkpoints == [Checkpoint(step_number=1, created_at=1, metrics=Metrics(train_loss=1.0))]
    assert job.classifier_targets == [ClassifierTarget(name="t", labels=["a"])]


@pytest.mark.parametrize(
    ("job_type", "targets", "expected"),
    [
        ("FT", None, CompletionJob),
        (None, None, CompletionJob),
        ("completion", None, CompletionJob),
        ("classifier", None, ClassifierJob),  # the tag wins when it names a type
        ("FT", [{"name": "t", "labels": ["a"]}], ClassifierJob),  # FT is read by shape
        (None, [{"name": "t", "labels": ["a"]}], ClassifierJob),
        (None, [], ClassifierJob),  # an empty list is still the classifier shape
        ("something-new", None, CompletionJob),
    ],
)
def test_job_type_is_read_by_shape(job_type, targets, expected, job_json) -> None:
    fields = {}
    if job_type is not None:
        fields["job_type"] = job_type
    if targets is not None:
        fields["classifier_targets"] = targets
    job = to_job(msgspec.json.decode(msgspec.json.encode(job_json("j", **fields)), type=WireJob))
    assert type(job) is expected
    assert job.job_type == job_type


def test_classifier_job_keeps_its_hyperparameters(job_json) -> None:
    raw = job_json(
        "c",
        classifier_targets=[{"name": "t", "labels": ["a"], "weight": 0.5, "loss_function": "multi_class"}],
        hyperparameters={"training_steps": 100, "learning_rate": 4e-05, "weight_decay": 0.1,
                         "warmup_fraction": 0.05, "epochs": 47.74101432172152, "seq_len": 16384},
    )
    job = to_job(msgspec.json.decode(msgspec.json.encode(raw), type=WireJob))
    assert job.hyperparameters == ClassifierHyperparameters(
        training_steps=100, learning_rate=4e-05, weight_decay=0.1, warmup_fraction=0.05,
        epochs=47.74101432172152, seq_len=16384,
    )
    assert job.classifier_targets == [
        ClassifierTarget(name="t", labels=["a"], weight=0.5, loss_function="multi_class")
    ]


def test_struct_helpers() -> None:
    assert Event(name="status-updated", created_at=1, data={"status": "RUNNING"}).status == "RUNNING"
    assert Event(name="status-updated", created_at=1).status is None
    assert Event(name="status-updated", created_at=1, data={"status": 3}).status is None
    job = CompletionJob(id="j", model="m", status="SUCCESS", created_at=0, modified_at=0)
    assert job.is_final and job.kind == "completion"
    assert not CompletionJob(id="j", model="m", status="QUEUED", created_at=0, modified_at=0).is_final
    assert ClassifierJob(id="j", model="m", status="CANCELLED", created_at=0, modified_at=0).is_final


def test_negative_counts_are_rejected(job_json) -> None:
    raw = msgspec.json.encode(job_json("j", checkpoints=[{"step_number": -1, "created_at": 0}]))
    with pytest.raises(msgspec.ValidationError, match=r"\$\.checkpoints\[0\]\.step_number"):
        msgspec.json.decode(raw, type=WireJob)


def test_encoding_writes_back_only_what_the_json_had(real_dir: Path) -> None:
    (job,) = ftkit.read_jobs(real_dir / "cookbook-sdk0x-5.json")
    assert msgspec.json.decode(msgspec.json.encode(job)) == {
        "id": "7a65d35f-fd50-4e07-a90a-498f773c7bda",
        "hyperparameters": {"training_steps": 63, "learning_rate": 0.0001},
        "model": "open-mistral-7b",
        "status": "QUEUED",
        "job_type": "FT",
        "created_at": 1719231392,
        "modified_at": 1719231392,
        "training_files": ["404eedd6-cf99-4372-9d46-aa661f2f0021"],
        "validation_files": ["954aa9f1-a8c9-4950-a312-9aecf389b757"],
        "object": "job",
        "integrations": [],
    }


# --- JobDecodeError ---------------------------------------------------------------


def test_job_decode_error_message_and_attributes() -> None:
    err = JobDecodeError(
        "Expected `int`, got `str`", source="jobs.ndjson", line=3, path="$.checkpoints[0].step_number"
    )
    assert isinstance(err, ValueError)
    assert str(err) == "jobs.ndjson: line 3: at $.checkpoints[0].step_number: Expected `int`, got `str`"
    assert (err.source, err.line, err.index, err.path) == ("jobs.ndjson", 3, None, "$.checkpoints[0].step_number")
    assert (err.expected, err.found, err.reason) == ("int", "str", "Expected `int`, got `str`")
    arr = JobDecodeError("Object missing required field `id`", source="a.json", index=4, path="$")
    assert str(arr) == "a.json: index 4: at $: Object missing required field `id`"
    assert (arr.expected, arr.found) == (None, None)


def test_job_decode_error_pickles() -> None:
    err = JobDecodeError("Expected `int`, got `str`", source="s", line=2, index=None, path="$.x")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is JobDecodeError
    assert (str(back), back.source, back.line, back.path, back.expected) == (str(err), "s", 2, "$.x", "int")


def test_job_decode_error_from_msgspec_moves_the_path(job_json) -> None:
    raw = msgspec.json.encode(job_json("j", checkpoints=[{"step_number": "x", "created_at": 0}]))
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(raw, type=WireJob)
    err = JobDecodeError.from_msgspec(info.value, source="f.ndjson", line=7, prefix="$.data[2]")
    assert err.path == "$.data[2].checkpoints[0].step_number"
    assert (err.expected, err.found, err.line) == ("int", "str", 7)
    assert str(err) == "f.ndjson: line 7: at $.data[2].checkpoints[0].step_number: Expected `int`, got `str`"


@pytest.mark.parametrize("module", [ftkit.schema, ftkit.errors], ids=lambda m: m.__name__)
def test_doctests(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

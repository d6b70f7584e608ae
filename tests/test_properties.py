"""Property tests: random valid jobs survive encode/decode; mutated bytes only ever give JobDecodeError.

Deterministic for CI: every test runs under ``derandomize=True`` with a fixed budget.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import ftkit
from ftkit import JobDecodeError
from ftkit.frames import frames_with_positions
from ftkit.schema import (
    Checkpoint,
    ClassifierHyperparameters,
    ClassifierJob,
    ClassifierTarget,
    CompletionHyperparameters,
    CompletionJob,
    Event,
    GithubRepository,
    JobMetadata,
    Metrics,
    WandbIntegration,
    WireJob,
)

import reference_frames  # tests/reference_frames.py: tests/ is on sys.path (pyproject's pythonpath)

REAL_DIR = Path(__file__).resolve().parent / "data" / "real"
SEEDS = [
    (REAL_DIR / name).read_bytes()
    for name in ("platformdocs-2.json", "cookbook-classifier-intent-3.json", "cookbook-sdk0x-3.json",
                 "cookbook-sdk1-2.json", "cookbook-classifier-product-1.json")
]

DETERMINISTIC = settings(
    derandomize=True,
    deadline=None,
    database=None,
    # no "explain" phase: it writes patch files into the working tree
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies for valid jobs --------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
maybe_text = st.none() | text
counts = st.integers(min_value=0, max_value=2**53)
maybe_count = st.none() | counts
seconds = st.integers(min_value=0, max_value=4_102_444_800)  # up to 2100
finite = st.floats(allow_nan=False, allow_infinity=False)
maybe_float = st.none() | finite
json_scalar = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | finite | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)

metrics = st.builds(
    Metrics, train_loss=maybe_float, valid_loss=maybe_float | st.just(0.0),
    valid_mean_token_accuracy=maybe_float | st.just(0.0),
)
checkpoints = st.builds(Checkpoint, step_number=counts, created_at=seconds, metrics=metrics)
events = st.builds(
    Event,
    name=st.just("status-updated") | text,
    created_at=seconds,
    data=st.none() | st.dictionaries(text, json_value, max_size=3)
    | st.builds(lambda s: {"status": s}, st.sampled_from(["QUEUED", "RUNNING", "SUCCESS"])),
)
metadata = st.builds(
    JobMetadata, expected_duration_seconds=st.none() | st.integers(0, 10**6), cost=maybe_float,
    cost_currency=st.sampled_from([None, "USD", "EUR"]), train_tokens_per_step=maybe_count,
    train_tokens=maybe_count, data_tokens=maybe_count, estimated_start_time=st.none() | seconds,
    details=maybe_text, deprecated=st.none() | st.booleans(), epochs=maybe_float,
    training_steps=maybe_count, object=st.sampled_from([None, "job.metadata"]),
)
integrations = st.builds(
    WandbIntegration, type=st.sampled_from([None, "wandb"]), project=maybe_text, name=maybe_text,
    run_name=maybe_text, url=maybe_text,
)
repositories = st.builds(
    GithubRepository, type=st.sampled_from([None, "github"]), name=text, owner=text,
    commit_id=maybe_text, ref=maybe_text, weight=maybe_float,
)
targets = st.builds(
    ClassifierTarget, name=text, labels=st.lists(text, max_size=4), weight=maybe_float,
    loss_function=st.sampled_from([None, "single_class", "multi_class"]),
)
hyper = dict(
    training_steps=maybe_count, learning_rate=maybe_float, weight_decay=maybe_float,
    warmup_fraction=maybe_float, epochs=maybe_float, seq_len=maybe_count,
)
common = dict(
    id=st.just("placeholder"),
    auto_start=st.none() | st.booleans(),
    model=text,
    status=st.sampled_from(["QUEUED", "VALIDATING", "VALIDATED", "RUNNING", "SUCCESS", "FAILED"]) | text,
    created_at=seconds,
    modified_at=seconds,
    training_files=st.lists(text, max_size=2),
    validation_files=st.none() | st.lists(text, max_size=2),
    object=st.sampled_from([None, "job"]),
    fine_tuned_model=maybe_text,
    suffix=maybe_text,
    integrations=st.none() | st.lists(integrations, max_size=2),
    trained_tokens=maybe_count,
    metadata=st.none() | metadata,
    events=st.none() | st.lists(events, max_size=4),
    checkpoints=st.none() | st.lists(checkpoints, max_size=4),
    estimated_start_time=st.none() | seconds,
)
completion_jobs = st.builds(
    CompletionJob,
    job_type=st.sampled_from([None, "FT", "completion"]),
    hyperparameters=st.builds(CompletionHyperparameters, fim_ratio=maybe_float, **hyper),
    repositories=st.none() | st.lists(repositories, max_size=2),
    **common,
)
# A classifier job is recognised by its tag or, where the tag is absent, by its targets.
classifier_jobs = st.builds(
    ClassifierJob,
    job_type=st.just("classifier"),
    hyperparameters=st.builds(ClassifierHyperparameters, **hyper),
    classifier_targets=st.none() | st.lists(targets, max_size=2),
    **common,
) | st.builds(
    ClassifierJob,
    job_type=st.none(),
    hyperparameters=st.builds(ClassifierHyperparameters, **hyper),
    classifier_targets=st.lists(targets, max_size=2),
    **common,
)


@st.composite
def job_lists(draw) -> list:
    jobs = draw(st.lists(completion_jobs | classifier_jobs, min_size=0, max_size=6))
    return [msgspec.structs.replace(job, id=f"job-{i}") for i, job in enumerate(jobs)]


# --- properties: valid jobs --------------------------------------------------------


@settings(DETERMINISTIC, max_examples=100)
@given(jobs=job_lists())
def test_random_valid_jobs_survive_encode_and_decode(jobs) -> None:
    ndjson = b"".join(msgspec.json.encode(job) + b"\n" for job in jobs)
    for data in (ndjson, msgspec.json.encode(jobs), gzip.compress(ndjson)):
        if not jobs and data is not ndjson:
            continue
        js = ftkit.read_jobs(data) if jobs else ftkit.read_jobs(b"[]")
        assert list(js) == jobs
        assert [type(job) for job in js] == [type(job) for job in jobs]
    listing = msgspec.json.encode({"object": "list", "total": len(jobs), "data": jobs})
    assert list(ftkit.read_jobs(listing)) == jobs


@settings(DETERMINISTIC, max_examples=60)
@given(jobs=job_lists())
def test_random_valid_jobs_survive_write_jobs_and_build_frames(jobs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = ftkit.write_jobs(jobs, Path(tmp) / "jobs.ndjson.gz")
        back = ftkit.read_jobs(out) if jobs else ftkit.JobSet()
    assert list(back) == jobs
    assert back.jobs.height == len(jobs)
    assert back.checkpoints.height == sum(len(job.checkpoints or ()) for job in jobs)
    assert back.events.height == sum(len(job.events or ()) for job in jobs)
    assert back.targets.height == sum(len(getattr(job, "classifier_targets", None) or ()) for job in jobs)
    assert back.checkpoints["step_number"].to_list() == [
        c.step_number for job in jobs for c in sorted(job.checkpoints or (), key=lambda c: c.step_number)
    ]


@settings(DETERMINISTIC, max_examples=100)
@given(jobs=job_lists())
def test_random_valid_jobs_give_the_frames_of_the_straightforward_builders(jobs) -> None:
    wire = [msgspec.json.decode(msgspec.json.encode(job), type=WireJob) for job in jobs]
    for given_jobs in (jobs, wire, wire + jobs):
        for name in ("jobs_frame", "checkpoints_frame", "events_frame", "targets_frame"):
            assert_frame_equal(getattr(ftkit, name)(given_jobs), getattr(reference_frames, name)(given_jobs))
        expected = reference_frames.frames_with_positions(given_jobs)
        for name, frame in frames_with_positions(given_jobs).items():
            assert_frame_equal(frame, expected[name])


@settings(DETERMINISTIC, max_examples=100)
@given(jobs=job_lists())
def test_random_valid_jobs_decode_in_a_chunk_to_the_parts_of_their_frames(jobs) -> None:
    """decode_chunk (FrameJob where the events allow, else WireJob) gives the parts of the
    frames of the jobs, and completed, the frames."""
    from ftkit.frames import complete_frame_parts, mistral_frame_parts
    from ftkit.read.decode import decode_chunk

    lines = [msgspec.json.encode(job) for job in jobs]
    reply, parts = decode_chunk(b"\n".join(lines) + b"\n", source="<chunk>", errors="raise")
    assert reply.errors == []
    expected = reference_frames.frames_with_positions(jobs)
    for name, frame in mistral_frame_parts(jobs).items():
        assert_frame_equal(parts[name], frame)
    for name, frame in complete_frame_parts(parts, parts["jobs"]["job_id"]).items():
        assert_frame_equal(frame, expected[name].drop("_position"))


# --- properties: mutated bytes --------------------------------------------------


@st.composite
def mutated(draw, alphabet: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    if draw(st.booleans()):
        data = bytearray(msgspec.json.encode(msgspec.json.decode(data)))  # compact form
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "replace" and data:
            data[at : at + 1] = draw(alphabet)
        elif kind == "delete":
            data[at : at + draw(st.integers(1, 40))] = b""
        elif kind == "insert":
            data[at:at] = draw(alphabet)
        elif kind == "truncate":
            data = data[:at]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    if draw(st.booleans()):
        data = bytearray(data.replace(b"\n  ", b"\n" if draw(st.booleans()) else b" "))
    return bytes(data)


def _read_never_escapes(data: bytes) -> None:
    for source in (data, gzip.compress(data)[: max(len(data) // 3, 1)]):
        try:
            js = ftkit.read_jobs(source)
        except JobDecodeError:
            js = None
        skipped = ftkit.read_jobs(source, errors="skip")
        # nothing vanishes silently: every input gives at least one job or one listed error
        assert len(skipped) + skipped.errors.height >= 1
        if js is not None:  # what reads cleanly reads the same, with nothing listed
            assert skipped.ids == js.ids and skipped.errors.height == 0
        try:
            for _ in ftkit.iter_jobs(source, batch_size=3):
                pass
        except JobDecodeError:
            pass


ascii_bytes = st.sampled_from([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\n", b"0", b"-", b"e", b"null", b" ", b"x"])


@settings(DETERMINISTIC, max_examples=300)
@given(data=mutated(ascii_bytes))
def test_structural_mutations_only_raise_job_decode_error(data: bytes) -> None:
    _read_never_escapes(data)


@settings(DETERMINISTIC, max_examples=300)
@given(data=mutated(st.binary(min_size=1, max_size=3)))
def test_random_byte_mutations_only_raise_job_decode_error(data: bytes) -> None:
    _read_never_escapes(data)


# --- properties: snapshots of one job ---------------------------------------------


@st.composite
def snapshot_lists(draw) -> list:
    """Records of a few jobs, many tied on modified_at, keys present or not at random."""
    jobs = draw(st.lists(completion_jobs | classifier_jobs, min_size=1, max_size=8))
    ids = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=len(jobs), max_size=len(jobs)))
    times = draw(st.lists(st.sampled_from([1, 2]), min_size=len(jobs), max_size=len(jobs)))
    records = []
    for job, job_id, modified_at in zip(jobs, ids, times):
        changes = {"id": job_id, "modified_at": modified_at}
        if isinstance(job, ClassifierJob):  # records of one id keep one type (the API's own shape)
            changes["id"] = job_id + "-classifier"
        records.append(msgspec.structs.replace(job, **changes))
    return records


@settings(DETERMINISTIC, max_examples=150)
@given(records=snapshot_lists(), order=st.randoms(use_true_random=False))
def test_snapshots_never_depend_on_the_order_of_the_records(records, order) -> None:
    shuffled = list(records)
    order.shuffle(shuffled)
    ndjson = b"\n".join(msgspec.json.encode(record) for record in records)
    reordered = b"\n".join(msgspec.json.encode(record) for record in shuffled)
    by_id = {job.id: job for job in ftkit.read_jobs(ndjson)}
    assert {job.id: job for job in ftkit.read_jobs(reordered)} == by_id
    assert {job.id: job for job in ftkit.JobSet(shuffled)} == {job.id: job for job in ftkit.JobSet(records)}
    for batch_size in (1, 3):
        streamed = [job for batch in ftkit.iter_jobs(reordered, batch_size=batch_size) for job in batch]
        assert {job.id: job for job in streamed} == by_id and len(streamed) == len(by_id)
    # the latest modified_at wins; a merged job keeps every key some latest record has
    for job_id, job in by_id.items():
        latest = max(r.modified_at for r in records if r.id == job_id)
        assert job.modified_at == latest
        tied = [msgspec.to_builtins(r) for r in records if r.id == job_id and r.modified_at == latest]
        assert set(msgspec.to_builtins(job)) == set().union(*tied)

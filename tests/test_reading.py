"""read_jobs, iter_jobs, write_jobs: every source shape, every bad input, the parallel path."""

from __future__ import annotations

import doctest
import gzip
import json
import os
from pathlib import Path

import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
import ftkit.gc_pause
import ftkit.read.assemble
import ftkit.read.chunks
import ftkit.read.decode
import ftkit.read.layout
import ftkit.read.processes
import ftkit.read.reader
import ftkit.read.sources
import ftkit.read.stream
import ftkit.read.workers
import ftkit.read.write
import ftkit.snapshots
from ftkit import JobDecodeError

FRAMES = ("jobs", "checkpoints", "events", "targets")


@pytest.fixture(autouse=True)
def workers_whatever_their_start_costs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large reads here go to the workers even where they would start as new interpreters
    (this process runs polars' thread pool, so its workers come from a fork server, whose
    first start counts as cold): the tests of the worker path mean it."""
    monkeypatch.setattr(ftkit.read.reader, "MIN_COLD_PARALLEL_BYTES", ftkit.read.reader.MIN_PARALLEL_BYTES)


def assert_same_jobsets(a: ftkit.JobSet, b: ftkit.JobSet) -> None:
    assert a.ids == b.ids
    assert list(a) == list(b)
    for name in FRAMES:
        assert_frame_equal(getattr(a, name), getattr(b, name))


def compact(document) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


# --- every real document ------------------------------------------------------------


def test_every_real_document_reads(mistral_path: Path, load_json, json_jobs) -> None:
    expected = json_jobs(load_json(mistral_path))
    js = ftkit.read_jobs(mistral_path)
    assert js.ids == [job["id"] for job in expected]
    assert js.errors.height == 0
    # strict mode accepts every real job: the schema knows every key the API sent
    assert ftkit.read_jobs(mistral_path, strict=True).ids == js.ids


def _record(path: Path, index: int) -> dict:
    document = json.loads(path.read_bytes())
    return document["data"][index] if isinstance(document, dict) and "data" in document else document


def _by_id(js: ftkit.JobSet) -> dict[str, ftkit.Job]:
    return {job.id: job for job in js}


def _sorted_frames(js: ftkit.JobSet) -> dict[str, pl.DataFrame]:
    """The frames in an order that does not depend on the order of the inputs."""
    return {name: getattr(js, name).sort("job_id", maintain_order=True) for name in FRAMES}


def _real_expectation(real_dir: Path, mistral_paths: list[Path]) -> dict[str, ftkit.Job]:
    """Every real job as read_jobs of the whole directory must give it, worked out by hand.

    Most ids have one record with the latest modified_at: it is the job. Three kinds of
    record tie on it, and the merge keeps what each adds:
    - sdk0x-2 (detailed) and the sdk0x-3 list entry of job 63be4026: the detail's
      checkpoint and events stay (the list entry has neither key);
    - sdk1-3 (detailed) and the sdk1-4 list entry of job 20178c3c: likewise;
    - the sdk1-4 and sdk1-5 list entries of 30 jobs: sdk1-5 adds ``object`` (absent in
      sdk1-4) and its integrations carry ``type`` (a richer value), so it is the job.
    """
    latest: dict[str, tuple[int, Path, int]] = {}
    for path in mistral_paths:
        document = json.loads(path.read_bytes())
        records = document["data"] if isinstance(document, dict) and "data" in document else [document]
        for i, record in enumerate(records):
            if record["id"] not in latest or record["modified_at"] > latest[record["id"]][0]:
                latest[record["id"]] = (record["modified_at"], path, i)
    chosen = {job_id: (path, i) for job_id, (_, path, i) in latest.items()}
    chosen["63be4026-cb98-4dc0-becd-83c424a42e0e"] = (real_dir / "cookbook-sdk0x-2.json", 0)
    chosen["20178c3c-d75b-428e-b20d-7d39aa2b7468"] = (real_dir / "cookbook-sdk1-3.json", 0)
    listing = json.loads((real_dir / "cookbook-sdk1-5.json").read_bytes())["data"]
    for i in range(2, 32):
        chosen[listing[i]["id"]] = (real_dir / "cookbook-sdk1-5.json", i)
    return {job_id: next(iter(ftkit.read_jobs(compact(_record(path, i))))) for job_id, (path, i) in chosen.items()}


def test_all_real_documents_together_keep_every_best_snapshot(
    real_dir: Path, mistral_paths: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _real_expectation(real_dir, mistral_paths)
    assert len(expected) == 55
    reference = ftkit.JobSet(expected.values())
    for source in (mistral_paths, list(reversed(mistral_paths)), str(real_dir / "[!o]*.json"), real_dir / "[cpl]*.json"):
        js = ftkit.read_jobs(source)
        assert _by_id(js) == expected
        for name, frame in _sorted_frames(js).items():
            assert_frame_equal(frame, _sorted_frames(reference)[name])
    # the whole directory, OpenAI documents included (whatever ftkit makes of those)
    js = ftkit.read_jobs(real_dir, errors="skip")
    assert all(Path(source).name.startswith("openai-") for source in js.errors["source"])
    got = _by_id(js)
    assert {job_id: got[job_id] for job_id in expected} == expected
    # the two jobs that lost their best checkpoint when the list entry came last
    assert [len(js[i].checkpoints) for i in ("63be4026-cb98-4dc0-becd-83c424a42e0e", "20178c3c-d75b-428e-b20d-7d39aa2b7468")] == [1, 1]
    best = js.checkpoint_summary()
    assert best.filter(pl.col("job_id").is_in(["63be4026-cb98-4dc0-becd-83c424a42e0e", "20178c3c-d75b-428e-b20d-7d39aa2b7468"])).height == 2
    # through the worker path: the real documents beside a dump over 16 MB, in both orders
    filler = tmp_path / "filler.ndjson"
    filler.write_bytes(ftkit.synth.make_jobs_bytes(900, seed=5, checkpoints_per_job=150))
    assert filler.stat().st_size > 16 << 20
    for workers in (None, "0"):
        if workers is None:
            monkeypatch.delenv("FTKIT_WORKERS", raising=False)
        else:
            monkeypatch.setenv("FTKIT_WORKERS", workers)
        for source in ([filler, *mistral_paths], [*reversed(mistral_paths), filler]):
            js = ftkit.read_jobs(source)
            assert len(js) == 55 + 900
            got = _by_id(js)
            assert {job_id: got[job_id] for job_id in expected} == expected


def test_snapshots_the_latest_modified_at_wins_whatever_the_order(real_dir: Path) -> None:
    created, validated, done = (real_dir / f"cookbook-classifier-intent-{i}.json" for i in (1, 2, 3))
    for order in ([created, validated, done], [done, validated, created], [validated, done, created]):
        (job,) = ftkit.read_jobs(order)
        assert (job.status, job.modified_at, len(job.checkpoints)) == ("SUCCESS", 1744814940, 27)


def test_snapshots_tied_detail_and_list_entry_merge_in_either_order(real_dir: Path) -> None:
    # sdk1-3 (detailed, with events) and the sdk1-4 list entry are the same job at the
    # same modified_at: the detail's events and checkpoint are kept whichever comes last.
    detailed, listing = real_dir / "cookbook-sdk1-3.json", real_dir / "cookbook-sdk1-4.json"
    job_id = "20178c3c-d75b-428e-b20d-7d39aa2b7468"
    for order in ([detailed, listing], [listing, detailed]):
        job = ftkit.read_jobs(order)[job_id]
        assert (len(job.events), len(job.checkpoints)) == (6, 1)


def test_commands_follow_the_snapshot_rule_in_either_order(
    real_dir: Path, mistral_paths: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from ftkit.cli import main

    outputs = []
    for i, paths in enumerate((mistral_paths, list(reversed(mistral_paths)))):
        assert main(["summary", "-q", *map(str, paths)]) == 0
        summary = capsys.readouterr().out
        assert main(["convert", "-q", "-o", str(tmp_path / f"tables{i}"), *map(str, paths)]) == 0
        scanned = ftkit.scan_tables(tmp_path / f"tables{i}")  # the Parquet dataset of convert
        tables = {name: getattr(scanned, name).collect().sort("job_id", maintain_order=True) for name in FRAMES}
        outputs.append((summary, tables))
    (summary, tables), (summary_reversed, tables_reversed) = outputs
    assert summary.split("\n", 1)[1] == summary_reversed.split("\n", 1)[1]  # the first line names the inputs
    for name in FRAMES:
        assert_frame_equal(tables[name], tables_reversed[name])
    assert_frame_equal(tables["checkpoints"], _sorted_frames(ftkit.read_jobs(mistral_paths))["checkpoints"])
    # both tied jobs rank, with their checkpoint
    assert tables["checkpoints"].filter(pl.col("job_id").is_in(["63be4026-cb98-4dc0-becd-83c424a42e0e", "20178c3c-d75b-428e-b20d-7d39aa2b7468"])).height == 2


def _snapshot_records(job: dict) -> dict[str, dict]:
    """Snapshots of one generated job, as a dump of list and detail responses holds them."""
    detail = {k: v for k, v in job.items() if k != "object"}
    listed = {k: v for k, v in job.items() if k not in ("events", "checkpoints")}
    listed["object"] = "job"
    older = dict(detail, modified_at=job["modified_at"] - 60, status="RUNNING", checkpoints=job.get("checkpoints", [])[1:])
    return {"detail": detail, "listed": listed, "older": older}


def test_snapshots_within_one_source(job_json) -> None:
    a = job_json("a", status="RUNNING", modified_at=5)
    data = b"\n".join(
        compact(record)
        for record in [
            a,
            job_json("b", status="QUEUED", modified_at=1, object="job"),
            dict(a, status="SUCCESS", modified_at=9),
            dict(a, status="FAILED", modified_at=7),  # older: loses
            job_json("b", status="QUEUED", modified_at=1, suffix="x", events=[]),  # tie: merged
        ]
    )
    js = ftkit.read_jobs(data)
    assert [(j.id, j.status) for j in js] == [("a", "SUCCESS"), ("b", "QUEUED")]
    assert (js["b"].object, js["b"].suffix, js["b"].events) == ("job", "x", [])


def test_snapshots_a_symmetric_tie_has_one_answer(job_json) -> None:
    # Same modified_at, same number of checkpoints, other metrics: nothing says which is
    # newer, and the answer must not depend on the order; the rule takes the value whose
    # compact JSON (keys sorted) sorts last, here train_loss 0.9 over 0.5.
    def at(loss: float) -> bytes:
        return compact(job_json("a", checkpoints=[{"step_number": 1, "created_at": 1, "metrics": {"train_loss": loss}}]))

    for records in ([at(0.5), at(0.9)], [at(0.9), at(0.5)]):
        for source in (records, b"\n".join(records)):
            (job,) = ftkit.read_jobs(source)
            assert job.checkpoints[0].metrics.train_loss == 0.9
    # Structs given to JobSet follow the same rule
    jobs = [next(iter(ftkit.read_jobs(at(loss)))) for loss in (0.9, 0.5)]
    assert ftkit.JobSet(jobs)["a"] == ftkit.JobSet(jobs[::-1])["a"] == jobs[0]


def test_snapshots_generated_in_both_orders_and_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = list(ftkit.synth.make_job_dicts(900, seed=11, checkpoints_per_job=150))
    snapshots = [_snapshot_records(job) for job in jobs]
    encode = msgspec.json.encode
    details, listings = tmp_path / "details.ndjson", tmp_path / "listings.ndjson"
    details.write_bytes(b"\n".join(encode(s["detail"]) for s in snapshots))
    listings.write_bytes(b"\n".join(encode(r) for s in snapshots for r in (s["listed"], s["older"])))
    assert details.stat().st_size > 16 << 20
    expected = ftkit.read_jobs(b"\n".join(encode(dict(s["detail"], object="job")) for s in snapshots))
    assert len(expected) == 900
    for workers in (None, "0"):
        if workers is None:
            monkeypatch.delenv("FTKIT_WORKERS", raising=False)
        else:
            monkeypatch.setenv("FTKIT_WORKERS", workers)
        for source in ([details, listings], [listings, details]):
            js = ftkit.read_jobs(source)
            assert _by_id(js) == _by_id(expected)
            for name, frame in _sorted_frames(js).items():
                assert_frame_equal(frame, _sorted_frames(expected)[name])


# --- source shapes ------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_jobs(real_dir: Path) -> list[dict]:
    """Three real detailed jobs (completion with events and checkpoints, classifier, 2025)."""
    names = ("platformdocs-2.json", "cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json")
    return [json.loads((real_dir / name).read_bytes()) for name in names]


def test_every_source_shape_gives_the_same_jobs(three_jobs: list[dict], tmp_path: Path) -> None:
    reference = ftkit.read_jobs([compact(job) for job in three_jobs])
    ndjson = b"\n".join(compact(job) for job in three_jobs) + b"\n"
    shapes = {
        "ndjson": ndjson,
        "ndjson-crlf-blank-lines": b"\r\n\r\n".join(compact(job) for job in three_jobs) + b"\r\n",
        "ndjson-no-final-newline": ndjson.rstrip(),
        "array": compact(three_jobs),
        "pretty-array": json.dumps(three_jobs, indent=2).encode(),
        "list-response": compact({"object": "list", "total": 3, "data": three_jobs}),
        "pretty-list-response": json.dumps({"data": three_jobs, "OBJECT": "list"}, indent=4).encode(),
        "ndjson-of-list-responses": compact({"object": "list", "data": three_jobs[:2]})
        + b"\n"
        + compact({"object": "list", "data": three_jobs[2:]}),
        "array-of-list-responses": compact([{"data": three_jobs[:1]}, {"data": three_jobs[1:]}]),
        "ndjson-mixing-jobs-and-lists": compact(three_jobs[0])
        + b"\n"
        + compact({"object": "list", "data": three_jobs[1:]}),
    }
    for name, data in shapes.items():
        for form in (data, bytearray(data), memoryview(data), gzip.compress(data)):
            assert_same_jobsets(ftkit.read_jobs(form), reference)
        plain, packed = tmp_path / f"{name}.json", tmp_path / f"{name}.ndjson.gz"
        plain.write_bytes(data)
        packed.write_bytes(gzip.compress(data))
        for source in (plain, str(plain), packed, [packed]):
            assert_same_jobsets(ftkit.read_jobs(source), reference)
        # gzip is recognised by content, not by name
        disguised = tmp_path / f"{name}-disguised.json"
        disguised.write_bytes(gzip.compress(data))
        assert_same_jobsets(ftkit.read_jobs(disguised), reference)


def test_directories_globs_and_lists(three_jobs: list[dict], tmp_path: Path) -> None:
    sub = tmp_path / "dump" / "2025"
    sub.mkdir(parents=True)
    (tmp_path / "dump" / "a.json").write_bytes(compact(three_jobs[0]))
    (sub / "b.ndjson.gz").write_bytes(gzip.compress(compact(three_jobs[1]) + b"\n"))
    (sub / "c.jsonl").write_bytes(compact(three_jobs[2]) + b"\n")
    (sub / "notes.txt").write_text("not a dump")
    (sub / "README.md").write_text("# not a dump")
    ids = [job["id"] for job in three_jobs]
    # recursive, in sorted path order ("dump/2025/..." before "dump/a.json"), dumps only
    assert ftkit.read_jobs(tmp_path / "dump").ids == [ids[1], ids[2], ids[0]]
    assert ftkit.read_jobs(str(tmp_path / "dump" / "**" / "*.js*")).ids == [ids[2], ids[0]]
    assert ftkit.read_jobs([sub / "c.jsonl", tmp_path / "dump" / "a.json"]).ids == [ids[2], ids[0]]
    mixed = [compact(three_jobs[1]), sub / "c.jsonl", (p for p in [tmp_path / "dump" / "a.json"])]
    assert ftkit.read_jobs(mixed).ids == [ids[1], ids[2], ids[0]]


def test_file_objects_and_paths_are_sources(three_jobs: list[dict], tmp_path: Path) -> None:
    import io
    import os

    reference = ftkit.read_jobs([compact(job) for job in three_jobs])
    ndjson = b"\n".join(compact(job) for job in three_jobs) + b"\n"
    plain, packed = tmp_path / "jobs.ndjson", tmp_path / "jobs.ndjson.gz"
    plain.write_bytes(ndjson)
    packed.write_bytes(gzip.compress(ndjson))
    def sources():
        return [plain, open(plain, "rb"), open(packed, "rb"), gzip.open(packed), io.BytesIO(ndjson), io.BytesIO(gzip.compress(ndjson))]

    for source in sources():
        assert_same_jobsets(ftkit.read_jobs(source), reference)
        getattr(source, "close", lambda: None)()
    for source in sources():
        # iter_jobs reads a file object twice: it goes back to where it stood
        assert [job for batch in ftkit.iter_jobs(source, batch_size=2) for job in batch] == list(reference)
        getattr(source, "close", lambda: None)()
    # a file object read from where it stands (after a header, say)
    with open(plain, "rb") as handle:
        handle.readline()
        assert ftkit.read_jobs(handle).ids == reference.ids[1:]
    # a pipe cannot seek: it is read once into memory, then both passes of iter_jobs read that
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as out:
        out.write(ndjson)
    with os.fdopen(read_end, "rb") as pipe:
        assert [job.id for batch in ftkit.iter_jobs(pipe, batch_size=2) for job in batch] == reference.ids
    # mixed with paths and bytes, in a list or a generator; errors name the file object
    with open(plain, "rb") as a, gzip.open(packed) as c:
        mixed = ftkit.read_jobs(x for x in [io.BytesIO(compact(three_jobs[0])), c, compact(three_jobs[1]), a, str(packed)])
        assert_same_jobsets(mixed, reference)
    js = ftkit.read_jobs([io.BytesIO(b"{"), io.BytesIO(compact(three_jobs[0]))], errors="skip")
    assert js.errors["source"].to_list() == ["<file object #0>"] and len(js) == 1
    with open(tmp_path / "bad.json", "wb") as out:
        out.write(b"[1]")
    with open(tmp_path / "bad.json", "rb") as handle, pytest.raises(JobDecodeError, match=r"bad\.json: index 0"):
        ftkit.read_jobs(handle)


def test_what_cannot_be_a_source_is_refused_naming_the_argument(three_jobs: list[dict], tmp_path: Path, monkeypatch) -> None:
    import io

    monkeypatch.chdir(tmp_path)  # an empty string must not read the current directory
    (tmp_path / "jobs.json").write_bytes(compact(three_jobs[0]))
    text = json.dumps(three_jobs[0])
    refused = {
        "text-mode": (open(tmp_path / "jobs.json"), TypeError, r"^source is a text-mode file object; .* open\(path, 'rb'\)"),
        "StringIO": (io.StringIO(text), TypeError, r"^source is a text-mode file object"),
        "json-str": (text, ValueError, r"^source is a str that looks like JSON text .*ftkit\.read_jobs\(text\.encode\(\)\)"),
        "json-array-str": ("  [" + text + "]", ValueError, r"looks like JSON text"),
        "empty": ("", ValueError, r"^source is an empty string, which names no file; pass a path"),
        "blank": ("  ", ValueError, r"^source is an empty string"),
        "url": ("https://api.mistral.ai/v1/fine_tuning/jobs", ValueError, r"^source is a URL .*download it first.*ftkit export"),
        "s3": ("s3://bucket/jobs.ndjson", ValueError, r"^source is a URL"),
        "in-a-list": ([tmp_path / "jobs.json", ""], ValueError, r"^source\[1\] is an empty string"),
        "nested": ([[b"{}", "http://x/y.json"]], ValueError, r"^source\[0\]\[1\] is a URL"),
        "closed": (io.BytesIO(b"{}"), ValueError, r"^source is a closed file object"),
        "int": (42, TypeError, r"^source must be a path, a glob, bytes, a binary file object, or a list of these; got int"),
    }
    refused["closed"][0].close()
    for name, (source, kind, pattern) in refused.items():
        for reader in (ftkit.read_jobs, lambda s: next(ftkit.iter_jobs(s))):
            with pytest.raises(kind, match=pattern):
                reader(source)
    refused["text-mode"][0].close()
    # a file whose name looks like JSON or a URL is still a file
    odd = tmp_path / "{odd}.json"
    odd.write_bytes(compact(three_jobs[0]))
    assert len(ftkit.read_jobs(str(odd))) == 1
    assert len(ftkit.read_jobs("{odd}.json")) == 1


def test_sources_that_name_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        ftkit.read_jobs(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        ftkit.read_jobs(str(tmp_path / "*.json"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="holds no job dumps"):
        ftkit.read_jobs(tmp_path)
    with pytest.raises(TypeError, match="got dict"):
        ftkit.read_jobs({"id": "x"})
    with pytest.raises(TypeError, match="got int"):
        ftkit.read_jobs(42)
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip', got 'ignore'"):
        ftkit.read_jobs(b"{}", errors="ignore")


# --- bad records --------------------------------------------------------------------


def test_raise_names_the_ndjson_line_path_expected_and_found(job_bytes, tmp_path: Path) -> None:
    path = tmp_path / "jobs.ndjson"
    path.write_bytes(
        b"\n".join(
            [
                job_bytes("a"),
                b"",
                job_bytes("b", checkpoints=[{"step_number": 1, "created_at": 1}, {"step_number": "2", "created_at": 2}]),
                job_bytes("c", status=5),
            ]
        )
    )
    with pytest.raises(JobDecodeError) as info:
        ftkit.read_jobs(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.source, err.line, err.index, err.path) == (str(path), 3, None, "$.checkpoints[1].step_number")
    assert (err.expected, err.found) == ("int", "str")
    assert str(err) == f"{path}: line 3: at $.checkpoints[1].step_number: Expected `int`, got `str`"


def test_raise_names_the_array_index_and_list_path(job_bytes, job_json) -> None:
    array = b"[" + job_bytes("a") + b"," + job_bytes("b", created_at="yesterday") + b"]"
    with pytest.raises(JobDecodeError) as info:
        ftkit.read_jobs(array)
    assert (info.value.source, info.value.index, info.value.line, info.value.path) == ("<bytes>", 1, None, "$.created_at")
    listing = compact({"object": "list", "data": [job_json("a"), job_json("b", metadata={"cost": "free"})]})
    with pytest.raises(JobDecodeError) as info:
        ftkit.read_jobs(listing)
    assert info.value.path == "$.data[1].metadata.cost"
    assert (info.value.expected, info.value.found) == ("float | null", "str")
    nd = job_bytes("a") + b"\n" + compact({"data": [job_json("b"), {"model": "m"}]}) + b"\n"
    with pytest.raises(JobDecodeError, match=r"<bytes>: line 2: at \$\.data\[1\]: Object missing required field `id`"):
        ftkit.read_jobs(nd)


def test_skip_keeps_every_good_record_and_lists_the_bad(job_bytes, job_json, tmp_path: Path) -> None:
    nd = tmp_path / "mixed.ndjson"
    nd.write_bytes(
        b"\n".join(
            [
                job_bytes("a"),
                b'{"id": "broken", "model": ',  # malformed JSON
                job_bytes("b", status=None),  # wrong type
                b"",
                b"42",  # a scalar line
                compact({"object": "list", "data": [job_json("c"), job_json("d", events=[{"created_at": 1}])]}),
                compact({"model": "no id"}),
                job_bytes("e"),
            ]
        )
        + b"\n"
    )
    array = tmp_path / "array.json"
    array.write_bytes(compact([job_json("f"), {"id": "g"}, job_json("h")]))
    js = ftkit.read_jobs([nd, array], errors="skip")
    assert js.ids == ["a", "c", "e", "f", "h"]
    assert js.errors.rows() == [
        (str(nd), 2, None, "$", "Input data was truncated"),
        (str(nd), 3, None, "$.status", "Expected `str`, got `null`"),
        (str(nd), 5, None, "$", "Expected `object`, got `int`"),
        (str(nd), 6, None, "$.data[1].events[0]", "Object missing required field `name`"),
        (str(nd), 7, None, "$", "Object missing required field `id`"),
        (str(array), None, 1, "$", "Object missing required field `model`"),
    ]
    # good + listed bad = records in the input (11 records: 9 on lines, with 2 in one list)
    assert len(js) + js.errors.height == 11
    assert [e.line for e in js.decode_errors] == [2, 3, 5, 6, 7, None]
    assert all(isinstance(e, JobDecodeError) for e in js.decode_errors)


def _bad_files(tmp_path: Path, real_dir: Path) -> dict[str, tuple[Path, str]]:
    packed = gzip.compress((real_dir / "platformdocs-2.json").read_bytes())
    files = {
        "empty": (b"", "empty input"),
        "whitespace": (b" \n\t\n", "empty input"),
        "binary": (bytes(range(256)) * 4, "binary data, not JSON"),
        "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data, not JSON"),
        "truncated-gzip": (packed[: len(packed) // 2], "truncated or corrupt gzip data"),
        "gzip-without-trailer": (packed[:-8], "truncated or corrupt gzip data"),
        "gzip-header-only": (packed[:10], "truncated or corrupt gzip data"),
        "scalar-int": (b"42\n", "expected a job object, a list response or an array of them; found a top-level JSON number"),
        "scalar-string": (b'"job"', "found a top-level JSON string"),
        "scalar-bool": (b"true", "found a top-level JSON boolean"),
        "missing-id": (
            compact({"model": "m", "status": "QUEUED", "created_at": 1, "modified_at": 1}),
            "Object missing required field `id`",
        ),
        "truncated-json": ((real_dir / "platformdocs-2.json").read_bytes()[:500], "Input data was truncated"),
        "malformed-json": (b'{"id": "a", "model": }', "JSON is malformed"),
    }
    out = {}
    for name, (data, message) in files.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        out[name] = (path, message)
    return out


def test_bad_inputs_raise_a_clear_job_decode_error(tmp_path: Path, real_dir: Path) -> None:
    for name, (path, message) in _bad_files(tmp_path, real_dir).items():
        for reader in (ftkit.read_jobs, lambda p: list(ftkit.iter_jobs(p))):
            with pytest.raises(JobDecodeError) as info:
                reader(path)
            assert info.value.source == str(path), name
            assert message in str(info.value), (name, str(info.value))
            assert str(info.value).startswith(f"{path}: "), name
            assert info.value.__cause__ is None or isinstance(info.value.__cause__, JobDecodeError), name


def test_bad_inputs_are_listed_with_skip(tmp_path: Path, real_dir: Path, mistral_paths: list[Path]) -> None:
    bad = _bad_files(tmp_path, real_dir)
    good = mistral_paths[:3]
    js = ftkit.read_jobs([*good, *(path for path, _ in bad.values())], errors="skip")
    assert js.ids == ftkit.read_jobs(good).ids
    assert js.errors["source"].to_list() == [str(path) for path, _ in bad.values()]
    for (path, message), text in zip(bad.values(), js.errors["message"]):
        assert message in text, (path, text)
    batches = list(ftkit.iter_jobs([*good, *(path for path, _ in bad.values())], errors="skip"))
    assert sum(b.errors.height for b in batches) == len(bad)


def test_top_level_scalars_use_json_type_names() -> None:
    for data, word in ((b"null", "null"), (b"1.5", "number"), (b'"x"', "string")):
        with pytest.raises(JobDecodeError) as info:
            ftkit.read_jobs(data)
        assert word in str(info.value)
        assert not any(name in str(info.value) for name in ("NoneType", "float", "str,"))


def test_strict_rejects_unknown_keys_and_names_them(job_bytes, job_json) -> None:
    data = job_bytes("a", colour="red", metadata={"cost": 1.0, "vat": 0.2}, checkpoints=[
        {"step_number": 1, "created_at": 1, "metrics": {"f1": 0.5}}
    ])
    assert ftkit.read_jobs(data).ids == ["a"]  # tolerated by default
    with pytest.raises(JobDecodeError) as info:
        ftkit.read_jobs(data, strict=True)
    assert "$.colour" in str(info.value)
    assert "$.metadata.vat" in str(info.value)
    assert "$.checkpoints[0].metrics.f1" in str(info.value)
    assert info.value.path == "$.colour"
    nd = job_bytes("a") + b"\n" + compact({"data": [job_json("b"), job_json("c", shiny=True)]}) + b"\n"
    with pytest.raises(JobDecodeError, match=r"line 2: at \$\.data\[1\]\.shiny: unknown keys \(strict=True\): \$\.data\[1\]\.shiny"):
        ftkit.read_jobs(nd, strict=True)
    js = ftkit.read_jobs(nd, strict=True, errors="skip")
    assert js.ids == ["a", "b"]
    assert js.errors.rows() == [("<bytes>", 2, None, "$.data[1].shiny", "unknown keys (strict=True): $.data[1].shiny")]


def test_strict_rejects_unknown_keys_of_a_list_response(real_dir: Path, job_json) -> None:
    with pytest.raises(JobDecodeError, match=r"\$\.colour"):
        ftkit.read_jobs(compact({"object": "list", "data": [job_json("a")], "colour": 1}), strict=True)
    # SDK 1.0's upper-case "OBJECT" is a spelling the schema knows (JobList.OBJECT keeps it).
    assert len(ftkit.read_jobs(real_dir / "cookbook-sdk1-4.json", strict=True)) == 32


# --- bugs: inputs that escape or lose records -------------------------------------


def test_malformed_first_ndjson_line_loses_only_that_line(job_bytes) -> None:
    data = b'{"id": "a", oops\n' + job_bytes("b") + b"\n" + job_bytes("c") + b"\n"
    js = ftkit.read_jobs(data, errors="skip")
    assert js.ids == ["b", "c"]
    assert js.errors.select("line", "path").rows() == [(1, "$")]


def test_utf8_bom_is_accepted(job_bytes) -> None:
    for data in (job_bytes("a"), b"[" + job_bytes("a") + b"]", job_bytes("a") + b"\n" + job_bytes("b")):
        assert "a" in ftkit.read_jobs(b"\xef\xbb\xbf" + data)


def test_invalid_utf8_is_a_job_decode_error() -> None:
    data = b'{"id": "\xff", "model": "m", "status": "QUEUED", "created_at": 1, "modified_at": 1}'
    with pytest.raises(JobDecodeError):
        ftkit.read_jobs(data)


def test_deep_nesting_is_a_job_decode_error(job_json) -> None:
    head = compact(job_json("a"))[:-1]
    data = head + b',"events":[{"name":"x","created_at":1,"data":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}]}"
    with pytest.raises(JobDecodeError):
        ftkit.read_jobs(data)


def test_bad_job_with_a_data_key_is_listed(job_bytes) -> None:
    data = b"[" + job_bytes("a", status=7, data=[]) + b"]"
    js = ftkit.read_jobs(data, errors="skip")
    assert len(js) + js.errors.height == 1
    with pytest.raises(JobDecodeError, match=r"\$\.status"):
        ftkit.read_jobs(data)


def test_a_dump_still_being_written(job_bytes, tmp_path: Path, big_ndjson, monkeypatch: pytest.MonkeyPatch) -> None:
    incomplete = "the file ends in an incomplete line: still being written?"
    good = b"\n".join(job_bytes(f"j{i}") for i in range(3)) + b"\n"
    partial = job_bytes("j3")[:40]
    plain, packed = tmp_path / "export.ndjson", tmp_path / "export.ndjson.gz"
    plain.write_bytes(good + partial)
    packed.write_bytes(gzip.compress(good + partial))
    for source in (good + partial, plain, packed):
        name = "<bytes>" if isinstance(source, bytes) else str(source)
        for read in (ftkit.read_jobs, lambda s, **kw: ftkit.JobSet(j for b in ftkit.iter_jobs(s, batch_size=2, **kw) for j in b)):
            with pytest.raises(JobDecodeError) as info:
                read(source)
            assert str(info.value) == f"{name}: line 4: at $: {incomplete} (Input data was truncated)"
            js = read(source, errors="skip")
            assert js.ids == ["j0", "j1", "j2"]
        js = ftkit.read_jobs(source, errors="skip")
        assert js.errors.rows() == [(name, 4, None, "$", f"{incomplete} (Input data was truncated)")]
    # only the unterminated last line: a cut line inside, or whole JSON of the wrong shape, is not
    with pytest.raises(JobDecodeError, match=r"line 1: at \$: Input data was truncated\n"):
        ftkit.read_jobs(partial + b"\n" + good)
    with pytest.raises(JobDecodeError, match=r"line 4: at \$.status: Expected `str`, got `int`\n"):
        ftkit.read_jobs(good + job_bytes("j3", status=3))
    # through the worker path: a large dump with its last line cut
    path, n_records, bad = big_ndjson
    growing = tmp_path / "growing.ndjson"
    growing.write_bytes(path.read_bytes() + partial)
    for workers in (None, "0"):
        if workers is None:
            monkeypatch.delenv("FTKIT_WORKERS", raising=False)
        else:
            monkeypatch.setenv("FTKIT_WORKERS", workers)
        js = ftkit.read_jobs(growing, errors="skip")
        assert js.errors["line"].to_list() == [*bad, n_records + 1]
        assert js.errors["message"][-1] == f"{incomplete} (Input data was truncated)"


def test_a_decode_error_says_how_to_go_on(job_bytes) -> None:
    import traceback

    data = job_bytes("a") + b"\n" + job_bytes("b", status=1) + b"\n"
    for function, read in (("read_jobs", ftkit.read_jobs), ("iter_jobs", lambda s: list(ftkit.iter_jobs(s)))):
        with pytest.raises(JobDecodeError) as info:
            read(data)
        assert info.value.__notes__ == [
            f'To go on: {function}(..., errors="skip") returns every good record and lists the bad ones in '
            ".errors; `ftkit validate FILE...` lists every bad record."
        ]
        shown = "".join(traceback.format_exception(info.value))
        assert shown.endswith(info.value.__notes__[0] + "\n")
        assert str(info.value) == "<bytes>: line 2: at $.status: Expected `str`, got `int`"  # the message itself is unchanged


# --- iter_jobs ----------------------------------------------------------------------


def test_iter_jobs_batches_give_the_jobs_of_read_jobs(mistral_paths: list[Path]) -> None:
    whole = ftkit.read_jobs(mistral_paths)
    for paths in (mistral_paths, list(reversed(mistral_paths))):
        for batch_size in (1, 4, 10, 55, 10_000):
            batches = list(ftkit.iter_jobs(paths, batch_size=batch_size))
            assert all(len(b) <= batch_size for b in batches)
            assert sum(len(b) for b in batches) == 55  # each id once in the whole stream
            assert _by_id(ftkit.JobSet(job for b in batches for job in b)) == _by_id(whole)
            if paths is mistral_paths:  # the same order as read_jobs too
                assert [job.id for b in batches for job in b] == whole.ids
    # dedupe=False: the raw one-pass stream, ids resolved within a batch only
    raw = list(ftkit.iter_jobs(mistral_paths, batch_size=10, dedupe=False))
    assert sum(len(b) for b in raw) == 88
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        next(ftkit.iter_jobs(mistral_paths[0], batch_size=0))


def test_iter_jobs_generated_snapshots_in_both_orders(tmp_path: Path) -> None:
    snapshots = [_snapshot_records(job) for job in ftkit.synth.make_job_dicts(60, seed=3)]
    details, listings = tmp_path / "details.ndjson.gz", tmp_path / "listings.ndjson"
    details.write_bytes(gzip.compress(b"\n".join(compact(s["detail"]) for s in snapshots)))
    listings.write_bytes(b"\n".join(compact(r) for s in snapshots for r in (s["older"], s["listed"])))
    expected = _by_id(ftkit.read_jobs(b"\n".join(compact(dict(s["detail"], object="job")) for s in snapshots)))
    for source in ([details, listings], [listings, details], [listings.read_bytes(), details]):
        for batch_size in (1, 7, 1000):
            batches = list(ftkit.iter_jobs(source, batch_size=batch_size))
            assert _by_id(ftkit.JobSet(job for b in batches for job in b)) == expected
            assert sum(len(b) for b in batches) == 60


def test_iter_jobs_a_dump_read_twice_holds_nothing_back(tmp_path: Path) -> None:
    dump = tmp_path / "dump.ndjson"
    dump.write_bytes(ftkit.synth.make_jobs_bytes(30, seed=1))
    keep, merges = ftkit.read.assemble.snapshot_plan(ftkit.read.sources.expand_sources([dump, dump]), errors="raise", strict=False, extents=[])
    assert (sum(keep), merges) == (30, {})  # identical ties: the later copy, nothing to merge
    assert [j.id for b in ftkit.iter_jobs([dump, dump], batch_size=7) for j in b] == ftkit.read_jobs(dump).ids


def test_iter_jobs_a_growing_dump_is_read_up_to_where_the_first_read_ended(tmp_path: Path, job_bytes) -> None:
    dump = tmp_path / "export.ndjson"
    dump.write_bytes(b"".join(job_bytes(f"j{i}", modified_at=i) + b"\n" for i in range(10)))
    batches = ftkit.iter_jobs(dump, batch_size=3)
    first = next(batches)  # both reads have started: the index is built
    with dump.open("ab") as out:  # ftkit export appends a newer snapshot and a new job
        out.write(job_bytes("j0", modified_at=99) + b"\n" + job_bytes("new", modified_at=1) + b"\n")
    ids = first.ids + [j.id for b in batches for j in b]
    assert ids == [f"j{i}" for i in range(10)]
    # a file cut short between the two reads is refused, not misread
    dump.write_bytes(ftkit.synth.make_jobs_bytes(1200, seed=2))
    assert dump.stat().st_size > 2 * ftkit.read.sources.STREAM_BLOCK  # read in several blocks
    batches = ftkit.iter_jobs(dump, batch_size=3)
    next(batches)
    dump.write_bytes(b"".join(job_bytes(f"k{i}") + b"\n" for i in range(3)))
    with pytest.raises(JobDecodeError, match="the file changed between the two reads"):
        list(batches)


def test_iter_jobs_skip_lists_errors_once(job_bytes) -> None:
    data = b"\n".join([job_bytes("a"), b"{", job_bytes("b"), job_bytes("c"), b"[", job_bytes("d")])
    batches = list(ftkit.iter_jobs(data, batch_size=2, errors="skip"))
    assert [b.ids for b in batches] == [["a", "b"], ["c", "d"]]
    lines = [row[1] for b in batches for row in b.errors.rows()]
    assert sorted(lines) == [2, 5]


# --- write_jobs ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["jobs.ndjson", "jobs.ndjson.gz", "jobs.jsonl"])
def test_write_jobs_round_trip(name: str, mistral_paths: list[Path], tmp_path: Path) -> None:
    js = ftkit.read_jobs(mistral_paths)
    out = ftkit.write_jobs(js, tmp_path / name)
    assert out == tmp_path / name
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left
    raw = out.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    text = gzip.decompress(raw) if name.endswith(".gz") else raw
    assert text.count(b"\n") == len(js)  # one job per line
    back = ftkit.read_jobs(out)
    assert_same_jobsets(back, js)
    assert [type(j) for j in back] == [type(j) for j in js]


def test_write_jobs_from_a_list_and_a_generator(mistral_paths: list[Path], tmp_path: Path) -> None:
    jobs = list(ftkit.read_jobs(mistral_paths[:5]))
    ftkit.write_jobs(jobs, tmp_path / "a.ndjson")
    ftkit.write_jobs((j for j in jobs), tmp_path / "b.ndjson")
    ftkit.write_jobs([], tmp_path / "empty.ndjson")
    assert list(ftkit.read_jobs(tmp_path / "a.ndjson")) == jobs
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()
    assert (tmp_path / "empty.ndjson").read_bytes() == b""


def test_write_jobs_failure_leaves_no_partial_file(mistral_paths: list[Path], tmp_path: Path) -> None:
    def jobs():
        yield from ftkit.read_jobs(mistral_paths[0])
        raise RuntimeError("export interrupted")

    target = tmp_path / "dump.ndjson"
    with pytest.raises(RuntimeError, match="interrupted"):
        ftkit.write_jobs(jobs(), target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: a ClassifierJob with neither job_type nor classifier_targets has no "
    "classifier shape on the wire, so it reads back as a CompletionJob (the reader never makes one)",
)
def test_write_jobs_round_trip_of_a_classifier_job_without_targets(tmp_path: Path) -> None:
    job = ftkit.ClassifierJob(id="c", model="ministral-3b-latest", status="QUEUED", created_at=1, modified_at=1)
    ftkit.write_jobs([job], tmp_path / "c.ndjson")
    assert list(ftkit.read_jobs(tmp_path / "c.ndjson")) == [job]


# --- large inputs: the parallel path ---------------------------------------------


BIG_BYTES = 17 << 20  # above the 16 MB at which the parallel path may take over


@pytest.fixture(scope="module")
def big_ndjson(tmp_path_factory, mistral_paths: list[Path]) -> tuple[Path, int, list[int]]:
    """A >16 MB NDJSON dump: the real jobs repeated with new ids, a few bad lines, duplicates.

    Returns the path, the number of records, and the 1-based lines of the bad records.
    """
    templates = [
        msgspec.json.decode(msgspec.json.encode(job))
        for job in ftkit.read_jobs(mistral_paths)
    ]
    lines: list[bytes] = []
    bad: list[int] = []
    size = 0
    i = 0
    while size < BIG_BYTES:
        job = dict(templates[i % len(templates)])
        job["id"] = f"{i:08d}-{job['id'][9:]}"
        line = compact(job)
        if i % 997 == 500:
            line = line.replace(b'"status":', b'"status":1,"x":', 1)  # a type error
            bad.append(len(lines) + 1)
        elif i % 1999 == 1000:
            line = line[: len(line) // 2]  # a truncated line
            bad.append(len(lines) + 1)
        lines.append(line)
        size += len(line) + 1
        i += 1
    # snapshots of early jobs at the very end: newer ones win, an older one loses
    first = dict(templates[0], id=f"{0:08d}-{templates[0]['id'][9:]}")
    lines.append(compact(dict(first, status="CANCELLED", modified_at=first["modified_at"] + 10)))
    lines.append(compact(dict(first, status="FAILED", modified_at=first["modified_at"] - 10)))
    path = tmp_path_factory.mktemp("big") / "big.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 16 << 20
    return path, len(lines), bad


def test_large_ndjson_parallel_and_serial_agree(big_ndjson, monkeypatch: pytest.MonkeyPatch) -> None:
    path, n_records, bad = big_ndjson
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    parallel = ftkit.read_jobs(path, errors="skip")
    parallel_frames = {name: getattr(parallel, name) for name in (*FRAMES, "errors")}
    monkeypatch.setenv("FTKIT_WORKERS", "0")
    serial = ftkit.read_jobs(path, errors="skip")
    for name in (*FRAMES, "errors"):
        assert_frame_equal(parallel_frames[name], getattr(serial, name))
    assert parallel.ids == serial.ids
    assert serial.errors["line"].to_list() == bad
    assert len(serial) + serial.errors.height == n_records - 2  # two records are older snapshots
    first = serial.ids[-1]  # the kept snapshot of job 0 is the second-to-last line
    assert first.startswith("00000000-")
    assert serial[first].status == "CANCELLED" and parallel[first].status == "CANCELLED"
    assert list(parallel) == list(serial)
    assert parallel[first] == serial[first]
    # errors="raise": both paths report the first bad line
    for workers in (None, "0"):
        if workers is None:
            monkeypatch.delenv("FTKIT_WORKERS")
        else:
            monkeypatch.setenv("FTKIT_WORKERS", workers)
        with pytest.raises(JobDecodeError) as info:
            ftkit.read_jobs(path)
        assert (info.value.line, info.value.path) == (bad[0], "$.status")


def test_large_inputs_go_to_the_workers_in_chunks_of_about_min_chunk_bytes(
    big_ndjson, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However large the input, a worker holds one chunk of about MIN_CHUNK_BYTES at a
    time (not a share of the input per worker), and the result is the same."""
    path, _, _ = big_ndjson
    monkeypatch.setattr(ftkit.read.chunks, "MIN_CHUNK_BYTES", 1 << 20)
    seen: list[ftkit.read.chunks.Chunk] = []
    real = ftkit.read.reader.run_chunks

    def recording(chunks, *args, **kwargs):
        seen.extend(chunks)
        return real(chunks, *args, **kwargs)

    monkeypatch.setattr(ftkit.read.reader, "run_chunks", recording)
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    monkeypatch.setattr(ftkit.read.workers, "worker_count", lambda: 2)
    monkeypatch.setattr(ftkit.read.reader, "worker_count", lambda: 2)
    parallel = ftkit.read_jobs(path, errors="skip")
    size = path.stat().st_size
    longest = max(len(line) for line in path.read_bytes().splitlines())
    assert [c.start for c in seen[1:]] == [c.end for c in seen[:-1]] and seen[-1].end == size
    assert len(seen) >= size >> 20
    assert max(c.end - c.start for c in seen) <= (1 << 20) + longest + 1
    monkeypatch.setenv("FTKIT_WORKERS", "0")
    serial = ftkit.read_jobs(path, errors="skip")
    assert_same_jobsets(parallel, serial)


def _read_both_ways(source, monkeypatch: pytest.MonkeyPatch, **options) -> tuple[ftkit.JobSet, ftkit.JobSet]:
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    parallel = ftkit.read_jobs(source, **options)
    _ = [getattr(parallel, name) for name in (*FRAMES, "errors")]
    monkeypatch.setenv("FTKIT_WORKERS", "0")
    serial = ftkit.read_jobs(source, **options)
    monkeypatch.delenv("FTKIT_WORKERS")
    return parallel, serial


def test_large_ndjson_variants_parallel_and_serial_agree(
    big_ndjson, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # CRLF, blank lines, list responses on some lines, no final newline; as bytes and as a file
    path, _, _ = big_ndjson
    lines = path.read_bytes().rstrip(b"\n").split(b"\n")
    for i in range(0, len(lines), 40):
        lines[i] = b'{"object":"list","data":[' + lines[i] + b"]}"
    data = b"\r\n\r\n".join(lines)
    variant = tmp_path / "variant.jsonl"
    variant.write_bytes(data)
    for source in (data, variant):
        parallel, serial = _read_both_ways(source, monkeypatch, errors="skip")
        assert parallel.ids == serial.ids
        for name in (*FRAMES, "errors"):
            assert_frame_equal(getattr(parallel, name), getattr(serial, name))
        assert list(parallel) == list(serial)
        kept = parallel.filter(pl.col("n_checkpoints") > 0, job_type="classifier")
        assert kept.ids == serial.filter(pl.col("n_checkpoints") > 0, job_type="classifier").ids
        assert_frame_equal(kept.checkpoints, ftkit.checkpoints_frame(list(kept)))


_READ_EACH_WAY = """
import os, sys
from polars.testing import assert_frame_equal
import ftkit
from ftkit.read import processes, reader, workers
processes.START = sys.argv[2]
reader.MIN_COLD_PARALLEL_BYTES = reader.MIN_PARALLEL_BYTES  # a new interpreter too: the path is tested
os.environ.pop("FTKIT_WORKERS", None)
parallel = ftkit.read_jobs(sys.argv[1], errors="skip")
frames = [getattr(parallel, name) for name in ("jobs", "checkpoints", "events", "targets", "errors")]
assert workers.pool_start_methods() == [sys.argv[2]] * workers.worker_count(), workers.pool_start_methods()
try:  # a second read reuses the workers (warm); errors="raise" stops at the first bad line
    ftkit.read_jobs(sys.argv[1])
except ftkit.JobDecodeError as exc:
    print(exc.line, exc.path)
assert workers.pool_start_methods() == [sys.argv[2]] * workers.worker_count(), workers.pool_start_methods()
os.environ["FTKIT_WORKERS"] = "0"
serial = ftkit.read_jobs(sys.argv[1], errors="skip")
for got, name in zip(frames, ("jobs", "checkpoints", "events", "targets", "errors")):
    assert_frame_equal(got, getattr(serial, name))
assert parallel.ids == serial.ids and list(parallel) == list(serial)
print("equal")
"""


@pytest.mark.parametrize("method", ["fork", "forkserver", "subprocess"])
def test_large_ndjson_each_worker_start_reads_as_in_process(big_ndjson, method: str, parallel_reads) -> None:
    # in a fresh process: forking this one (whose polars thread pool runs) is never done
    import subprocess
    import sys

    path, _, bad = big_ndjson
    env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
    proc = subprocess.run(
        [sys.executable, "-c", _READ_EACH_WAY, str(path), method], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(bad[0]), "$.status", "equal"]


def test_a_small_read_goes_to_running_workers_in_one_chunk_each(monkeypatch: pytest.MonkeyPatch, parallel_reads) -> None:
    from ftkit.read import chunks, reader, workers

    monkeypatch.setenv("FTKIT_WORKERS", "2")
    mb = 1 << 20
    assert [reader.chunk_bytes(total, 2) for total in (1 * mb, 5 * mb, 16 * mb, 500 * mb)] == [
        mb, 5 * mb // 2, chunks.MIN_CHUNK_BYTES, chunks.MIN_CHUNK_BYTES
    ]
    assert reader.chunk_bytes(5 * mb, 0) == chunks.MIN_CHUNK_BYTES  # no workers: chunks as large as ever
    line = b'{"id": "x"}'.ljust(1023) + b"\n"

    def wanted(*sizes_mb: float) -> bool:
        inputs = ftkit.read.sources.expand_sources([line * int(size * 1024) for size in sizes_mb])
        return reader.wants_parallel(inputs, strict=False)

    # workers to start: from 16 MB on
    workers.shutdown()
    assert [wanted(5), wanted(15), wanted(17)] == [False, False, True]
    # the workers of an earlier read, still running: from 4 MB on, where one input holds
    # at least a worker's share; never with strict
    with workers.worker_pool(2):
        pass
    assert len(workers.pool_pids()) == 2
    assert [wanted(3), wanted(5), wanted(2.5, 2.5), wanted(*[0.5] * 10), wanted(3, 0.5, 0.5)] == [
        False, True, True, False, True
    ]
    inputs = ftkit.read.sources.expand_sources(line * 5 * 1024)
    assert not reader.wants_parallel(inputs, strict=True)
    workers.shutdown()
    data = line * 5 * 1024
    assert len(chunks.split_bytes(data, 0, 8, smallest=reader.chunk_bytes(len(data), 2))) == 2


def test_workers_that_start_as_new_interpreters_wait_for_larger_inputs(
    big_ndjson, monkeypatch: pytest.MonkeyPatch, parallel_reads
) -> None:
    from ftkit.read import processes, reader, workers

    path, _, _ = big_ndjson
    inputs = ftkit.read.sources.expand_sources(path)
    monkeypatch.setattr(reader, "MIN_COLD_PARALLEL_BYTES", 64 << 20)
    assert reader.MIN_PARALLEL_BYTES < path.stat().st_size < reader.MIN_COLD_PARALLEL_BYTES
    workers.shutdown()
    decided = {}
    for method in ("fork", "forkserver", "subprocess"):
        monkeypatch.setattr(processes, "START", method)
        decided[method] = reader.wants_parallel(inputs, strict=False)
    # a fork costs little; a new interpreter (the fork server's first start) is worth it only for more
    assert decided == {"fork": True, "forkserver": False, "subprocess": False}
    monkeypatch.setattr(reader, "MIN_COLD_PARALLEL_BYTES", 1 << 20)
    ftkit.read_jobs(path, errors="skip")  # starts its workers as new interpreters
    assert workers.pool_start_methods() == ["subprocess"] * workers.worker_count()
    monkeypatch.setattr(reader, "MIN_COLD_PARALLEL_BYTES", 64 << 20)
    assert reader.wants_parallel(inputs, strict=False)  # running workers cost nothing to start
    workers.shutdown()
    monkeypatch.setattr(processes, "START", "forkserver")
    assert not reader.wants_parallel(inputs, strict=False)


def test_a_read_goes_on_when_workers_cannot_start(big_ndjson, monkeypatch: pytest.MonkeyPatch, parallel_reads) -> None:
    from ftkit.read import processes, workers

    def no_fork() -> int:
        raise OSError(12, "Cannot allocate memory")

    path, _, _ = big_ndjson
    workers.shutdown()
    monkeypatch.setattr(processes, "START", "fork")
    monkeypatch.setattr(processes.os, "fork", no_fork)
    parallel, serial = _read_both_ways(path, monkeypatch, errors="skip")
    assert workers.pool_start_methods() == []  # every chunk was decoded here
    for name in (*FRAMES, "errors"):
        assert_frame_equal(getattr(parallel, name), getattr(serial, name))


def test_a_chunk_whose_feeding_thread_fails_is_decoded_here(
    big_ndjson, monkeypatch: pytest.MonkeyPatch, parallel_reads
) -> None:
    """A chunk a worker decoded but whose thread failed to hand it over (an error of the
    thread's own, not the worker's) is decoded again in this process."""
    import threading

    from ftkit.read import workers

    handed_over = []

    def failing_in_threads(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            handed_over.append(args[0])
            raise RuntimeError("a bug in the feeding thread")
        return workers.DecodedChunk.__wrapped__(*args, **kwargs)

    failing_in_threads.__wrapped__ = workers.DecodedChunk  # type: ignore[attr-defined]
    path, _, _ = big_ndjson
    monkeypatch.setattr(workers, "DecodedChunk", failing_in_threads)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # the threads' errors are expected
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    parallel = ftkit.read_jobs(path, errors="skip")
    monkeypatch.undo()
    assert handed_over  # the workers answered, and each thread ended on its first chunk
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    again = ftkit.read_jobs(path, errors="skip")  # the workers left with a chunk sent were closed
    monkeypatch.setenv("FTKIT_WORKERS", "0")
    serial = ftkit.read_jobs(path, errors="skip")
    for js in (parallel, again):
        for name in (*FRAMES, "errors"):
            assert_frame_equal(getattr(js, name), getattr(serial, name))
        assert js.ids == serial.ids


def test_a_worker_killed_during_a_read_leaves_its_chunks_to_the_others(
    big_ndjson, monkeypatch: pytest.MonkeyPatch, parallel_reads
) -> None:
    """A worker dies with a chunk sent to it (each is sent its next chunk before its last
    is read back): that chunk is decoded elsewhere, and the next read starts a new worker."""
    import signal

    from ftkit.read import chunks, workers

    path, _, _ = big_ndjson
    monkeypatch.setattr(chunks, "MIN_CHUNK_BYTES", 1 << 20)  # many chunks: the kill comes mid-read
    workers.shutdown()
    killed: list[int] = []

    def kill_one_worker(done: int, total: int) -> None:
        if done and not killed:
            victim = workers.pool_pids()[0]
            killed.append(victim)
            os.kill(victim, signal.SIGKILL)

    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    parallel = ftkit.read_jobs(path, errors="skip", progress=kill_one_worker)
    again = ftkit.read_jobs(path, errors="skip")
    monkeypatch.setenv("FTKIT_WORKERS", "0")
    serial = ftkit.read_jobs(path, errors="skip")
    assert killed
    for js in (parallel, again):
        assert js.ids == serial.ids
        for name in (*FRAMES, "errors"):
            assert_frame_equal(getattr(js, name), getattr(serial, name))
    assert killed[0] not in workers.pool_pids()


def test_large_ndjson_raise_reports_the_first_bad_record_of_all_inputs(
    big_ndjson, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path, _, bad = big_ndjson
    damaged = tmp_path / "later.json.gz"
    damaged.write_bytes(gzip.compress(b"[]" * 100)[:12])
    found = []
    for workers in (None, "0"):
        if workers is None:
            monkeypatch.delenv("FTKIT_WORKERS", raising=False)
        else:
            monkeypatch.setenv("FTKIT_WORKERS", workers)
        with pytest.raises(JobDecodeError) as info:
            ftkit.read_jobs([path, damaged])
        found.append((info.value.source, info.value.line))
    assert found == [(str(path), bad[0])] * 2


def test_large_ndjson_iter_jobs_streams_and_numbers_lines(big_ndjson, tmp_path: Path) -> None:
    path, n_records, bad = big_ndjson
    batches = ftkit.iter_jobs(path, batch_size=5000, errors="skip")
    lines = [line for batch in batches for line in batch.errors["line"].to_list()]
    assert lines == bad  # line numbers stay right across the 8 MB read blocks


def test_truncated_gzip_ndjson_keeps_the_records_before_the_damage(big_ndjson, tmp_path: Path) -> None:
    path, n_records, bad = big_ndjson
    packed = gzip.compress(path.read_bytes(), compresslevel=1)
    damaged = tmp_path / "damaged.ndjson.gz"
    damaged.write_bytes(packed[: len(packed) * 3 // 4])
    # iter_jobs streams: the records decompressed before the cut are yielded, then the error
    batches = list(ftkit.iter_jobs(damaged, batch_size=1000, errors="skip"))
    assert sum(len(b) for b in batches) > n_records // 2
    assert "truncated or corrupt gzip data" in batches[-1].errors["message"][-1]
    # errors="raise": the first bad record raises, and the dump's first bad line comes first
    with pytest.raises(JobDecodeError, match=f": line {bad[0]}: "):
        for _ in ftkit.iter_jobs(damaged, batch_size=100):
            pass
    # read_jobs(errors="skip") returns every good record too, and lists the damage
    whole = ftkit.read_jobs(damaged, errors="skip")
    assert len(whole) > n_records // 2
    assert "truncated or corrupt gzip data" in whole.errors["message"][-1]


@pytest.mark.parametrize(
    "module",
    [
        ftkit.gc_pause,
        ftkit.read.sources,
        ftkit.read.layout,
        ftkit.read.chunks,
        ftkit.read.decode,
        ftkit.read.stream,
        ftkit.read.processes,
        ftkit.read.workers,
        ftkit.read.assemble,
        ftkit.read.reader,
        ftkit.read.write,
        ftkit.snapshots,
    ],
    ids=lambda m: m.__name__,
)
def test_doctests(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- bounded on hostile input -------------------------------------------------------


def _gzip_stream(path: Path, pieces) -> None:
    """Write gzip data made of ``pieces`` (bytes, or (bytes, times) repeated) without holding it."""
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        for piece in pieces:
            data, times = piece if isinstance(piece, tuple) else (piece, 1)
            for _ in range(times):
                out.write(packer.compress(data))
        out.write(packer.flush())


_CHILD = """
import json, sys, ftkit
from pathlib import Path
def peak_mb():
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
base = peak_mb()
result = {}
try:
    RESULT
except ftkit.JobDecodeError as exc:
    result["error"] = str(exc)
result["extra_mb"] = peak_mb() - base
print(json.dumps(result))
"""


def _in_child(code: str) -> dict:
    """Run reading code in a fresh Python, with its peak memory above that of importing ftkit."""
    import subprocess
    import sys

    body = "\n    ".join(code.strip().splitlines())
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("RESULT", body)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_gzip_bomb_stops_at_max_input_bytes(tmp_path: Path, job_bytes) -> None:
    bomb = tmp_path / "bomb.ndjson.gz"  # a few hundred KB that inflate to 400 MB
    _gzip_stream(bomb, [job_bytes("a") + b"\n" + job_bytes("b") + b"\n", (b" " * (1 << 20) + b"\n", 400)])
    assert bomb.stat().st_size < 2 << 20
    out = _in_child(f"""
js = ftkit.read_jobs({str(bomb)!r}, errors="skip", max_input_bytes=32 << 20)
result["ids"], result["messages"] = js.ids, js.errors["message"].to_list()
""")
    assert out["ids"] == ["a", "b"]
    assert out["messages"] == [
        "the input is larger than 33,554,432 bytes once decompressed (max_input_bytes; by default half the "
        "memory available): pass a larger max_input_bytes, or stream NDJSON with ftkit.iter_jobs"
    ]
    assert out["extra_mb"] < 150, out  # not the 400 MB it inflates to
    # the default is half the memory available: a smaller machine gets a smaller limit
    out = _in_child(f"""
ftkit.read.reader.memory_budget = lambda: 32 << 20
ftkit.read_jobs({str(bomb)!r})
""")
    assert "larger than 33,554,432 bytes once decompressed (max_input_bytes" in out["error"]
    assert out["extra_mb"] < 150, out
    # a document read whole by iter_jobs is bounded the same way
    whole = tmp_path / "whole.json.gz"
    _gzip_stream(whole, [b'{"object": "list", "data": [', (b" " * (1 << 20), 100), b"]}"])
    out = _in_child(f"list(ftkit.iter_jobs({str(whole)!r}, max_input_bytes=16 << 20))")
    assert "larger than 16,777,216 bytes once decompressed" in out["error"]
    with pytest.raises(ValueError, match="max_input_bytes must be a positive number of bytes or None, got 0"):
        ftkit.read_jobs(b"{}", max_input_bytes=0)


def test_iter_jobs_memory_is_bounded_whatever_one_line_holds(tmp_path: Path, job_bytes) -> None:
    dump = tmp_path / "long-line.ndjson.gz"  # its second line is 300 MB
    _gzip_stream(dump, [job_bytes("a") + b"\n", b'{"id": "', (b"x" * (1 << 20), 300), b'"}\n', job_bytes("c") + b"\n"])
    out = _in_child(f"""
batches = list(ftkit.iter_jobs({str(dump)!r}, errors="skip"))
result["ids"] = [j.id for b in batches for j in b]
result["errors"] = [row for b in batches for row in b.errors.select("line", "message").rows()]
""")
    assert out["ids"] == ["a", "c"]
    assert out["errors"] == [
        [2, "a line longer than 67,108,864 bytes (max_line_bytes); it is left out unread: pass a larger max_line_bytes to read it"]
    ]
    assert out["extra_mb"] < 250, out
    with pytest.raises(JobDecodeError, match=r"line 2: at \$: a line longer than 4,194,304 bytes"):
        list(ftkit.iter_jobs(job_bytes("a") + b"\n" + b"[" * (5 << 20), max_line_bytes=4 << 20))
    # a long line ending in a later block is measured whole, and the lines after it keep their numbers
    data = job_bytes("a") + b"\n" + b'{"id": "' + b"x" * (5 << 20) + b'"}\n' + job_bytes("c") + b"\n{\n"
    batches = list(ftkit.iter_jobs(data, errors="skip", max_line_bytes=4 << 20))
    assert [j.id for b in batches for j in b] == ["a", "c"]
    assert [row[:2] for b in batches for row in b.errors.rows()] == [("<bytes>", 2), ("<bytes>", 4)]


def test_runs_of_blanks_are_skipped_without_holding_them(tmp_path: Path, job_bytes) -> None:
    blanks = tmp_path / "blanks.ndjson"
    with blanks.open("wb") as out:
        for _ in range(96):
            out.write(b" \t" * (1 << 19))  # 96 MB of blanks without a newline, then some with
        out.write(b"\r\n" * 1000 + job_bytes("a") + b"\n" + b" " * (8 << 20))
    out = _in_child(f"""
result["ids"] = [j.id for b in ftkit.iter_jobs({str(blanks)!r}) for j in b]
""")
    assert out["ids"] == ["a"]
    assert out["extra_mb"] < 100, out
    js = ftkit.read_jobs(blanks)
    assert js.ids == ["a"]
    with pytest.raises(JobDecodeError, match=r"line 1001: at \$.status"):
        list(ftkit.iter_jobs(blanks.read_bytes().replace(b'"status":"SUCCESS"', b'"status":1')))


def test_ftkit_workers_is_capped_at_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from ftkit.read.workers import worker_count

    cores = len(os.sched_getaffinity(0))
    for value, expected in (("1000", cores), ("0", 0), ("1", min(1, cores)), ("-3", 0)):
        monkeypatch.setenv("FTKIT_WORKERS", value)
        assert worker_count() == expected
    monkeypatch.setenv("FTKIT_WORKERS", "lots")
    with pytest.raises(ValueError, match="FTKIT_WORKERS must be a whole number, got 'lots'"):
        worker_count()


_READ_AND_WAIT = """
import os, sys, time, ftkit
def progress(done, total):
    print("reading", flush=True)
    time.sleep(120)
ftkit.read_jobs(sys.argv[1], errors="skip", progress=progress)
"""


def _reading_child(path: Path):
    """A child process in the middle of a parallel read (its spill directory made), and that directory."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "FTKIT_WORKERS"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _READ_AND_WAIT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert proc.stdout.readline() == "reading\n"
    from ftkit.read.workers import SPILL_PREFIX, spill_root

    spills = list(Path(spill_root() or "/tmp").glob(f"{SPILL_PREFIX}{proc.pid}-*"))
    assert len(spills) == 1
    return proc, spills[0]


@pytest.fixture()
def parallel_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftkit.read.workers import worker_count

    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    if worker_count() < 2:
        pytest.skip("one core: reads are never parallel here")


def test_spill_files_are_removed_on_sigterm_and_after_sigkill(big_ndjson, parallel_reads) -> None:
    import signal

    path, _, _ = big_ndjson
    proc, spill = _reading_child(path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM  # ended as SIGTERM ends a process
    assert not spill.exists()
    proc.stdout.close()
    proc.stderr.close()
    # SIGKILL leaves them: the next parallel read removes what dead processes left
    proc, spill = _reading_child(path)
    proc.kill()
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()
    assert spill.exists()
    ftkit.read_jobs(path, errors="skip")
    assert not spill.exists()


def _wait_for_idle_workers(pid: int) -> None:
    """Wait until the worker processes of ``pid`` wait for work (their imports done)."""
    import time

    for _ in range(300):
        children = [p for p in Path("/proc").glob("[0-9]*") if _parent_of(p) == pid]
        if children and all(_waiting_on_a_pipe(p) for p in children):
            return
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


def _parent_of(proc: Path) -> int | None:
    try:
        return int(next(r for r in (proc / "status").read_text().splitlines() if r.startswith("PPid:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return None


def _waiting_on_a_pipe(proc: Path) -> bool:
    try:
        return (proc / "wchan").read_text().endswith(("pipe_read", "pipe_wait")) and "S" in (proc / "stat").read_text().split()[2]
    except OSError:
        return False


def test_ctrl_c_during_a_parallel_read_is_quiet(big_ndjson, parallel_reads) -> None:
    import os
    import signal

    path, _, _ = big_ndjson
    proc, spill = _reading_child(path)
    _wait_for_idle_workers(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGINT  # Python ends as the signal would, after its traceback
    assert stderr.count("Traceback") == 1 and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert ", in serve" not in stderr  # no worker said anything
    assert not spill.exists()
    proc.stdout.close()


def test_a_recursive_glob_through_a_symlink_loop_ends(three_jobs: list[dict], tmp_path: Path) -> None:
    deep = tmp_path / "dump" / "2025"
    deep.mkdir(parents=True)
    (tmp_path / "dump" / "a.json").write_bytes(compact(three_jobs[0]))
    (deep / "b.json").write_bytes(compact(three_jobs[1]))
    (deep / ".hidden.json").write_bytes(compact(three_jobs[2]))
    (deep / "loop").symlink_to(tmp_path / "dump", target_is_directory=True)  # dump/2025/loop -> dump
    ids = [job["id"] for job in three_jobs]
    # each file once, in sorted path order, hidden files left out (as glob.glob does)
    assert ftkit.read_jobs(str(tmp_path / "dump" / "**" / "*.json")).ids == [ids[1], ids[0]]
    assert ftkit.read_jobs(str(tmp_path / "dump" / "**")).ids == [ids[1], ids[0]]
    assert ftkit.read_jobs(tmp_path / "dump").ids == [ids[2], ids[1], ids[0]]  # a directory, as before: hidden files too


def test_a_document_spread_over_lines_is_read_as_one(three_jobs: list[dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # its first line is not whole JSON and its second starts with "{": not NDJSON
    listing = b'{"object": "list", "data": [\n' + b",\n".join(compact(job) for job in three_jobs) + b"\n]}\n"
    array = b"[\n" + b",\n".join(compact(job) for job in three_jobs) + b"\n]\n"
    ids = [job["id"] for job in three_jobs]
    for data in (listing, array, gzip.compress(listing)):
        assert ftkit.read_jobs(data).ids == ids
        assert [j.id for b in ftkit.iter_jobs(data, batch_size=2) for j in b] == ids
    # NDJSON whose first line is cut stays NDJSON: the other lines are read
    cut = compact(three_jobs[0])[:50] + b"\n" + b"\n".join(compact(job) for job in three_jobs[1:])
    for js in (ftkit.read_jobs(cut, errors="skip"), ftkit.JobSet(j for b in ftkit.iter_jobs(cut, errors="skip") for j in b)):
        assert js.ids == ids[1:]
    assert ftkit.read_jobs(cut, errors="skip").errors.select("line", "path").rows() == [(1, "$")]
    # a large one, through the worker path: the first megabyte alone does not tell, the whole does
    big = b'{"object": "list", "data": [\n' + b",\n".join(ftkit.synth.make_jobs_bytes(900, seed=4, checkpoints_per_job=150).splitlines()) + b"\n]}\n"
    assert len(big) > 16 << 20
    path = tmp_path / "big-listing.json"
    path.write_bytes(big)
    monkeypatch.delenv("FTKIT_WORKERS", raising=False)
    assert len(ftkit.read_jobs(path)) == 900

"""JobSet: length, stable iteration, lookup, filter, cached frames, snapshots, display."""

from __future__ import annotations

import doctest
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
import ftkit.jobset
from ftkit import ClassifierJob, CompletionJob, JobSet

FRAMES = {
    "jobs": ftkit.jobs_frame,
    "checkpoints": ftkit.checkpoints_frame,
    "events": ftkit.events_frame,
    "targets": ftkit.targets_frame,
}
CLASSIFIERS = [
    "db22ea7e-1895-4309-92d9-9ac881b1b117",
    "e17faea6-0665-4c3e-9fc0-607d5f233ed4",
    "cbe076ac-40a6-4fa4-9162-281531405d20",
    "1905e7d8-c6b1-4eb1-b349-e656944276d6",
]


@pytest.fixture
def real_js(mistral_paths: list[Path]) -> JobSet:
    """All 24 real documents: 96 records, 55 jobs."""
    return ftkit.read_jobs(mistral_paths)


def assert_frames_match_jobs(js: JobSet) -> None:
    """Each cached frame equals the frame built afresh from the JobSet's Structs."""
    jobs = list(js)
    for name, function in FRAMES.items():
        assert_frame_equal(getattr(js, name), function(jobs))


def test_len_iteration_and_lookup(real_js: JobSet) -> None:
    assert len(real_js) == 55
    jobs = list(real_js)
    assert [job.id for job in jobs] == real_js.ids
    assert len(set(real_js.ids)) == 55
    assert list(real_js) == jobs  # stable order, same Structs again
    assert all(real_js[job.id] is job for job in jobs)
    assert all(isinstance(job, (ClassifierJob, CompletionJob)) for job in jobs)
    assert "db22ea7e-1895-4309-92d9-9ac881b1b117" in real_js and "nope" not in real_js
    with pytest.raises(KeyError, match="no job with id 'nope' in this JobSet of 55 jobs"):
        real_js["nope"]
    with pytest.raises(KeyError):
        real_js[0]  # by id, never by position


def test_iteration_order_is_the_order_of_the_kept_records(job_bytes) -> None:
    data = b"\n".join([
        job_bytes("a", modified_at=1), job_bytes("b", modified_at=1), job_bytes("c", modified_at=1),
        job_bytes("a", modified_at=2, status="FAILED"),
    ])
    js = ftkit.read_jobs(data)
    assert js.ids == ["b", "c", "a"]
    assert js["a"].status == "FAILED"
    assert js.jobs["job_id"].to_list() == ["b", "c", "a"]


def test_jobset_from_structs_resolves_snapshots(real_js: JobSet, real_dir: Path) -> None:
    jobs = list(real_js)
    older = list(ftkit.read_jobs(real_dir / "cookbook-classifier-intent-1.json"))
    js = JobSet(older + jobs + jobs[:3])  # the later equal snapshots win: the same content
    assert len(js) == 55
    assert js["db22ea7e-1895-4309-92d9-9ac881b1b117"].status == "SUCCESS"
    assert js.ids == real_js.ids[3:] + real_js.ids[:3]
    assert_frames_match_jobs(js)
    assert len(JobSet()) == 0 and JobSet().jobs.height == 0


def test_frames_are_cached_and_match_the_structs(real_js: JobSet) -> None:
    for name in FRAMES:
        assert getattr(real_js, name) is getattr(real_js, name)
    assert_frames_match_jobs(real_js)
    assert real_js.jobs.height == 55
    assert real_js.checkpoints.height == ftkit.checkpoints_frame(list(real_js)).height
    assert real_js.targets["job_id"].unique(maintain_order=True).to_list() == CLASSIFIERS


def test_filter_by_column_values(real_js: JobSet) -> None:
    classifiers = real_js.filter(job_type="classifier")
    assert classifiers.ids == CLASSIFIERS
    done = real_js.filter(status=["SUCCESS", "FAILED"], model="mistral-small-latest")
    assert done.ids == real_js.jobs.filter(
        pl.col("status").is_in(["SUCCESS", "FAILED"]) & (pl.col("model") == "mistral-small-latest")
    )["job_id"].to_list()
    assert len(done) > 0
    assert real_js.filter(status=("NOPE",)).ids == []
    with pytest.raises(ValueError, match="no column 'colour' in the jobs frame"):
        real_js.filter(colour="red")
    with pytest.raises(TypeError, match="a predicate must be a polars expression or a function, got int"):
        real_js.filter(3)


def test_filter_by_expression_keeps_order_and_frames(real_js: JobSet) -> None:
    _ = real_js.checkpoints, real_js.events  # cached before filtering
    trained = real_js.filter(pl.col("n_checkpoints") > 0, pl.col("cost").is_null())
    assert trained.ids == [
        i for i, n, c in real_js.jobs.select("job_id", "n_checkpoints", "cost").iter_rows()
        if n is not None and n > 0 and c is None
    ]
    assert len(trained) > 0
    assert_frames_match_jobs(trained)
    assert all(trained[job_id] is real_js[job_id] for job_id in trained.ids)


def test_filter_by_function(real_js: JobSet) -> None:
    assert real_js.filter(lambda job: isinstance(job, ClassifierJob)).ids == CLASSIFIERS
    assert len(real_js.filter()) == 55
    assert real_js.filter(lambda job: True).ids == real_js.ids


def test_filter_by_function_and_expression(real_js: JobSet) -> None:
    chosen = real_js.filter(pl.col("status") == "SUCCESS", lambda job: job.kind == "classifier")
    assert chosen.ids == ["db22ea7e-1895-4309-92d9-9ac881b1b117", "e17faea6-0665-4c3e-9fc0-607d5f233ed4"]
    assert_frames_match_jobs(chosen)


def test_filter_by_none_matches_nulls(real_js: JobSet) -> None:
    unfinished = real_js.filter(fine_tuned_model=None)
    assert unfinished.ids == real_js.jobs.filter(pl.col("fine_tuned_model").is_null())["job_id"].to_list()


def test_filter_keeps_the_errors(real_dir: Path) -> None:
    js = ftkit.read_jobs([real_dir / "platformdocs-2.json", b"{"], errors="skip")
    assert js.filter(status="SUCCESS").errors.height == 1


def test_repr_and_html_summary(real_js: JobSet) -> None:
    assert repr(real_js) == "JobSet(55 jobs: 41 SUCCESS, 6 FAILED, 4 QUEUED, 3 VALIDATED, 1 RUNNING)"
    html = real_js._repr_html_()
    assert "55 jobs" in html
    for cell in ("<td>SUCCESS</td><td style='text-align:right'>41</td>",
                 "<td>completion</td><td style='text-align:right'>51</td>",
                 "<td>classifier</td><td style='text-align:right'>4</td>",
                 "<td>ministral-3b-latest</td><td style='text-align:right'>4</td>",
                 "<th>status</th>", "<th>type</th>", "<th>model</th>"):
        assert cell in html, cell
    assert html.count("<table") == 3
    assert repr(JobSet()) == "JobSet(0 jobs)"
    assert "0 jobs" in JobSet()._repr_html_()


def test_html_summary_escapes_text(job_bytes) -> None:
    js = ftkit.read_jobs(
        [job_bytes("x", model="<script>alert(1)</script>", status="A&B"), b'{"id": 1}'], errors="skip"
    )
    html = js._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "A&amp;B" in html
    assert "1 unreadable records" in html
    assert repr(js) == "JobSet(1 jobs: 1 A&B, 1 unreadable records)"


def test_doctests() -> None:
    result = doctest.testmod(ftkit.jobset, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_short_ids_name_jobs_and_ambiguous_prefixes_list_the_candidates():
    real = Path(__file__).resolve().parent / "data" / "real"
    js = ftkit.read_jobs([real / "platformdocs-2.json", real / "cookbook-classifier-intent-3.json",
                          b'{"id": "2813b7e6-0000", "model": "m", "status": "QUEUED", "created_at": 0,'
                          b' "modified_at": 0, "hyperparameters": {}}'])
    assert js["db22ea7e"].id == "db22ea7e-1895-4309-92d9-9ac881b1b117"
    assert js["db22ea7e…"].id == js["db22ea7e-1895"].id == "db22ea7e-1895-4309-92d9-9ac881b1b117"
    assert js["2813b7e6-c"].id == "2813b7e6-c511-43ac-a16a-1a54a5b884b2"
    with pytest.raises(KeyError, match=r"'2813b7e6' is ambiguous: it starts 2 jobs' ids: "
                                       r"'2813b7e6-0000', '2813b7e6-c511-43ac-a16a-1a54a5b884b2'"):
        js["2813b7e6"]
    with pytest.raises(KeyError, match="no job with id 'db22'"):  # shorter than 8: never a prefix
        js["db22"]
    with pytest.raises(KeyError, match="no job with id 'ffffffff'"):
        js["ffffffff"]

"""The HTML report: its tables and escaping in Python, and the page as headless Chromium shows it."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import polars as pl
import pytest

import ftkit
import ftkit.plot
from ftkit.report import html_table, write_report
from ftkit.summary import best_jobs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-jobs.ndjson.gz"
CHROMIUM = "/usr/bin/chromium"
EVIL_SUFFIX = "<img src=x onerror=alert(1)>"
EVIL_MODEL = "</td><script>alert(2)</script>"
EVIL_ID = "evil-\"quote'-<b>bold</b>"


def evil_job() -> dict:
    """A job whose text fields try to inject markup, and which is the best job by valid loss."""
    return {
        "id": EVIL_ID,
        "model": EVIL_MODEL,
        "status": "SUCCESS",
        "suffix": EVIL_SUFFIX,
        "created_at": 1760000000,
        "modified_at": 1760000600,
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001},
        "events": [
            {"name": "status-updated", "created_at": 1760000000, "data": {"status": "QUEUED"}},
            {"name": "status-updated", "created_at": 1760000100, "data": {"status": "<i>RUNNING</i>"}},
        ],
        "checkpoints": [
            {"step_number": 10, "created_at": 1760000500, "metrics": {"train_loss": 0.01, "valid_loss": 0.001}},
            {"step_number": 5, "created_at": 1760000300, "metrics": {"train_loss": 0.02, "valid_loss": 0.002}},
        ],
    }


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> ftkit.JobSet:
    """The shipped sample, one malicious job, and one unreadable record."""
    dump = tmp_path_factory.mktemp("dump") / "jobs.ndjson"
    dump.write_bytes(
        gzip.decompress(SAMPLE.read_bytes())
        + json.dumps(evil_job()).encode()
        + b"\n"
        + b'{"id": "broken", "status": 3}\n'
    )
    return ftkit.read_jobs(dump, errors="skip")


@pytest.fixture(scope="module")
def report(jobs, tmp_path_factory) -> Path:
    return write_report(jobs, tmp_path_factory.mktemp("report") / "report.html", title="Jobs <&> report")


# --- in Python ------------------------------------------------------------------------


def test_untrusted_text_is_escaped(report):
    text = report.read_text()
    assert EVIL_SUFFIX not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script" not in text
    assert "&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in text
    assert "<title>Jobs &lt;&amp;&gt; report</title>" in text


def test_html_table_escapes_every_cell_and_header():
    frame = pl.DataFrame({"job_id": ["<a>"], "note & more": ['"q"'], "cost": [1.5]})
    assert html_table(frame) == (
        '<table><thead><tr><th>job id</th><th>note &amp; more</th><th class="num">cost</th></tr></thead>'
        '<tbody><tr><td class="id">&lt;a&gt;</td><td>&quot;q&quot;</td><td class="num">1.50</td></tr></tbody></table>'
    )


def test_report_on_no_jobs(tmp_path):
    out = write_report(ftkit.JobSet(), tmp_path / "empty.html")
    text = out.read_text()
    assert "0 jobs" in text
    assert "No finished, successful job has a measured validation loss." in text


def test_a_failure_leaves_nothing_at_the_path(tmp_path, monkeypatch):
    jobs = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(5, seed=0))

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(ftkit.plot, "plot_timeline", broken)
    out = tmp_path / "report.html"
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(jobs, out)
    assert list(tmp_path.iterdir()) == []
    out.write_text("the previous report")
    with pytest.raises(RuntimeError):
        write_report(jobs, out)
    assert out.read_text() == "the previous report"
    assert list(tmp_path.iterdir()) == [out]


def test_render_report_sections(report):
    text = report.read_text()
    for anchor in ("overview", "best", "cost", "curves", "effects", "cost-quality", "timeline", "jobs", "errors"):
        assert f'<section id="{anchor}">' in text
        assert f'href="#{anchor}"' in text


# --- in the browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_result(report):
    """What headless Chromium sees of the report: images, table texts, errors, requests."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri(), wait_until="load")
            result = page.evaluate(
                """() => {
                const imgs = [...document.images];
                const column = (id, n) => [...document.querySelectorAll(`#${id} tbody tr`)]
                    .map(tr => tr.children[n].textContent);
                const cells = [...document.querySelectorAll('td')].map(td => td.textContent);
                return {
                    images: imgs.map(i => ({complete: i.complete, width: i.naturalWidth, alt: i.alt,
                                            src: i.getAttribute('src').slice(0, 22)})),
                    best: [...document.querySelectorAll('table[id^="best-jobs-"] tbody tr')]
                        .map(tr => tr.children[0].textContent),
                    bestCaptions: [...document.querySelectorAll('table[id^="best-jobs-"] caption')]
                        .map(c => c.textContent),
                    unranked: column('unranked-jobs', 1),
                    all: column('all-jobs', 0),
                    status: column('by-status', 0),
                    statusCounts: column('by-status', 1),
                    currencies: column('cost', 0),
                    cells: cells,
                    scripts: document.scripts.length,
                    title: document.title,
                    h1: document.querySelector('h1').textContent,
                };
            }"""
            )
        finally:
            browser.close()
    return {"result": result, "errors": errors, "dialogs": dialogs, "requests": requests}


def test_every_image_loads(page_result):
    images = page_result["result"]["images"]
    assert len(images) >= 7
    for image in images:
        assert image["complete"] and image["width"] > 0, image
        assert image["src"] == "data:image/png;base64,"
        assert image["alt"]


def test_no_script_errors_no_dialogs_no_requests(page_result, report):
    assert page_result["errors"] == []
    assert page_result["dialogs"] == []
    assert page_result["result"]["scripts"] == 0
    # Self-contained: the page itself is the only request (images are data: URIs).
    assert [url for url in page_result["requests"] if not url.startswith("data:")] == [report.as_uri()]


def test_tables_hold_the_expected_job_ids(page_result, jobs):
    result = page_result["result"]
    best = best_jobs(jobs, top=10)
    assert result["best"] == best["job_id"].to_list()
    # ranked within their type, the classifiers first; the lowest completion loss, shown as text
    assert result["bestCaptions"] == ["Best 10 of 33 successful classifier jobs", "Best 10 of 112 successful completion jobs"]
    assert result["best"][10] == EVIL_ID
    assert set(best["status"]) == {"SUCCESS"}
    # jobs with a loss that are running, failed or cancelled are listed apart, never ranked
    unranked = jobs.jobs.filter(pl.col("status") != "SUCCESS").join(
        ftkit.checkpoint_summary(jobs).filter(pl.col("best_valid_loss").is_not_null()), on="job_id")
    assert sorted(result["unranked"]) == sorted(unranked["job_id"].to_list()) and unranked.height > 0
    assert not set(result["unranked"]) & set(result["best"])
    assert sorted(result["all"]) == sorted(jobs.ids)
    counts = dict(jobs.jobs["status"].value_counts().iter_rows())
    assert dict(zip(result["status"], map(int, result["statusCounts"]))) == counts
    assert result["currencies"] == ["EUR", "USD", "(none)"]


def test_malicious_text_appears_as_text(page_result):
    result = page_result["result"]
    assert EVIL_SUFFIX in result["cells"]
    assert EVIL_MODEL in result["cells"]
    assert result["title"] == "Jobs <&> report"
    assert result["h1"] == "Jobs <&> report"
    assert not any(image["src"] == "x" for image in result["images"])


# --- honest comparisons (issue 10) ------------------------------------------------------------

REAL = ROOT / "tests" / "data" / "real"


def real_and_synthetic() -> ftkit.JobSet:
    """Real classifier and completion documents, and synthetic completion jobs."""
    def completion(job_id: str, lr: float, loss: float, status: str = "SUCCESS") -> dict:
        return {"id": job_id, "model": "open-mistral-7b", "status": status, "job_type": "completion",
                "created_at": 1760000000, "modified_at": 1760000600,
                "hyperparameters": {"learning_rate": lr, "training_steps": 10, "epochs": 1.0},
                "checkpoints": [{"step_number": 10, "created_at": 1760000500, "metrics": {"valid_loss": loss}}]}

    docs = [REAL / n for n in ("cookbook-classifier-intent-3.json", "cookbook-classifier-intent-4.json",
                               "platformdocs-2.json")]
    synthetic = [completion("c-1", 4e-5, 0.9), completion("c-2", 1e-4, 0.7),
                 completion("c-run", 1e-4, 0.0001, status="RUNNING")]
    return ftkit.read_jobs([*docs, json.dumps(synthetic).encode()])


def test_summary_ranks_finished_jobs_within_their_type_with_enough_digits():
    from ftkit.summary import summary_text

    text = summary_text(real_and_synthetic())
    blocks = text.split("\n\n")
    classifiers = next(b for b in blocks if b.startswith("Best 2 of 2 successful classifier jobs"))
    # two different losses, no longer both printed as 0.0006
    assert "0.000625" in classifiers and "0.000641" in classifiers
    completions = next(b for b in blocks if b.startswith("Best 3 of 3 successful completion jobs"))
    ids = [line.split()[0] for line in completions.splitlines()[3:]]
    assert ids == ["c-2", "2813b7e6-c511-43ac-a16a-1a54a5b884b2", "c-1"]
    # the running job's 0.0001 is listed apart, never ranked first
    unranked = next(b for b in blocks if b.startswith("Not ranked: 1 job"))
    assert "c-run" in unranked and "RUNNING" in unranked
    assert "c-run" not in classifiers + completions


def test_report_effect_section_draws_a_panel_per_type_and_names_what_it_skips():
    from ftkit.report import render_report

    html = render_report(real_and_synthetic())
    section = html[html.index('<section id="effects">'):]
    section = section[: section.index("</section>")]
    alts = [a for a in section.split('alt="')[1:]]
    alts = [a[: a.index('"')] for a in alts]
    # learning rate varies among the completion jobs (4e-05, 1e-04); among the two
    # classifiers it has one value: no panel, but a line naming it.
    assert any("learning rate (completion)" in a for a in alts)
    assert not any("learning rate (classifier)" in a for a in alts)
    assert "Not drawn (fewer than two values with a measured loss): classifier: learning rate" in section
    assert "one panel per job type" in section


def test_checkpoint_summary_takes_its_metric_positionally():
    js = real_and_synthetic()
    assert js.checkpoint_summary("train_loss")["best_step"].to_list() == ftkit.checkpoint_summary(
        js, metric="train_loss")["best_step"].to_list()


def test_the_summary_functions_can_still_be_imported_from_the_report_module():
    # ftkit.summary was split out of ftkit.report: code that imported them from there still works
    import ftkit.report
    import ftkit.summary

    for name in ("summary_tables", "summary_text", "best_jobs", "unranked_jobs", "format_value", "column_digits"):
        assert getattr(ftkit.report, name) is getattr(ftkit.summary, name)
        assert name in ftkit.report.__all__

"""JobBrowser: its pure functions, and its widgets driven as a user would drive them."""

from __future__ import annotations

import datetime as dt

import matplotlib
import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.browser import (
    JobBrowser,
    browser_table,
    compare_html,
    detail_html,
    filter_table,
    sort_table,
)

matplotlib.use("Agg")

EVIL = "<img src=x onerror=alert(1)>"
PNG = b"\x89PNG\r\n\x1a\n"
DAY = 86_400
T0 = 1_717_200_000  # 2024-06-01 00:00:00 UTC


def _checkpoints(*losses: tuple[int, float, float | None]) -> list[dict]:
    """Checkpoints newest first, as the API lists them; valid None = not evaluated (0.0)."""
    return [
        {
            "step_number": step,
            "created_at": T0 + step * 60,
            "metrics": {
                "train_loss": train,
                "valid_loss": 0.0 if valid is None else valid,
                "valid_mean_token_accuracy": 0.0 if valid is None else 1.5,
            },
        }
        for step, train, valid in reversed(losses)
    ]


def _events(*statuses: tuple[int, str], data: dict | None = None) -> list[dict]:
    return [
        {"name": "status-updated", "created_at": T0 + offset, "data": {"status": status, **(data or {})}}
        for offset, status in statuses
    ]


JOBS = [
    {
        "id": "job-alpha",
        "model": "open-mistral-7b",
        "status": "SUCCESS",
        "job_type": "completion",
        "created_at": T0,
        "modified_at": T0 + 3600,
        "suffix": "Support-Bot",
        "fine_tuned_model": "ft:open-mistral-7b:abc:20240601:alpha",
        "training_files": ["file-1"],
        "hyperparameters": {"training_steps": 30, "learning_rate": 0.0001, "weight_decay": 0.1},
        "trained_tokens": 3_000_000,
        "metadata": {"cost": 4.5, "cost_currency": "USD", "train_tokens": 3_000_000, "data_tokens": 1_000_000},
        "integrations": [{"type": "wandb", "project": "ft", "run_name": "alpha-run", "url": "https://wandb.ai/me/ft/runs/a"}],
        "events": _events((0, "QUEUED"), (60, "VALIDATING"), (120, "RUNNING"), (3600, "SUCCESS")),
        "checkpoints": _checkpoints((10, 1.5, 1.4), (20, 1.1, None), (30, 0.9, 1.2)),
    },
    {
        "id": "job-beta",
        "model": "open-mistral-7b",
        "status": "FAILED",
        "job_type": "FT",
        "created_at": T0 + 2 * DAY,
        "modified_at": T0 + 2 * DAY + 600,
        "suffix": EVIL,
        "training_files": ["file-2"],
        "hyperparameters": {"training_steps": 30, "learning_rate": 0.0003, "weight_decay": 0.1},
        "metadata": {"cost": 1.25, "cost_currency": "EUR"},
        "integrations": [{"type": "wandb", "project": "<b>p</b>", "url": "javascript:alert(2)"}],
        "events": _events((2 * DAY, "QUEUED"), (2 * DAY + 600, "FAILED"), data={"error": "<script>alert(3)</script>"}),
        "checkpoints": _checkpoints((10, 2.0, 1.9), (20, 1.8, 1.7)),
    },
    {
        "id": "job-gamma",
        "model": "ministral-3b-latest",
        "status": "RUNNING",
        "created_at": T0 + 5 * DAY,
        "modified_at": T0 + 5 * DAY,
        "training_files": ["file-3"],
        "hyperparameters": {"training_steps": 50, "learning_rate": 0.0001},
        "classifier_targets": [{"name": "intent<x>", "labels": ["<i>buy</i>", "sell"], "weight": 1.0}],
    },
    {
        "id": "job-delta",
        "model": "ministral-3b-latest",
        "status": "SUCCESS",
        "job_type": "classifier",
        "created_at": T0 + 9 * DAY,
        "modified_at": T0 + 9 * DAY + 100,
        "suffix": "spam",
        "fine_tuned_model": "ft:classifier:ministral-3b-latest:abc:20240610:delta",
        "training_files": ["file-4"],
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001},
        "metadata": {"cost": 9.0, "cost_currency": "USD"},
        "classifier_targets": [{"name": "spam", "labels": ["yes", "no"]}],
        "checkpoints": _checkpoints((5, 0.5, 0.3), (10, 0.2, 0.25)),
    },
]
NEWEST_FIRST = ["job-delta", "job-gamma", "job-beta", "job-alpha"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def js() -> ftkit.JobSet:
    return ftkit.read_jobs(b"\n".join(msgspec.json.encode(job) for job in JOBS))


@pytest.fixture
def browser(js) -> JobBrowser:
    return JobBrowser(js, page_size=3)


def visible_rows(browser: JobBrowser) -> list[tuple[str, bool, str]]:
    """What the table shows: (checkbox label, ticked, cells HTML) of each visible row."""
    return [
        (check.description, check.value, cells.value)
        for check, cells, box in zip(browser._row_checks, browser._row_cells, browser._row_boxes)
        if box.layout.display != "none"
    ]


def tick(browser: JobBrowser, job_id: str, value: bool = True) -> None:
    """Click the checkbox of the row showing ``job_id`` (it must be on the page)."""
    row = browser.page_ids.index(job_id)
    browser._row_checks[row].value = value


def all_widget_text(widget) -> list[str]:
    """Every string a widget tree puts on screen: HTML values, descriptions, tooltips, options."""
    out = []
    for name in ("value", "description", "tooltip", "placeholder"):
        value = getattr(widget, name, None)
        if isinstance(value, str):
            out.append(value)
    for option in getattr(widget, "_options_labels", ()) or ():
        out.append(option)
    for child in getattr(widget, "children", ()):
        out.extend(all_widget_text(child))
    return out


# --- pure functions -------------------------------------------------------------------


def test_browser_table_adds_best_valid_loss_and_keeps_cost(js):
    table = browser_table(js).select("job_id", "status", "best_valid_loss", "cost", "cost_currency")
    expected = pl.DataFrame(
        {
            "job_id": ["job-alpha", "job-beta", "job-gamma", "job-delta"],
            "status": ["SUCCESS", "FAILED", "RUNNING", "SUCCESS"],
            "best_valid_loss": [1.2, 1.7, None, 0.25],
            "cost": [4.5, 1.25, None, 9.0],
            "cost_currency": ["USD", "EUR", None, "USD"],
        }
    )
    assert_frame_equal(table, expected)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["job-alpha", "job-beta", "job-gamma", "job-delta"]),
        ({"status": ["SUCCESS", "RUNNING"]}, ["job-alpha", "job-gamma", "job-delta"]),
        ({"status": "FAILED"}, ["job-beta"]),
        ({"job_type": "classifier"}, ["job-gamma", "job-delta"]),
        ({"model": "open-mistral-7b", "status": ["SUCCESS"]}, ["job-alpha"]),
        ({"text": "support"}, ["job-alpha"]),  # suffix, any case
        ({"text": "ONERROR"}, ["job-beta"]),
        ({"text": ":delta"}, ["job-delta"]),  # fine-tuned model name
        ({"text": "job-g"}, ["job-gamma"]),  # job id
        ({"text": "nothing like it"}, []),
        ({"created_after": dt.date(2024, 6, 3)}, ["job-beta", "job-gamma", "job-delta"]),
        ({"created_before": dt.date(2024, 6, 3)}, ["job-alpha", "job-beta"]),  # the whole day
        ({"created_after": "2024-06-02", "created_before": "2024-06-06"}, ["job-beta", "job-gamma"]),
        ({"created_before": dt.datetime(2024, 6, 2, 23, 59, tzinfo=dt.timezone.utc)}, ["job-alpha"]),
        ({"created_before": "2024-06-03T00:00:00"}, ["job-alpha", "job-beta"]),  # naive = UTC
    ],
)
def test_filter_table(js, filters, expected):
    assert filter_table(browser_table(js), filters)["job_id"].to_list() == expected


def test_filter_table_rejects_unknown_keys(js):
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\]"):
        filter_table(browser_table(js), {"colour": "red"})


def test_sort_table_puts_nulls_last_both_ways_and_breaks_ties_by_input_order(js):
    table = browser_table(js).sort("job_id")
    assert sort_table(table, "best_valid_loss")["job_id"].to_list() == [
        "job-delta", "job-alpha", "job-beta", "job-gamma",
    ]
    # finished, successful jobs are ranked first, then the failed job-beta, then no loss
    assert sort_table(table, "best_valid_loss", descending=True)["job_id"].to_list() == [
        "job-alpha", "job-delta", "job-beta", "job-gamma",
    ]
    # equal models: ties stay in job id order whichever the direction
    assert sort_table(table, "model", descending=True)["job_id"].to_list() == [
        "job-alpha", "job-beta", "job-delta", "job-gamma",
    ]
    with pytest.raises(ValueError, match="no column 'nope'"):
        sort_table(table, "nope")


def test_detail_html_escapes_everything_from_the_job(js):
    pane = detail_html(js, "job-beta")
    assert EVIL not in pane and "&lt;img src=x onerror=alert(1)&gt;" in pane
    assert "<script>" not in pane and "&lt;script&gt;alert(3)&lt;/script&gt;" in pane
    assert "<b>p</b>" not in pane and "&lt;b&gt;p&lt;/b&gt;" in pane
    assert "javascript:" not in pane.split("<code>javascript:")[0]  # shown as text, never a link
    assert 'href="javascript' not in pane


def test_compare_html_keeps_only_the_hyperparameters_that_differ(js):
    pane = compare_html(js, ["job-alpha", "job-beta"])
    section = pane.split("<h4>Hyperparameters that differ</h4>")[1].split("<h4>")[0]
    assert "learning_rate" in section
    assert "weight_decay" not in section and "training_steps" not in section
    assert EVIL not in pane and "&lt;img src=x onerror=alert(1)&gt;" in pane


# --- the widgets, driven as a user would ---------------------------------------------


def test_opens_newest_first_with_one_page_of_rows_and_a_count(browser):
    assert browser.matching == NEWEST_FIRST
    assert browser.filters == {
        "status": (), "job_type": (), "model": (), "text": "",
        "created_after": None, "created_before": None,
    }
    rows = visible_rows(browser)
    assert [label for label, _, _ in rows] == ["job-delta", "job-gamma", "job-beta"]
    assert "<b>4</b> of 4 jobs match" in browser._count.value
    assert browser._page_label.value == "page 1 of 2"
    assert browser._prev.disabled and not browser._next.disabled
    assert browser.selected == [] and browser.mode == "none"
    assert "Tick a job" in browser.pane_html and browser.plot_png == b""


def test_status_filter_widget_updates_table_and_count(browser):
    browser._status.value = ("SUCCESS",)
    assert browser.matching == ["job-delta", "job-alpha"]
    assert [label for label, _, _ in visible_rows(browser)] == ["job-delta", "job-alpha"]
    assert "<b>2</b> of 4 jobs match" in browser._count.value
    assert browser.filters["status"] == ("SUCCESS",)
    assert browser._page_label.value == "page 1 of 1" and browser._next.disabled


def test_type_model_text_and_date_widgets_combine(browser):
    browser._job_type.value = ("completion",)
    assert browser.matching == ["job-beta", "job-alpha"]
    browser._model.value = ("open-mistral-7b",)
    browser._text.value = "BOT"
    assert browser.matching == ["job-alpha"]
    browser._text.value = ""
    browser._created_after.value = dt.date(2024, 6, 2)
    assert browser.matching == ["job-beta"]
    browser._created_after.value = None
    browser._created_before.value = dt.date(2024, 6, 1)
    assert browser.matching == ["job-alpha"]
    browser._job_type.value = ()
    browser._model.value = ()
    browser._created_before.value = None
    assert browser.matching == NEWEST_FIRST


def test_no_match_shows_an_empty_page(browser):
    browser._text.value = "zzz"
    assert browser.matching == [] and visible_rows(browser) == []
    assert "<b>0</b> of 4 jobs match" in browser._count.value
    assert browser._page_label.value == "page 1 of 1"


def test_clicking_a_sort_header_sorts_then_reverses(browser):
    browser._sort_buttons["cost"].click()
    assert browser.sort == ("cost", False)
    assert browser.matching == ["job-beta", "job-alpha", "job-delta", "job-gamma"]  # null last
    assert browser._sort_buttons["cost"].description == "cost ▲"
    browser._sort_buttons["cost"].click()
    assert browser.sort == ("cost", True)
    assert browser.matching == ["job-delta", "job-alpha", "job-beta", "job-gamma"]
    assert browser._sort_buttons["cost"].description == "cost ▼"
    assert browser._sort_buttons["created_at"].description == "created (UTC)"
    browser._sort_buttons["suffix"].click()
    assert browser.matching == ["job-beta", "job-alpha", "job-delta", "job-gamma"]  # '<' < 'S' < 's'
    browser._sort_buttons["job_id"].click()
    assert browser.matching == sorted(NEWEST_FIRST)


def test_paging_shows_the_next_rows(browser):
    browser._next.click()
    assert browser.page == 1
    assert [label for label, _, _ in visible_rows(browser)] == ["job-alpha"]
    assert browser._page_label.value == "page 2 of 2"
    assert browser._next.disabled and not browser._prev.disabled
    browser._next.click()  # disabled in the browser; a click from code stays on the last page
    assert browser.page == 1
    browser._prev.click()
    assert browser.page == 0
    browser._next.click()
    browser._status.value = ("FAILED",)  # a filter change goes back to the first page
    assert browser.page == 0


def test_ticking_one_row_shows_its_detail_pane(browser):
    tick(browser, "job-beta")
    assert browser.selected == ["job-beta"] and browser.mode == "detail"
    pane = browser.pane_html
    assert "Hyperparameters" in pane and "learning_rate" in pane and "0.0003" in pane
    assert "Tokens and cost" in pane and "1.25 EUR" in pane
    assert "Events (2" in pane and "ftkit-timeline" in pane and "FAILED" in pane
    assert "&lt;img src=x onerror=alert(1)&gt;" in pane and EVIL not in pane
    assert browser.plot_png.startswith(PNG) and browser._plot.layout.display != "none"
    assert "ftkit-selected" in browser._row_boxes[browser.page_ids.index("job-beta")]._dom_classes


def test_detail_pane_shows_targets_and_wandb_link(browser):
    tick(browser, "job-gamma")
    pane = browser.pane_html
    assert "Classifier targets" in pane and "intent&lt;x&gt;" in pane and "&lt;i&gt;buy&lt;/i&gt;, sell" in pane
    assert "No events recorded" in pane
    assert browser.plot_png == b"" and browser._plot.layout.display == "none"  # no checkpoints
    browser.selected = ["job-alpha"]
    pane = browser.pane_html
    assert '<a href="https://wandb.ai/me/ft/runs/a" target="_blank" rel="noopener noreferrer">ft / alpha-run</a>' in pane
    assert "Support-Bot" in pane and "3,000,000" in pane and "4.50 USD" in pane


def test_ticking_a_second_row_switches_to_compare_mode(browser):
    browser._next.click()
    tick(browser, "job-alpha")
    browser._prev.click()
    tick(browser, "job-beta")
    assert browser.selected == ["job-alpha", "job-beta"] and browser.mode == "compare"
    pane = browser.pane_html
    assert "Comparing 2 jobs" in pane
    differ = pane.split("<h4>Hyperparameters that differ</h4>")[1].split("<h4>")[0]
    assert "learning_rate" in differ and "weight_decay" not in differ
    summaries = pane.split("<h4>Checkpoint summaries</h4>")[1]
    assert "best_valid_loss" in summaries and "1.2" in summaries and "1.7" in summaries
    assert browser.plot_png.startswith(PNG)
    assert EVIL not in pane
    tick(browser, "job-beta", False)  # unticking goes back to one job's detail
    assert browser.selected == ["job-alpha"] and browser.mode == "detail"


def test_selection_is_kept_by_id_across_filters_sort_and_pages(browser):
    tick(browser, "job-gamma")
    browser._status.value = ("SUCCESS",)
    assert browser.selected == ["job-gamma"]
    assert all(not ticked for _, ticked, _ in visible_rows(browser))
    assert "1 selected, 1 not on this page" in browser._selection_label.value
    browser._sort_buttons["cost"].click()
    browser._status.value = ()
    assert browser.selected == ["job-gamma"]
    assert [(label, ticked) for label, ticked, _ in visible_rows(browser)] == [
        ("job-beta", False), ("job-alpha", False), ("job-delta", False),
    ]
    browser._next.click()
    assert [(label, ticked) for label, ticked, _ in visible_rows(browser)] == [("job-gamma", True)]
    browser._clear.click()
    assert browser.selected == [] and visible_rows(browser)[0][1] is False


def test_code_can_read_and_set_filters_and_selection(browser):
    browser.filters = {"status": ["SUCCESS", "FAILED"], "text": "job"}
    assert browser._status.value == ("SUCCESS", "FAILED") and browser._text.value == "job"
    assert browser.matching == ["job-delta", "job-beta", "job-alpha"]
    browser.filters = {"created_after": "2024-06-05"}  # keys left out go back to any
    assert browser.filters["status"] == () and browser._created_after.value == dt.date(2024, 6, 5)
    assert browser.matching == ["job-delta", "job-gamma"]
    chosen = browser.matching[:2]
    browser.selected = chosen
    assert [ticked for _, ticked, _ in visible_rows(browser)] == [True, True]
    assert browser.mode == "compare"
    browser.selected = "job-delta"
    assert browser.selected == ["job-delta"] and browser.mode == "detail"
    with pytest.raises(KeyError, match="job-nope"):
        browser.selected = ["job-nope"]
    with pytest.raises(ValueError, match="unknown keys"):
        browser.filters = {"colour": "red"}
    with pytest.raises(ValueError, match="no job has \\['DONE'\\]"):
        browser.filters = {"status": ["DONE"]}
    assert browser.selected == ["job-delta"]


def test_nothing_from_a_job_reaches_the_screen_unescaped(browser):
    browser.selected = ["job-beta"]
    texts = all_widget_text(browser.widget)
    browser.selected = ["job-beta", "job-gamma"]
    texts += all_widget_text(browser.widget)
    screen = "\n".join(texts)
    for raw in (EVIL, "<script>", "<b>p</b>", "<i>buy</i>", 'href="javascript'):
        assert raw not in screen
    assert "&lt;img src=x onerror=alert(1)&gt;" in screen
    bundle = browser._repr_mimebundle_()
    assert EVIL not in bundle["text/html"] and "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]


def test_static_summary_is_the_same_on_every_run(js):
    first, second = JobBrowser(js, page_size=3), JobBrowser(js, page_size=3)
    a, b = first._repr_mimebundle_(), second._repr_mimebundle_()
    assert a["application/vnd.jupyter.widget-view+json"]["model_id"] != b[
        "application/vnd.jupyter.widget-view+json"]["model_id"]
    assert a["text/plain"] == b["text/plain"] and a["text/html"] == b["text/html"]
    lines = a["text/plain"].splitlines()
    assert lines[0] == "JobBrowser: 4 of 4 jobs match the filters, sorted by created_at, descending; page 1 of 2"
    assert lines[1] == "selected: none"
    assert lines[3].split() == ["job_id", "status", "type", "model", "suffix", "created", "(UTC)", "steps", "best", "valid", "cost"]
    assert lines[4].split()[:4] == ["job-delta", "SUCCESS", "classifier", "ministral-3b-latest"]
    assert lines[-1] == "… 1 more"
    first.selected = ["job-beta"]
    assert first._repr_mimebundle_()["text/plain"].splitlines()[1] == "selected: job-beta"


def test_accepts_anything_read_jobs_reads(tmp_path):
    path = tmp_path / "jobs.ndjson"
    path.write_bytes(b"\n".join(msgspec.json.encode(job) for job in JOBS))
    assert JobBrowser(path).matching == NEWEST_FIRST
    assert JobBrowser(str(path), filters={"status": ["RUNNING"]}).matching == ["job-gamma"]
    with pytest.raises(ValueError, match="page_size"):
        JobBrowser(path, page_size=0)


def test_never_renders_more_than_one_page_of_rows():
    js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(120, seed=5))
    browser = JobBrowser(js, page_size=10)
    assert len(browser._row_boxes) == 10 and len(visible_rows(browser)) == 10
    assert browser._page_label.value == "page 1 of 12"
    browser.page = 11
    assert len(visible_rows(browser)) == 10 and browser.page_ids == browser.matching[110:]
    browser.page = 99
    assert browser.page == 11


# --- placeholders: the browser follows ftkit.analysis --------------------------------

def _bare_checkpoint(step: int, train: float, valid: float) -> dict:
    """A checkpoint whose metrics have no accuracy at all: a lone 0.0 valid_loss is a placeholder."""
    return {"step_number": step, "created_at": T0 + step, "metrics": {"train_loss": train, "valid_loss": valid}}


PLACEHOLDER_JOBS = [
    {   # valid_loss 0.0 at step 20 with no accuracy: not measured, so the best is step 10
        "id": "ph-valid", "model": "m", "status": "SUCCESS", "created_at": T0, "modified_at": T0 + 100,
        "hyperparameters": {}, "metadata": {"cost": 3.0, "cost_currency": "USD"},
        "checkpoints": [_bare_checkpoint(20, 0.4, 0.0), _bare_checkpoint(10, 0.5, 0.9)],
    },
    {   # cost 0.0 without a currency: the placeholder of a job just created, not "free"
        "id": "ph-cost", "model": "m", "status": "QUEUED", "created_at": T0 + 1, "modified_at": T0 + 1,
        "hyperparameters": {}, "metadata": {"cost": 0.0, "cost_currency": None},
        "checkpoints": [_bare_checkpoint(10, 0.6, 0.7)],
    },
    {   # a real zero: it has a currency, so it stays 0.0
        "id": "zero-usd", "model": "m", "status": "SUCCESS", "created_at": T0 + 2, "modified_at": T0 + 3,
        "hyperparameters": {}, "metadata": {"cost": 0.0, "cost_currency": "USD"},
        "checkpoints": [_bare_checkpoint(10, 0.6, 0.8)],
    },
]


@pytest.fixture(scope="module")
def placeholder_js() -> ftkit.JobSet:
    return ftkit.read_jobs(msgspec.json.encode(PLACEHOLDER_JOBS))


def test_table_nulls_placeholders_as_analysis_does(placeholder_js):
    table = browser_table(placeholder_js)
    assert table.select("job_id", "best_valid_loss", "cost").to_dict(as_series=False) == {
        "job_id": ["ph-valid", "ph-cost", "zero-usd"],
        "best_valid_loss": [0.9, 0.7, 0.8],
        "cost": [3.0, None, 0.0],
    }
    summary = ftkit.analysis.checkpoint_summary(placeholder_js)
    usage = ftkit.analysis.token_usage(placeholder_js)
    assert table["best_valid_loss"].to_list() == summary["best_valid_loss"].to_list()
    assert table["cost"].to_list() == usage["cost"].to_list()
    # A placeholder never sorts first: not as the best loss, not as the cheapest job.
    # (ph-cost is QUEUED: ranked after the finished, successful jobs)
    assert sort_table(table, "best_valid_loss")["job_id"].to_list() == ["zero-usd", "ph-valid", "ph-cost"]
    assert sort_table(table, "cost")["job_id"].to_list() == ["zero-usd", "ph-valid", "ph-cost"]


def test_static_summary_shows_no_placeholder_values(placeholder_js):
    browser = JobBrowser(placeholder_js, sort=("cost", False))
    assert browser.matching == ["zero-usd", "ph-valid", "ph-cost"]
    rows = {line.split()[0]: line.split() for line in repr(browser).splitlines()[4:]}
    assert rows["ph-valid"][-3:] == ["0.9", "3.00", "USD"]
    assert rows["ph-cost"][-2:] == ["0.7", "—"]
    assert rows["zero-usd"][-3:] == ["0.8", "0.00", "USD"]


def _kv(pane: str, key: str) -> str:
    start = pane.index(f"<th>{key}</th><td>") + len(f"<th>{key}</th><td>")
    return pane[start : pane.index("</td>", start)]


def test_detail_pane_agrees_with_checkpoint_summary_and_token_usage(placeholder_js):
    pane = detail_html(placeholder_js, "ph-valid")
    assert [_kv(pane, k) for k in ("checkpoints", "evaluated", "last step", "best step", "best valid loss")] == [
        "2", "1", "20", "10", "0.9",
    ]
    assert _kv(pane, "final train loss") == "0.4"
    assert _kv(pane, "cost") == "3.00 USD"
    assert _kv(detail_html(placeholder_js, "ph-cost"), "cost") == "—"
    assert _kv(detail_html(placeholder_js, "zero-usd"), "cost") == "0.00 USD"
    compare = compare_html(placeholder_js, ["ph-valid", "ph-cost"])
    assert "0.00" not in compare and "3.00 USD" in compare


def test_detail_plot_stars_the_measured_best_and_leaves_placeholders_out(placeholder_js):
    browser = JobBrowser(placeholder_js)
    browser.selected = ["ph-valid"]
    assert browser.plot_png.startswith(PNG)
    plot = browser._detail_plot
    assert [list(v) for v in plot.best.get_data()] == [[10], [0.9]]
    assert [list(v) for v in plot.valid.get_data()] == [[10], [0.9]]
    assert [list(v) for v in plot.train.get_data()] == [[10, 20], [0.5, 0.4]]


# --- one value, one meaning, one name (issue 10) ---------------------------------------------

from pathlib import Path  # noqa: E402

REAL = Path(__file__).resolve().parent / "data" / "real"


@pytest.fixture(scope="module")
def mixed_js() -> ftkit.JobSet:
    """Real classifier and completion jobs, and a synthetic job whose id shares a prefix."""
    twin = {"id": "db22ea7e-0000", "model": "ministral-3b-latest", "status": "RUNNING", "job_type": "classifier",
            "created_at": 1744800000, "modified_at": 1744800100, "hyperparameters": {"learning_rate": 4e-5},
            "checkpoints": [{"step_number": 10, "created_at": 1744800050,
                             "metrics": {"train_loss": 0.01, "valid_loss": 0.0001}}]}
    docs = [REAL / n for n in ("cookbook-classifier-intent-3.json", "cookbook-classifier-intent-4.json",
                               "platformdocs-2.json", "cookbook-sdk1-4.json")]
    return ftkit.read_jobs([*docs, msgspec.json.encode(twin)])


@pytest.mark.parametrize("filters", [
    {"model": ["ministral-3b-latest", "open-mistral-7b"]},
    {"model": "open-mistral-7b", "status": ["SUCCESS", "FAILED"]},
    {"job_type": "classifier"},
    {"job_type": ["classifier", "completion"], "status": "SUCCESS"},
])
def test_filters_take_what_jobset_filter_takes(mixed_js, filters):
    browser = JobBrowser(mixed_js, filters=filters)
    assert sorted(browser.matching) == sorted(mixed_js.filter(**filters).ids)
    assert browser.matching  # every case matches something
    for key in ("status", "job_type", "model"):
        expected = filters.get(key, ())
        assert browser.filters[key] == ((expected,) if isinstance(expected, str) else tuple(expected))


def test_filters_have_the_case_rules_of_jobset_filter(mixed_js):
    assert mixed_js.filter(status="success").ids == []
    with pytest.raises(ValueError, match=r"filters\['status'\]: no job has \['success'\]"):
        JobBrowser(mixed_js).filters = {"status": "success"}
    with pytest.raises(TypeError, match="expected a value or a list of values"):
        JobBrowser(mixed_js).filters = {"model": 7}


def test_sort_takes_a_column_and_a_direction_and_says_what_is_allowed(mixed_js):
    browser = JobBrowser(mixed_js)
    browser.sort = "cost"
    assert browser.sort == ("cost", False)
    browser.sort = ("cost", "descending")
    assert browser.sort == ("cost", True)
    browser.sort = ("best_valid_loss", "ascending")
    # Finished, successful jobs first (the RUNNING twin's 0.0001 is not ranked above them),
    # then the others with a loss, then the jobs without one: nulls last.
    ranked = browser.matching
    assert ranked[:4] == ["db22ea7e-1895-4309-92d9-9ac881b1b117", "e17faea6-0665-4c3e-9fc0-607d5f233ed4",
                          "2813b7e6-c511-43ac-a16a-1a54a5b884b2", "db22ea7e-0000"]
    table = browser_table(mixed_js)
    losses = dict(zip(table["job_id"], table["best_valid_loss"]))
    assert [losses[j] for j in ranked[4:]] == [None] * (len(ranked) - 4)
    with pytest.raises(ValueError, match=r"no column 'price'; sort by one of \['job_id', 'status'"):
        browser.sort = "price"
    with pytest.raises(ValueError, match=r"direction must be one of \['asc', 'ascending', 'desc', 'descending'\]"):
        browser.sort = ("cost", "down")
    with pytest.raises(ValueError, match="expected a column name or"):
        browser.sort = ("cost", True, "extra")
    assert browser.sort == ("best_valid_loss", False)  # a refused sort changes nothing


def test_selected_takes_short_ids_and_lists_the_candidates_of_an_ambiguous_one(mixed_js):
    browser = JobBrowser(mixed_js)
    browser.selected = ["2813b7e6", "e17faea6…"]
    assert browser.selected == ["2813b7e6-c511-43ac-a16a-1a54a5b884b2", "e17faea6-0665-4c3e-9fc0-607d5f233ed4"]
    assert browser.mode == "compare"
    with pytest.raises(KeyError, match=r"'db22ea7e' is ambiguous: it starts 2 jobs' ids: 'db22ea7e-0000', "
                                       r"'db22ea7e-1895-4309-92d9-9ac881b1b117'"):
        browser.selected = ["db22ea7e"]
    with pytest.raises(KeyError, match="no job with id"):
        browser.selected = ["ffffffff"]


def test_compare_pane_prints_enough_digits_to_tell_values_apart():
    def doc(job_id, loss):
        return {"id": job_id, "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 1,
                "hyperparameters": {}, "checkpoints": [{"step_number": 1, "created_at": 1,
                                                         "metrics": {"valid_loss": loss}}]}

    js = ftkit.read_jobs(msgspec.json.encode([doc("a", 0.81234), doc("b", 0.81231)]))
    pane = compare_html(js, ["a", "b"])
    assert "<td>0.81234</td><td>0.81231</td>" in pane
    browser = JobBrowser(js)
    assert "0.81234" in repr(browser) and "0.81231" in repr(browser)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # matplotlib's log scale near 1e308
def test_losses_near_the_float_limits_draw_in_the_detail_pane_as_in_plot_job():
    doc = {"id": "huge", "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 9, "hyperparameters": {},
           "checkpoints": [{"step_number": s, "created_at": s, "metrics": {"train_loss": tr, "valid_loss": va}}
                           for s, tr, va in [(1, 1.7e308, 1e-308), (2, 1e308, 5e-324), (3, 1.0, 0.5)]]}
    js = ftkit.read_jobs(msgspec.json.encode(doc))
    browser = JobBrowser(js)
    browser.selected = ["huge"]  # raised "arange: cannot compute length" before
    assert browser.plot_png.startswith(PNG)
    plot = browser._detail_plot
    assert plot.axes.get_yscale() == "log"
    from ftkit import plot as fp

    fig = fp.plot_job(js)
    assert plot.valid.get_ydata().tolist() == [1e-308, 5e-324, 0.5]
    assert fig.axes[0].get_yscale() == plot.axes.get_yscale()
    assert plot.best.get_ydata().tolist() == [5e-324]

"""Tests of ftkit.plot: the artists drawn (line data, markers, labels, legends, colours)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import ftkit  # noqa: E402
from ftkit import plot as fp  # noqa: E402
from ftkit.plot.common import STATUS_ORDER, short_ids  # noqa: E402
from ftkit.plot.curves import curves_of  # noqa: E402

REAL = Path(__file__).resolve().parent / "data" / "real"
PLATFORMDOCS_2 = "2813b7e6-c511-43ac-a16a-1a54a5b884b2"
PIXTRAL_1 = "7ddb123c-a827-436a-bacf-882161a16970"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.figure().add_subplot()


# --- data ------------------------------------------------------------------------------


def job(
    job_id: str,
    *,
    losses: list[tuple[int, float | None, float | None]] = (),
    status: str = "SUCCESS",
    created_at: int = 1_700_000_000,
    events: list[tuple[int, str]] | None = None,
    **fields,
) -> dict:
    """A job dict; ``losses`` are (step, train_loss, valid_loss), written newest first."""
    doc = {
        "id": job_id,
        "model": "open-mistral-7b",
        "status": status,
        "created_at": created_at,
        "modified_at": created_at + 600,
        "hyperparameters": {"training_steps": 100, "learning_rate": 0.0001},
    }
    if losses:
        doc["checkpoints"] = [
            {
                "step_number": step,
                "created_at": created_at + 60 + step,
                "metrics": {"train_loss": train, "valid_loss": valid},
            }
            for step, train, valid in reversed(list(losses))
        ]
    if events is not None:
        doc["events"] = [
            {"name": "status-updated", "created_at": created_at + t, "data": {"status": s}} for t, s in events
        ]
    doc.update(fields)
    return doc


def read(*docs: dict) -> ftkit.JobSet:
    return ftkit.read_jobs([json.dumps(d).encode() for d in docs])


def real(*names: str) -> ftkit.JobSet:
    return ftkit.read_jobs([REAL / name for name in names])


def raw_checkpoints(name: str) -> list[dict]:
    return json.loads((REAL / name).read_bytes())["checkpoints"]


def gids(ax, prefix: str) -> list:
    return [line for line in ax.lines if (line.get_gid() or "").startswith(prefix)]


def no_data(ax) -> bool:
    return any(t.get_text() == "no data" for t in ax.texts)


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


MINIMAL = {"id": "bare", "model": "m", "status": "QUEUED", "created_at": 0, "modified_at": 0, "hyperparameters": {}}

AXES_LEVEL = {
    "loss_curves": lambda js, ax: fp.plot_loss_curves(js, ax=ax),
    "loss_curves_tokens": lambda js, ax: fp.plot_loss_curves(js, x="tokens_seen", hue="model", smooth=3, ax=ax),
    "effect": lambda js, ax: fp.plot_effect(js, param="learning_rate", ax=ax),
    "cost_quality": lambda js, ax: fp.plot_cost_quality(js, ax=ax),
    "timeline": lambda js, ax: fp.plot_timeline(js, ax=ax),
    "status_counts": lambda js, ax: fp.plot_status_counts(js, ax=ax),
}


# --- every function -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(AXES_LEVEL))
def test_returns_the_axes_it_was_given(name, ax):
    js = real("platformdocs-2.json", "cookbook-pixtral-1.json", "cookbook-classifier-intent-3.json")
    assert AXES_LEVEL[name](js, ax) is ax
    assert len(plt.get_fignums()) == 1


@pytest.mark.parametrize("name", sorted(AXES_LEVEL))
def test_draws_on_the_current_axes_by_default(name):
    js = real("platformdocs-2.json")
    current = plt.figure().add_subplot()
    assert AXES_LEVEL[name](js, None) is current


@pytest.mark.parametrize("name", sorted(AXES_LEVEL))
def test_empty_jobset_gives_a_no_data_note(name, ax):
    out = AXES_LEVEL[name](ftkit.JobSet(), ax)
    assert out is ax
    assert no_data(ax)
    assert not ax.lines and not ax.collections and not ax.patches


@pytest.mark.parametrize("name", ["loss_curves", "loss_curves_tokens", "effect", "cost_quality"])
def test_jobs_missing_every_optional_field_give_a_no_data_note(name, ax):
    js = read(MINIMAL, {**MINIMAL, "id": "bare-2", "checkpoints": []})
    assert AXES_LEVEL[name](js, ax) is ax
    assert no_data(ax)
    assert not ax.lines


def test_minimal_jobs_still_show_their_status_and_span(ax):
    js = read(MINIMAL)
    fp.plot_status_counts(js, ax=ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["QUEUED"]
    other = plt.figure().add_subplot()
    fp.plot_timeline(js, ax=other)
    assert [c.get_gid() for c in other.collections] == ["unknown:bare"]
    assert not no_data(other)


def test_plot_job_on_minimal_and_empty_input():
    fig = fp.plot_job(read(MINIMAL))
    assert isinstance(fig, Figure)
    loss, table, acc, timeline = fig.axes
    assert no_data(loss) and no_data(acc)
    empty = fp.plot_job(ftkit.JobSet())
    assert all(no_data(a) for a in empty.axes)


def test_import_ftkit_does_not_import_matplotlib():
    code = (
        "import sys, ftkit; assert 'matplotlib' not in sys.modules;"
        " assert ftkit.plot.plot_job; assert 'matplotlib' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "source",
    [
        lambda: REAL / "platformdocs-2.json",
        lambda: str(REAL / "platformdocs-2.json"),
        lambda: (REAL / "platformdocs-2.json").read_bytes(),
        lambda: list(ftkit.read_jobs(REAL / "platformdocs-2.json")),
        lambda: next(iter(ftkit.read_jobs(REAL / "platformdocs-2.json"))),
    ],
    ids=["path", "str", "bytes", "structs", "struct"],
)
def test_accepts_sources_and_structs(source, ax):
    fp.plot_loss_curves(source(), ax=ax)
    assert [line.get_gid() for line in gids(ax, "curve:")] == [f"curve:{PLATFORMDOCS_2}"]


# --- loss curves ----------------------------------------------------------------------------


def test_platformdocs_curve_and_best_step_marker(ax):
    checkpoints = sorted(raw_checkpoints("platformdocs-2.json"), key=lambda c: c["step_number"])
    fp.plot_loss_curves(real("platformdocs-2.json"), metric="valid_loss", ax=ax)
    (curve,) = gids(ax, "curve:")
    np.testing.assert_array_equal(curve.get_xdata(), [c["step_number"] for c in checkpoints])
    np.testing.assert_array_equal(curve.get_ydata(), [c["metrics"]["valid_loss"] for c in checkpoints])
    assert curve.get_marker() == "o"  # 10 checkpoints: sparse, each one marked
    best = min(checkpoints, key=lambda c: c["metrics"]["valid_loss"])
    (marker,) = gids(ax, "best:")
    assert marker.get_gid() == f"best:{PLATFORMDOCS_2}"
    assert marker.get_xydata().tolist() == [[100.0, best["metrics"]["valid_loss"]]]
    assert best["step_number"] == 100
    assert mcolors.to_hex(marker.get_markerfacecolor()) == mcolors.to_hex(curve.get_color())
    assert ax.get_xlabel() == "step"
    assert ax.get_ylabel() == "validation loss"
    assert ax.get_yscale() == "linear"  # 0.82..0.91 spans no decade
    assert legend_texts(ax) == ["2813b7e6…", "best checkpoint"]


def test_train_loss_best_marker_is_the_minimum(ax):
    fp.plot_loss_curves(real("platformdocs-2.json"), metric="train_loss", ax=ax)
    (marker,) = gids(ax, "best:")
    losses = {c["step_number"]: c["metrics"]["train_loss"] for c in raw_checkpoints("platformdocs-2.json")}
    step = min(losses, key=losses.get)
    assert marker.get_xydata().tolist() == [[step, losses[step]]]


def test_pixtral_placeholder_zeros_draw_no_valid_loss_line(ax):
    raw = raw_checkpoints("cookbook-pixtral-1.json")
    assert {c["metrics"]["valid_loss"] for c in raw} == {0.0}
    fp.plot_loss_curves(real("cookbook-pixtral-1.json", "platformdocs-2.json"), metric="valid_loss", ax=ax)
    assert [line.get_gid() for line in gids(ax, "curve:")] == [f"curve:{PLATFORMDOCS_2}"]
    assert all((line.get_ydata() > 0).all() for line in ax.lines)

    alone = plt.figure().add_subplot()
    fp.plot_loss_curves(real("cookbook-pixtral-1.json"), metric="valid_loss", ax=alone)
    assert no_data(alone) and not alone.lines


def test_lone_zero_valid_loss_is_not_drawn(ax):
    # A 0.0 valid_loss beside a real accuracy is kept by the frame; the plot leaves it out.
    js = read(
        job(
            "z",
            checkpoints=[
                {"step_number": 2, "created_at": 2, "metrics": {"valid_loss": 0.0, "valid_mean_token_accuracy": 1.2}},
                {"step_number": 1, "created_at": 1, "metrics": {"valid_loss": 0.5, "valid_mean_token_accuracy": 1.1}},
            ],
        )
    )
    fp.plot_loss_curves(js, ax=ax)
    (curve,) = gids(ax, "curve:")
    assert curve.get_xydata().tolist() == [[1.0, 0.5]]


def test_pixtral_train_loss_is_dense_and_log_scaled(ax):
    fp.plot_loss_curves(real("cookbook-pixtral-1.json"), metric="train_loss", ax=ax)
    (curve,) = gids(ax, "curve:")
    assert len(curve.get_xdata()) == 69
    assert curve.get_marker() in (None, "None", "")
    assert ax.get_yscale() == "log"  # 1.3 down to 0.006
    other = plt.figure().add_subplot()
    fp.plot_loss_curves(real("cookbook-pixtral-1.json"), metric="train_loss", log=False, ax=other)
    assert other.get_yscale() == "linear"


def test_x_axes_with_units(ax):
    js = real("cookbook-pixtral-1.json")
    fp.plot_loss_curves(js, metric="train_loss", x="tokens_seen", ax=ax)
    (curve,) = gids(ax, "curve:")
    np.testing.assert_allclose(curve.get_xdata(), np.arange(1, 70) * 129528)
    assert ax.get_xlabel() == "tokens seen"
    assert ax.xaxis.get_major_formatter().format_data(2_000_000) == "2M"

    ax_epoch = plt.figure().add_subplot()
    fp.plot_loss_curves(js, metric="train_loss", x="epoch", ax=ax_epoch)
    (curve,) = gids(ax_epoch, "curve:")
    np.testing.assert_allclose(curve.get_xdata(), np.arange(1, 70) * 129528 / 4468728)
    assert ax_epoch.get_xlabel() == "epoch"

    ax_time = plt.figure().add_subplot()
    fp.plot_loss_curves(js, metric="train_loss", x="elapsed_s", ax=ax_time)
    (curve,) = gids(ax_time, "curve:")
    assert ax_time.get_xlabel() == "elapsed (min)"
    # From the RUNNING event (06:39:05) to the first checkpoint (06:39:51) and the last.
    first = min(raw_checkpoints("cookbook-pixtral-1.json"), key=lambda c: c["step_number"])
    running = [e for e in json.loads((REAL / "cookbook-pixtral-1.json").read_bytes())["events"]
               if e["data"]["status"] == "RUNNING"][0]
    assert curve.get_xdata()[0] == pytest.approx((first["created_at"] - running["created_at"]) / 60)


def test_jobs_lacking_an_axis_are_left_out(ax):
    # platformdocs-2 has no token counts: nothing to draw on tokens_seen.
    fp.plot_loss_curves(real("platformdocs-2.json"), x="tokens_seen", ax=ax)
    assert no_data(ax)


def test_bad_arguments_raise_clear_errors(ax):
    js = real("platformdocs-2.json")
    with pytest.raises(ValueError, match="x must be one of"):
        fp.plot_loss_curves(js, x="time", ax=ax)
    with pytest.raises(ValueError, match="metric must be one of"):
        fp.plot_loss_curves(js, metric="loss", ax=ax)
    with pytest.raises(ValueError, match="hue must be a column"):
        fp.plot_loss_curves(js, hue="colour", ax=ax)
    with pytest.raises(ValueError, match="EMA weight"):
        fp.plot_loss_curves(js, smooth=1.5, ax=ax)
    with pytest.raises(ValueError, match="rolling window"):
        fp.plot_loss_curves(js, smooth=0, ax=ax)


def test_smoothing_ema_and_rolling(ax):
    js = read(job("s", losses=[(1, 1.0, None), (2, 0.0 + 0.5, None), (3, 0.25, None), (4, 0.75, None)]))
    fp.plot_loss_curves(js, metric="train_loss", smooth=0.5, ax=ax)
    (raw,) = gids(ax, "raw:")
    (curve,) = gids(ax, "curve:")
    assert raw.get_ydata().tolist() == [1.0, 0.5, 0.25, 0.75]
    assert raw.get_label().startswith("_")  # not in the legend
    assert curve.get_ydata().tolist() == [1.0, 0.75, 0.5, 0.625]
    # The best marker sits on the raw best checkpoint.
    assert gids(ax, "best:")[0].get_xydata().tolist() == [[3.0, 0.25]]

    rolling = plt.figure().add_subplot()
    fp.plot_loss_curves(js, metric="train_loss", smooth=2, ax=rolling)
    assert gids(rolling, "curve:")[0].get_ydata().tolist() == [1.0, 0.75, 0.375, 0.5]


def test_mark_best_false_draws_no_marker(ax):
    fp.plot_loss_curves(real("platformdocs-2.json"), mark_best=False, ax=ax)
    assert not gids(ax, "best:")
    assert "best checkpoint" not in legend_texts(ax)


def test_hue_draws_mean_and_spread_per_value(ax):
    js = read(
        job("a1", losses=[(10, None, 1.0), (20, None, 0.5)], hyperparameters={"learning_rate": 0.0001}),
        job("a2", losses=[(10, None, 0.8), (20, None, 0.3)], hyperparameters={"learning_rate": 0.0001}),
        job("b1", losses=[(10, None, 0.9), (20, None, 0.7)], hyperparameters={"learning_rate": 0.001}),
    )
    fp.plot_loss_curves(js, hue="learning_rate", by=None, ax=ax)
    lines = {line.get_gid(): line for line in gids(ax, "hue:")}
    assert sorted(lines) == ["hue:0.0001", "hue:0.001"]
    np.testing.assert_allclose(lines["hue:0.0001"].get_ydata(), [0.9, 0.4])
    np.testing.assert_allclose(lines["hue:0.001"].get_ydata(), [0.9, 0.7])
    bands = [c for c in ax.collections if (c.get_gid() or "").startswith("band:")]
    assert [c.get_gid() for c in bands] == ["band:0.0001"]  # one job: no spread to shade
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.3) and ys.max() == pytest.approx(1.0)
    assert legend_texts(ax) == ["0.0001 (n=2)", "0.001 (n=1)", "best checkpoint"]
    assert ax.get_legend().get_title().get_text() == "learning_rate"


def test_legend_stays_legible_with_twenty_jobs(ax):
    docs = [
        job(f"{i:02d}aaaaaa-0000-4000-8000-{i:012d}", losses=[(10, 1.0 + i, None), (20, 0.5 + i, None)],
            suffix="a-very-long-suffix-that-goes-on-and-on")
        for i in range(20)
    ]
    fp.plot_loss_curves(read(*docs), metric="train_loss", ax=ax)
    texts = legend_texts(ax)
    assert len(texts) == 21 and texts[-1] == "best checkpoint"
    assert all(len(t) <= 26 for t in texts)
    assert texts[0] == "00aaaaaa… a-very-long-suf…"
    legend = ax.get_legend()
    assert legend._ncols == 2
    # Outside the Axes, to the right.
    fig = ax.figure
    fig.canvas.draw()
    box = legend.get_window_extent().transformed(ax.transAxes.inverted())
    assert box.x0 > 1.0
    colors = {mcolors.to_hex(line.get_color()) for line in gids(ax, "curve:")}
    assert len(colors) == 20


def test_legend_is_left_out_beyond_thirty_jobs(ax):
    docs = [job(f"job-{i:03d}", losses=[(10, 1.0, None), (20, 0.5, None)]) for i in range(31)]
    fp.plot_loss_curves(read(*docs), metric="train_loss", ax=ax)
    assert ax.get_legend() is None
    assert any("31 curves" in t.get_text() for t in ax.texts)


def test_short_ids_stay_distinct():
    short = short_ids(["abcdefgh-1111", "abcdefgh-2222", "zz"])
    assert len(set(short.values())) == 3
    assert short["zz"] == "zz"


def test_ticks_do_not_overlap():
    ax = plt.figure(figsize=(6.4, 4.8)).add_subplot()
    fp.plot_loss_curves(real("cookbook-pixtral-1.json"), metric="train_loss", x="tokens_seen", ax=ax)
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
    boxes = [b for b in boxes if ax.bbox.x0 - 1 <= (b.x0 + b.x1) / 2 <= ax.bbox.x1 + 1]
    assert len(boxes) >= 3
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))


def test_fifty_jobs_draw_quickly(ax):
    import time

    docs = [
        job(f"job-{i:03d}", losses=[(s, 2.0 / s + i * 0.01, 2.1 / s if s % 10 == 0 else 0.0) for s in range(1, 201)])
        for i in range(50)
    ]
    js = read(*docs)
    js.checkpoints  # built once, as in a notebook
    start = time.perf_counter()
    fp.plot_loss_curves(js, metric="train_loss", ax=ax)
    elapsed = time.perf_counter() - start
    assert len(gids(ax, "curve:")) == 50
    assert elapsed < 3.0  # the benchmark holds it under 1 s; slack for shared CI cores


# --- effect and cost/quality ------------------------------------------------------------------------


def test_effect_numeric_param(ax):
    js = read(
        job("a", losses=[(1, None, 0.8), (2, None, 0.6)], hyperparameters={"learning_rate": 1e-5}),
        job("b", losses=[(1, None, 0.4)], hyperparameters={"learning_rate": 1e-5}),
        job("c", losses=[(1, None, 0.5)], hyperparameters={"learning_rate": 1e-3}),
        job("d", losses=[(1, 0.5, None)], hyperparameters={"learning_rate": 1e-4}),  # no valid loss
    )
    fp.plot_effect(js, param="learning_rate", metric="best_valid_loss", ax=ax)
    (scatter,) = [c for c in ax.collections if c.get_gid() == "jobs"]
    assert sorted(map(tuple, scatter.get_offsets().tolist())) == [(1e-5, 0.4), (1e-5, 0.6), (1e-3, 0.5)]
    (mean,) = gids(ax, "mean")
    np.testing.assert_allclose(mean.get_xydata(), [[1e-5, 0.5], [1e-3, 0.5]])
    assert ax.get_xscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("learning rate", "best validation loss")
    assert legend_texts(ax) == ["job (n=3)", "mean"]


def test_effect_categorical_param(ax):
    js = real("platformdocs-2.json", "cookbook-classifier-intent-3.json", "cookbook-sdk0x-4.json")
    fp.plot_effect(js, param="model", metric="best_valid_loss", by=None, ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ministral-3b-latest", "open-mistral-7b"]
    (mean,) = gids(ax, "mean")
    assert mean.get_linestyle() == "None"  # categories have no order to draw a line through
    assert ax.get_yscale() == "log"  # 0.0006 and 0.8: three decades


def test_effect_bins_a_parameter_with_many_values(ax):
    docs = [job(f"j{i}", losses=[(1, None, 1.0 / (i + 1))], hyperparameters={"learning_rate": (i + 1) * 1e-5})
            for i in range(12)]
    fp.plot_effect(read(*docs), param="learning_rate", ax=ax)
    (mean,) = gids(ax, "mean")
    xy = mean.get_xydata()
    segments = xy[~np.isnan(xy[:, 0])].reshape(-1, 2, 2)
    assert len(segments) == 4  # ftkit.analysis.effect's 4 quantile bins, one segment each
    assert segments[0, 0, 0] == pytest.approx(1e-5) and segments[-1, 1, 0] == pytest.approx(1.2e-4)
    assert all(seg[0, 1] == seg[1, 1] for seg in segments)  # flat at the bin's mean
    assert segments[0, 0, 1] == pytest.approx(np.mean([1, 1 / 2, 1 / 3]))


def test_effect_unknown_column_raises(ax):
    with pytest.raises(ValueError, match="param must be a column"):
        fp.plot_effect(real("platformdocs-2.json"), param="colour", ax=ax)


def test_cost_quality_front_and_currency(ax):
    def costed(job_id, cost, loss, currency="USD"):
        return job(job_id, losses=[(1, None, loss)], metadata={"cost": cost, "cost_currency": currency})

    js = read(
        costed("a", 1.0, 0.9),
        costed("b", 2.0, 0.7),
        costed("c", 3.0, 0.8),  # dominated by b
        costed("d", 4.0, 0.5),
        costed("e", 0.0, 0.1, None),  # placeholder cost written at creation: left out
    )
    fp.plot_cost_quality(js, ax=ax)
    (front,) = gids(ax, "pareto")
    assert front.get_xydata().tolist() == [[1.0, 0.9], [2.0, 0.7], [4.0, 0.5]]
    assert front.get_drawstyle() == "steps-post"
    (scatter,) = [c for c in ax.collections if c.get_gid() == "jobs"]
    assert len(scatter.get_offsets()) == 4
    assert {mcolors.to_hex(c) for c in scatter.get_facecolors()} == {fp.STATUS_COLORS["SUCCESS"]}
    assert ax.get_xlabel() == "cost (USD)"
    assert sorted(t.get_text() for t in ax.texts if t.get_gid() != "left-out") == ["a", "b", "d"]
    assert [t.get_text().replace("\n", " ") for t in ax.texts if t.get_gid() == "left-out"] == [
        "1 job left out (no cost or best validation loss): e"]
    assert legend_texts(ax) == ["SUCCESS", "Pareto front"]


def test_cost_quality_real_jobs_with_mixed_currencies(ax):
    js = real("cookbook-pixtral-1.json", "cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json")
    fp.plot_cost_quality(js, quality="final_train_loss", by=None, ax=ax)
    assert ax.get_xlabel() == "cost (EUR, USD: not converted)"
    scatters = {c.get_gid(): len(c.get_offsets()) for c in ax.collections}
    assert scatters == {"jobs:EUR": 1, "jobs:USD": 2}
    # Currencies are never compared: one front each.
    assert [line.get_label() for line in gids(ax, "pareto")] == ["Pareto front (EUR)", "Pareto front (USD)"]
    assert {"EUR", "USD"} <= set(legend_texts(ax))


# --- timeline and status counts ----------------------------------------------------------------------


def test_timeline_phases_from_events(ax):
    js = read(
        job("j", status="FAILED", events=[(0, "QUEUED"), (5, "VALIDATING"), (20, "VALIDATED"), (30, "RUNNING"),
                                          (100, "FAILED")]),
    )
    fp.plot_timeline(js, align=True, ax=ax)
    spans = [(c.get_gid(), *c.get_paths()[0].get_extents().intervalx) for c in ax.collections]
    assert spans == [("queued:j", 0, 5), ("validating:j", 5, 20), ("queued:j", 20, 30), ("running:j", 30, 100)]
    red = mcolors.to_rgba(fp.STATUS_COLORS["FAILED"])
    assert all(tuple(c.get_facecolor()[0][:3]) == red[:3] for c in ax.collections)
    assert ax.collections[-1].get_alpha() == 1.0 and ax.collections[0].get_alpha() < 1.0
    assert ax.collections[1].get_hatch()
    assert ax.get_xlabel() == "time since creation (s)"
    assert "FAILED" in legend_texts(ax) and {"queued", "validating", "running"} <= set(legend_texts(ax))


def test_timeline_real_jobs(ax):
    js = real("cookbook-pixtral-1.json", "platformdocs-2.json", "cookbook-sdk1-4.json")
    fp.plot_timeline(js, ax=ax)
    pixtral = {c.get_gid(): c.get_paths()[0].get_extents().intervalx for c in ax.collections
               if c.get_gid().endswith(PIXTRAL_1)}
    # 06:38:18 QUEUED, 06:38:20 VALIDATING, 06:39:04 VALIDATED, 06:39:05 RUNNING, 06:47:52 SUCCESS.
    assert set(pixtral) == {f"queued:{PIXTRAL_1}", f"validating:{PIXTRAL_1}", f"running:{PIXTRAL_1}"}
    validating = pixtral[f"validating:{PIXTRAL_1}"]
    running = pixtral[f"running:{PIXTRAL_1}"]
    # Jobs spread over months: aligned automatically, in minutes or hours.
    assert ax.get_xlabel().startswith("time since creation")
    scale = {"(s)": 1, "(min)": 60, "(h)": 3600, "(d)": 86400}[ax.get_xlabel().split()[-1]]
    # Bars are widened to stay visible; their starts are exact: VALIDATING, then RUNNING 45 s later.
    assert (running[0] - validating[0]) * scale == pytest.approx(45)
    # List-response jobs have no events: one dotted bar each.
    assert sum(c.get_gid().startswith("unknown:") for c in ax.collections) == 32
    assert len(ax.get_yticklabels()) <= 40


def test_timeline_on_a_shared_clock(ax):
    js = read(job("a", events=[(0, "QUEUED"), (10, "RUNNING"), (600, "SUCCESS")]),
              job("b", created_at=1_700_000_300, events=[(0, "QUEUED"), (60, "RUNNING"), (600, "SUCCESS")]))
    fp.plot_timeline(js, ax=ax)
    assert ax.get_xlabel() == "time (UTC)"
    ticks = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]), reverse=True)
    assert [label for _, label in ticks] == ["a", "b"]  # oldest at the top


def test_status_counts(ax):
    js = real("cookbook-sdk1-4.json")
    fp.plot_status_counts(js, ax=ax)
    expected = {}
    for doc in json.loads((REAL / "cookbook-sdk1-4.json").read_bytes())["data"]:
        expected[doc["status"]] = expected.get(doc["status"], 0) + 1
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = [int(p.get_width()) for p in ax.patches]
    assert dict(zip(labels, widths)) == expected
    order = [s for s in STATUS_ORDER if s in expected]
    assert labels == order
    assert [mcolors.to_hex(p.get_facecolor()) for p in ax.patches] == [fp.STATUS_COLORS[s] for s in order]
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(n) for n in expected.values())
    assert ax.get_xlabel() == "jobs"


# --- plot_job ------------------------------------------------------------------------------------------


def test_plot_job_platformdocs():
    js = real("platformdocs-2.json")
    fig = fp.plot_job(js[PLATFORMDOCS_2])
    assert isinstance(fig, Figure)
    loss, table, acc, timeline = fig.axes
    assert fig.get_suptitle() == f"{PLATFORMDOCS_2} · open-mistral-7b · SUCCESS"
    assert [line.get_label() for line in gids(loss, "curve:")] == ["training loss", "validation loss"]
    (best,) = gids(loss, "best:")
    assert best.get_xydata().tolist()[0][0] == 100
    assert len(gids(acc, "curve:")[0].get_xdata()) == 10
    cells = [c.get_text().get_text() for c in table.tables[0].get_celld().values()]
    assert "learning rate" in cells and "0.0001" in cells
    assert [c.get_gid() for c in timeline.collections] == [f"queued:{PLATFORMDOCS_2}", f"running:{PLATFORMDOCS_2}"]


def test_plot_job_pixtral_without_validation():
    fig = fp.plot_job(real("cookbook-pixtral-1.json"))
    loss, table, acc, timeline = fig.axes
    assert [line.get_label() for line in gids(loss, "curve:")] == ["training loss"]
    assert all((line.get_ydata() > 0).all() for line in loss.lines)
    assert no_data(acc)
    cells = [c.get_text().get_text() for c in table.tables[0].get_celld().values()]
    assert "17.88 USD" in cells


def test_plot_job_rejects_several_jobs():
    with pytest.raises(ValueError, match="one job"):
        fp.plot_job(real("platformdocs-2.json", "cookbook-pixtral-1.json"))


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.json") if not p.name.startswith("openai-")))
def test_every_real_document_plots(name):
    js = real(name)
    fig, axes = plt.subplots(2, 3)
    for (key, draw), ax in zip(sorted(AXES_LEVEL.items()), axes.flat):
        assert draw(js, ax) is ax, key
    for job_struct in js:
        fig = fp.plot_job(job_struct)
        assert isinstance(fig, Figure)
        plt.close(fig)


def test_dollar_signs_in_job_text_are_drawn_as_written_not_as_maths() -> None:
    # A suffix (or status, currency) with $...$ is not maths: invalid markup like $\x$
    # used to raise when the figure was drawn.
    def job(job_id: str, suffix: str, status: str) -> dict:
        return {
            "id": job_id, "model": "m$x$", "status": status, "created_at": 1717200000, "modified_at": 1717200100,
            "hyperparameters": {"learning_rate": 1e-4 if job_id == "a" else 4e-5}, "suffix": suffix,
            "metadata": {"cost": 1.0, "cost_currency": "US$"},
            "events": [{"name": "status-updated", "created_at": 1717200000, "data": {"status": "QUEUED"}},
                       {"name": "status-updated", "created_at": 1717200100, "data": {"status": status}}],
            "checkpoints": [{"step_number": 1, "created_at": 1717200010, "metrics": {"train_loss": 1.0, "valid_loss": 0.9}}],
        }

    js = ftkit.read_jobs(json.dumps([job("a", r"run$\x$", "SUCCESS"), job("b$", "s$1$", r"ODD$\y$")]).encode())
    for draw in (fp.plot_loss_curves, fp.plot_timeline, fp.plot_status_counts, fp.plot_cost_quality):
        fig, ax = plt.subplots()
        draw(js, ax=ax)
        fig.canvas.draw()  # raised ParseFatalException before
    fig, ax = plt.subplots()
    fp.plot_loss_curves(js, ax=ax)
    fig.canvas.draw()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:2] == [r"a run\$\x\$", r"b\$ s\$1\$"]  # escaped: matplotlib shows "run$\x$"
    fp.plot_job(js["b$"]).canvas.draw()


# --- groups: never pool, join or rank what is not comparable ------------------------------------

CLASSIFIERS = ("cookbook-classifier-intent-3.json", "cookbook-classifier-intent-4.json")  # lr 4e-05, loss ~6e-4


def mixed() -> ftkit.JobSet:
    """Two real classifiers, the real completion job of the docs, and synthetic completion jobs."""
    synthetic = read(
        job("c-4e5", losses=[(10, 1.0, 0.9), (20, 0.8, 0.7)], hyperparameters={"learning_rate": 4e-5}),
        job("c-1e4", losses=[(10, 1.0, 0.95), (30, 0.7, 0.6)], hyperparameters={"learning_rate": 1e-4}),
    )
    return ftkit.JobSet([*real(*CLASSIFIERS, "platformdocs-2.json"), *synthetic])


def note(ax) -> str:
    notes = [t.get_text().replace("\n", " ") for t in ax.texts if t.get_gid() == "left-out"]  # wrapped at spaces
    assert len(notes) <= 1
    return notes[0] if notes else ""


def test_plot_effect_draws_one_series_and_mean_per_job_type(ax):
    js = mixed()
    out = fp.plot_effect(js, "learning_rate", ax=ax)  # param as the second positional argument
    assert out is ax
    means = {line.get_gid(): line.get_xydata().tolist() for line in gids(ax, "mean")}
    # Before, one "mean" line ran from the classifiers at 4e-05 to the completion jobs at 1e-04.
    assert means == {
        "mean:classifier": [[4e-5, pytest.approx((0.000625 + 0.000641) / 2)]],
        "mean:completion": [[4e-5, 0.7], [1e-4, pytest.approx((0.6 + 0.819697) / 2)]],
    }
    scatters = {c.get_gid(): sorted(map(tuple, c.get_offsets().tolist())) for c in ax.collections}
    assert scatters["jobs:classifier"] == [(4e-5, 0.000625), (4e-5, 0.000641)]
    assert len(scatters["jobs:completion"]) == 3
    assert legend_texts(ax) == ["classifier (n=2)", "completion (n=3)"]
    assert ax.get_legend().get_title().get_text() == "job_type (line: mean)"
    assert ax.get_yscale() == "log"


def test_plot_effect_one_group_is_its_title_and_by_none_pools(ax):
    fp.plot_effect(read(job("a", losses=[(1, None, 0.5)]), job("b", losses=[(1, None, 0.7)])), "learning_rate", ax=ax)
    assert ax.get_title(loc="left") == "completion"
    assert legend_texts(ax) == ["job (n=2)", "mean"]
    fig, ax2 = plt.subplots()
    fp.plot_effect(mixed(), "learning_rate", by=None, ax=ax2)
    (mean,) = gids(ax2, "mean")
    assert mean.get_xydata()[:, 0].tolist() == [4e-5, 1e-4]  # pooled on purpose


def test_plot_effect_names_the_jobs_it_leaves_out(ax):
    js = ftkit.JobSet([*mixed(), *real("cookbook-pixtral-1.json")])  # pixtral: no validation loss
    fp.plot_effect(js, "learning_rate", ax=ax)
    assert note(ax) == "1 job left out (no learning rate or best validation loss): 7ddb123c…"


def hue_segments(ax) -> list[tuple[str, float, float]]:
    """Every segment drawn by the hue series: (gid, x0, x1)."""
    out = []
    for line in gids(ax, "hue:"):
        xy = line.get_xydata()
        for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
            if not (np.isnan(y0) or np.isnan(y1) or np.isnan(x0) or np.isnan(x1)):
                out.append((line.get_gid(), x0, x1))
    return out


def test_loss_curve_segments_never_join_two_jobs():
    js = ftkit.JobSet([
        *real(*CLASSIFIERS),  # one point each, at 6.6M and 13.4M tokens
        *read(
            job("early", losses=[(10, None, 0.9), (20, None, 0.8)], hyperparameters={"learning_rate": 1e-4}),
            job("late", losses=[(30, None, 0.7), (40, None, 0.6)], hyperparameters={"learning_rate": 1e-4}),
            job("wide", losses=[(10, None, 1.0), (25, None, 0.5), (40, None, 0.4)],
                hyperparameters={"learning_rate": 2e-4}),
            job("short", losses=[(10, None, 0.8), (20, None, 0.6)], hyperparameters={"learning_rate": 2e-4}),
        ),
    ])
    ranges = {job_id: (xs[0], xs[-1]) for job_id, xs, _ in curves_of(js, "valid_loss", "step")}
    fig, ax = plt.subplots()
    fp.plot_loss_curves(js, hue="learning_rate", ax=ax)
    members = {"hue:completion|0.0001": ["early", "late"], "hue:completion|0.0002": ["wide", "short"]}
    segments = hue_segments(ax)
    assert {gid for gid, _, _ in segments} == set(members)
    for gid, x0, x1 in segments:  # some job of the series covers both ends of every segment
        assert any(ranges[j][0] <= x0 and x1 <= ranges[j][1] for j in members[gid]), (gid, x0, x1)
    # early (10-20) and late (30-40) never meet: the mean breaks between 20 and 30
    (split,) = [line for line in gids(ax, "hue:completion|0.0001")]
    assert np.isnan(split.get_ydata()).sum() == 1
    # wide and short share 10-20: the mean there is of both, beyond it wide alone
    (both,) = [line for line in gids(ax, "hue:completion|0.0002")]
    wide_at_20 = 1.0 - 0.5 * 10 / 15
    np.testing.assert_allclose(both.get_xydata(), [[10, 0.9], [20, (wide_at_20 + 0.6) / 2], [25, 0.5], [40, 0.4]])
    # the members stay visible, each its own job's points
    for line in gids(ax, "member:"):
        job_id = line.get_gid().split(":", 1)[1]
        (own,) = [(xs, ys) for j, xs, ys in curves_of(js, "valid_loss", "step") if j == job_id]
        np.testing.assert_array_equal(line.get_xydata(), np.column_stack(own))
    assert {line.get_gid() for line in gids(ax, "member:")} >= {"member:early", "member:late", "member:short",
                                                                "member:wide"}
    # tokens_seen: the two classifiers of 4e-05 measured at different token counts. Before,
    # their "mean" was one segment from one job's point to the other's.
    fig, ax = plt.subplots()
    fp.plot_loss_curves(js, hue="learning_rate", x="tokens_seen", ax=ax)
    assert hue_segments(ax) == []
    (line,) = gids(ax, "hue:classifier|4e-05")
    assert np.isnan(line.get_ydata()).sum() == 1
    assert sorted(y for y in line.get_ydata() if not np.isnan(y)) == [0.000625, 0.000641]


def test_loss_curves_hue_keeps_job_types_apart_and_one_job_draws_its_own_curve(ax):
    js = mixed()
    fp.plot_loss_curves(js, hue="learning_rate", ax=ax)
    lines = {line.get_gid(): line for line in gids(ax, "hue:")}
    assert sorted(lines) == ["hue:classifier|4e-05", "hue:completion|0.0001", "hue:completion|4e-05"]
    # a group of one job: exactly that job's points
    assert lines["hue:completion|4e-05"].get_xydata().tolist() == [[10.0, 0.9], [20.0, 0.7]]
    assert legend_texts(ax)[:3] == ["classifier · 4e-05 (n=2)", "completion · 4e-05 (n=1)",
                                    "completion · 0.0001 (n=2)"]
    assert ax.get_legend().get_title().get_text() == "job_type · learning_rate"
    assert lines["hue:classifier|4e-05"].get_linestyle() != lines["hue:completion|4e-05"].get_linestyle()
    fig, ax2 = plt.subplots()
    fp.plot_loss_curves(js, hue="learning_rate", by=None, ax=ax2)
    assert sorted(line.get_gid() for line in gids(ax2, "hue:")) == ["hue:0.0001", "hue:4e-05"]


def test_loss_curves_name_the_jobs_they_leave_out(ax):
    js = ftkit.JobSet([*real("platformdocs-2.json", "cookbook-pixtral-1.json", "cookbook-sdk0x-1.json")])
    fp.plot_loss_curves(js, ax=ax)
    assert note(ax) == "2 jobs left out (no validation loss): 7ddb123c…, " + js.ids[2][:8] + "…"
    fig, ax2 = plt.subplots()
    fp.plot_loss_curves(js, x="tokens_seen", metric="train_loss", ax=ax2)
    assert note(ax2).startswith("2 jobs left out (no training loss by tokens seen): 2813b7e6…")


def test_cost_quality_has_a_front_per_job_type(ax):
    js = ftkit.JobSet([
        *real("cookbook-classifier-intent-3.json"),  # 3.28 EUR, 0.000625
        *read(job("a", losses=[(1, None, 0.9)], metadata={"cost": 1.0, "cost_currency": "EUR"}),
              job("b", losses=[(1, None, 0.7)], metadata={"cost": 4.0, "cost_currency": "EUR"})),
    ])
    fp.plot_cost_quality(js, ax=ax)
    fronts = {line.get_gid(): line.get_xydata().tolist() for line in gids(ax, "pareto")}
    # Pooled, the classifier's tiny loss put job b off the front.
    assert fronts == {"pareto:classifier · EUR": [[3.28, 0.000625]],
                      "pareto:completion · EUR": [[1.0, 0.9], [4.0, 0.7]]}
    assert {c.get_gid() for c in ax.collections} == {"jobs:classifier · EUR", "jobs:completion · EUR"}


def test_timeline_limit_keeps_the_most_recent_jobs_and_says_how_many_it_left_out(ax):
    docs = [job(f"job-{i:03d}", created_at=1_700_000_000 + 3600 * i, events=[(0, "QUEUED"), (60, "SUCCESS")])
            for i in range(45)]
    fp.plot_timeline(read(*docs), ax=ax)
    drawn = {c.get_gid().split(":", 1)[1] for c in ax.collections}
    assert drawn == {f"job-{i:03d}" for i in range(5, 45)}
    assert note(ax) == "the 40 most recent of 45 jobs: 5 older jobs left out (limit=40)"
    fig, ax2 = plt.subplots()
    fp.plot_timeline(read(*docs), limit=None, ax=ax2)
    assert len({c.get_gid() for c in ax2.collections}) == 45 and note(ax2) == ""
    with pytest.raises(ValueError, match="limit must be a positive number"):
        fp.plot_timeline(read(*docs), limit=0, ax=ax2)


def test_plot_job_takes_a_short_id_and_draws_the_currency_as_written():
    js = ftkit.JobSet([*real("platformdocs-2.json"), *read(job("priced", metadata={"cost": 2.0,
                                                                                  "cost_currency": r"$\frac{"}))])
    fig = fp.plot_job(js, "2813b7e6")
    assert fig.get_suptitle().startswith(PLATFORMDOCS_2)
    fig = fp.plot_job(js, "priced")
    fig.canvas.draw()  # raised on the currency's $...$ before
    cells = [c.get_text().get_text() for c in fig.axes[1].tables[0].get_celld().values()]
    assert r"2 \$\frac{" in cells
    with pytest.raises(KeyError, match="no job with id"):
        fp.plot_job(js, "ffffffff")

"""The default grouping separates providers in mixed sets; an explicit by= is kept exactly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit import plot, synth
from ftkit.analysis.inputs import DEFAULT_BY, resolve_by
from ftkit.report import render_report
from ftkit.summary import best_jobs, summary_text


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mixed() -> ftkit.JobSet:
    # 12 Mistral completion jobs and 6 OpenAI ones (all "completion": the default
    # by="job_type" alone would pool them)
    return ftkit.read_jobs([synth.make_jobs_bytes(12, seed=1), synth.make_openai_jobs_bytes(6, seed=1)])


def _with_provider(frame: pl.DataFrame, provider: str) -> pl.DataFrame:
    return frame.select(pl.lit(provider).alias("provider"), pl.all())


def test_resolve_by_adds_provider_only_where_several() -> None:
    mistral = ftkit.read_jobs(synth.make_jobs_bytes(4, seed=0))
    assert resolve_by(DEFAULT_BY, mistral) == "job_type"
    mixed = ftkit.read_jobs([synth.make_jobs_bytes(2, seed=0), synth.make_openai_jobs_bytes(2, seed=0)])
    assert resolve_by(DEFAULT_BY, mixed) == ["provider", "job_type"]
    assert resolve_by("job_type", mixed) == "job_type"
    assert resolve_by(None, mixed) is None
    assert resolve_by(DEFAULT_BY, mixed, others=["provider"]) == "job_type"


def test_effect_separates_providers_by_default(mixed: ftkit.JobSet) -> None:
    got = ftkit.effect(mixed, "status")
    assert got.select("provider", "job_type", "status", "n_jobs", "count").rows() == [
        ("mistral", "completion", "CANCELLED", 1, 1),
        ("mistral", "completion", "FAILED", 2, 1),
        ("mistral", "completion", "SUCCESS", 9, 7),
        ("openai", "completion", "SUCCESS", 4, 2),
        ("openai", "completion", "VALIDATING", 2, 0),
    ]
    # each provider's rows are what its own jobs give alone
    expected = pl.concat(
        [_with_provider(ftkit.effect(mixed.filter(provider=p), "status"), p) for p in ("mistral", "openai")]
    )
    assert_frame_equal(got, expected)


def test_an_explicit_by_is_kept_exactly(mixed: ftkit.JobSet) -> None:
    pooled = ftkit.effect(mixed, "status", by="job_type")
    assert pooled.columns[:2] == ["job_type", "status"]
    assert pooled.select("status", "n_jobs", "count").rows() == [
        ("CANCELLED", 1, 1),
        ("FAILED", 2, 1),
        ("SUCCESS", 13, 9),
        ("VALIDATING", 2, 0),
    ]
    assert ftkit.effect(mixed, "status", by=None).columns[0] == "status"
    assert ftkit.effect(mixed, "status", by="provider").columns[:2] == ["provider", "status"]


def test_single_provider_frames_do_not_change() -> None:
    js = ftkit.read_jobs(synth.make_jobs_bytes(12, seed=1))
    assert_frame_equal(ftkit.effect(js, "status"), ftkit.effect(js, "status", by="job_type"))
    assert_frame_equal(ftkit.pareto(js), ftkit.pareto(js, by="job_type"))


def test_pareto_has_one_front_per_provider(mixed: ftkit.JobSet) -> None:
    got = ftkit.pareto(mixed, cost="trained_tokens")
    assert got.columns == ["job_id", "provider", "job_type", "trained_tokens", "best_valid_loss"]
    expected = pl.concat(
        [
            _with_provider(ftkit.pareto(mixed.filter(provider=p), cost="trained_tokens"), p)
            .select(got.columns)
            for p in ("mistral", "openai")
        ]
    )
    assert_frame_equal(got, expected)
    assert got.group_by("provider").len().sort("provider").rows() == [("mistral", 4), ("openai", 2)]
    # pooled on purpose, the OpenAI jobs (cheaper in tokens, worse in loss) join Mistral's front
    pooled = ftkit.pareto(mixed, cost="trained_tokens", by="job_type")
    assert "provider" not in pooled.columns


def test_plot_effect_draws_each_provider_apart(mixed: ftkit.JobSet) -> None:
    ax = plot.plot_effect(mixed, "status")
    gids = {artist.get_gid() for artist in ax.get_children() if artist.get_gid()}
    assert {"mean:mistral · completion", "mean:openai · completion"} <= gids
    assert ax.get_legend().get_title().get_text().startswith("provider · job_type")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "mistral · completion (n=9)",
        "openai · completion (n=2)",
    ]
    _, ax2 = plt.subplots()
    plot.plot_effect(mixed, "status", by="job_type", ax=ax2)
    gids = {artist.get_gid() for artist in ax2.get_children() if artist.get_gid()}
    assert "mean" in gids and not any(g.startswith("mean:") for g in gids)


def test_report_ranks_each_provider_apart(mixed: ftkit.JobSet) -> None:
    best = best_jobs(mixed, top=2)
    assert best.select("provider", "job_type").rows() == [("mistral", "completion")] * 2 + [("openai", "completion")] * 2
    html = render_report(mixed)
    assert "mistral · completion" in html and "openai · completion" in html
    text = summary_text(mixed, top=2)
    assert "successful mistral · completion jobs" in text
    assert "successful openai · completion jobs" in text
    # a single-provider report keeps its groups by type only
    single = render_report(mixed.filter(provider="mistral"))
    assert "mistral · completion" not in single

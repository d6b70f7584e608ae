"""The analyses on LazyFrames (ftkit.scan_tables): LazyFrames out, equal to the in-memory frames."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample-jobs.ndjson.gz"

ANALYSES = {
    "checkpoint_summary": lambda j: ftkit.checkpoint_summary(j),
    "checkpoint_summary-accuracy": lambda j: ftkit.checkpoint_summary(j, metric="valid_mean_token_accuracy"),
    "checkpoint_summary-train-max": lambda j: ftkit.checkpoint_summary(j, metric="train_loss", mode="max"),
    "compare_hyperparameters": lambda j: ftkit.compare_hyperparameters(j),
    "compare_hyperparameters-all": lambda j: ftkit.compare_hyperparameters(j, varying_only=False),
    "token_usage": lambda j: ftkit.token_usage(j),
    "token_usage_totals": lambda j: ftkit.token_usage_totals(j),
    "lifecycle": lambda j: ftkit.lifecycle(j),
    "effect-learning_rate": lambda j: ftkit.effect(j, "learning_rate"),
    "effect-learning_rate-binned": lambda j: ftkit.effect(j, "learning_rate", bins=3, by=None),
    "effect-model-by-provider": lambda j: ftkit.effect(j, "model", metric="total_s", by="provider"),
    "effect-n_epochs": lambda j: ftkit.effect(j, "n_epochs", metric="trained_tokens", by=["job_type", "model"]),
    "effect-epochs_realised-cost": lambda j: ftkit.effect(
        j, "epochs_realised", metric="cost", by=["job_type", "cost_currency"]
    ),
    "pareto": lambda j: ftkit.pareto(j),
    "pareto-accuracy-by-none": lambda j: ftkit.pareto(j, quality="best_valid_mean_token_accuracy", by=None),
    "pareto-total_s-by-model": lambda j: ftkit.pareto(j, cost="total_s", quality="best_train_loss", by="model"),
}


@pytest.fixture(scope="module", params=["sample", "real", "real-mixed"])
def case(request, tmp_path_factory, mistral_paths, real_dir):
    """(JobSet, Tables) of the sample, the real Mistral documents, or all the real ones
    (Mistral and OpenAI: the comparisons group by provider); in several files."""
    sources = {"sample": SAMPLE, "real": mistral_paths, "real-mixed": sorted(real_dir.glob("*.json"))}
    js = ftkit.read_jobs(sources[request.param])
    out = tmp_path_factory.mktemp("lazy") / request.param
    ftkit.convert_jobs(js, out, batch_size=40)
    return js, ftkit.scan_tables(out)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_lazy_equals_in_memory(case, name):
    js, tables = case
    lazy = ANALYSES[name](tables)
    assert isinstance(lazy, pl.LazyFrame)
    eager = ANALYSES[name](js)
    assert isinstance(eager, pl.DataFrame)
    assert_frame_equal(lazy.collect(engine="streaming"), eager)
    assert_frame_equal(lazy.collect(), eager)


def test_a_dict_of_lazyframes_works_and_missing_tables_are_named():
    js = ftkit.read_jobs(SAMPLE)
    frames = {"jobs": js.jobs.lazy(), "checkpoints": js.checkpoints.lazy()}
    assert_frame_equal(ftkit.checkpoint_summary(frames).collect(), ftkit.checkpoint_summary(js))
    with pytest.raises(ValueError, match="the lazy tables given have no 'events' LazyFrame"):
        ftkit.lifecycle(frames)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda j: ftkit.effect(j, "model", metric="cost", by=None),
            r"effect: metric 'cost' mixes currencies \(EUR, USD\)",
        ),
        (lambda j: ftkit.effect(j, "learning_rate", metric="model"), "effect: metric 'model' must be numeric"),
        (lambda j: ftkit.pareto(j, cost="nope"), "pareto: no column 'nope'"),
    ],
)
def test_lazy_inputs_give_the_same_errors_before_anything_is_returned(case, call, message):
    js, tables = case
    if "mixes currencies" in message and ftkit.token_usage(js)["cost_currency"].drop_nulls().n_unique() < 2:
        pytest.skip("these documents have one currency or none")
    for jobs in (js, tables):
        with pytest.raises(ValueError, match=message):
            call(jobs)

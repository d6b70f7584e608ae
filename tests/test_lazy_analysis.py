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
}


@pytest.fixture(scope="module", params=["sample", "real"])
def case(request, tmp_path_factory, mistral_paths):
    """(JobSet, Tables) of the sample or the real documents; the dataset in several files."""
    js = ftkit.read_jobs(SAMPLE if request.param == "sample" else mistral_paths)
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

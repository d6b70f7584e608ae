"""Tests of ftkit.analysis: whole frames against literal expected frames."""

from __future__ import annotations

from pathlib import Path

import msgspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ftkit
from ftkit.analysis import (
    FLAGS_SCHEMA,
    LIFECYCLE_SCHEMA,
    SUMMARY_SCHEMA,
    TOKEN_USAGE_SCHEMA,
    as_jobset,
    checkpoint_summary,
    checkpoints_with_axes,
    compare_hyperparameters,
    effect,
    lifecycle,
    metric_flags,
    pareto,
    token_usage,
    token_usage_totals,
)
from ftkit.frames import CHECKPOINTS_SCHEMA

REAL = Path(__file__).resolve().parent / "data" / "real"

DOCS = "2813b7e6-c511-43ac-a16a-1a54a5b884b2"  # platformdocs-2: 10 checkpoints, newest first
INTENT = "db22ea7e-1895-4309-92d9-9ac881b1b117"  # classifier with 0.0 placeholders
PIXTRAL = "9def64f2-fc63-435c-80ee-c3fac35dff8b"  # no validation file: every checkpoint 0.0
SDK0X = "63be4026-cb98-4dc0-becd-83c424a42e0e"  # 2024, events newest first, no metadata
SDK1 = "20178c3c-d75b-428e-b20d-7d39aa2b7468"  # SDK 1.0: events without data
MODERATION = "cbe076ac-40a6-4fa4-9162-281531405d20"  # back to QUEUED after VALIDATED
LLAMA = "19f5943a-3000-4568-b227-e45c36ac15f1"  # RUNNING, 2 events newest first
INTENT4 = "e17faea6-0665-4c3e-9fc0-607d5f233ed4"


def real(*names: str) -> ftkit.JobSet:
    """The named real documents, in the given order, one JobSet."""
    return ftkit.JobSet([job for name in names for job in ftkit.read_jobs(REAL / name)])


def job(job_id: str, **fields) -> dict:
    """A job dict with only the required keys, plus ``fields``."""
    return {
        "id": job_id,
        "model": "open-mistral-7b",
        "status": "SUCCESS",
        "created_at": 0,
        "modified_at": 0,
        "hyperparameters": {},
        **fields,
    }


def read(*jobs: dict) -> ftkit.JobSet:
    return ftkit.read_jobs(msgspec.json.encode(list(jobs)))


def ev(t: int, status: str | None) -> dict:
    return {"name": "status-updated", "created_at": t, **({"data": {"status": status}} if status else {})}


def cp(step: int, t: int, train=None, valid=None, acc=None) -> dict:
    return {
        "step_number": step,
        "created_at": t,
        "metrics": {"train_loss": train, "valid_loss": valid, "valid_mean_token_accuracy": acc},
    }


def frame(rows: list[tuple], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


EMPTY = ftkit.JobSet([])
BARE = read(job("bare"))  # every optional key absent


# --- checkpoint_summary ---------------------------------------------------------------


def test_checkpoint_summary_real_documents():
    js = real("platformdocs-2.json", "cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json",
              "cookbook-sdk0x-2.json", "cookbook-classifier-intent-1.json", "llamaindex-sdk0x-1.json")
    expected = frame(
        [
            # valid_loss falls on every evaluation: the best step is the last one, 100.
            (DOCS, 10, 10, 100, 0.816135, 0.819697, 1.765035, 100, 0.816135, 0.819697, 1.765035,
             0.914257 - 0.819697, 0.819697 - 0.816135, 0.819697 - 0.816135, 0),
            # 26 placeholder 0.0 checkpoints never win: the one evaluation, step 100, is best.
            (INTENT, 27, 1, 100, 0.000191, 0.000625, 1.000433, 100, 0.000191, 0.000625, 1.000433,
             0.0, 0.000625 - 0.000191, 0.000625 - 0.000191, 0),
            # Only placeholders: nothing evaluated, nulls, but train_loss still has a final value.
            (PIXTRAL, 35, 0, 35, 0.016597, None, None, None, None, None, None, None, None, None, None),
            (SDK0X, 1, 1, 10, 0.890919, 0.866454, 1.823177, 10, 0.890919, 0.866454, 1.823177,
             0.0, 0.866454 - 0.890919, 0.866454 - 0.890919, 0),
            # A create response has no checkpoints key: counts are unknown, not 0.
            (INTENT, None, None, None, None, None, None, None, None, None, None, None, None, None, None),
            # SUCCESS with an empty checkpoint list.
            (LLAMA, 0, 0, None, None, None, None, None, None, None, None, None, None, None, None),
        ],
        SUMMARY_SCHEMA,
    )
    # intent-1 is the same job as intent-3 before it ran: compare the two apart.
    got = checkpoint_summary(js)
    assert_frame_equal(got, expected[[0, 1, 2, 3, 5]])
    assert_frame_equal(checkpoint_summary(real("cookbook-classifier-intent-1.json")), expected[[4]])


def test_checkpoint_summary_reads_every_metric_at_the_best_step():
    js = real("platformdocs-2.json")
    expected = frame(
        [(DOCS, 10, 10, 100, 0.816135, 0.819697, 1.765035, 10, 0.803578, 0.914257, 1.884598,
          0.0, 0.914257 - 0.803578, 0.819697 - 0.816135, 90)],
        SUMMARY_SCHEMA,
    )
    # accuracy: highest is best by default
    assert_frame_equal(checkpoint_summary(js, metric="valid_mean_token_accuracy"), expected)
    lowest = checkpoint_summary(js, metric="valid_mean_token_accuracy", mode="min")
    assert lowest.select("best_step", "best_valid_mean_token_accuracy", "improvement").row(0) == (
        100, 1.765035, 1.884598 - 1.765035)


def test_checkpoint_summary_by_train_loss_best_step_without_evaluation():
    got = checkpoint_summary(real("cookbook-classifier-intent-3.json"), metric="train_loss")
    expected = frame(
        [(INTENT, 27, 1, 100, 0.000191, 0.000625, 1.000433, 94, 0.000174, None, None,
          0.00189 - 0.000174, None, 0.000625 - 0.000191, 6)],
        SUMMARY_SCHEMA,
    )
    assert_frame_equal(got, expected)


def test_checkpoint_summary_lone_zero_and_ties_and_final_values():
    js = read(
        job("a", checkpoints=[
            cp(40, 40, 0.1, 0.0, None),  # lone 0.0 beside an absent accuracy: a placeholder
            cp(30, 30, 0.2, 0.5, 1.5),
            cp(20, 20, 0.3, 0.5, 1.6),  # ties with step 30: the earlier step wins
            cp(10, 10, 0.4, 0.75, 1.2),
        ]),
    )
    expected = frame(
        [("a", 4, 3, 40, 0.1, 0.5, 1.5, 20, 0.3, 0.5, 1.6, 0.25, 0.2, 0.3, 20)],
        SUMMARY_SCHEMA,
    )
    assert_frame_equal(checkpoint_summary(js), expected)


def test_checkpoint_summary_rejects_unknown_metric_and_mode():
    with pytest.raises(ValueError, match=r"metric must be one of .* got 'loss'"):
        checkpoint_summary(BARE, metric="loss")
    with pytest.raises(ValueError, match="mode must be 'min', 'max' or None, got 'best'"):
        checkpoint_summary(BARE, mode="best")


# --- checkpoints_with_axes ------------------------------------------------------------


#: The OpenAI-only checkpoint columns of a Mistral checkpoint, provider to origin.
MISTRAL_CP = ("mistral", None, None, None, None, None, "checkpoint")


def test_checkpoints_with_axes_real():
    got = checkpoints_with_axes(real("cookbook-pixtral-2.json", "platformdocs-2.json"))
    head = got.filter(pl.col("step_number").is_in([1, 2, 10])).drop("created_at", "train_loss")
    expected = frame(
        [
            (PIXTRAL, 1, None, None, *MISTRAL_CP, 127677, 127677 / 4468728, 1751532812 - 1751532770),
            (PIXTRAL, 2, None, None, *MISTRAL_CP, 255354, 255354 / 4468728, 1751532822 - 1751532770),
            (PIXTRAL, 10, None, None, *MISTRAL_CP, 1276770, 1276770 / 4468728, 1751532871 - 1751532770),
            # 2024 job without metadata: no token axes, but a RUNNING event
            (DOCS, 10, 0.914257, 1.884598, *MISTRAL_CP, None, None, 1717172702 - 1717172594),
        ],
        {**{k: v for k, v in CHECKPOINTS_SCHEMA.items() if k not in ("created_at", "train_loss")},
         "tokens_seen": pl.Int64(), "epoch": pl.Float64(), "elapsed_s": pl.Int64()},
    )
    assert_frame_equal(head, expected)
    assert got.height == 45


def test_checkpoints_with_axes_missing_inputs():
    js = read(
        job("a", metadata={"train_tokens_per_step": 10, "data_tokens": 0},
            events=[ev(5, "QUEUED")], checkpoints=[cp(3, 9)]),
    )
    expected = frame(
        [("a", 3, 30, None, None)],
        {"job_id": pl.String(), "step_number": pl.Int64(), "tokens_seen": pl.Int64(),
         "epoch": pl.Float64(), "elapsed_s": pl.Int64()},
    )
    assert_frame_equal(checkpoints_with_axes(js).select(expected.columns), expected)


# --- lifecycle ------------------------------------------------------------------------


def test_lifecycle_real_documents():
    js = real("platformdocs-2.json", "cookbook-sdk0x-2.json", "cookbook-classifier-intent-3.json",
              "cookbook-pixtral-2.json", "cookbook-classifier-moderation-2.json",
              "cookbook-sdk1-3.json", "llamaindex-sdk0x-2.json", "cookbook-sdk1-6.json")
    expected = frame(
        [
            # newest-first lists
            (DOCS, "SUCCESS", 2, 0, 897, 899, False, False, False),
            (SDK0X, "SUCCESS", 2, 0, 75, 77, False, False, False),
            # oldest first, VALIDATING and VALIDATED in the same second
            (INTENT, "SUCCESS", 3 + 7, 0, 224, 234, False, False, False),
            (PIXTRAL, "SUCCESS", 4 + 2, 45, 306, 357, False, False, False),
            # QUEUED again after VALIDATED, with no new event: re-queued, still waiting
            (MODERATION, "QUEUED", None, 2, 0, None, False, False, True),
            # SDK 1.0 events without data: no statuses, nothing known
            (SDK1, "SUCCESS", None, None, None, None, False, False, None),
            # still running: its running time is open
            (LLAMA, "RUNNING", 1, 0, None, None, False, False, False),
            # a create response: no events at all
            ("1d7ed1e8-59df-4132-9680-26c1ba9845a8", "QUEUED", None, None, None, None, False, False, None),
        ],
        LIFECYCLE_SCHEMA,
    )
    assert_frame_equal(lifecycle(js), expected)


def test_lifecycle_same_second_ties_in_any_order():
    events = [ev(5, "VALIDATED"), ev(5, "QUEUED"), ev(5, "VALIDATING"), ev(9, "RUNNING"), ev(20, "SUCCESS")]
    js = read(job("a", events=events), job("b", events=events[::-1]),
              job("c", events=[events[2], events[4], events[0], events[3], events[1]]))
    expected = frame(
        [(name, "SUCCESS", 4, 0, 11, 15, False, False, False) for name in "abc"],
        LIFECYCLE_SCHEMA,
    )
    assert_frame_equal(lifecycle(js), expected)


def test_lifecycle_requeue_failure_cancel():
    js = read(
        job("requeued", events=[ev(0, "QUEUED"), ev(10, "RUNNING"), ev(20, "QUEUED"),
                                ev(30, "RUNNING"), ev(40, "SUCCESS")]),
        job("failed", status="FAILED", events=[ev(0, "QUEUED"), ev(1, "VALIDATING"), ev(5, "FAILED")]),
        job("cancelled", status="CANCELLED", events=[
            ev(0, "QUEUED"), ev(2, "RUNNING"), ev(8, "CANCELLATION_REQUESTED"), ev(9, "CANCELLED")]),
        job("failed_validation", status="FAILED_VALIDATION",
            events=[ev(0, "QUEUED"), ev(3, "VALIDATING"), ev(4, "FAILED_VALIDATION")]),
        job("unknown", status="NEW_STATUS", events=[ev(0, "QUEUED"), ev(2, "NEW_STATUS")]),
    )
    expected = frame(
        [
            ("requeued", "SUCCESS", 20, 0, 20, 40, False, False, True),
            ("failed", "FAILED", 1, 4, 0, 5, True, False, False),
            ("cancelled", "CANCELLED", 2, 0, 7, 9, False, True, False),
            ("failed_validation", "FAILED_VALIDATION", 3, 1, 0, 4, True, False, False),
            # an unknown status is in no phase and has not ended
            ("unknown", "NEW_STATUS", 2, 0, 0, None, False, False, False),
        ],
        LIFECYCLE_SCHEMA,
    )
    assert_frame_equal(lifecycle(js), expected)


# --- token_usage ------------------------------------------------------------------------


def test_token_usage_real_documents():
    js = real("cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json", "cookbook-sdk0x-2.json",
              "cookbook-classifier-moderation-2.json")
    expected = frame(
        [
            (INTENT, 1638400, 6553600, 137274, 1638400 / 137274, 3.28, "EUR", 3.28 * 1e6 / 1638400),
            (PIXTRAL, 4587520, 4468728, 4468728, 4587520 / 4468728, 8.94, "USD", 8.94 * 1e6 / 4587520),
            (SDK0X, None, None, None, None, None, None, None),
            (MODERATION, None, 13107200, 1795785, None, 6.56, "EUR", None),
        ],
        TOKEN_USAGE_SCHEMA,
    )
    assert_frame_equal(token_usage(js), expected)


def test_token_usage_placeholder_cost_is_null():
    got = token_usage(real("cookbook-classifier-intent-1.json"))
    expected = frame([(INTENT, None, None, None, None, None, None, None)], TOKEN_USAGE_SCHEMA)
    assert_frame_equal(got, expected)


def test_token_usage_totals_never_mix_currencies():
    js = real("cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json", "cookbook-sdk0x-2.json",
              "cookbook-classifier-moderation-2.json", "cookbook-pixtral-1.json")
    expected = pl.DataFrame(
        {
            "cost_currency": ["EUR", "USD", None],
            "n_jobs": [2, 2, 1],
            "n_priced": [2, 2, 0],
            "trained_tokens": [1638400, 4587520 + 9043968, None],
            "cost": [3.28 + 6.56, 8.94 + 17.88, None],
            # moderation-2 has a cost but no trained_tokens: left out of the rate
            "cost_per_million_tokens": [3.28 * 1e6 / 1638400, (8.94 + 17.88) * 1e6 / (4587520 + 9043968), None],
        },
        schema={"cost_currency": pl.String(), "n_jobs": pl.Int64(), "n_priced": pl.Int64(),
                "trained_tokens": pl.Int64(), "cost": pl.Float64(), "cost_per_million_tokens": pl.Float64()},
    )
    assert_frame_equal(token_usage_totals(js), expected)


# --- compare_hyperparameters ------------------------------------------------------------


def test_compare_hyperparameters_real_pair():
    got = compare_hyperparameters(real("cookbook-classifier-intent-3.json", "cookbook-classifier-intent-4.json"))
    expected = pl.DataFrame(
        {"job_id": [INTENT, INTENT4], "training_steps": [100, 200],
         "epochs": [47.74101432172152, 95.48202864344304]},
    )
    assert_frame_equal(got, expected)


def test_compare_hyperparameters_type_specific_parameter():
    classifier = {"classifier_targets": [{"name": "t", "labels": ["x"]}]}
    same = read(
        job("c1", hyperparameters={"learning_rate": 1e-4, "seq_len": 1}, **classifier),
        job("f1", hyperparameters={"learning_rate": 1e-4, "seq_len": 1, "fim_ratio": 0.9}),
        job("f2", hyperparameters={"learning_rate": 2e-4, "seq_len": 1, "fim_ratio": 0.9}),
    )
    # fim_ratio is 0.9 on every completion job: the classifier's null does not make it vary
    assert_frame_equal(
        compare_hyperparameters(same),
        pl.DataFrame({"job_id": ["c1", "f1", "f2"], "learning_rate": [1e-4, 1e-4, 2e-4]}),
    )
    differs = read(
        job("c1", **classifier),
        job("f1", hyperparameters={"fim_ratio": 0.9}),
        job("f2", hyperparameters={}),
    )
    assert_frame_equal(
        compare_hyperparameters(differs),
        pl.DataFrame({"job_id": ["c1", "f1", "f2"], "fim_ratio": [None, 0.9, None]}),
    )
    everything = compare_hyperparameters(same, varying_only=False)
    assert everything.columns == ["job_id", "learning_rate", "training_steps", "epochs", "weight_decay",
                                  "warmup_fraction", "seq_len", "fim_ratio"]


# --- metric_flags ---------------------------------------------------------------------


def test_metric_flags_real_and_synthetic():
    js = real("cookbook-classifier-intent-3.json", "cookbook-pixtral-2.json", "platformdocs-2.json")
    odd = read(job("odd", events=[ev(0, "QUEUED"), ev(50, "SUCCESS")], checkpoints=[
        cp(1, 10, 0.5), cp(2, 5, 0.4), cp(2, 60, 0.3)]))
    got = metric_flags(ftkit.JobSet([*js, *odd]))
    expected = frame(
        [
            (INTENT, "placeholder_zeros", "note", 1,
             "26 of 27 checkpoints have validation metrics 0.0, read as not measured"),
            (INTENT, "accuracy_above_1", "note", 100,
             "1 checkpoints have valid_mean_token_accuracy above 1 (max 1.000433)"),
            (INTENT, "trained_tokens_mismatch", "note", None,
             "trained_tokens 1638400 differs from metadata.train_tokens 6553600"),
            (PIXTRAL, "placeholder_zeros", "note", 1,
             "35 of 35 checkpoints have validation metrics 0.0, read as not measured"),
            (PIXTRAL, "no_validation_metrics", "note", None, "none of 35 checkpoints has a validation metric"),
            (PIXTRAL, "trained_tokens_mismatch", "note", None,
             "trained_tokens 4587520 differs from metadata.train_tokens 4468728"),
            (DOCS, "accuracy_above_1", "note", 10,
             "10 checkpoints have valid_mean_token_accuracy above 1 (max 1.884598)"),
            ("odd", "no_validation_metrics", "note", None, "none of 3 checkpoints has a validation metric"),
            ("odd", "steps_repeated", "warning", 2, "1 checkpoints repeat the step number before them"),
            ("odd", "steps_out_of_order", "warning", 2, "1 checkpoints are stamped before the step before them"),
            ("odd", "checkpoints_after_final_event", "warning", 2,
             "1 checkpoints are stamped after the final status event"),
        ],
        FLAGS_SCHEMA,
    )
    assert_frame_equal(got, expected)


# --- effect and pareto ------------------------------------------------------------------


def _loss_job(job_id: str, loss: float | None, **fields) -> dict:
    return job(job_id, checkpoints=[cp(1, 1, 1.0, loss, None if loss is None else 1.5)], **fields)


def test_effect_bins_a_continuous_parameter():
    jobs = [_loss_job(f"j{i}", float(i), hyperparameters={"learning_rate": i * 1e-5}) for i in range(1, 11)]
    jobs.append(_loss_job("none", 0.5))
    got = effect(read(*jobs), param="learning_rate", by=None)
    expected = pl.DataFrame(
        {
            "learning_rate": ["1e-05 – 3e-05", "4e-05 – 5e-05", "6e-05 – 8e-05", "9e-05 – 0.0001", None],
            "n_jobs": [3, 2, 3, 2, 1],
            "count": [3, 2, 3, 2, 1],
            "mean": [2.0, 4.5, 7.0, 9.5, 0.5],
            "min": [1.0, 4.0, 6.0, 9.0, 0.5],
            "max": [3.0, 5.0, 8.0, 10.0, 0.5],
        }
    )
    assert_frame_equal(got, expected)


def test_effect_by_value_with_other_sources():
    js = real("cookbook-classifier-intent-3.json", "cookbook-classifier-intent-4.json", "cookbook-pixtral-2.json",
              "cookbook-pixtral-1.json", "cookbook-sdk0x-2.json")
    got = effect(js, param="model", metric="total_s")
    expected = pl.DataFrame(
        {
            "job_type": ["classifier", "completion", "completion"],
            "model": ["ministral-3b-latest", "open-mistral-7b", "pixtral-12b-latest"],
            "n_jobs": [2, 1, 2],
            "count": [2, 1, 2],
            "mean": [(234 + 405) / 2, 77.0, (357 + 574) / 2],
            "min": [234.0, 77.0, 357.0],
            "max": [405.0, 77.0, 574.0],
        }
    )
    assert_frame_equal(got, expected)
    with pytest.raises(ValueError, match="effect: no column 'nope'"):
        effect(js, param="nope")
    with pytest.raises(ValueError, match="metric 'model' must be numeric, found dtype String"):
        effect(js, param="learning_rate", metric="model")


def test_pareto_fronts_per_currency_ties_and_mode():
    js = read(
        _loss_job("a", 0.9, metadata={"cost": 1.0, "cost_currency": "USD"}),
        _loss_job("b", 0.7, metadata={"cost": 2.0, "cost_currency": "USD"}),
        _loss_job("b2", 0.7, metadata={"cost": 2.0, "cost_currency": "USD"}),  # tie: both stay
        _loss_job("c", 0.8, metadata={"cost": 3.0, "cost_currency": "USD"}),  # beaten by b
        _loss_job("d", 0.7, metadata={"cost": 4.0, "cost_currency": "USD"}),  # beaten by b
        _loss_job("e", 0.95, metadata={"cost": 0.5, "cost_currency": "EUR"}),  # cheap, other currency
        _loss_job("f", 0.1, metadata={"cost": 0.0}),  # placeholder cost: left out
        _loss_job("g", None, metadata={"cost": 0.1, "cost_currency": "USD"}),  # no quality
    )
    expected = pl.DataFrame(
        {"job_id": ["e", "a", "b", "b2"], "cost": [0.5, 1.0, 2.0, 2.0],
         "best_valid_loss": [0.95, 0.9, 0.7, 0.7], "cost_currency": ["EUR", "USD", "USD", "USD"]}
    )
    assert_frame_equal(pareto(js, by=None), expected)
    # higher accuracy is better: inferred from the name
    by_accuracy = pareto(js, cost="trained_tokens", quality="best_valid_mean_token_accuracy")
    assert by_accuracy.height == 0  # no trained_tokens anywhere
    tokens = read(
        _loss_job("x", 0.5, trained_tokens=10), _loss_job("y", 0.5, trained_tokens=20),
    )
    assert_frame_equal(
        pareto(tokens, cost="trained_tokens", quality="best_valid_mean_token_accuracy", by=None),
        pl.DataFrame({"job_id": ["x"], "trained_tokens": [10], "best_valid_mean_token_accuracy": [1.5]}),
    )


# --- empty and bare inputs ---------------------------------------------------------------

ALL = [
    checkpoint_summary, checkpoints_with_axes, lifecycle, token_usage, token_usage_totals,
    compare_hyperparameters, metric_flags, pareto,
    lambda js: effect(js, param="learning_rate"),
]


@pytest.mark.parametrize("function", ALL)
def test_empty_jobset_gives_empty_frames(function):
    out = function(EMPTY)
    assert isinstance(out, pl.DataFrame)
    assert out.height == 0


def test_bare_job_gives_nulls():
    assert_frame_equal(
        checkpoint_summary(BARE),
        frame([("bare",) + (None,) * 14], SUMMARY_SCHEMA),
    )
    assert_frame_equal(
        lifecycle(BARE),
        frame([("bare", "SUCCESS", None, None, None, None, False, False, None)], LIFECYCLE_SCHEMA),
    )
    assert_frame_equal(token_usage(BARE), frame([("bare",) + (None,) * 7], TOKEN_USAGE_SCHEMA))
    assert_frame_equal(compare_hyperparameters(BARE), pl.DataFrame({"job_id": ["bare"]}))
    assert_frame_equal(metric_flags(BARE), pl.DataFrame(schema=FLAGS_SCHEMA))
    assert checkpoints_with_axes(BARE).height == 0
    assert pareto(BARE).height == 0
    assert_frame_equal(
        effect(BARE, param="learning_rate", by=None),
        pl.DataFrame({"learning_rate": [None], "n_jobs": [1], "count": [0], "mean": [None],
                      "min": [None], "max": [None]},
                     schema={"learning_rate": pl.Float64(), "n_jobs": pl.Int64(), "count": pl.Int64(),
                             "mean": pl.Float64(), "min": pl.Float64(), "max": pl.Float64()}),
    )
    assert_frame_equal(
        token_usage_totals(BARE),
        pl.DataFrame({"cost_currency": [None], "n_jobs": [1], "n_priced": [0], "trained_tokens": [None],
                      "cost": [None], "cost_per_million_tokens": [None]},
                     schema={"cost_currency": pl.String(), "n_jobs": pl.Int64(), "n_priced": pl.Int64(),
                             "trained_tokens": pl.Int64(), "cost": pl.Float64(),
                             "cost_per_million_tokens": pl.Float64()}),
    )


# --- inputs -------------------------------------------------------------------------------


def test_every_kind_of_input():
    path = REAL / "platformdocs-2.json"
    from_path = checkpoint_summary(path)
    assert_frame_equal(checkpoint_summary(str(path)), from_path)
    assert_frame_equal(checkpoint_summary(path.read_bytes()), from_path)
    assert_frame_equal(checkpoint_summary([path]), from_path)
    structs = list(ftkit.read_jobs(path))
    assert_frame_equal(checkpoint_summary(structs), from_path)
    assert_frame_equal(checkpoint_summary(iter(structs)), from_path)
    js = ftkit.read_jobs(path)
    assert as_jobset(js) is js


def test_effect_never_averages_costs_in_different_currencies() -> None:
    def job(job_id: str, cost: float, currency: str) -> dict:
        return {"id": job_id, "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 0,
                "hyperparameters": {"learning_rate": 1e-4}, "trained_tokens": 1_000_000,
                "metadata": {"cost": cost, "cost_currency": currency}}

    mixed = msgspec.json.encode([job("a", 2.0, "USD"), job("b", 300.0, "EUR")])
    with pytest.raises(ValueError, match=r"mixes currencies \(EUR, USD\)"):
        effect(mixed, param="learning_rate", metric="cost")
    one = msgspec.json.encode([job("a", 2.0, "USD"), job("c", 4.0, "USD")])
    assert effect(one, param="learning_rate", metric="cost")["mean"].to_list() == [3.0]


def test_token_totals_past_64_bits_raise_instead_of_wrapping():
    import msgspec

    def job(i: str, tokens: int) -> dict:
        return {"id": i, "model": "m", "status": "SUCCESS", "created_at": 0, "modified_at": 0,
                "hyperparameters": {}, "trained_tokens": tokens, "metadata": {"cost": 1.0, "cost_currency": "USD"}}

    near = 2**62 + 1
    fits = ftkit.token_usage_totals(msgspec.json.encode([job("a", near), job("b", near - 3)]))
    assert fits["trained_tokens"].to_list() == [2 * near - 3]
    with pytest.raises(OverflowError, match=r"trained_tokens: the total of the jobs in USD is 9,223,372,036,854,775,810: expected at most 9,223,372,036,854,775,807"):
        ftkit.token_usage_totals(msgspec.json.encode([job("a", near), job("b", near)]))


# --- groups: classifier and completion jobs are never pooled ------------------------------

MIXED = (
    "cookbook-classifier-intent-3.json",  # classifier, lr 4e-05, best valid loss 0.000625
    "cookbook-classifier-intent-4.json",  # classifier, lr 4e-05, best valid loss 0.000641
    "platformdocs-2.json",  # completion, lr 1e-04, best valid loss 0.819697
)


def test_effect_groups_by_job_type_and_takes_param_positionally():
    js = ftkit.JobSet([*real(*MIXED), *read(_loss_job("synth", 0.5, hyperparameters={"learning_rate": 4e-5}))])
    expected = pl.DataFrame(
        {
            "job_type": ["classifier", "completion", "completion"],
            "learning_rate": [4e-5, 4e-5, 1e-4],
            "n_jobs": [2, 1, 1],
            "count": [2, 1, 1],
            "mean": [(0.000625 + 0.000641) / 2, 0.5, 0.819697],
            "min": [0.000625, 0.5, 0.819697],
            "max": [0.000641, 0.5, 0.819697],
        }
    )
    assert_frame_equal(effect(js, "learning_rate"), expected)
    assert_frame_equal(effect(js, param="learning_rate", by="job_type"), expected)
    assert_frame_equal(js.effect("learning_rate"), expected)
    # by=None pools on purpose: the classifiers' 4e-05 now averages with the completion job
    pooled = effect(js, "learning_rate", by=None)
    assert pooled["n_jobs"].to_list() == [3, 1]
    # a list of columns
    by_two = effect(js, "learning_rate", by=["job_type", "model"])
    assert by_two.columns[:3] == ["job_type", "model", "learning_rate"]
    assert by_two["model"].to_list() == ["ministral-3b-latest", "open-mistral-7b", "open-mistral-7b"]
    with pytest.raises(ValueError, match="by= must not name 'learning_rate'"):
        effect(js, "learning_rate", by="learning_rate")
    with pytest.raises(ValueError, match="effect: no column 'nope'"):
        effect(js, "learning_rate", by="nope")


def test_effect_bins_within_each_group():
    jobs = [_loss_job(f"c{i}", float(i), hyperparameters={"learning_rate": i * 1e-5}) for i in range(1, 10)]
    jobs += [_loss_job("k", 0.001, job_type="classifier", hyperparameters={"learning_rate": 1e-3})]
    got = effect(read(*jobs), "learning_rate", bins=2)
    expected = pl.DataFrame(
        {
            "job_type": ["classifier", "completion", "completion"],
            "learning_rate": ["0.001 – 0.001", "1e-05 – 5e-05", "6e-05 – 9e-05"],
            "n_jobs": [1, 5, 4],
            "count": [1, 5, 4],
            "mean": [0.001, 3.0, 7.5],
            "min": [0.001, 1.0, 6.0],
            "max": [0.001, 5.0, 9.0],
        }
    )
    assert_frame_equal(got, expected)


def test_pareto_has_one_front_per_group():
    js = ftkit.JobSet([
        *real("cookbook-classifier-intent-3.json"),  # classifier: 3.28 EUR, 0.000625
        *read(
            _loss_job("a", 0.9, metadata={"cost": 1.0, "cost_currency": "EUR"}),
            _loss_job("b", 0.7, metadata={"cost": 4.0, "cost_currency": "EUR"}),
        ),
    ])
    expected = pl.DataFrame(
        {"job_id": [INTENT, "a", "b"], "job_type": ["classifier", "completion", "completion"],
         "cost": [3.28, 1.0, 4.0], "best_valid_loss": [0.000625, 0.9, 0.7],
         "cost_currency": ["EUR", "EUR", "EUR"]}
    )
    assert_frame_equal(pareto(js), expected)
    # pooled, the classifier's tiny loss would beat the completion job that cost more
    assert pareto(js, by=None)["job_id"].to_list() == ["a", INTENT]


def test_jobs_frame_and_token_usage_agree_on_the_placeholder_cost():
    # intent-1: the classifier right after creation, cost 0.0 and no currency
    js = ftkit.JobSet([*real("cookbook-classifier-intent-1.json", "cookbook-pixtral-1.json"),
                       *read(job("free", metadata={"cost": 0.0, "cost_currency": "USD"}))])
    assert js.jobs["cost"].to_list() == token_usage(js)["cost"].to_list() == [None, 17.88, 0.0]

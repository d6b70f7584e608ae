"""Tests of ftkit.synth_job: one job alone is the same job as in a many-jobs run."""

from __future__ import annotations

import pytest

import ftkit.synth
from ftkit.synth import make_job_dicts
from ftkit.synth_job import END, START, job_dict, make_sdk_readable, step_weights


@pytest.mark.parametrize(
    ("seed", "options"),
    [
        (0, {}),
        (3, {"checkpoints_per_job": 100}),
        (5, {"checkpoints_per_job": 0}),
        (7, {"sdk_readable": True, "events_per_job": 40}),
    ],
)
def test_job_dict_is_job_i_of_make_job_dicts(seed, options):
    many = list(make_job_dicts(60, seed=seed, **options))
    per_job = options.get("checkpoints_per_job")
    alone = [
        job_dict(
            index,
            seed=seed,
            weights=step_weights(per_job),
            sdk_readable=options.get("sdk_readable", False),
            checkpoints=per_job is None or per_job > 0,
            events_per_job=options.get("events_per_job"),
        )
        for index in range(60)
    ]
    assert alone == many


def test_job_dict_defaults_are_make_job_dicts_defaults():
    assert [job_dict(index, seed=2) for index in range(20)] == list(make_job_dicts(20, seed=2))


def test_step_weights_tilt_towards_longer_runs():
    few, default, many = step_weights(10), step_weights(None), step_weights(200)
    assert len(few) == len(default) == len(many) == 11
    assert sum(few) == pytest.approx(1.0) and sum(many) == pytest.approx(1.0)
    assert step_weights(30) == pytest.approx(default)
    assert few[0] > default[0] > many[0]
    assert few[-1] < default[-1] < many[-1]


def test_make_sdk_readable_mends_in_place():
    job = {"id": "x", "job_type": "FT", "model": "open-mistral-7b"}
    assert make_sdk_readable(job) is job
    assert job == {"id": "x", "job_type": "completion", "model": "open-mistral-7b", "auto_start": True}

    classifier = {"job_type": "classifier", "auto_start": False}
    make_sdk_readable(classifier)
    assert classifier == {
        "job_type": "classifier",
        "auto_start": False,
        "classifier_targets": [
            {
                "name": "intent",
                "labels": ["play_music", "weather_query", "email_query", "calendar_set", "qa_factoid", "news_query"],
                "weight": 1.0,
                "loss_function": "single_class",
            }
        ],
    }

    targets = {"classifier_targets": [{"name": "m", "labels": ["a"], "weight": 2.0, "loss_function": "multi_class"}]}
    make_sdk_readable(targets)
    assert targets == {
        "classifier_targets": [{"name": "m", "labels": ["a"], "weight": 2.0, "loss_function": "multi_class"}],
        "job_type": "classifier",
        "auto_start": True,
    }


def test_synth_reexports_the_creation_window():
    assert (ftkit.synth.START, ftkit.synth.END) == (START, END) == (1714521600, 1761955199)

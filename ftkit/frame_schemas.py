"""The columns and dtypes of ftkit's frames (:mod:`ftkit.frames` builds them).

Fixed, so that empty inputs give empty frames of the same schema, and frames of Mistral
and OpenAI jobs stack. :mod:`ftkit.frames` exports them too.

Examples
--------
>>> list(TARGETS_SCHEMA)
['job_id', 'name', 'labels', 'weight', 'loss_function']
>>> JOBS_SCHEMA["created_at"] == UTC
True
"""

from __future__ import annotations

import polars as pl

__all__ = ["UTC", "JOBS_SCHEMA", "CHECKPOINTS_SCHEMA", "EVENTS_SCHEMA", "TARGETS_SCHEMA", "ERRORS_SCHEMA"]

#: The dtype of every time column: microseconds, UTC.
UTC = pl.Datetime("us", "UTC")

#: Columns and dtypes of :func:`ftkit.frames.jobs_frame`.
JOBS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "job_type": pl.String(),
    "model": pl.String(),
    "status": pl.String(),
    "auto_start": pl.Boolean(),
    "created_at": UTC,
    "modified_at": UTC,
    "fine_tuned_model": pl.String(),
    "suffix": pl.String(),
    "trained_tokens": pl.Int64(),
    "training_files": pl.List(pl.String()),
    "validation_files": pl.List(pl.String()),
    "learning_rate": pl.Float64(),
    "training_steps": pl.Int64(),
    "epochs": pl.Float64(),
    "weight_decay": pl.Float64(),
    "warmup_fraction": pl.Float64(),
    "seq_len": pl.Int64(),
    "fim_ratio": pl.Float64(),
    "cost": pl.Float64(),
    "cost_currency": pl.String(),
    "train_tokens": pl.Int64(),
    "train_tokens_per_step": pl.Int64(),
    "data_tokens": pl.Int64(),
    "expected_duration_seconds": pl.Int64(),
    "estimated_start_time": UTC,
    "wandb_project": pl.String(),
    "wandb_run_name": pl.String(),
    "wandb_url": pl.String(),
    "n_checkpoints": pl.Int64(),
    "n_events": pl.Int64(),
    # Columns added with OpenAI jobs (see ftkit.openai_frames); null for Mistral jobs
    # except provider and status_raw.
    "provider": pl.String(),
    "status_raw": pl.String(),
    "method": pl.String(),
    "n_epochs": pl.Int64(),
    "n_epochs_auto": pl.Boolean(),
    "batch_size": pl.Int64(),
    "batch_size_auto": pl.Boolean(),
    "learning_rate_multiplier": pl.Float64(),
    "learning_rate_multiplier_auto": pl.Boolean(),
    "seed": pl.Int64(),
    "organization_id": pl.String(),
    "finished_at": UTC,
    "estimated_finish": UTC,
    "error_code": pl.String(),
    "error_message": pl.String(),
}

#: Columns and dtypes of :func:`ftkit.frames.checkpoints_frame`.
CHECKPOINTS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "step_number": pl.Int64(),
    "created_at": UTC,
    "train_loss": pl.Float64(),
    "valid_loss": pl.Float64(),
    "valid_mean_token_accuracy": pl.Float64(),
    "provider": pl.String(),
    # OpenAI's further metrics and checkpoint identity; null for Mistral checkpoints.
    "train_mean_token_accuracy": pl.Float64(),
    "full_valid_loss": pl.Float64(),
    "full_valid_mean_token_accuracy": pl.Float64(),
    "checkpoint_id": pl.String(),
    "fine_tuned_model_checkpoint": pl.String(),
    #: "checkpoint", or "event" for an OpenAI step known only from a "metrics" event.
    "origin": pl.String(),
}

#: Columns and dtypes of :func:`ftkit.frames.events_frame`.
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "created_at": UTC,
    "name": pl.String(),
    "status": pl.String(),
    "data": pl.String(),
    "provider": pl.String(),
    # OpenAI events' level and message; null for Mistral events.
    "level": pl.String(),
    "message": pl.String(),
}

#: Columns and dtypes of :func:`ftkit.frames.targets_frame`.
TARGETS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),
    "name": pl.String(),
    "labels": pl.List(pl.String()),
    "weight": pl.Float64(),
    "loss_function": pl.String(),
}

#: Columns and dtypes of ``JobSet.errors``: one row per record that could not be read.
ERRORS_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line": pl.Int64(),
    "index": pl.Int64(),
    "path": pl.String(),
    "message": pl.String(),
}

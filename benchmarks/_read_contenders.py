"""The contenders of ``bench_read.py``: each reads a job dump into ftkit's jobs and checkpoints frames.

Every ``run_*`` function takes the dump's path and returns ``(jobs rows, checkpoints rows,
extra measures)``; :data:`RUNNERS` maps a contender's name to it. The contenders that do
not use ftkit's reader build the same columns and dtypes as ``ftkit.frames`` by hand.
"""

from __future__ import annotations

from pathlib import Path

DESCRIPTIONS = {
    "ftkit": "ftkit.read_jobs(path) + js.jobs + js.checkpoints, in a fresh process (cold)",
    "ftkit-warm": "the same read twice in one process: the second read is timed (its workers still alive)",
    "ftkit-1proc": "the same as ftkit with FTKIT_WORKERS=0: decoded in the calling process",
    "sdk": "mistralai 1.x pydantic model_validate_json per line + Python loops -> polars",
    "orjson": "orjson.loads per line + dict loops -> polars",
    "polars-infer": "pl.read_ndjson (schema inferred) + unnest/explode",
    "polars-schema": "pl.read_ndjson (explicit schema of the needed keys) + unnest/explode",
    "msgspec-floor": "msgspec.json.Decoder(WireJob) per line, one core, no frames",
    "iter_jobs": "ftkit.iter_jobs(path) in batches of 5,000 (its default), each batch's frames built (two passes: each id once)",
    "iter_jobs-1pass": "the same with dedupe=False: one pass, ids resolved within a batch only",
}
#: Environment set for a contender's process.
ENV = {"ftkit-1proc": {"FTKIT_WORKERS": "0"}}


# --- shared by the contenders that build frames by hand ------------------------------


def _frames_from_columns(jobs: dict[str, list], checkpoints: dict[str, list]):
    """The two frames, with ftkit's columns, dtypes, UTC times and placeholder nulls."""
    import polars as pl

    from ftkit.frames import CHECKPOINTS_SCHEMA, JOBS_SCHEMA

    def raw(schema):
        return {k: pl.Int64() if isinstance(v, pl.Datetime) else v for k, v in schema.items()}

    def utc(df, names):
        return df.with_columns(
            pl.from_epoch(pl.col(n), time_unit="s").dt.replace_time_zone("UTC") for n in names
        )

    jobs_schema = {k: v for k, v in JOBS_SCHEMA.items() if k in jobs}
    jobs_df = utc(pl.DataFrame(jobs, schema=raw(jobs_schema)), ["created_at", "modified_at", "estimated_start_time"])
    jobs_df = jobs_df.with_columns(_real_cost(pl.col("cost"), pl.col("cost_currency")))
    cp = pl.DataFrame(checkpoints, schema=raw({k: v for k, v in CHECKPOINTS_SCHEMA.items() if k in checkpoints}))
    placeholder = (pl.col("valid_loss") == 0.0) & (pl.col("valid_mean_token_accuracy") == 0.0)
    cp = cp.with_columns(
        pl.when(~placeholder).then(pl.col(n)).alias(n) for n in ("valid_loss", "valid_mean_token_accuracy")
    )
    return _with_provider_columns(jobs_df, utc(cp, ["created_at"]))


#: The columns a Mistral dump fills; the contenders build these by hand and add the
#: provider columns as ftkit has them for Mistral jobs (see _with_provider_columns).
MISTRAL_JOB_COLUMNS = (
    "job_id job_type model status auto_start created_at modified_at fine_tuned_model suffix trained_tokens"
    " training_files validation_files learning_rate training_steps epochs weight_decay warmup_fraction seq_len"
    " fim_ratio cost cost_currency train_tokens train_tokens_per_step data_tokens expected_duration_seconds"
    " estimated_start_time wandb_project wandb_run_name wandb_url n_checkpoints n_events"
).split()
MISTRAL_CHECKPOINT_COLUMNS = "job_id step_number created_at train_loss valid_loss valid_mean_token_accuracy".split()


def _real_cost(cost, currency):
    """``cost``, null for the ``0.0`` without a currency of a job just created (as ftkit has it)."""
    import polars as pl

    return pl.when(~((cost == 0.0) & currency.is_null())).then(cost).alias("cost")


def _with_provider_columns(jobs, checkpoints):
    """ftkit's frames carry OpenAI's columns too: for Mistral jobs ``provider`` is
    "mistral", ``status_raw`` the status, a checkpoint's ``origin`` "checkpoint", the rest
    null. Added here so every contender builds the same frames as ftkit."""
    import polars as pl

    from ftkit.frames import CHECKPOINTS_SCHEMA, JOBS_SCHEMA

    known = {"provider": pl.lit("mistral"), "status_raw": pl.col("status"), "origin": pl.lit("checkpoint")}

    def complete(df, schema):
        return df.select(
            (pl.col(name) if name in df.columns else known.get(name, pl.lit(None))).cast(dtype).alias(name)
            for name, dtype in schema.items()
        )

    return complete(jobs, JOBS_SCHEMA), complete(checkpoints, CHECKPOINTS_SCHEMA)


def _widths(jobs, checkpoints) -> dict[str, int]:
    return {"jobs_columns": jobs.width, "checkpoints_columns": checkpoints.width}


def _empty_columns(schema) -> dict[str, list]:
    return {name: [] for name in schema}


def run_sdk(path: Path) -> tuple[int, int, dict]:
    """What a user of the official SDK writes: validate each line, loop into columns."""
    jobs, checkpoints, failures = sdk_frames(path)
    return jobs.height, checkpoints.height, {"sdk_failures": failures, **_widths(jobs, checkpoints)}


def sdk_frames(path: Path):
    """The jobs and checkpoints frames, and how many lines the SDK's models rejected."""
    from mistralai.models import ClassifierDetailedJobOut, CompletionDetailedJobOut
    from mistralai.types import UNSET

    from ftkit.frames import CHECKPOINTS_SCHEMA, JOBS_SCHEMA

    unset = type(UNSET)  # pydantic copies the sentinel: compare by type

    def v(x):
        return None if type(x) is unset else x

    jobs = _empty_columns(MISTRAL_JOB_COLUMNS)
    cps = _empty_columns(MISTRAL_CHECKPOINT_COLUMNS)
    failures = 0
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            cls = ClassifierDetailedJobOut if b'"job_type":"classifier"' in line else CompletionDetailedJobOut
            try:
                m = cls.model_validate_json(line)
            except ValueError:
                failures += 1
                continue
            h = m.hyperparameters
            meta = v(m.metadata)
            wandb = next((i for i in v(m.integrations) or () if v(i.type) in (None, "wandb")), None)
            jobs["job_id"].append(m.id)
            jobs["job_type"].append("classifier" if cls is ClassifierDetailedJobOut else "completion")
            jobs["model"].append(m.model)
            jobs["status"].append(m.status)
            jobs["auto_start"].append(m.auto_start)
            jobs["created_at"].append(m.created_at)
            jobs["modified_at"].append(m.modified_at)
            jobs["fine_tuned_model"].append(v(m.fine_tuned_model))
            jobs["suffix"].append(v(m.suffix))
            jobs["trained_tokens"].append(v(m.trained_tokens))
            jobs["training_files"].append(m.training_files)
            jobs["validation_files"].append(v(m.validation_files))
            jobs["learning_rate"].append(v(h.learning_rate))
            jobs["training_steps"].append(v(h.training_steps))
            jobs["epochs"].append(v(h.epochs))
            jobs["weight_decay"].append(v(h.weight_decay))
            jobs["warmup_fraction"].append(v(h.warmup_fraction))
            jobs["seq_len"].append(v(h.seq_len))
            jobs["fim_ratio"].append(v(getattr(h, "fim_ratio", None)))
            for key in ("cost", "cost_currency", "train_tokens", "train_tokens_per_step", "data_tokens",
                        "expected_duration_seconds", "estimated_start_time"):  # fmt: skip
                jobs[key].append(v(getattr(meta, key)) if meta is not None else None)
            jobs["wandb_project"].append(wandb.project if wandb else None)
            jobs["wandb_run_name"].append(v(wandb.run_name) if wandb else None)
            jobs["wandb_url"].append(v(wandb.url) if wandb else None)
            checkpoints = v(m.checkpoints)
            events = v(m.events)
            jobs["n_checkpoints"].append(None if checkpoints is None else len(checkpoints))
            jobs["n_events"].append(None if events is None else len(events))
            for c in reversed(checkpoints or ()):
                metrics = c.metrics
                cps["job_id"].append(m.id)
                cps["step_number"].append(c.step_number)
                cps["created_at"].append(c.created_at)
                cps["train_loss"].append(v(metrics.train_loss))
                cps["valid_loss"].append(v(metrics.valid_loss))
                cps["valid_mean_token_accuracy"].append(v(metrics.valid_mean_token_accuracy))
    return (*_frames_from_columns(jobs, cps), failures)


def run_orjson(path: Path) -> tuple[int, int, dict]:
    """orjson.loads per line and dict lookups into columns."""
    jobs, checkpoints = orjson_frames(path)
    return jobs.height, checkpoints.height, _widths(jobs, checkpoints)


def orjson_frames(path: Path):
    """The jobs and checkpoints frames from orjson's dicts."""
    import orjson

    from ftkit.frames import CHECKPOINTS_SCHEMA, JOBS_SCHEMA

    loads = orjson.loads
    jobs = _empty_columns(MISTRAL_JOB_COLUMNS)
    cps = _empty_columns(MISTRAL_CHECKPOINT_COLUMNS)
    no_meta: dict = {}
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            d = loads(line)
            h = d["hyperparameters"]
            meta = d.get("metadata") or no_meta
            wandb = next((i for i in d.get("integrations") or () if i.get("type") in (None, "wandb")), None)
            job_type = d.get("job_type")
            classifier = job_type == "classifier" or (job_type != "completion" and d.get("classifier_targets") is not None)
            jobs["job_id"].append(d["id"])
            jobs["job_type"].append("classifier" if classifier else "completion")
            jobs["model"].append(d["model"])
            jobs["status"].append(d["status"])
            jobs["auto_start"].append(d.get("auto_start"))
            jobs["created_at"].append(d["created_at"])
            jobs["modified_at"].append(d["modified_at"])
            jobs["fine_tuned_model"].append(d.get("fine_tuned_model"))
            jobs["suffix"].append(d.get("suffix"))
            jobs["trained_tokens"].append(d.get("trained_tokens"))
            jobs["training_files"].append(d.get("training_files", []))
            jobs["validation_files"].append(d.get("validation_files"))
            for key in ("learning_rate", "training_steps", "epochs", "weight_decay", "warmup_fraction",
                        "seq_len", "fim_ratio"):  # fmt: skip
                jobs[key].append(h.get(key))
            for key in ("cost", "cost_currency", "train_tokens", "train_tokens_per_step", "data_tokens",
                        "expected_duration_seconds"):  # fmt: skip
                jobs[key].append(meta.get(key))
            start = meta.get("estimated_start_time")
            jobs["estimated_start_time"].append(start if start is not None else d.get("estimated_start_time"))
            jobs["wandb_project"].append(wandb.get("project") if wandb else None)
            jobs["wandb_run_name"].append(wandb.get("run_name") if wandb else None)
            jobs["wandb_url"].append(wandb.get("url") if wandb else None)
            checkpoints = d.get("checkpoints")
            events = d.get("events")
            jobs["n_checkpoints"].append(None if checkpoints is None else len(checkpoints))
            jobs["n_events"].append(None if events is None else len(events))
            job_id = d["id"]
            for c in reversed(checkpoints or ()):
                metrics = c.get("metrics") or no_meta
                cps["job_id"].append(job_id)
                cps["step_number"].append(c["step_number"])
                cps["created_at"].append(c["created_at"])
                cps["train_loss"].append(metrics.get("train_loss"))
                cps["valid_loss"].append(metrics.get("valid_loss"))
                cps["valid_mean_token_accuracy"].append(metrics.get("valid_mean_token_accuracy"))
    return _frames_from_columns(jobs, cps)


def _polars_schema():
    import polars as pl

    metrics = pl.Struct({"train_loss": pl.Float64, "valid_loss": pl.Float64, "valid_mean_token_accuracy": pl.Float64})
    return {
        "id": pl.String,
        "auto_start": pl.Boolean,
        "model": pl.String,
        "status": pl.String,
        "created_at": pl.Int64,
        "modified_at": pl.Int64,
        "training_files": pl.List(pl.String),
        "validation_files": pl.List(pl.String),
        "job_type": pl.String,
        "fine_tuned_model": pl.String,
        "suffix": pl.String,
        "trained_tokens": pl.Int64,
        "estimated_start_time": pl.Int64,
        "hyperparameters": pl.Struct(
            {
                "learning_rate": pl.Float64,
                "training_steps": pl.Int64,
                "epochs": pl.Float64,
                "weight_decay": pl.Float64,
                "warmup_fraction": pl.Float64,
                "seq_len": pl.Int64,
                "fim_ratio": pl.Float64,
            }
        ),
        "metadata": pl.Struct(
            {
                "cost": pl.Float64,
                "cost_currency": pl.String,
                "train_tokens": pl.Int64,
                "train_tokens_per_step": pl.Int64,
                "data_tokens": pl.Int64,
                "expected_duration_seconds": pl.Int64,
                "estimated_start_time": pl.Int64,
            }
        ),
        "integrations": pl.List(
            pl.Struct({"type": pl.String, "project": pl.String, "run_name": pl.String, "url": pl.String})
        ),
        "classifier_targets": pl.List(pl.Struct({"name": pl.String})),
        "events": pl.List(pl.Struct({"created_at": pl.Int64})),
        "checkpoints": pl.List(pl.Struct({"step_number": pl.Int64, "created_at": pl.Int64, "metrics": metrics})),
    }


def run_polars(path: Path, *, explicit: bool) -> tuple[int, int, dict]:
    """pl.read_ndjson, then struct fields, explode and unnest into the two frames."""
    jobs, checkpoints = polars_frames(path, explicit=explicit)
    return jobs.height, checkpoints.height, _widths(jobs, checkpoints)


def polars_frames(path: Path, *, explicit: bool):
    """The jobs and checkpoints frames built by polars alone (the polars contenders' work)."""
    import polars as pl

    from ftkit.frames import CHECKPOINTS_SCHEMA, JOBS_SCHEMA

    df = pl.read_ndjson(path, schema=_polars_schema() if explicit else None, infer_schema_length=None)
    schema = df.schema

    def field(column: str, name: str) -> pl.Expr:
        dtype = schema.get(column)
        if dtype is None or name not in {f.name for f in dtype.fields}:
            return pl.lit(None)
        return pl.col(column).struct.field(name)

    def top(name: str) -> pl.Expr:
        return pl.col(name) if name in schema else pl.lit(None)

    utc = {name for name, dtype in JOBS_SCHEMA.items() if isinstance(dtype, pl.Datetime)}
    wandb = pl.col("integrations").list.eval(
        pl.element().filter(pl.element().struct.field("type").is_null() | (pl.element().struct.field("type") == "wandb"))
    ).list.first()
    kind = (
        pl.when(
            (pl.col("job_type") == "classifier")
            | ((pl.col("job_type") != "completion").fill_null(True) & top("classifier_targets").is_not_null())
        )
        .then(pl.lit("classifier"))
        .otherwise(pl.lit("completion"))
    )
    exprs = {
        "job_id": pl.col("id"),
        "job_type": kind,
        "model": pl.col("model"),
        "status": pl.col("status"),
        "auto_start": top("auto_start"),
        "created_at": pl.col("created_at"),
        "modified_at": pl.col("modified_at"),
        "fine_tuned_model": top("fine_tuned_model"),
        "suffix": top("suffix"),
        "trained_tokens": top("trained_tokens"),
        "training_files": top("training_files"),
        "validation_files": top("validation_files"),
        **{k: field("hyperparameters", k) for k in ("learning_rate", "training_steps", "epochs", "weight_decay",
                                                     "warmup_fraction", "seq_len", "fim_ratio")},  # fmt: skip
        "cost": _real_cost(field("metadata", "cost"), field("metadata", "cost_currency")),
        **{k: field("metadata", k) for k in ("cost_currency", "train_tokens", "train_tokens_per_step",
                                              "data_tokens", "expected_duration_seconds")},  # fmt: skip
        "estimated_start_time": pl.coalesce(field("metadata", "estimated_start_time"), top("estimated_start_time")),
        "wandb_project": wandb.struct.field("project"),
        "wandb_run_name": wandb.struct.field("run_name"),
        "wandb_url": wandb.struct.field("url"),
        "n_checkpoints": pl.col("checkpoints").list.len(),
        "n_events": pl.col("events").list.len(),
    }
    jobs = df.select(
        (
            pl.from_epoch(expr.cast(pl.Int64), time_unit="s").dt.replace_time_zone("UTC")
            if name in utc
            else expr.cast(JOBS_SCHEMA[name])
        ).alias(name)
        for name, expr in exprs.items()
    )
    placeholder = (pl.col("valid_loss") == 0.0) & (pl.col("valid_mean_token_accuracy") == 0.0)
    checkpoints = (
        df.select(pl.int_range(pl.len()).alias("_position"), pl.col("id").alias("job_id"), "checkpoints")
        .explode("checkpoints")
        .drop_nulls("checkpoints")
        .unnest("checkpoints")
        .unnest("metrics")
        .sort("_position", "step_number")
        .select(
            "job_id",
            "step_number",
            pl.from_epoch("created_at", time_unit="s").dt.replace_time_zone("UTC"),
            "train_loss",
            *(pl.when(~placeholder).then(pl.col(n)).alias(n) for n in ("valid_loss", "valid_mean_token_accuracy")),
        )
    )
    return _with_provider_columns(jobs, checkpoints)


def run_msgspec_floor(path: Path) -> tuple[int, int, dict]:
    """The floor: typed msgspec decoding of every line, in one process, no frames."""
    import msgspec

    from ftkit.schema import WireJob

    decode = msgspec.json.Decoder(WireJob).decode
    jobs = [decode(line) for line in path.read_bytes().splitlines() if line]
    return len(jobs), sum(len(job.checkpoints or ()) for job in jobs), {}


def run_ftkit(path: Path) -> tuple[int, int, dict]:
    import ftkit

    js = ftkit.read_jobs(path)
    return js.jobs.height, js.checkpoints.height, _widths(js.jobs, js.checkpoints)


def run_iter_jobs(path: Path, *, dedupe: bool = True) -> tuple[int, int, dict]:
    import ftkit

    n_jobs = n_checkpoints = 0
    for batch in ftkit.iter_jobs(path, dedupe=dedupe):
        n_jobs += batch.jobs.height
        n_checkpoints += batch.checkpoints.height
    return n_jobs, n_checkpoints, {}


RUNNERS = {
    "ftkit": run_ftkit,
    "ftkit-warm": run_ftkit,  # bench_read.run_one reads once untimed first
    "ftkit-1proc": run_ftkit,
    "sdk": run_sdk,
    "orjson": run_orjson,
    "polars-infer": lambda p: run_polars(p, explicit=False),
    "polars-schema": lambda p: run_polars(p, explicit=True),
    "msgspec-floor": run_msgspec_floor,
    "iter_jobs": run_iter_jobs,
    "iter_jobs-1pass": lambda p: run_iter_jobs(p, dedupe=False),
}



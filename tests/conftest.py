"""Shared fixtures: the real job documents in ``tests/data/real`` and small helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

#: A copy of the real documents of ``shared/data/real`` (provenance in its SOURCES.md), kept
#: inside the project so that the suite passes on a clone with nothing beside it.
REAL_DIR = Path(__file__).resolve().parent / "data" / "real"

#: The real Mistral documents (the openai-* files are a neighbouring format, read later).
MISTRAL_NAMES = sorted(
    p.name for p in REAL_DIR.glob("*.json") if not p.name.startswith("openai-")
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test taking ``mistral_path`` once per real Mistral document."""
    if "mistral_path" in metafunc.fixturenames:
        metafunc.parametrize(
            "mistral_path", [REAL_DIR / name for name in MISTRAL_NAMES], ids=MISTRAL_NAMES
        )


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """The folder of real job JSON documents (see its SOURCES.md)."""
    return REAL_DIR


@pytest.fixture(scope="session")
def mistral_paths(real_dir: Path) -> list[Path]:
    """The 24 real Mistral documents, sorted by name."""
    paths = [real_dir / name for name in MISTRAL_NAMES]
    assert len(paths) == 24, paths
    return paths


def _load_json(path: Path):
    return json.loads(path.read_bytes())


def _json_jobs(document) -> list[dict]:
    """The job objects of a parsed document: one job, or the ``data`` of a list response."""
    if isinstance(document, dict) and "data" in document:
        return document["data"]
    if isinstance(document, list):
        return [job for item in document for job in _json_jobs(item)]
    return [document]


def _job_json(job_id: str = "j1", **fields) -> dict:
    """A minimal valid completion job as a dict; ``fields`` override or add keys."""
    job = {
        "id": job_id,
        "model": "open-mistral-7b",
        "status": "SUCCESS",
        "created_at": 1717171717,
        "modified_at": 1717171817,
        "training_files": [],
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001},
    }
    job.update(fields)
    return job


def _job_bytes(job_id: str = "j1", **fields) -> bytes:
    return json.dumps(_job_json(job_id, **fields), separators=(",", ":")).encode()


@pytest.fixture(scope="session")
def load_json():
    """``load_json(path)``: the document parsed by the standard library, the reference."""
    return _load_json


@pytest.fixture(scope="session")
def json_jobs():
    """``json_jobs(document)``: the job dicts of a parsed document (one job, list, array)."""
    return _json_jobs


@pytest.fixture(scope="session")
def job_json():
    """``job_json(id, **fields)``: a minimal valid completion job dict, fields overriding."""
    return _job_json


@pytest.fixture(scope="session")
def job_bytes():
    """``job_bytes(id, **fields)``: :func:`job_json` as compact JSON bytes."""
    return _job_bytes

"""The shipped nbval sanitize rules let a job-analysis notebook validate run after run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ftkit.nbval_rules import SANITIZE_RULES, sanitize

# A notebook printing what changes on every run against a live API: new job and file ids,
# fine-tuned model names, creation times, W&B run URLs; and one value that must not change.
CELLS = [
    "import datetime, secrets, time, uuid",
    "job_id = str(uuid.uuid4())\n"
    "print(job_id, f'ft:open-mistral-7b:{secrets.token_hex(4)}:{time.strftime(\"%Y%m%d\")}:{job_id[:8]}')",
    "now = int(time.time())\nprint(now, datetime.datetime.fromtimestamp(now, datetime.timezone.utc))",
    "print(f'https://wandb.ai/team/project/runs/{secrets.token_hex(4)}')",
    "print('best valid_loss', VALUE)",
]


def _notebook(path: Path, value: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source.replace("VALUE", value)) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    nbformat.write(nb, path)


def _nbval(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "-o", "addopts=", *extra, str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=300,
    )


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "live.ipynb"
    _notebook(path, "0.784332")
    return path


def test_live_values_fail_without_the_rules(stored: Path) -> None:
    result = _nbval(stored)
    assert result.returncode == 1, result.stdout
    assert "3 failed" in result.stdout


def test_live_values_pass_with_the_rules(stored: Path) -> None:
    result = _nbval(stored, "--nbval-sanitize-with", str(SANITIZE_RULES))
    assert result.returncode == 0, result.stdout


def test_a_changed_metric_still_fails_with_the_rules(stored: Path, tmp_path: Path) -> None:
    nb = nbformat.read(stored, as_version=4)
    nb.cells[-1].source = nb.cells[-1].source.replace("'best valid_loss', ", "'best valid_loss', 0.1 + ")
    changed = tmp_path / "changed.ipynb"
    nbformat.write(nb, changed)
    result = _nbval(changed, "--nbval-sanitize-with", str(SANITIZE_RULES))
    assert result.returncode == 1
    assert "1 failed" in result.stdout


def test_the_rules_keep_numbers_that_are_not_times() -> None:
    assert sanitize("trained 1638400 tokens, cost 3.28 EUR, step 100") == "trained 1638400 tokens, cost 3.28 EUR, step 100"

"""ftkit's nbval sanitize rules pass every volatile value and fail every real change.

The mutation matrix at the end validates a notebook written as users write them, from a
project of its own outside this repository, against the same notebook re-run on (a) the
same jobs with new ids, times, fine-tuned model names and W&B run ids: it must pass; and
on (b) each single real change: each must fail.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient

import ftkit
from ftkit.nbval_rules import SANITIZE_RULES, sanitize, sanitize_rules

# --- the rules, form by form -------------------------------------------------------------

VOLATILE = [
    # job, file and checkpoint ids, whole, quoted (polars HTML) and shortened
    ("7a65d35f-fd50-4e07-a90a-498f773c7bda", "<ID>"),
    ("&quot;7a65d35f-fd50-4e07-a90a-498f773c7bda&quot;", "&quot;<ID>&quot;"),
    ('["1d025781-12f7-4fc4-97b4-25fcbc353a10"]', '["<ID>"]'),
    ("0730677d\u2026 1", "<ID> 1"),
    ("0730677d-f5be-458b-a95d-78b132\u2026", "<ID>"),
    # fine-tuned model names (Mistral, Mistral classifier, OpenAI, OpenAI checkpoint, Azure)
    ("ft:open-mistral-7b:9fda217c:20240624:7a65d35f", "ft:open-mistral-7b:<FT-MODEL>"),
    ("ft:classifier:ministral-3b-latest:4e1a2b3c:20250416:0f9e8d7c", "ft:classifier:ministral-3b-latest:<FT-MODEL>"),
    ("ft:gpt-3.5-turbo-0613:personal::8R0aC6w3", "ft:gpt-3.5-turbo-0613:personal::<FT-MODEL>"),
    ("ft:gpt-4o-mini-2024-07-18:acme:bot:AbCd1234:ckpt-step-80", "ft:gpt-4o-mini-2024-07-18:acme:bot:<FT-MODEL>:ckpt-step-80"),
    ("gpt-4o-mini-2024-07-18.ft-0e208cf33a6a466994aff31a08aba678", "gpt-4o-mini-2024-07-18.ft-<FT-MODEL>"),
    ("ft:open-mistral-7b:9fda21\u2026", "<FT-MODEL>"),
    ("ftjob-fl\u2026 ftjob-fleKSpQCbZyvqCJpXJ8i\u2026", "ftjob-<ID> ftjob-<ID>"),
    # OpenAI ids
    ("ftjob-fleKSpQCbZyvqCJpXJ8ilU7T", "ftjob-<ID>"),
    ("ftjob-900fcfc7ea1d4360a9f0cb1697b4eaa6", "ftjob-<ID>"),
    ("file-EGpAudFmhAXNpi24L5AoRc", "file-<ID>"),
    ("ftevent-008dc754dac18b6008dc754dac18b600", "ftevent-<ID>"),
    ("ftckpt_zc4Q7MP6XxulcVzj4MZdwsAB", "ftckpt_<ID>"),
    ("ftchkpt-148ab69f0a404cf9ab55a73d51b152de", "ftchkpt-<ID>"),
    # times, in each form ftkit and polars print them
    ("2024-07-04 12:12:49 UTC", "<DATETIME>"),
    ("2024-07-04 12:12:49.250 UTC", "<DATETIME>"),
    ("2024-07-04 12:12", "<DATETIME>"),
    ("4 jobs, created 2024-07-04 to 2025-08-20", "4 jobs, created <DATETIME> to <DATETIME>"),
    ("2024-07-04T12:12:49+00:00", "<DATETIME>"),
    ("│ 2024-07 ┆ 12 │", "│ <MONTH> ┆ 12 │"),
    ("datetime.datetime(2024, 7, 4, 12, 12, 49, tzinfo=zoneinfo.ZoneInfo(key='UTC'))", "<DATETIME>"),
    ("datetime.date(2024, 7, 4)", "<DATETIME>"),
    ("CompletionJob(created_at=1720095169, modified_at=1720095170)", "CompletionJob(created_at=<UNIX-TIME>, modified_at=<UNIX-TIME>)"),
    ('"created_at": 1720095169, "estimated_finish": 1720095999', '"created_at": <UNIX-TIME>, "estimated_finish": <UNIX-TIME>'),
    # W&B runs: the run id only
    ("https://wandb.ai/acme/support-bot/runs/7a65d35f", "https://wandb.ai/acme/support-bot/runs/<RUN-ID>"),
    ("&quot;https://wandb.ai/acme/support-bot/runs/k3x9q2ab&quot;", "&quot;https://wandb.ai/acme/support-bot/runs/<RUN-ID>&quot;"),
    ("<__main__.Thing object at 0x7f3a2b4c5d6e>", "<__main__.Thing object at 0xADDRESS>"),
]

RESULTS = [
    "trained_tokens 1251973014",  # a 10-digit count starting with 1 (was masked as a UNIX time)
    "│ 1720095169 ┆ 12303500 ┆ 73.821 ┆ 0.738739 ┆ 100 ┆ SUCCESS │",
    "trained tokens 12,303,500, cost 73.82 EUR, cost per 1M tokens 6.00",
    "step 20, best valid loss 0.9116, learning rate 0.0002, 3 checkpoints",
    "12345678 20240624 2024 1e-05 4e-05 7.5e-05",
    "model gpt-4o-mini-2024-07-18, checkpoint ft:gpt-4o-mini-2024-07-18:acme:bot:<FT-MODEL>:ckpt-step-80",
    "file-processing and file-based uploads",
    "n_steps=1720095169",  # not a time field
]


@pytest.mark.parametrize(("text", "expected"), VOLATILE)
def test_the_rules_mask_what_is_new_on_every_run(text: str, expected: str) -> None:
    assert sanitize(text) == expected


PROJECT_RULES = Path(__file__).parents[1] / "notebooks" / "sanitize.cfg"


@pytest.mark.parametrize("rules", [SANITIZE_RULES, PROJECT_RULES], ids=["ftkit", "notebooks"])
@pytest.mark.parametrize("text", RESULTS)
def test_the_rules_never_mask_a_result(text: str, rules: Path) -> None:
    assert sanitize(text, rules) == text


def test_a_changed_ten_digit_token_count_still_differs() -> None:
    assert sanitize("trained_tokens 1251973014") != sanitize("trained_tokens 1251974014")


def test_the_rules_file_is_read_as_nbval_reads_it() -> None:
    text = SANITIZE_RULES.read_text(encoding="ascii")  # ASCII: nbval opens it in the locale's encoding
    from nbval.plugin import get_sanitize_patterns

    assert [(r.pattern, s) for r, s in sanitize_rules()] == get_sanitize_patterns(text)
    assert len(sanitize_rules()) == text.count("\n[")
    # each rule says why: a comment right above its regex
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("regex: "):
            assert lines[i - 1].startswith("# "), line


def test_sanitize_rules_command_prints_the_path_or_the_rules(capsys: pytest.CaptureFixture[str]) -> None:
    from ftkit.cli import main

    assert main(["sanitize-rules"]) == 0
    assert capsys.readouterr().out == f"{SANITIZE_RULES}\n"
    assert main(["sanitize-rules", "--show"]) == 0
    assert capsys.readouterr().out == SANITIZE_RULES.read_text(encoding="utf-8")


def test_ftkit_registers_the_plugin_under_its_module_name() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    # named as the module, so that an explicit -p ftkit.nbval_plugin does not register it twice
    assert pyproject["project"]["entry-points"]["pytest11"] == {"ftkit.nbval_plugin": "ftkit.nbval_plugin"}


def test_the_readme_shows_the_forms_the_matrix_runs() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert 'pytest --nbval --nbval-sanitize-with="$(ftkit sanitize-rules)" my-notebooks/' in readme
    assert "pytest --nbval --nbval-ftkit my-notebooks/" in readme
    assert "ftkit.display_config()" in readme
    assert not re.search(r"--nbval-sanitize-with +[\"$]", readme)  # the form pytest misreads


def test_a_rules_file_with_a_regex_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.cfg"
    path.write_text("regex: a\nreplace: b\n\nregex: a\nreplace: c\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.cfg: the regex 'a' is given twice"):
        sanitize_rules(path)


def test_display_config_prints_every_id_whole_on_one_line() -> None:
    js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(6, seed=1))
    wide = js.jobs.with_columns(pl.col("job_id").alias(f"copy_{i}") for i in range(6))
    before = pl.Config.state()
    with ftkit.display_config():
        text, html = repr(wide), wide._repr_html_()
        summary = repr(js.checkpoint_summary())
    for job_id in js.ids:
        assert job_id in text and job_id in summary and f"&quot;{job_id}&quot;" in html
    assert "<ID>" in sanitize(text) and not re.search(r"[0-9a-f]{4}-[0-9a-f]{4}", sanitize(text + html + summary))
    assert pl.Config.state() == before  # restored after the block


def test_no_id_model_name_time_or_run_survives_in_what_ftkit_prints() -> None:
    """Every ftkit.synth job (both types, every era's shapes) printed as a user would."""
    from ftkit.summary import summary_text

    js = ftkit.read_jobs(ftkit.synth.make_jobs_bytes(120, seed=5))
    frame = js.jobs.select("job_id", "fine_tuned_model", "created_at", "training_files", "wandb_url", "trained_tokens")
    with ftkit.display_config(tbl_rows=-1):
        printed = "\n".join([repr(frame), frame._repr_html_(), summary_text(js), repr(js[js.ids[0]]), repr(js.events)])
    masked = sanitize(printed)
    volatile = set(js.ids) | {name for name in js.jobs["fine_tuned_model"] if name}
    volatile |= {url.rsplit("/", 1)[1] for url in js.jobs["wandb_url"] if url}
    volatile |= {f"{t:%Y-%m-%d}" for t in js.jobs["created_at"]}
    assert js.jobs["fine_tuned_model"].str.starts_with("ft:classifier:").any() and js.jobs["wandb_url"].is_not_null().any()
    assert {v for v in volatile if v in printed} == volatile
    assert {v for v in volatile if v in masked} == set()
    assert not re.search(r"_at=\d", masked)
    for tokens in js.jobs["trained_tokens"].drop_nulls():
        assert str(tokens) in masked


REAL = sorted((Path(__file__).parent / "data" / "real").glob("*.json"))
_LEFT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}|\b(?:ftjob|ftevent|ftckpt|ftchkpt|file)[-_](?=[a-z]*[0-9A-Z])\w{8,}"
    r"|\.ft-[0-9a-f]{8}|:[0-9a-f]{8}:20\d{6}:|_at\"\s*:\s*\d|wandb\.ai/[^\"]*/runs/[^<\"]"
)
_RESULT = re.compile(r'"(?:trained_tokens|train_tokens|cost|train_loss|valid_loss|step_number|status|training_steps)"\s*:\s*[^,}\n]+')


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_documents_keep_their_results_and_lose_their_ids_and_times(path: Path) -> None:
    """The real job documents (Mistral and OpenAI formats) as JSON, the most a user could print."""
    text = path.read_text(encoding="utf-8")
    masked = sanitize(text)
    assert _LEFT.search(text)  # what the rules must mask is there to begin with
    assert _LEFT.findall(masked) == []
    assert _RESULT.findall(masked) == _RESULT.findall(text)


# --- running the rules from a user's own project ----------------------------------------------

USER_INI = "[pytest]\naddopts = -p no:cacheprovider\n"
# A helper module in the user's project whose docstring is not a doctest: collected only
# if pytest took ftkit's configuration (--doctest-modules) instead of the user's.
USER_HELPER = '"""Helpers.\n\n>>> 1 + 1\n3\n"""\n'


def _kernel_env() -> dict[str, str]:
    """The environment of a user's kernel: the inline matplotlib backend, not Agg."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(ftkit.__file__).parents[1]), env.get("PYTHONPATH")]))
    return env


Run = tuple[subprocess.CompletedProcess[str], dict[str, str]]


def _pytest_runs(project: Path, *runs: list[str]) -> list[Run]:
    """Run pytest in ``project`` as a user would, once per argument list, all at once.

    Each run gives its completed process and the outcome of each test, by node id.
    """
    started = []
    for i, args in enumerate(runs):
        report = project / f"report-{i}.xml"
        command = [sys.executable, "-m", "pytest", f"--junitxml={report}", "-o", "junit_family=xunit1", *args]
        process = subprocess.Popen(
            command, cwd=project, env=_kernel_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        started.append((command, process, report))
    results = []
    try:
        finished = [process.communicate(timeout=300) for _, process, _ in started]
    finally:
        for _, process, _ in started:
            process.kill()
            process.wait()
    for (command, process, report), (stdout, stderr) in zip(started, finished):
        outcomes: dict[str, str] = {}
        if report.exists():
            for case in ET.parse(report).iter("testcase"):
                failure, error = case.find("failure"), case.find("error")
                outcomes[f"{case.get('file')}::{case.get('name')}"] = (
                    "error: " + (error.get("message") or "") if error is not None
                    else "failed: " + (failure.get("message") or "") + (failure.text or "") if failure is not None
                    else "passed"
                )
            report.unlink()
        results.append((subprocess.CompletedProcess(command, process.returncode, stdout, stderr), outcomes))
    return results


# --- the mutation matrix -----------------------------------------------------------------

CELLS = [
    'import ftkit\nimport ftkit.plot\n\nftkit.display_config()\njs = ftkit.read_jobs("jobs.ndjson")\njs',
    "js.jobs",
    "js.checkpoint_summary()",
    "js.token_usage_totals()",
    "from ftkit.summary import summary_text\n\nprint(summary_text(js))",
    "js[js.ids[0]]",
    'ax = ftkit.plot.plot_loss_curves(js.filter(status="SUCCESS"))',
]

TARGET = 2  # the job that each real change edits: SUCCESS, checkpoints, cost, a W&B run
TOKENS = 1251973014  # its trained tokens: ten digits starting with 1, as a UNIX time


def _baseline_jobs() -> list[dict]:
    jobs = [json.loads(line) for line in ftkit.synth.make_jobs_bytes(6, seed=1).splitlines() if line.strip()]
    target = jobs[TARGET]
    assert target["status"] == "SUCCESS" and target["checkpoints"] and target["metadata"]["cost"]
    assert any(i.get("url") for i in target["integrations"])
    target["trained_tokens"] = TOKENS
    return jobs


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_FT = re.compile(r"\b(ft:(?:classifier:)?[\w.-]+):[0-9a-f]{8}:\d{8}:[0-9a-f]{8}\b")
_RUN = re.compile(r"(https://wandb\.ai/[^/\"]+/[^/\"]+/runs/)[^/\"]+")
_SHIFT = 9 * 86400 + 5 * 3600 + 17 * 60 + 3  # the same jobs, run 9 days, 5 h 17 min 3 s later


def _rerun(jobs: list[dict]) -> list[dict]:
    """The same jobs run again: new ids, times, fine-tuned model names and W&B run ids."""
    rng = random.Random(11)
    new_ids: dict[str, str] = {}

    def new_id(match: re.Match[str]) -> str:
        return new_ids.setdefault(match.group(), str(uuid.UUID(int=rng.getrandbits(128), version=4)))

    text = _UUID.sub(new_id, json.dumps(jobs))
    text = _FT.sub(lambda m: f"{m.group(1)}:{rng.getrandbits(32):08x}:2026{rng.randrange(10, 13)}{rng.randrange(10, 29)}:{rng.getrandbits(32):08x}", text)
    text = _RUN.sub(lambda m: m.group(1) + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8)), text)
    jobs = json.loads(text)

    def shift(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("created_at", "modified_at", "estimated_start_time") and isinstance(value, int):
                    node[key] = value + _SHIFT
                else:
                    shift(value)
        elif isinstance(node, list):
            for item in node:
                shift(item)

    shift(jobs)
    return jobs


def _best_checkpoint(job: dict) -> dict:
    return min((c for c in job["checkpoints"] if c["metrics"].get("valid_loss")), key=lambda c: c["metrics"]["valid_loss"])


def _changed(edit: Callable[[dict], None]) -> Callable[[list[dict]], list[dict]]:
    def change(jobs: list[dict]) -> list[dict]:
        jobs = copy.deepcopy(jobs)
        edit(jobs[TARGET])
        return jobs

    return change


REAL_CHANGES: dict[str, Callable[[list[dict]], list[dict]]] = {
    "tokens": _changed(lambda job: job.update(trained_tokens=TOKENS + 1000)),
    "loss": _changed(lambda job: _best_checkpoint(job)["metrics"].update(valid_loss=_best_checkpoint(job)["metrics"]["valid_loss"] + 0.001)),
    "cost": _changed(lambda job: job["metadata"].update(cost=round(job["metadata"]["cost"] + 0.01, 6))),
    "steps": _changed(lambda job: job["hyperparameters"].update(training_steps=job["hyperparameters"]["training_steps"] + 1)),
    "status": _changed(lambda job: job.update(status="FAILED")),
}


def _write_dump(jobs: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs), encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A user's project: its own pytest.ini, a helper module, and a notebook run once on the jobs."""
    root = tmp_path_factory.mktemp("user-project")
    assert not root.resolve().is_relative_to(Path(ftkit.__file__).resolve().parents[1])
    (root / "pytest.ini").write_text(USER_INI, encoding="utf-8")
    (root / "helpers.py").write_text(USER_HELPER, encoding="utf-8")
    base = root / "baseline"
    base.mkdir()
    _write_dump(_baseline_jobs(), base / "jobs.ndjson")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(base)}}).execute(env=_kernel_env())
    for cell in nb.cells:
        assert all(output.output_type != "error" for output in cell.outputs), cell.outputs
    nbformat.write(nb, base / "analysis.ipynb")
    return root


def _case(project: Path, name: str, jobs: list[dict]) -> None:
    case = project / name
    case.mkdir()
    (case / "analysis.ipynb").write_bytes((project / "baseline" / "analysis.ipynb").read_bytes())
    _write_dump(jobs, case / "jobs.ndjson")


def test_the_notebook_shows_what_changes_on_every_run(project: Path) -> None:
    """The matrix means something: the stored outputs hold ids, model names, times and runs."""
    jobs = _baseline_jobs()
    outputs = json.dumps([cell.outputs for cell in nbformat.read(project / "baseline" / "analysis.ipynb", as_version=4).cells])
    target = jobs[TARGET]
    run_url = next(i["url"] for i in target["integrations"] if i.get("url"))
    for volatile in (target["id"], target["fine_tuned_model"], run_url, target["training_files"][0], "created_at="):
        assert volatile in outputs
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", outputs)
    assert str(TOKENS) in outputs
    assert "<Figure size" in outputs and "image/png" in outputs


# The matrix runs in two pytest processes at once, one per way of giving the rules.
FORMS = {
    "--nbval-sanitize-with=PATH": (["rerun", "tokens", "loss"], [f"--nbval-sanitize-with={SANITIZE_RULES}"]),
    "--nbval-ftkit": (["rerun-flag", "cost", "steps", "status"], ["-p", "ftkit.nbval_plugin", "--nbval-ftkit"]),
}


def test_mutation_matrix(project: Path) -> None:
    """(a) the same jobs run again pass; (b) each single real change fails.

    Run as the README says, from the user's project, with either way of giving the rules:
    pytest must take the user's ``pytest.ini`` (so no doctest of ``helpers.py``). The form
    pytest misreads (``--nbval-sanitize-with PATH``) is refused with a clear message.
    """
    jobs = _baseline_jobs()
    changes = {"rerun": _rerun, "rerun-flag": _rerun}
    changes |= {name: (lambda jobs, change=change: _rerun(change(jobs))) for name, change in REAL_CHANGES.items()}
    for name, change in changes.items():
        _case(project, name, change(jobs))  # a real change among new ids and times
    assert sorted(changes) == sorted(case for cases, _ in FORMS.values() for case in cases)
    # The form pytest misreads, with rules kept in another project (as ftkit's are, in a checkout)
    other = project.parent / f"{project.name}-other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "--doctest-modules"\n', encoding="utf-8")
    (other / "rules.cfg").write_bytes(SANITIZE_RULES.read_bytes())
    misread = ["-p", "ftkit.nbval_plugin", "--nbval", "--nbval-sanitize-with", str(other / "rules.cfg"), "helpers.py"]
    # A notebook without display_config: --nbval-ftkit warns about it when collecting
    nb = nbformat.read(project / "baseline" / "analysis.ipynb", as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("ftkit.display_config()\n", "")
    (project / "no-display").mkdir()
    nbformat.write(nb, project / "no-display" / "analysis.ipynb")
    collect = ["--co", "-p", "ftkit.nbval_plugin", "--nbval", "--nbval-ftkit", "no-display", "rerun"]
    *runs, (refused, _), (collected, _) = _pytest_runs(
        project,
        *(["--nbval", "--nbval-current-env", *args, *cases, "helpers.py"] for cases, args in FORMS.values()),
        misread,
        collect,
    )
    assert collected.returncode == 0, collected.stdout
    assert collected.stdout.count("shows polars tables without ftkit.display_config()") == 1, collected.stdout
    assert "no-display/analysis.ipynb" in collected.stdout.split("warnings summary")[1]
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert f"pytest took its configuration ({other / 'pyproject.toml'}) from beside the sanitize file" in refused.stderr
    assert "write --nbval-sanitize-with=PATH with '='" in refused.stderr
    by_case: dict[str, dict[str, str]] = {}
    for (result, outcomes), form in zip(runs, FORMS):
        assert f"rootdir: {project}" in result.stdout and "configfile: pytest.ini" in result.stdout, (form, result.stdout)
        for node, outcome in outcomes.items():
            by_case.setdefault(node.split("/")[0], {})[node] = outcome
    assert set(by_case) == set(changes), by_case.keys()  # nothing from helpers.py
    for name in ("rerun", "rerun-flag"):
        assert len(by_case[name]) == len(CELLS)
        assert all(o == "passed" for o in by_case[name].values()), [o for o in by_case[name].values() if o != "passed"]
    for name in REAL_CHANGES:
        failed = [o for o in by_case[name].values() if o != "passed"]
        assert failed, f"the real change {name!r} passed"
        assert all(o.startswith("failed") and "Cell outputs differ" in o for o in failed), (name, failed)


class _Config:
    """What the plugin's pytest_configure reads of a pytest Config."""

    def __init__(self, **options: object) -> None:
        self.option = SimpleNamespace(**options)

    def getoption(self, name: str, default: object = None) -> object:
        return getattr(self.option, name, default)


def test_nbval_ftkit_points_nbval_at_the_rules() -> None:
    from ftkit.nbval_plugin import pytest_configure

    config = _Config(nbval_ftkit=True, nbval_sanitize_with=None, sanitize_with=None)
    pytest_configure(config)
    assert config.option.nbval_sanitize_with == str(SANITIZE_RULES)
    config = _Config(nbval_ftkit=False, nbval_sanitize_with=None, sanitize_with=None)
    pytest_configure(config)
    assert config.option.nbval_sanitize_with is None


@pytest.mark.parametrize("given", [{"nbval_sanitize_with": "mine.cfg"}, {"sanitize_with": "mine.cfg"}])
def test_nbval_ftkit_refuses_a_second_rules_file(given: dict[str, str]) -> None:
    from ftkit.nbval_plugin import pytest_configure

    config = _Config(**({"nbval_ftkit": True, "nbval_sanitize_with": None, "sanitize_with": None} | given))
    with pytest.raises(pytest.UsageError, match=r"--nbval-ftkit and --nbval-sanitize-with=mine\.cfg .* nbval reads one"):
        pytest_configure(config)


def _run_config(tmp_path: Path, *, here: str, rules: str, args: list[str], inifile: str | None = None) -> SimpleNamespace:
    """A pytest Config that took its configuration from ``other/pyproject.toml``."""
    for name in ("user", "other"):
        (tmp_path / name).mkdir(exist_ok=True)
    return SimpleNamespace(
        option=SimpleNamespace(nbval_sanitize_with=rules, inifilename=inifile, rootdir=None),
        inipath=tmp_path / "other" / "pyproject.toml",
        rootpath=tmp_path / "other",
        invocation_params=SimpleNamespace(dir=tmp_path / here),
        args=args,
    )


def test_misread_rules_path_tells_a_misread_run_from_the_others(tmp_path: Path) -> None:
    from ftkit.nbval_plugin import misread_rules_path

    misread = _run_config(tmp_path, here="user", rules=str(tmp_path / "other" / "rules.cfg"), args=["nbs"])
    assert misread_rules_path(misread).startswith(f"pytest took its configuration ({tmp_path / 'other' / 'pyproject.toml'})")
    # run from the project that holds the rules, or on tests in it: its configuration is meant
    assert misread_rules_path(_run_config(tmp_path, here="other", rules="rules.cfg", args=["nbs"])) is None
    assert misread_rules_path(_run_config(tmp_path, here="user", rules="../other/rules.cfg", args=["../other/nbs::Cell 1"])) is None
    # rules outside the configuration's root; an explicit -c; no rules
    assert misread_rules_path(_run_config(tmp_path, here="user", rules="rules.cfg", args=["nbs"])) is None
    assert misread_rules_path(_run_config(tmp_path, here="user", rules=str(tmp_path / "other" / "r.cfg"), args=[], inifile="x.ini")) is None
    assert misread_rules_path(_run_config(tmp_path, here="user", rules=None, args=["nbs"])) is None


def test_needs_display_config_spots_tables_printed_without_it() -> None:
    from ftkit.nbval_plugin import needs_display_config

    def notebook(source: str, text: str) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(source)
        cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)]
        nb.cells = [nbformat.v4.new_markdown_cell("# jobs"), cell]
        return nb

    table = "shape: (3, 31)\n┌────────────┬\n│ job_id     ┆\n│ f3a420cd-7 ┆"
    assert needs_display_config(notebook("import ftkit\njs = ftkit.read_jobs('x')\njs.jobs", table))
    assert not needs_display_config(notebook("import ftkit\nftkit.display_config()\njs.jobs", table))
    assert not needs_display_config(notebook("import polars as pl\npl.DataFrame()", table))  # not ftkit's
    assert not needs_display_config(notebook("import ftkit\nlen(ftkit.read_jobs('x'))", "3"))  # no table


def test_nbval_ftkit_without_nbval_says_so() -> None:
    from ftkit.nbval_plugin import pytest_configure

    with pytest.raises(pytest.UsageError, match="--nbval-ftkit needs the nbval plugin: pip install nbval"):
        pytest_configure(_Config(nbval_ftkit=True))

"""A pytest plugin: ``--nbval-ftkit`` validates notebooks with ftkit's sanitize rules.

ftkit registers it (entry point ``pytest11``), so in any project where ftkit is installed::

    pytest --nbval --nbval-ftkit my-notebooks/

is ``--nbval-sanitize-with=<ftkit's rules>`` without a path to spell: a flag has no
value that pytest could take for a test path, so pytest keeps using the project's own
configuration (``pytest.ini``, ``pyproject.toml``), and the flag fits in its ``addopts``.
Where plugins are not loaded automatically, add ``-p ftkit.nbval_plugin``.

The plugin also stops, with a message, a run whose configuration pytest took from
beside a sanitize file given as ``--nbval-sanitize-with PATH`` (see
:func:`misread_rules_path`); with ``--nbval-ftkit`` it warns about a notebook that shows
polars tables without :func:`ftkit.display_config` (see :func:`needs_display_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .nbval_rules import SANITIZE_RULES


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--nbval-ftkit`` to nbval's group of options."""
    group = parser.getgroup("nbval", "Jupyter Notebook validation")
    group.addoption(
        "--nbval-ftkit",
        action="store_true",
        default=False,
        help="sanitize notebook outputs with ftkit's rules for fine-tuning jobs (ids, fine-tuned"
        " model names, times, W&B run ids); see `ftkit sanitize-rules --show`",
    )


def misread_rules_path(config: pytest.Config) -> str | None:
    """Why pytest's configuration comes from beside the sanitize file, or None if it does not.

    With ``--nbval-sanitize-with PATH`` (no ``=``), pytest reads ``PATH`` as a test path
    too while it looks for its configuration file, before nbval defines the option; it
    may then take the configuration of the project that holds ``PATH`` (ftkit's own,
    for an editable install) instead of the user's. The sign: the rules lie under the
    configuration's root, and neither the directory pytest runs in nor any test path does.
    """
    rules = getattr(config.option, "nbval_sanitize_with", None)
    if not rules or config.inipath is None or config.option.inifilename or config.option.rootdir:
        return None
    root = config.rootpath.resolve()
    here = Path(config.invocation_params.dir)
    if not (here / rules).resolve().is_relative_to(root) or here.resolve().is_relative_to(root):
        return None
    if any((here / arg.split("::")[0]).resolve().is_relative_to(root) for arg in config.args):
        return None
    return (
        f"pytest took its configuration ({config.inipath}) from beside the sanitize file {rules},"
        " which it also read as a test path: write --nbval-sanitize-with=PATH with '=',"
        " or use --nbval-ftkit for ftkit's rules"
    )


def needs_display_config(nb: Any) -> bool:
    """Whether a notebook shows polars tables of ftkit's frames without :func:`ftkit.display_config`.

    There polars may wrap a job id across table lines, where no sanitize rule can mask it.
    """
    code = "\n".join(cell.get("source", "") for cell in nb.get("cells", ()) if cell.get("cell_type") == "code")
    if "ftkit" not in code or "display_config" in code:
        return False
    for cell in nb.get("cells", ()):
        for output in cell.get("outputs", ()):
            data = output.get("data", {})
            if "shape: (" in str(data.get("text/plain", "")) or "shape: (" in str(output.get("text", "")):
                return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--nbval-ftkit``, warn about each notebook that :func:`needs_display_config`."""
    if not config.getoption("nbval_ftkit", default=False):
        return
    warned = set()
    for item in items:
        notebook = item.parent
        nb = getattr(notebook, "nb", None)  # nbval's IPyNbFile keeps the notebook it runs
        if nb is None or id(notebook) in warned:
            continue
        warned.add(id(notebook))
        if needs_display_config(nb):
            notebook.warn(
                pytest.PytestWarning(
                    f"{notebook.path.name} shows polars tables without ftkit.display_config(): polars may"
                    " wrap job ids across table lines, where no sanitize rule can mask them;"
                    " call ftkit.display_config() in its first cell"
                )
            )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point nbval at ftkit's rules; refuse a run whose configuration came from beside them."""
    if not config.getoption("nbval_ftkit", default=False):
        problem = misread_rules_path(config)
        if problem:
            raise pytest.UsageError(problem)
        return
    if not hasattr(config.option, "nbval_sanitize_with"):
        msg = "--nbval-ftkit needs the nbval plugin: pip install nbval"
        raise pytest.UsageError(msg)
    other = config.option.nbval_sanitize_with or getattr(config.option, "sanitize_with", None)
    if other:
        msg = (
            f"--nbval-ftkit and --nbval-sanitize-with={other} both give a sanitize file, and nbval reads"
            " one: copy ftkit's rules (`ftkit sanitize-rules --show`) into yours and drop --nbval-ftkit"
        )
        raise pytest.UsageError(msg)
    config.option.nbval_sanitize_with = str(SANITIZE_RULES)

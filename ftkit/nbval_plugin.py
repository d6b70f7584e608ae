"""A pytest plugin: ``--nbval-ftkit`` validates notebooks with ftkit's sanitize rules.

ftkit registers it (entry point ``pytest11``), so in any project where ftkit is installed::

    pytest --nbval --nbval-ftkit my-notebooks/

is ``--nbval-sanitize-with=<ftkit's rules>`` without a path to spell: a flag has no
value that pytest could take for a test path, so pytest keeps using the project's own
configuration (``pytest.ini``, ``pyproject.toml``), and the flag fits in its ``addopts``.
Where plugins are not loaded automatically, add ``-p ftkit.nbval_plugin``.
"""

from __future__ import annotations

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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Point nbval at ftkit's rules, refusing a second rules file nbval would not read."""
    if not config.getoption("nbval_ftkit", default=False):
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

"""nbval sanitize rules for notebooks that analyse fine-tuning jobs.

A notebook that reads live jobs prints ids, fine-tuned model names, timestamps and W&B
URLs that change on every run. :data:`SANITIZE_RULES` is an nbval sanitize file that
replaces them by placeholders, so that ``pytest --nbval`` compares what should not
change (losses, counts, hyperparameters):

.. code-block:: bash

    pytest --nbval --nbval-sanitize-with "$(ftkit sanitize-rules)" my-notebooks/

Examples
--------
>>> print(sanitize("job 7a65d35f-fd50-4e07-a90a-498f773c7bda -> ft:open-mistral-7b:9fda217c:20240624:7a65d35f"))
job <ID> -> <FT-MODEL>
>>> print(sanitize("created 2024-06-24 12:16:32 UTC (1719231392), best valid_loss 0.784332"))
created <DATETIME> (<UNIX-TIME>), best valid_loss 0.784332
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

__all__ = ["SANITIZE_RULES", "sanitize_rules", "sanitize"]

#: The rules file, in nbval's sanitize format.
SANITIZE_RULES = Path(__file__).with_name("resources") / "nbval-sanitize.cfg"


def sanitize_rules(path: str | Path = SANITIZE_RULES) -> list[tuple[re.Pattern[str], str]]:
    """The ``(regex, replacement)`` pairs of an nbval sanitize file, in file order."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return [(re.compile(parser[section]["regex"]), parser[section]["replace"]) for section in parser.sections()]


def sanitize(text: str, path: str | Path = SANITIZE_RULES) -> str:
    """``text`` with every rule applied, as nbval applies them before comparing outputs."""
    for regex, replacement in sanitize_rules(path):
        text = regex.sub(replacement, text)
    return text

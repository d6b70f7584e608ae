"""nbval sanitize rules for notebooks that analyse fine-tuning jobs.

A notebook that reads live jobs prints ids, fine-tuned model names, times and W&B run
ids that are new every time the same jobs are run again. :data:`SANITIZE_RULES` is an
nbval sanitize file that masks them, and only them, so that ``pytest --nbval`` compares
the results (tokens, losses, costs, steps, counts, statuses): a changed result fails.

.. code-block:: bash

    pytest --nbval --nbval-ftkit my-notebooks/
    pytest --nbval --nbval-sanitize-with="$(ftkit sanitize-rules)" my-notebooks/

The notebook calls :func:`ftkit.display_config` first, so that polars prints ids whole
and on one line. :func:`sanitize` applies the rules as nbval does, to check what they
mask.

Examples
--------
>>> print(sanitize("job 7a65d35f-fd50-4e07-a90a-498f773c7bda -> ft:open-mistral-7b:9fda217c:20240624:7a65d35f"))
job <ID> -> ft:open-mistral-7b:<FT-MODEL>
>>> print(sanitize("created 2024-06-24 12:16:32 UTC (created_at=1719231392), best valid_loss 0.784332"))
created <DATETIME> (created_at=<UNIX-TIME>), best valid_loss 0.784332
>>> print(sanitize("trained_tokens 1251973014, cost 3.28 EUR, 100 steps, SUCCESS"))
trained_tokens 1251973014, cost 3.28 EUR, 100 steps, SUCCESS
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["SANITIZE_RULES", "sanitize_rules", "sanitize"]

#: The rules file, in nbval's sanitize format.
SANITIZE_RULES = Path(__file__).with_name("resources") / "nbval-sanitize.cfg"

# How nbval 0.11 reads a sanitize file (nbval.plugin.get_sanitize_patterns): a "regex:"
# line directly followed by a "replace:" line; everything else is ignored.
_RULE = re.compile(r"^regex: (.*)$\n^replace: (.*)$", re.MULTILINE)


def sanitize_rules(path: str | Path = SANITIZE_RULES) -> list[tuple[re.Pattern[str], str]]:
    """The ``(regex, replacement)`` pairs of an nbval sanitize file, read as nbval reads them.

    Rules apply in file order. A regex given twice is an error here (nbval would keep
    only the later replacement, at the earlier place).

    Examples
    --------
    >>> [regex.pattern for regex, _ in sanitize_rules()][-1]
    '\\\\b0x[0-9a-fA-F]{6,16}\\\\b'
    """
    text = Path(path).read_text(encoding="utf-8")
    pairs = _RULE.findall(text)
    seen: set[str] = set()
    for regex, _ in pairs:
        if regex in seen:
            msg = f"{path}: the regex {regex!r} is given twice; nbval would apply only one of them"
            raise ValueError(msg)
        seen.add(regex)
    return [(re.compile(regex), replacement) for regex, replacement in pairs]


def sanitize(text: str, path: str | Path = SANITIZE_RULES) -> str:
    """``text`` with every rule applied, as nbval applies them before comparing outputs.

    Examples
    --------
    >>> print(sanitize("https://wandb.ai/acme/support-bot/runs/7a65d35f"))
    https://wandb.ai/acme/support-bot/runs/<RUN-ID>
    """
    for regex, replacement in sanitize_rules(path):
        text = regex.sub(replacement, text)
    return text

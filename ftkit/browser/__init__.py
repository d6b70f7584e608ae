"""JobBrowser: find, inspect and compare fine-tuning jobs in a notebook, with ipywidgets.

The browser is a plain class holding the state (filters, sort, page, selection by job
id) that composes child widgets; ``browser.widget`` is the root. The work is done by the
pure functions of this module, which take and return polars frames and HTML strings and
can be used and tested without widgets:

- :func:`browser_table`: the jobs frame plus ``best_valid_loss`` and a search column;
- :func:`filter_table`, :func:`sort_table`, :func:`page_of`: one view of it;
- :func:`detail_html`, :func:`compare_html`: the detail and compare panes;
- :func:`summary_text`, :func:`summary_html`: the static view shown where widgets cannot
  render (nbval, HTML exports, terminals).

Everything that comes from a job is HTML-escaped.

Examples
--------
>>> import ftkit
>>> from ftkit.browser import browser_table, filter_table
>>> js = ftkit.read_jobs(EXAMPLE_JOBS)
>>> table = browser_table(js)
>>> filter_table(table, {"status": ["SUCCESS"], "text": "SUPPORT"})["job_id"].to_list()
['job-a']
"""

from .panes import compare_html, detail_html
from .table import (
    EXAMPLE_JOBS,
    FILTER_KEYS,
    TABLE_COLUMNS,
    browser_table,
    filter_table,
    format_cell,
    page_of,
    row_html,
    sort_table,
    summary_html,
    summary_text,
)
from .widget import JobBrowser

__all__ = [
    "JobBrowser",
    "FILTER_KEYS",
    "TABLE_COLUMNS",
    "browser_table",
    "filter_table",
    "sort_table",
    "page_of",
    "format_cell",
    "row_html",
    "detail_html",
    "compare_html",
    "summary_text",
    "summary_html",
]


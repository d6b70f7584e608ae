"""JobBrowser: the widget, a plain class holding the state and composing ipywidgets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from ..escape import printable
from ..jobset import JobSet
from .panes import DetailPlot, compare_figure, compare_html, detail_html, figure_png, subset_of
from .table import (
    EXAMPLE_JOBS,  # noqa: F401 (the docstring examples)
    ID_WIDTH,
    SEARCH_COLUMN,
    TABLE_COLUMNS,
    VALUE_FILTERS,
    filter_values,
    sort_spec,
    table_digits,
    browser_table,
    filter_expr,
    filter_table,
    page_count,
    page_of,
    parse_bound,
    px,
    row_html,
    short_id,
    sort_table,
    summary_html,
    summary_text,
)

__all__ = ["JobBrowser"]

# --- the widget ---------------------------------------------------------------------

_ROW_CSS = """<style>
.ftkit-browser .ftkit-cells {display: flex; white-space: nowrap; font-size: var(--jp-widgets-font-size, 13px); line-height: 28px;}
.ftkit-browser .ftkit-cell {display: inline-block; overflow: hidden; text-overflow: ellipsis; padding-right: 1ch; box-sizing: border-box;}
.ftkit-browser .ftkit-row-box:nth-child(even) {background: var(--jp-layout-color2, #f5f5f5);}
.ftkit-browser .ftkit-row-box.ftkit-selected {background: var(--jp-brand-color3, #bbdefb);}
.ftkit-browser .ftkit-row input {cursor: pointer;}
.ftkit-browser .ftkit-row {font-family: var(--jp-code-font-family, monospace);}
.ftkit-browser button.ftkit-sort {padding: 0 1ch 0 0; justify-content: flex-start !important; text-align: left !important; font-weight: 600; box-sizing: border-box;}
</style>"""


def _mark(box: Any, selected: bool) -> None:
    """Highlight a table row as selected, or not."""
    if selected:
        box.add_class("ftkit-selected")
    else:
        box.remove_class("ftkit-selected")


class JobBrowser:
    """Find, inspect and compare fine-tuning jobs in a notebook.

    Parameters
    ----------
    jobs
        A :class:`~ftkit.JobSet`, or any source :func:`ftkit.read_jobs` accepts.
    page_size
        Rows per page of the table; only one page is ever rendered.
    filters
        Initial filters, as for :attr:`filters`.
    sort
        Initial sort, as for :attr:`sort`: newest first by default.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root widget; displaying the browser displays it.

    Notes
    -----
    State lives on the browser, apart from the view: :attr:`filters`, :attr:`sort`,
    :attr:`page` and :attr:`selected` (job ids) can be read and set from code, and the
    widgets follow. Ticking a row selects its job: one job shows its detail pane, two or
    more switch to compare mode. The selection is kept by job id across filtering,
    sorting and paging.

    Examples
    --------
    >>> import ftkit
    >>> browser = ftkit.browser.JobBrowser(ftkit.read_jobs(EXAMPLE_JOBS))
    >>> browser.matching
    ['job-b', 'job-a']
    >>> browser.filters = {"status": ["SUCCESS"]}
    >>> browser.matching
    ['job-a']
    >>> browser.selected = ["job-a"]
    >>> browser.mode
    'detail'
    """

    def __init__(
        self,
        jobs: Any,
        *,
        page_size: int = 15,
        filters: Mapping[str, Any] | None = None,
        sort: tuple[str, bool] = ("created_at", True),
    ) -> None:
        import ipywidgets as widgets

        if not isinstance(jobs, JobSet):
            from ..read import read_jobs

            jobs = read_jobs(jobs)
        if page_size < 1:
            msg = f"page_size: expected a positive number of rows, got {page_size}"
            raise ValueError(msg)
        self._jobs = jobs
        self._page_size = page_size
        self._table = (
            browser_table(jobs)
            .select("job_id", *[c for c, _, _ in TABLE_COLUMNS], "cost_currency", "fine_tuned_model", SEARCH_COLUMN)
            .sort("job_id")  # so that sorting on one column breaks ties by job id
        )
        self._ids = frozenset(self._table["job_id"].to_list())
        self._sort = sort_spec(sort, self.sortable)
        self._sorted = sort_table(self._table, self._sort[0], descending=self._sort[1])
        self._view = self._sorted
        self._page = 0
        self._page_ids: list[str] = []
        self._selected: list[str] = []
        self._hold = False  # set while code moves several widgets at once
        self._detail_plot: DetailPlot | None = None  # made on the first selection

        def values(column: str) -> list[str]:
            return sorted(self._table[column].drop_nulls().unique().to_list())

        self._statuses, self._types, self._models = values("status"), values("job_type"), values("model")
        label = {"description_width": "initial"}
        self._status = widgets.SelectMultiple(
            options=self._statuses, rows=min(max(len(self._statuses), 2), 5),
            description="status", style=label, layout=widgets.Layout(width="220px"),
        )
        self._job_type = widgets.SelectMultiple(
            options=self._types, rows=min(max(len(self._types), 2), 3),
            description="type", style=label, layout=widgets.Layout(width="200px"),
        )
        self._model = widgets.SelectMultiple(
            options=self._models, rows=min(max(len(self._models), 2), 5),
            description="model", style=label, layout=widgets.Layout(width="290px"),
        )
        self._text = widgets.Text(
            placeholder="job id, suffix or fine-tuned model", description="search",
            style=label, layout=widgets.Layout(width="300px"),
        )
        self._created_after = widgets.DatePicker(description="created from", style=label)
        self._created_before = widgets.DatePicker(description="to", style=label)
        for child in (self._status, self._job_type, self._model, self._text,
                      self._created_after, self._created_before):
            child.observe(self._on_filter, names="value")
        self._count = widgets.HTML()
        self._count.add_class("ftkit-count")

        self._sort_buttons: dict[str, Any] = {}
        fixed = {"margin": "0", "flex": "0 0 auto"}
        header = [widgets.Button(description="job id", layout=widgets.Layout(width=px(ID_WIDTH + 2), **fixed))]
        self._sort_buttons["job_id"] = header[0]
        for column, title, width in TABLE_COLUMNS:
            button = widgets.Button(description=title, tooltip=f"sort by {column}",
                                    layout=widgets.Layout(width=px(width), **fixed))
            self._sort_buttons[column] = button
            header.append(button)
        for column, button in self._sort_buttons.items():
            button.add_class("ftkit-sort")
            button.on_click(self._on_sort_click)
        self._header = widgets.HBox(header, layout=widgets.Layout(overflow="hidden"))

        self._row_checks = []
        self._row_cells = []
        self._row_boxes = []
        for _ in range(page_size):
            check = widgets.Checkbox(
                value=False, indent=False, layout=widgets.Layout(width=px(ID_WIDTH + 2), **fixed)
            )
            check.add_class("ftkit-row")
            check.observe(self._on_row, names="value")
            cells = widgets.HTML(layout=widgets.Layout(**fixed))
            box = widgets.HBox([check, cells], layout=widgets.Layout(overflow="hidden"))
            box.add_class("ftkit-row-box")
            self._row_checks.append(check)
            self._row_cells.append(cells)
            self._row_boxes.append(box)
        self._rows = widgets.VBox(self._row_boxes)
        self._prev = widgets.Button(description="◀ prev", layout=widgets.Layout(width="80px"))
        self._next = widgets.Button(description="next ▶", layout=widgets.Layout(width="80px"))
        self._prev.on_click(self._on_prev_click)
        self._next.on_click(self._on_next_click)
        self._page_label = widgets.Label()
        self._clear = widgets.Button(description="clear selection", layout=widgets.Layout(width="130px"))
        self._clear.on_click(self._on_clear_click)
        self._selection_label = widgets.HTML()
        pager = widgets.HBox([self._prev, self._page_label, self._next, self._clear, self._selection_label],
                             layout=widgets.Layout(align_items="center"))

        self._detail_html = widgets.HTML()
        self._plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none"))
        self._plot.add_class("ftkit-detail-plot")
        self._detail = widgets.VBox([self._plot, self._detail_html], layout=widgets.Layout(align_items="flex-start"))
        self._detail.add_class("ftkit-detail")

        keep = widgets.Layout(flex="0 0 auto")
        filters_box = widgets.VBox([
            widgets.HBox(
                [self._status, widgets.VBox([self._job_type, self._model], layout=keep),
                 widgets.VBox([self._text, widgets.HBox([self._created_after, self._created_before])], layout=keep)],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            self._count,
        ])
        self.widget = widgets.VBox(
            [widgets.HTML(_ROW_CSS), filters_box, self._header, self._rows, pager, self._detail]
        )
        self.widget.add_class("ftkit-browser")
        self._show_sort()
        if filters:
            self.filters = filters
        else:
            self._refresh()
        self._show_selection()

    # --- state -------------------------------------------------------------------

    @property
    def jobs(self) -> JobSet:
        """The JobSet being browsed."""
        return self._jobs

    @property
    def filters(self) -> dict[str, Any]:
        """The filters, as a new dict: ``status``, ``job_type`` and ``model`` (tuples of
        accepted values, empty = any), ``text`` (searched in the job id, suffix and
        fine-tuned model name), ``created_after`` and ``created_before`` (dates, both
        days included, or None).

        Setting it sets every filter; keys left out are reset to "any". ``status``,
        ``job_type`` and ``model`` take what :meth:`ftkit.JobSet.filter` takes: a value
        or a list of values, matched exactly.
        """
        return {
            "status": tuple(self._status.value),
            "job_type": tuple(self._job_type.value),
            "model": tuple(self._model.value),
            "text": self._text.value,
            "created_after": self._created_after.value,
            "created_before": self._created_before.value,
        }

    @filters.setter
    def filters(self, filters: Mapping[str, Any]) -> None:
        filter_expr(filters)  # rejects unknown keys and values of the wrong type
        chosen = {name: filter_values(filters.get(name)) for name in VALUE_FILTERS}
        for name, known in (("status", self._statuses), ("job_type", self._types), ("model", self._models)):
            unknown = [v for v in chosen[name] if v not in known]
            if unknown:
                msg = f"filters[{name!r}]: no job has {unknown}; known values are {known}"
                raise ValueError(msg)
        dates = {}
        for key in ("created_after", "created_before"):
            bound = parse_bound(filters.get(key))
            dates[key] = None if bound is None else bound[0].date()
        self._hold = True
        try:
            self._status.value = chosen["status"]
            self._job_type.value = chosen["job_type"]
            self._model.value = chosen["model"]
            self._text.value = filters.get("text") or ""
            self._created_after.value = dates["created_after"]
            self._created_before.value = dates["created_before"]
        finally:
            self._hold = False
        self._page = 0
        self._refresh()

    @property
    def sortable(self) -> list[str]:
        """The columns the table can be sorted by."""
        return ["job_id", *(c for c, _, _ in TABLE_COLUMNS)]

    @property
    def sort(self) -> tuple[str, bool]:
        """The table's order: ``(column, descending)``. Setting it re-sorts the table.

        It takes a column name (ascending), ``(column, "ascending" | "descending")`` or
        ``(column, descending)``, and says what is allowed when given anything else.
        Sorting by ``best_valid_loss`` ranks the finished, successful jobs first, then
        the other jobs with a loss, then those without one.
        """
        return self._sort

    @sort.setter
    def sort(self, sort: Any) -> None:
        column, descending = sort_spec(sort, self.sortable)
        self._sorted = sort_table(self._table, column, descending=descending)
        self._sort = (column, descending)
        self._show_sort()
        self._page = 0
        self._refresh()

    @property
    def page(self) -> int:
        """The page of the table shown, counted from 0."""
        return self._page

    @page.setter
    def page(self, page: int) -> None:
        last = page_count(self._view.height, page_size=self._page_size) - 1
        self._page = min(max(int(page), 0), last)
        self._show_page()

    @property
    def matching(self) -> list[str]:
        """The ids of the jobs that pass the filters, in table order."""
        return self._view["job_id"].to_list()

    @property
    def page_ids(self) -> list[str]:
        """The ids of the jobs on the page shown, top to bottom."""
        return list(self._page_ids)

    @property
    def selected(self) -> list[str]:
        """The selected job ids, in the order they were selected; set it to select jobs,
        by id or by short id (8 characters or more, as the table shows them).

        Jobs stay selected when filters, sort or page hide them. A short id that starts
        several ids raises ``KeyError`` listing them.
        """
        return list(self._selected)

    @selected.setter
    def selected(self, job_ids: Iterable[str]) -> None:
        if isinstance(job_ids, str):
            job_ids = [job_ids]
        chosen, unknown = [], []
        for job_id in job_ids:
            try:
                chosen.append(self._jobs.resolve(job_id))
            except KeyError as exc:
                if "ambiguous" in str(exc.args[0]):
                    msg = f"selected: {exc.args[0]}"
                    raise KeyError(msg) from None
                unknown.append(job_id)
        chosen = list(dict.fromkeys(chosen))
        if unknown:
            msg = f"selected: no job with id {unknown[:5]} among the {len(self._ids):,} jobs browsed"
            raise KeyError(msg)
        self._selected = chosen
        self._sync_checks()
        self._show_selection()

    @property
    def mode(self) -> str:
        """What the lower pane shows: ``"none"``, ``"detail"`` (one job) or ``"compare"``."""
        return ("none", "detail")[len(self._selected)] if len(self._selected) < 2 else "compare"

    @property
    def pane_html(self) -> str:
        """The HTML the detail or compare pane shows."""
        return self._detail_html.value

    @property
    def plot_png(self) -> bytes:
        """The PNG of the curves the pane shows, empty when it shows none."""
        return bytes(self._plot.value)

    # --- handlers -------------------------------------------------------------------

    def _on_filter(self, change: dict) -> None:
        if self._hold:
            return
        self._page = 0
        self._refresh()

    def _on_sort_click(self, button: Any) -> None:
        column = next(c for c, b in self._sort_buttons.items() if b is button)
        descending = not self._sort[1] if column == self._sort[0] else False
        self.sort = (column, descending)

    def _on_prev_click(self, button: Any) -> None:
        self.page = self._page - 1

    def _on_next_click(self, button: Any) -> None:
        self.page = self._page + 1

    def _on_clear_click(self, button: Any) -> None:
        self.selected = []

    def _on_row(self, change: dict) -> None:
        if self._hold:
            return
        position = next(i for i, c in enumerate(self._row_checks) if c is change["owner"])
        job_id = self._page_ids[position]
        if change["new"] and job_id not in self._selected:
            self._selected.append(job_id)
        elif not change["new"] and job_id in self._selected:
            self._selected.remove(job_id)
        _mark(self._row_boxes[position], change["new"])
        self._show_selection()

    # --- view -------------------------------------------------------------------

    def _refresh(self) -> None:
        """Filter the sorted table, then show the count and the current page."""
        self._view = filter_table(self._sorted, self.filters)
        self._count.value = (
            f"<b>{self._view.height:,}</b> of {self._table.height:,} jobs match"
        )
        last = page_count(self._view.height, page_size=self._page_size) - 1
        self._page = min(self._page, last)
        self._show_page()

    def _page_frame(self) -> pl.DataFrame:
        return page_of(self._view, self._page, page_size=self._page_size)

    def _show_page(self) -> None:
        page = self._page_frame()
        rows = list(page.iter_rows(named=True))
        digits = table_digits(page)  # enough to tell apart the values shown together
        self._page_ids = [row["job_id"] for row in rows]
        chosen = set(self._selected)
        self._hold = True
        try:
            for position, box in enumerate(self._row_boxes):
                check = self._row_checks[position]
                if position < len(rows):
                    row = rows[position]
                    check.description = short_id(row["job_id"])
                    check.tooltip = row["job_id"]
                    check.value = row["job_id"] in chosen
                    self._row_cells[position].value = row_html(row, digits=digits)
                    box.layout.display = "flex"
                    _mark(box, check.value)
                else:
                    box.layout.display = "none"
                    check.value = False
        finally:
            self._hold = False
        pages = page_count(self._view.height, page_size=self._page_size)
        self._page_label.value = f"page {self._page + 1} of {pages:,}"
        self._prev.disabled = self._page == 0
        self._next.disabled = self._page >= pages - 1
        self._show_selection_count()

    def _sync_checks(self) -> None:
        chosen = set(self._selected)
        self._hold = True
        try:
            for position, job_id in enumerate(self._page_ids):
                self._row_checks[position].value = job_id in chosen
                _mark(self._row_boxes[position], job_id in chosen)
        finally:
            self._hold = False

    def _show_sort(self) -> None:
        column, descending = self._sort
        titles = {"job_id": "job id", **{c: t for c, t, _ in TABLE_COLUMNS}}
        for name, button in self._sort_buttons.items():
            arrow = (" ▼" if descending else " ▲") if name == column else ""
            button.description = titles[name] + arrow

    def _show_selection_count(self) -> None:
        n = len(self._selected)
        hidden = len(set(self._selected) - set(self._page_ids))
        note = f", {hidden} not on this page" if hidden else ""
        self._selection_label.value = f"&nbsp;{n} selected{note}" if n else ""

    def _show_selection(self) -> None:
        """The selection count, and the detail (one job) or compare (several) pane."""
        self._show_selection_count()
        n = len(self._selected)
        if n == 0:
            self._detail_html.value = (
                '<p class="ftkit-hint">Tick a job to see its details; tick two or more to compare them.</p>'
            )
            self._plot.value = b""
            self._plot.layout.display = "none"
            return
        if n == 1:
            job_id = self._selected[0]
            self._detail_html.value = detail_html(self._jobs, job_id)
            one = subset_of(self._jobs, [job_id])
            checkpoints = one.checkpoints
            png = b""
            if checkpoints.height:
                if self._detail_plot is None:
                    self._detail_plot = DetailPlot()
                suffix = one.jobs["suffix"][0]  # the frame's: OpenAI jobs' user_provided_suffix
                suffix = suffix if not suffix or len(suffix) <= 40 else suffix[:39] + "…"
                png = self._detail_plot.png(checkpoints, title=f"{short_id(job_id)} {suffix or ''}".strip())
        else:
            self._detail_html.value = compare_html(self._jobs, self._selected)
            png = figure_png(compare_figure(self._jobs, self._selected))
        self._plot.value = png
        self._plot.layout.display = "" if png else "none"

    # --- display -------------------------------------------------------------------

    def _summary_args(self) -> dict[str, Any]:
        return {
            "n_jobs": self._table.height,
            "n_matching": self._view.height,
            "page_number": self._page,
            "page_size": self._page_size,
            "sort": self._sort,
            "selected": self._selected,
        }

    def __repr__(self) -> str:
        text = summary_text(self._page_frame(), **self._summary_args())
        return "\n".join(printable(line) for line in text.split("\n"))  # job text may hold escapes

    def _repr_html_(self) -> str:
        return summary_html(self._page_frame(), **self._summary_args())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The root widget's view, with a static summary for frontends without widgets."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self._repr_html_()
        return bundle

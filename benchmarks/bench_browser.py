"""Time the JobBrowser on a 100,000-job dump: building it, filter/sort changes, selection.

Run from the repository root::

    MPLBACKEND=Agg python benchmarks/bench_browser.py            # 100,000 jobs
    MPLBACKEND=Agg python benchmarks/bench_browser.py --jobs 20000 --repeat 5

The dump is generated once with :func:`ftkit.synth.write_dump` and cached under
``benchmarks/out/`` (the same file ``bench_analysis.py`` uses). Reading it and building the
JobSet's frames is timed separately; it is not part of the browser's budget. Then, as a
user would, the benchmark changes filter widgets, clicks sort headers and ticks rows, and
prints the best and median wall-clock times of each against the budgets:

- building ``JobBrowser(js)``: under 2 s;
- a filter or sort change, until the count and the page of rows are updated: under 100 ms;
- ticking one job, until its detail pane (HTML and PNG of its curves) is drawn: under 300 ms.

Widgets are driven in this process without a frontend, so the times are those of the
Python side (what the kernel spends before it sends the new state to the browser).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ftkit.browser import JobBrowser  # noqa: E402
from _dump import cached_dump, read_with_frames  # noqa: E402

BUDGETS_S = {"build": 2.0, "filter/sort": 0.100, "select": 0.300}


def timed(action: Callable[[], object], *, repeat: int, reset: Callable[[], object] | None = None) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``action``, calling ``reset`` (untimed) after each."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
        if reset is not None:
            reset()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the dump (default 100000)")
    parser.add_argument("--seed", type=int, default=2024, help="synth seed (default 2024)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per action (default 5)")
    args = parser.parse_args(argv)

    dump = cached_dump(args.jobs, args.seed)
    js = read_with_frames(dump, note="; not part of the browser's budget")

    results: list[tuple[str, str, list[float]]] = []
    holder: dict[str, JobBrowser] = {}

    def build() -> None:
        holder["browser"] = JobBrowser(js)

    results.append(("build", "JobBrowser(js)", timed(build, repeat=max(2, args.repeat // 2))))
    browser = holder["browser"]
    w_status, w_model, w_text = browser._status, browser._model, browser._text
    a_status = browser._statuses[0]
    a_model = browser._models[0]

    def clear_filters() -> None:
        browser.filters = {}

    for label, action in (
        (f"status = {a_status}", lambda: setattr(w_status, "value", (a_status,))),
        (f"model = {a_model}", lambda: setattr(w_model, "value", (a_model,))),
        ("text = 'ab'", lambda: setattr(w_text, "value", "ab")),
    ):
        results.append(("filter/sort", label, timed(action, repeat=args.repeat, reset=clear_filters)))
    buttons = browser._sort_buttons
    for column in ("cost", "suffix", "best_valid_loss", "created_at"):
        results.append(
            ("filter/sort", f"click sort {column}", timed(buttons[column].click, repeat=args.repeat))
        )
    results.append(("filter/sort", "next page", timed(browser._next.click, repeat=args.repeat)))

    browser.sort = ("best_valid_loss", False)  # jobs with checkpoints on the first page
    checks = browser._row_checks
    times = []
    for position in range(args.repeat):
        check = checks[position % len(checks)]
        start = time.perf_counter()
        check.value = True
        times.append(time.perf_counter() - start)
        assert browser.mode == "detail" and browser.plot_png, "the detail pane was not drawn"
        check.value = False
    results.append(("select", "tick one row: detail pane", times))
    browser.selected = browser.page_ids[:2]
    results.append(
        ("compare (no budget)", "tick a third row: compare pane",
         timed(lambda: setattr(checks[2], "value", True), repeat=args.repeat,
               reset=lambda: setattr(checks[2], "value", False)))
    )

    failed = []
    print(f"{'budget':<20}{'action':<34}{'best':>10}{'median':>10}")
    for kind, label, times in results:
        best, median = min(times), statistics.median(times)
        budget = BUDGETS_S.get(kind)
        over = budget is not None and median >= budget
        failed += [label] if over else []
        note = f"  OVER {budget * 1000:.0f} ms" if over else ""
        print(f"{kind:<20}{label:<34}{best * 1000:>8.1f}ms{median * 1000:>8.1f}ms{note}")
    if failed:
        print(f"over budget: {', '.join(failed)}")
        return 1
    print("all within budget: build < 2 s, filter/sort < 100 ms, select < 300 ms (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A tiny progress indicator on stderr, for the command line.

:class:`Progress` draws one line on a terminal, redrawn in place: a bar when the amount of
work is known, a spinner and the elapsed time when it is not. It stays silent when the
stream is not a terminal (output piped or redirected, tests, CI) and for work that ends
within ``delay`` seconds, so quick commands print nothing extra. When it has drawn, it
clears its line on exit, leaving the terminal as it was.

Examples
--------
>>> import io
>>> stream = io.StringIO()  # not a terminal: nothing is drawn
>>> with Progress("reading", total=3, stream=stream) as bar:
...     for _ in range(3):
...         bar.advance()
>>> stream.getvalue(), bar.done
('', 3)
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress", "render_line"]

_SPINNER = "|/-\\"
_BAR_WIDTH = 24


def render_line(label: str, *, done: int, total: int | None, elapsed: float, tick: int = 0) -> str:
    """The text of one progress line (without the carriage return).

    Examples
    --------
    >>> render_line("drawing plots", done=3, total=6, elapsed=2.04)
    'drawing plots [############------------]  3/6  2.0 s'
    >>> render_line("reading 1 dump (2.1 MB)", done=0, total=None, elapsed=1.5, tick=1)
    'reading 1 dump (2.1 MB) /  1.5 s'
    """
    if total:
        filled = min(_BAR_WIDTH, _BAR_WIDTH * done // total)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        width = len(str(total))
        return f"{label} [{bar}] {done:>{width}}/{total}  {elapsed:.1f} s"
    return f"{label} {_SPINNER[tick % len(_SPINNER)]}  {elapsed:.1f} s"


class Progress:
    """A progress line on ``stream`` (default stderr), drawn only on a terminal after ``delay`` s.

    Use it as a context manager; call :meth:`advance` as work completes and
    :meth:`set_label` to name a new stage. A background thread redraws the line ten
    times a second, so a spinner keeps turning while one long call (a read) runs.

    Parameters
    ----------
    label
        What is being done, e.g. ``"reading 2 dumps (35 MB)"``.
    total
        How many steps there are, or ``None`` for a spinner.
    stream
        Where to draw; nothing is drawn unless ``stream.isatty()``.
    delay
        Seconds of work before the line first appears.
    enabled
        ``False`` to never draw (``--quiet``); ``None`` (default) decides by ``isatty``.
    """

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        stream: TextIO | None = None,
        delay: float = 1.0,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._delay = delay
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self._enabled = enabled
        self._start = 0.0
        self._drawn_width = 0
        self._tick = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        self._start = time.monotonic()
        if self._enabled:
            self._thread = threading.Thread(target=self._run, name="ftkit-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._drawn_width:
                self._write("\r" + " " * self._drawn_width + "\r")
                self._drawn_width = 0

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more steps as done."""
        with self._lock:
            self.done += n

    def set_label(self, label: str, *, total: int | None = None, done: int = 0) -> None:
        """Start a new stage: a new label, step count and progress."""
        with self._lock:
            self.label, self.total, self.done = label, total, done

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            self._draw()
            if self._stop.wait(0.1):
                return

    def _draw(self) -> None:
        with self._lock:
            self._tick += 1
            line = render_line(
                self.label,
                done=self.done,
                total=self.total,
                elapsed=time.monotonic() - self._start,
                tick=self._tick,
            )
            line = line[: max(10, shutil.get_terminal_size().columns - 1)]
            pad = max(0, self._drawn_width - len(line))
            self._write("\r" + line + " " * pad)
            self._drawn_width = len(line)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away, or the stream was closed
            self._enabled = False

"""The ``ftkit`` command line: summary, report, convert, sql, validate and export.

Every command reads one or more dumps (files, directories or globs, as
:func:`ftkit.read_jobs` takes them). Bad input (a missing file, a file that is not job
JSON, an output that is one of the inputs, a full disk) ends the command with one line
on stderr, ``ftkit: error: ...``, and exit status 2, never a traceback; outputs are
written to an unpredictable temporary name and moved into place (:mod:`ftkit.atomic`),
so a failed, interrupted or terminated command leaves nothing at the output path and
no temporary file. Reads that take more than a second show a progress line on stderr
when it is a terminal. Text from the input is printed with control characters escaped.

Exit status: 0 success, 1 ``validate`` found bad records (or ``export`` failed),
2 bad input or usage, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Examples
--------
>>> import ftkit, pathlib, tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     dump = pathlib.Path(tmp) / "jobs.ndjson"
...     _ = dump.write_bytes(ftkit.synth.make_jobs_bytes(4, seed=0))
...     main(["validate", str(dump)])
0
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__
from .atomic import is_no_space, unwritable_parent
from .errors import JobDecodeError
from .escape import printable
from .progress import Progress

__all__ = ["main", "build_parser", "format_decode_error"]

PROG = "ftkit"


class CommandError(Exception):
    """A failure to report as one line, ``ftkit: error: <message>``, with exit status 2."""


# --- reading ----------------------------------------------------------------------


def _describe_inputs(sources: Sequence[str]) -> str:
    """``"2 dumps (35.2 MB)"``; raises FileNotFoundError for a missing source."""
    from .read import expand_sources

    inputs = expand_sources(list(sources))
    size = 0
    for item in inputs:
        with contextlib.suppress(OSError):
            size += item.path.stat().st_size if item.path is not None else 0
    files = f"{len(inputs)} dump{'s' if len(inputs) != 1 else ''}"
    return f"{files} ({size / 1e6:.1f} MB)"


def refuse_inputs_as_outputs(sources: Sequence[str], outputs: Sequence[Path]) -> None:
    """Raise :class:`CommandError` if an output is one of the inputs (by path, link or inode).

    Examples
    --------
    >>> import ftkit, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     dump = pathlib.Path(tmp) / "jobs.ndjson"
    ...     _ = dump.write_bytes(ftkit.synth.make_jobs_bytes(1, seed=0))
    ...     (pathlib.Path(tmp) / "same.ndjson").hardlink_to(dump)
    ...     refuse_inputs_as_outputs([str(dump)], [pathlib.Path(tmp) / "same.ndjson"])
    Traceback (most recent call last):
    ...
    ftkit.cli.CommandError: .../same.ndjson: is one of the inputs (.../jobs.ndjson); give another output path, the input would be overwritten
    """
    from .read import expand_sources

    targets = []
    for output in outputs:
        try:
            targets.append((output, os.stat(output)))
        except OSError:
            continue  # does not exist (yet): cannot be an input
    if not targets:
        return
    for item in expand_sources(list(sources)):
        if item.path is None:
            continue
        try:
            info = os.stat(item.path)
        except OSError:
            continue
        for output, out_info in targets:
            if os.path.samestat(info, out_info):
                msg = f"{output}: is one of the inputs ({item.path}); give another output path, the input would be overwritten"
                raise CommandError(msg)


def read_dumps(sources: Sequence[str], *, skip_bad: bool = False, strict: bool = False, quiet: bool = False):
    """Read ``sources`` into a JobSet, with a progress line; bad records raise unless ``skip_bad``."""
    from .read import read_jobs

    label = "reading " + _describe_inputs(sources)
    with Progress(label, enabled=False if quiet else None) as bar:

        def progress(done: int, total: int) -> None:  # a bar in MB read
            bar.set_label(f"{label.rsplit(' (', 1)[0]}, MB", total=max(1, round(total / 1e6)), done=round(done / 1e6))

        jobs = read_jobs(list(sources), errors="skip" if skip_bad else "raise", strict=strict, progress=progress)
    bad = len(jobs.decode_errors)
    if bad and not quiet:
        print(
            f"{PROG}: warning: left out {bad} unreadable record{'s' if bad != 1 else ''}"
            f" (run `{PROG} validate` to list them)",
            file=sys.stderr,
        )
    if jobs.unattached and not quiet:
        for part in jobs.unattached:
            where = f" (job {part.job_id}, not read)" if part.job_id else ""
            print(
                printable(
                    f"{PROG}: note: {part.source}: {len(part.items)} OpenAI {part.kind} without their job{where};"
                    " read the job's file too, or keep it beside them"
                ),
                file=sys.stderr,
            )
    return jobs


def format_decode_error(error: JobDecodeError) -> str:
    """One bad record as ``file:line: JSON path: message`` (``file: index N: ...`` in an array).

    Examples
    --------
    >>> format_decode_error(JobDecodeError("Expected `str`, got `int`", source="a.ndjson", line=3, path="$.status"))
    'a.ndjson:3: $.status: Expected `str`, got `int`'
    >>> format_decode_error(JobDecodeError("Expected `str`, got `int`", source="a.json", index=0, path="$.status"))
    'a.json: index 0: $.status: Expected `str`, got `int`'
    >>> format_decode_error(JobDecodeError("empty input: no JSON found", source="b.json"))
    'b.json: $: empty input: no JSON found'
    """
    if error.line is not None:
        where = f"{error.source}:{error.line}"
    elif error.index is not None:
        where = f"{error.source}: index {error.index}"
    else:
        where = error.source
    return printable(f"{where}: {error.path or '$'}: {_one_line(error.reason)}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --- commands ---------------------------------------------------------------------


def run_summary(args: argparse.Namespace) -> int:
    """``ftkit summary``: counts, best jobs and cost, as text on stdout."""
    from .summary import summary_text

    jobs = read_dumps(args.dumps, skip_bad=args.skip_bad, quiet=args.quiet)
    sys.stdout.write(summary_text(jobs, top=args.top, sources=args.dumps))
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``ftkit report``: one self-contained HTML file."""
    from .report import write_report

    output = _output_path(args.output, what="the HTML file to write, e.g. report.html")
    if output.is_dir():
        msg = f"{output}: is a directory; give the path of the HTML file to write, e.g. {output / 'report.html'}"
        raise CommandError(msg)
    _check_output_parent(output)
    refuse_inputs_as_outputs(args.dumps, [output])
    jobs = read_dumps(args.dumps, skip_bad=args.skip_bad, quiet=args.quiet)
    try:
        with Progress("writing report", enabled=False if args.quiet else None) as bar:
            path = write_report(jobs, output, title=args.title, top=args.top, progress=bar)
    except OSError as exc:
        if is_no_space(exc):
            msg = f"{output}: cannot write the report: no space left on the device (nothing was written)"
            raise CommandError(msg) from None
        raise
    if not args.quiet:
        print(f"{printable(str(path))}: report on {len(jobs)} jobs ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


def run_convert(args: argparse.Namespace) -> int:
    """``ftkit convert``: a Parquet dataset (jobs, checkpoints, events, targets), streaming."""
    from .convert import convert_jobs
    from .tables import DatasetError

    output = _output_path(args.output, what="a directory for the Parquet files")
    label = ("appending " if args.append else "converting ") + _describe_inputs(args.dumps)
    with Progress(label, enabled=False if args.quiet else None) as bar:

        def progress(jobs: int) -> None:
            bar.set_label(f"{label}: {jobs:,} jobs")

        try:
            result = convert_jobs(
                list(args.dumps),
                output,
                partition_by=args.partition_by,
                append=args.append,
                errors="skip" if args.skip_bad else "raise",
                progress=progress,
            )
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            if is_no_space(exc):
                msg = f"{output}: cannot write the Parquet files: no space left on the device (nothing was written)"
                raise CommandError(msg) from None
            raise
    if not args.quiet:
        if result.skipped:
            print(
                f"{PROG}: warning: left out {result.skipped} unreadable record{'s' if result.skipped != 1 else ''}"
                f" (run `{PROG} validate` to list them)",
                file=sys.stderr,
            )
        rows = ", ".join(f"{name} {n}" for name, n in result.rows.items())
        replaced = f"; {result.replaced} older snapshots replaced" if result.replaced else ""
        print(f"{printable(str(result.path))}: Parquet dataset of {rows} rows{replaced}", file=sys.stderr)
    return 0


def run_sql(args: argparse.Namespace) -> int:
    """``ftkit sql``: print one of ftkit's analyses as SQL for DuckDB or Spark."""
    from .sql import script

    sys.stdout.write(script(args.name, args.directory, engine=args.engine))
    return 0


def run_sanitize_rules(args: argparse.Namespace) -> int:
    """``ftkit sanitize-rules``: where the nbval sanitize rules are (or, with --show, what)."""
    from .nbval_rules import SANITIZE_RULES

    print(SANITIZE_RULES.read_text(encoding="utf-8") if args.show else SANITIZE_RULES, end="\n" if not args.show else "")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """``ftkit validate``: every bad record on stdout; exit 1 if any."""
    from .read import read_jobs

    label = "validating " + _describe_inputs(args.dumps)
    with Progress(label, enabled=False if args.quiet else None):
        jobs = read_jobs(list(args.dumps), errors="skip", strict=args.strict)
    errors = jobs.decode_errors
    out = sys.stdout
    for error in errors:
        out.write(format_decode_error(error) + "\n")
    out.flush()
    if not args.quiet:
        verdict = f"{len(errors)} bad record{'s' if len(errors) != 1 else ''}" if errors else "no bad records"
        print(f"{PROG} validate: {len(jobs)} jobs read, {verdict}", file=sys.stderr)
    return 1 if errors else 0


def _output_path(text: str, *, what: str) -> Path:
    """``-o TEXT`` as a path; an empty one is a usage error (``Path("")`` would mean ``.``)."""
    if not text.strip():
        msg = f"-o/--output: expected {what}, found an empty path"
        raise CommandError(msg)
    return Path(text)


def _check_output_parent(path: Path) -> None:
    """Refuse, before any work, an output that cannot or should not be replaced."""
    problem = unwritable_parent(path)
    if problem is not None:
        raise CommandError(f"{path}: {problem}")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # The output is written beside and moved into place: that would replace a link,
        # a device (/dev/stdout) or a pipe by a plain file instead of writing through it.
        msg = f"{path}: exists and is not a regular file; give the path of a file to (over)write"
        raise CommandError(msg)


# --- the parser -------------------------------------------------------------------


#: The largest ``--top`` (and other counts) accepted: more rows than any dump holds.
MAX_COUNT = 1_000_000


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_COUNT:
        msg = f"expected a positive whole number up to {MAX_COUNT:,}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, with control characters escaped."""

    def error(self, message: str):  # type: ignore[override]
        command = self.prog.removeprefix(PROG).strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"{PROG}: error: {where}{printable(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``ftkit`` argument parser, with one subparser per command."""
    parser = _Parser(
        prog=PROG,
        description="Read, summarise and report on Mistral (and OpenAI) fine-tuning job dumps.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    dumps_help = "job dumps: files (JSON, NDJSON, optionally .gz), directories or globs"

    def add(name: str, help: str, description: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.add_argument("dumps", nargs="+", metavar="DUMP", help=dumps_help)
        p.add_argument("-q", "--quiet", action="store_true", help="no progress line and no notes on stderr")
        p.set_defaults(func=func)
        return p

    def add_skip_bad(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--skip-bad",
            action="store_true",
            help="leave out records that cannot be read (default: stop at the first one)",
        )

    p = add(
        "summary",
        "jobs by status, type and model; best jobs; tokens and cost",
        "Print jobs by status, type and model; the best jobs by best valid loss with their"
        " varying hyperparameters; and tokens and cost per currency.",
        run_summary,
    )
    p.add_argument("--top", type=_positive_int, default=10, metavar="N", help="how many best jobs to list (default 10)")
    add_skip_bad(p)

    p = add(
        "report",
        "write a self-contained HTML report",
        "Write one self-contained HTML file (plots embedded) with the summary tables, loss"
        " curves, hyperparameter effects, cost against quality and the timeline.",
        run_report,
    )
    p.add_argument("-o", "--output", default="report.html", metavar="HTML", help="the file to write (default report.html)")
    p.add_argument("--title", default="Fine-tuning jobs", help="the report's title")
    p.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="how many best jobs to list and draw curves of (default 10)"
    )
    add_skip_bad(p)

    p = add(
        "convert",
        "write the jobs, checkpoints, events and targets tables as a Parquet dataset",
        "Write the jobs, checkpoints, events and targets tables as a Parquet dataset (DIR/jobs/,"
        " DIR/checkpoints/, ... and DIR/manifest.json), streaming in bounded memory, for"
        " ftkit.scan_tables, polars, DuckDB or Spark. One row per job: the latest snapshot.",
        run_convert,
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="DIR",
        help="the dataset directory: new, empty, or an ftkit dataset (replaced, or appended to with --append)",
    )
    p.add_argument(
        "--partition-by", choices=["created_month"], default=None,
        help="hive-style folders by the month the job was created (created_month=YYYY-MM)",
    )
    p.add_argument(
        "--append", action="store_true",
        help="add the dumps to the existing dataset in DIR; a newer snapshot of a job replaces the older",
    )
    add_skip_bad(p)

    p = add(
        "validate",
        "list every record that cannot be read",
        "List every record that cannot be read as 'file:line: JSON path: message'"
        " ('file: index N: ...' for an item of a JSON array). Exit status 1 if there is any.",
        run_validate,
    )
    p.add_argument("--strict", action="store_true", help="also report keys the schema does not know")

    from .sql import ENGINES, names

    p = sub.add_parser(
        "sql",
        help="print an analysis as SQL for DuckDB or Spark, over a dataset of `convert`",
        description="Print one of ftkit's analyses as SQL for DuckDB or Spark SQL over the tables"
        " jobs, checkpoints, events and targets; with DIR (a dataset written by `ftkit convert`),"
        " first the statements that name those tables in the engine. Every query runs unchanged on"
        " both engines but lifecycle, whose seconds since 1970 are spelt per --engine. The queries"
        " take no parameters: pareto is cost against best_valid_loss by provider and job type;"
        " effect_learning_rate is effect(jobs, 'learning_rate') with its defaults, a bin given as"
        " learning_rate_lo and _hi; each file's header says what to edit for other columns."
        " Example: ftkit sql checkpoint_summary tables/ | duckdb",
    )
    p.add_argument("name", choices=names(), metavar="NAME", help=f"the query: {', '.join(names())}")
    p.add_argument("directory", nargs="?", default=None, metavar="DIR", help="the dataset directory (optional)")
    p.add_argument("--engine", choices=ENGINES, default="duckdb", help="the engine whose syntax is printed (default duckdb)")
    p.set_defaults(func=run_sql)

    p = sub.add_parser(
        "sanitize-rules",
        help="print the path of nbval sanitize rules for job-analysis notebooks",
        description="Print the path of ftkit's nbval sanitize rules (ids, fine-tuned model"
        " names, times, W&B run ids; never a result), for validating your own notebooks:"
        ' pytest --nbval --nbval-sanitize-with="$(ftkit sanitize-rules)" notebooks/'
        ' (with "=", so that pytest does not take the path for a test path), or simply'
        " pytest --nbval --nbval-ftkit notebooks/. With --show, print the rules themselves.",
    )
    p.add_argument("--show", action="store_true", help="print the rules instead of their path")
    p.set_defaults(func=run_sanitize_rules)

    try:
        from .export_cli import add_export_command
    except ImportError:  # pragma: no cover - export is optional while it is built
        pass
    else:
        add_export_command(sub)
    return parser


# --- main -------------------------------------------------------------------------


def _os_error_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that temporary files are removed on the way out."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    SIGTERM ends a command as Ctrl-C does, removing its temporary files, with status 143.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        with _sigterm_raises():
            return args.func(args)
    except Terminated:
        print(f"{PROG}: terminated", file=sys.stderr)
        return 143
    except CommandError as exc:
        message = str(exc)
    except JobDecodeError as exc:
        message = f"{exc} (run `{PROG} validate` to list every bad record, or pass --skip-bad)"
    except BrokenPipeError:
        # The reader went away (`ftkit summary ... | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    except FileNotFoundError as exc:
        message = _os_error_message(exc) if exc.filename else str(exc)
    except OSError as exc:
        message = _os_error_message(exc)
    except (ValueError, OverflowError) as exc:
        message = str(exc)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(f"{PROG}: error: {printable(_one_line(message))}", file=sys.stderr)
    return 2

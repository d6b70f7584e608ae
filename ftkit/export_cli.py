"""``ftkit export``: the command line of :func:`ftkit.export.export_jobs` and, with
``--provider openai``, of :func:`ftkit.export_openai.export_openai_jobs`.

Both take the same limits and options (but the filters, which only Mistral's list has;
``--since`` is applied to OpenAI's listed jobs) and exit alike.
Usage errors (no ``MISTRAL_API_KEY``/``OPENAI_API_KEY``, a bad option or output path,
a Mistral filter with ``--provider openai``) exit with status 2
before any request; a failed export exits 1; Ctrl-C exits 130 (re-running resumes).
Every line printed has control characters escaped.
"""

from __future__ import annotations

import argparse
import sys

from ftkit.errors import ExportError, ExportUsageError
from ftkit.escape import printable
from ftkit.export import DEFAULT_MAX_PAGES, export_jobs
from ftkit.export_http import DEFAULT_DEADLINE, DEFAULT_MAX_RESPONSE_BYTES
from ftkit.export_openai import export_openai_jobs

__all__ = ["add_export_command", "run_export"]


def add_export_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to an ``argparse`` subparsers object.

    The parser's ``func`` default is :func:`run_export`, so that a CLI can dispatch
    with ``args.func(args)``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="ftkit")
    >>> sub = parser.add_subparsers(dest="command")
    >>> _ = add_export_command(sub)
    >>> args = parser.parse_args(["export", "-o", "jobs.ndjson", "--status", "SUCCESS"])
    >>> args.output, args.status, args.concurrency, args.func is run_export
    ('jobs.ndjson', 'SUCCESS', 8, True)
    """
    parser = subparsers.add_parser(
        "export",
        help="export jobs from the Mistral (or OpenAI) API into an NDJSON dump",
        description=(
            "Export fine-tuning jobs, with events and checkpoints, from the Mistral API into"
            " an NDJSON dump (one job per line, as the API sent it). Re-running updates the"
            " dump: only new, changed and unfinished jobs are fetched again. The API key is"
            " read from MISTRAL_API_KEY, the base URL from MISTRAL_API_URL. With --provider"
            " openai: OpenAI's jobs with their events and checkpoints, from OPENAI_API_KEY and"
            " OPENAI_BASE_URL (see ftkit.export_openai)."
        ),
    )
    parser.add_argument("-o", "--output", required=True, metavar="DUMP", help="the dump to create or update (.ndjson)")
    parser.add_argument(
        "--provider",
        choices=("mistral", "openai"),
        default="mistral",
        help="whose API: mistral (default) or openai (OPENAI_API_KEY, OPENAI_BASE_URL)",
    )
    parser.add_argument("--model", help="only jobs fine-tuning this base model")
    parser.add_argument("--status", help="only jobs in this status (e.g. SUCCESS, RUNNING)")
    parser.add_argument(
        "--since", metavar="TIME", help="only jobs created at/after TIME (ISO 8601 date or datetime, or UNIX seconds)"
    )
    parser.add_argument("--created-before", metavar="TIME", help="only jobs created before TIME")
    parser.add_argument("--created-by-me", action="store_true", default=None, help="only jobs created with this key's user")
    parser.add_argument("--wandb-project", metavar="PROJECT", help="only jobs logging to this W&B project")
    parser.add_argument("--wandb-name", metavar="NAME", help="only jobs with this W&B run name")
    parser.add_argument("--suffix", help="only jobs whose fine-tuned model has this suffix")
    parser.add_argument("--concurrency", type=int, default=8, metavar="N", help="detail requests in flight (default 8)")
    parser.add_argument("--page-size", type=int, default=100, metavar="N", help="jobs per list page (default 100)")
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="longest wait for a connection or for data (default 30)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE,
        metavar="SECONDS",
        help=f"longest time one request may take in all (default {DEFAULT_DEADLINE:g})",
    )
    parser.add_argument(
        "--max-retries", type=int, default=5, metavar="N", help="retries per request after 429, 5xx or a timeout (default 5)"
    )
    parser.add_argument(
        "--max-response-bytes",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        metavar="N",
        help=f"largest answer accepted, in bytes (default {DEFAULT_MAX_RESPONSE_BYTES:,} = 64 MiB)",
    )
    parser.add_argument(
        "--max-pages",
        type=int,
        default=DEFAULT_MAX_PAGES,
        metavar="N",
        help=f"most list pages read (default {DEFAULT_MAX_PAGES:,})",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL (default: MISTRAL_API_URL or https://api.mistral.ai; with --provider openai,"
        " OPENAI_BASE_URL or https://api.openai.com/v1)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    parser.set_defaults(func=run_export)
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Run ``ftkit export`` for parsed ``args``; print a one-line error and return 1 or 2 on failure.

    A one-line summary goes to stderr (unless ``--quiet``). Returns 0 on success, 2 on a
    usage error (no ``MISTRAL_API_KEY`` or ``OPENAI_API_KEY``, a bad option or output
    path, a Mistral filter with ``--provider openai``: nothing was requested), 1 when the export failed (``ftkit: error: export: ...``, no traceback),
    130 when interrupted (the dump keeps what was fetched; re-running resumes).
    """
    filters = {
        "model": args.model,
        "status": args.status,
        "created_before": args.created_before,
        "created_by_me": args.created_by_me,
        "wandb_project": args.wandb_project,
        "wandb_name": args.wandb_name,
        "suffix": args.suffix,
    }
    limits = {
        "since": args.since,
        "base_url": args.base_url,
        "page_size": args.page_size,
        "concurrency": args.concurrency,
        "timeout": args.timeout,
        "deadline": args.deadline,
        "max_retries": args.max_retries,
        "max_response_bytes": args.max_response_bytes,
        "max_pages": args.max_pages,
        "progress": False if args.quiet else None,
    }
    try:
        if getattr(args, "provider", "mistral") == "openai":
            given = [f"--{name.replace('_', '-')}" for name, value in filters.items() if value is not None]
            if given:
                msg = f"{', '.join(given)}: filters of Mistral's job list, expected none with --provider openai"
                raise ExportUsageError(msg)
            result = export_openai_jobs(args.output, **limits)
        else:
            result = export_jobs(args.output, **limits, **filters)
    except (ExportError, OSError) as exc:
        message = printable(" ".join(str(exc).split()))
        print(f"ftkit: error: export: {message}", file=sys.stderr)
        return 2 if isinstance(exc, ExportUsageError) else 1
    except KeyboardInterrupt:
        print(f"ftkit: interrupted; {printable(args.output)} keeps the jobs fetched so far: re-run to resume", file=sys.stderr)
        return 130
    if not args.quiet:
        print(
            f"{printable(str(result.path))}: {result.total} jobs ({result.listed} listed, {result.fetched} fetched,"
            f" {result.skipped_unchanged} unchanged, {result.written} written)",
            file=sys.stderr,
        )
    return 0

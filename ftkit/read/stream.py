"""Stream one input through the pipeline: its blocks, cut into runs of lines, decoded run by run.

This is how :func:`ftkit.iter_jobs` reads, in bounded memory: an NDJSON input goes
block by block (:func:`~ftkit.read.sources.input_blocks`) into runs of whole lines
(:func:`~ftkit.read.chunks.line_runs`), each decoded (:mod:`ftkit.read.decode`) and
yielded before the next is read; an input of another layout is read whole, within a
limit, and decoded by its layout.

Examples
--------
>>> from ftkit.read.sources import expand_sources
>>> from ftkit.synth import make_jobs_bytes
>>> [len(d.jobs) for d in iter_input(expand_sources(make_jobs_bytes(3, seed=0))[0], errors="raise", strict=False)]
[3, 0]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ..errors import JobDecodeError
from ..gc_pause import gc_paused
from .chunks import line_runs
from .decode import Decoded, Decoding, Errors, decode_guarded, decode_lines, fingerprint
from .layout import is_blank, streamed_layout, worth_decoding
from .sources import Input, input_blocks, strip_bom, too_large

__all__ = ["iter_input", "paused"]


def iter_input(
    item: Input,
    *,
    errors: Errors,
    strict: bool,
    seen: list[int] | None = None,
    limit: int | None = None,
    fingerprints: list[int] | None = None,
    max_line: int | None = None,
    max_whole: int | None = None,
) -> Iterator[Decoded]:
    """Decode one input block by block where it is NDJSON, whole otherwise.

    ``limit``: read no more than this many bytes of a file; ``seen`` receives how many
    bytes of a file were read. ``fingerprints`` receives, per job yielded, a hash of its
    content (of its line, where the line is the job: the cheapest way to tell identical
    copies apart from different records). A line longer than ``max_line`` bytes (checked
    once it spans read blocks) is an error, and dropped as it is read; an input read whole
    (one document, not NDJSON) may hold at most ``max_whole`` bytes. Runs of blank bytes
    are skipped as they are read, never held.
    """
    damage: list[JobDecodeError] = []
    skipped = 0  # newlines in the blank blocks before the first JSON
    try:
        blocks = input_blocks(item, damage, seen=seen, limit=limit)
        head = strip_bom(next(blocks, b""))
        while head and is_blank(head, 0):
            skipped += head.count(b"\n")
            head = next(blocks, b"")
    except JobDecodeError as exc:
        if errors == "raise":
            raise
        yield Decoded([], [exc])
        return
    if streamed_layout(head) != "ndjson":
        # read whole (bounded by max_whole), then decoded by its layout as a whole
        parts, size = [head], len(head)
        for block in blocks:
            size += len(block)
            if max_whole is not None and size > max_whole:
                error = JobDecodeError(too_large(max_whole), source=item.name)
                if errors == "raise":
                    raise error
                yield Decoded([], [error])
                return
            parts.append(block)
        data = b"".join(parts)
        del parts
        if worth_decoding(data, damage):
            decoded = decode_guarded(data, item.name, errors, strict)
            if fingerprints is not None:
                fingerprints += [fingerprint(job) for job in decoded.jobs]
            yield decoded
    else:
        last_openai = None  # the last OpenAI job read in this input, for the lists after it
        runs = line_runs(itertools.chain([head], blocks), source=item.name, first_line=1 + skipped, max_line=max_line)
        for run in runs:
            if isinstance(run, JobDecodeError):
                if errors == "raise":
                    raise run
                yield Decoded([], [run])
                continue
            data, line = run
            state = Decoding(item.name, errors, strict)
            state.last_openai = last_openai
            decode_lines(data, state, first_line=line, fingerprints=fingerprints)
            last_openai = state.last_openai
            yield Decoded(state.jobs, state.errors, state.lists)
    if damage:
        if errors == "raise":
            raise damage[0]
        yield Decoded([], damage)


def paused(decoding: Iterator[Decoded]) -> Iterator[Decoded]:
    """Each step of a decoding generator with the garbage collector paused (not between)."""
    while True:
        with gc_paused():
            decoded = next(decoding, None)
        if decoded is None:
            return
        yield decoded

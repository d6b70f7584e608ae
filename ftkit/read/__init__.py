"""Read job dumps: see :mod:`ftkit.read.reader` for the public functions."""

from .reader import Source, expand_sources, gc_paused, iter_jobs, memory_budget, read_jobs, write_jobs

__all__ = ["read_jobs", "iter_jobs", "write_jobs", "memory_budget", "Source", "expand_sources", "gc_paused"]

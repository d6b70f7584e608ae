"""Read job dumps: one pipeline, each stage a module that imports only the stages before it.

:mod:`~ftkit.read.sources` (paths, bytes, file objects; gzip; limits) ->
:mod:`~ftkit.read.layout` (one document, an array or NDJSON) ->
:mod:`~ftkit.read.chunks` (runs of whole lines) ->
:mod:`~ftkit.read.decode` (a chunk or an input into wire jobs and frame parts) ->
:mod:`~ftkit.read.stream` (one input streamed, for :func:`iter_jobs`) and
:mod:`~ftkit.read.workers` (worker processes decoding chunks) ->
:mod:`~ftkit.read.assemble` (JobSets, the snapshot rule) ->
:mod:`~ftkit.read.reader` (:func:`read_jobs`, :func:`iter_jobs`); :mod:`~ftkit.read.write`
writes NDJSON.
"""

from .reader import iter_jobs, read_jobs
from .sources import Source, expand_sources, memory_budget
from .write import write_jobs, write_ndjson

__all__ = ["read_jobs", "iter_jobs", "write_jobs", "write_ndjson", "memory_budget", "Source", "expand_sources"]

"""Write data/sample-jobs.ndjson.gz: 300 synthetic jobs, seed 0 (see data/README.md).

Run from the repository root: ``python data/make_sample.py``. The output is the same
bytes on every run; ``tests/test_synth.py`` checks that the committed file still is.
"""

from pathlib import Path

from ftkit.synth import write_dump

SAMPLE = Path(__file__).with_name("sample-jobs.ndjson.gz")
N_JOBS = 300
SEED = 0

if __name__ == "__main__":
    write_dump(SAMPLE, N_JOBS, seed=SEED)
    print(f"wrote {SAMPLE} ({SAMPLE.stat().st_size:,} bytes)")

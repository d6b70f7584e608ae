"""Write data/sample-jobs.ndjson.gz (300 synthetic Mistral jobs, seed 0) and
data/sample-openai-jobs.ndjson.gz (60 synthetic OpenAI jobs with their events and
checkpoints lists, seed 0); see data/README.md.

Run from the repository root: ``python data/make_sample.py``. The output is the same
bytes on every run; ``tests/test_synth.py`` checks that the committed file still is.
"""

from pathlib import Path

from ftkit.synth import write_dump, write_openai_dump

SAMPLE = Path(__file__).with_name("sample-jobs.ndjson.gz")
N_JOBS = 300
SEED = 0
OPENAI_SAMPLE = Path(__file__).with_name("sample-openai-jobs.ndjson.gz")
OPENAI_N_JOBS = 60

if __name__ == "__main__":
    write_dump(SAMPLE, N_JOBS, seed=SEED)
    print(f"wrote {SAMPLE} ({SAMPLE.stat().st_size:,} bytes)")
    write_openai_dump(OPENAI_SAMPLE, OPENAI_N_JOBS, seed=SEED)
    print(f"wrote {OPENAI_SAMPLE} ({OPENAI_SAMPLE.stat().st_size:,} bytes)")

"""Placeholder synth: replaced by the real generator."""
import msgspec
def make_jobs_bytes(n, *, seed=0):
    lines = []
    for i in range(n):
        lines.append(msgspec.json.encode({"id": f"job-{seed}-{i}", "model": "open-mistral-7b" if i % 2 else "ministral-3b-latest", "status": "SUCCESS" if i % 3 else "FAILED", "created_at": 1717171717 + i, "modified_at": 1717171817 + i, "hyperparameters": {"training_steps": 10}, **({"classifier_targets": [{"name": "t", "labels": ["a"]}]} if i % 2 == 0 else {}), "checkpoints": [{"step_number": s, "created_at": 1717171717 + s, "metrics": {"train_loss": 1.0 / s}} for s in (3, 2, 1)]}))
    return b"\n".join(lines) + b"\n"

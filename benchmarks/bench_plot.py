"""Time ftkit.plot: plot_loss_curves of 50 jobs (target: under one second) and plot_job.

Run: ``MPLBACKEND=Agg python benchmarks/bench_plot.py [--jobs 50] [--repeat 7]``

Prints, for each case, the median and best wall time of the plot call alone and of the
call plus an Agg render of the figure (what a notebook shows), in milliseconds.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import ftkit  # noqa: E402
import ftkit.plot as fp  # noqa: E402
from ftkit import synth  # noqa: E402


def make(n: int, *, seed: int, checkpoints_per_job: float | None = None) -> ftkit.JobSet:
    """n synthetic jobs, from synth.make_jobs where it is there (its bytes otherwise)."""
    if hasattr(synth, "make_jobs"):
        options = {}
        if checkpoints_per_job is not None and "checkpoints_per_job" in inspect.signature(synth.make_jobs).parameters:
            options["checkpoints_per_job"] = checkpoints_per_job
        return ftkit.JobSet(synth.make_jobs(n, seed=seed, **options))
    return ftkit.read_jobs(synth.make_jobs_bytes(n, seed=seed))


def timed(function, *, repeat: int, render: bool) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = function()
        fig = out if isinstance(out, plt.Figure) else out.figure
        if render:
            fig.canvas.draw()
        times.append(time.perf_counter() - start)
        plt.close(fig)
    return times


def report(name: str, function, *, repeat: int) -> float:
    call = timed(function, repeat=repeat, render=False)
    drawn = timed(function, repeat=repeat, render=True)
    print(
        f"{name:<48} call {statistics.median(call) * 1e3:7.1f} ms (best {min(call) * 1e3:6.1f})"
        f"   call+render {statistics.median(drawn) * 1e3:7.1f} ms (best {min(drawn) * 1e3:6.1f})"
    )
    return statistics.median(drawn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n, repeat = args.jobs, args.repeat

    js = make(n, seed=0)
    start = time.perf_counter()
    fp.plot_loss_curves(js, metric="train_loss", ax=plt.figure().add_subplot())
    first = time.perf_counter() - start
    plt.close("all")
    print(f"{n} jobs, {js.checkpoints.height} checkpoints; matplotlib {matplotlib.__version__}, polars {__import__('polars').__version__}")
    print(f"{'plot_loss_curves, first call (builds the frames)':<48} call {first * 1e3:7.1f} ms")

    def curves(**options):
        return lambda: fp.plot_loss_curves(js, ax=plt.figure().add_subplot(), **options)

    worst = 0.0
    worst = max(worst, report(f"plot_loss_curves({n} jobs, train_loss, step)", curves(metric="train_loss"), repeat=repeat))
    worst = max(worst, report(f"plot_loss_curves({n} jobs, valid_loss, step)", curves(), repeat=repeat))
    worst = max(worst, report(f"plot_loss_curves({n} jobs, tokens_seen, smooth)", curves(metric="train_loss", x="tokens_seen", smooth=0.6), repeat=repeat))
    worst = max(worst, report(f"plot_loss_curves({n} jobs, hue=learning_rate)", curves(metric="train_loss", hue="learning_rate"), repeat=repeat))

    dense = make(n, seed=1, checkpoints_per_job=300)
    dense.checkpoints  # noqa: B018 - build the frame outside the timing, as a notebook would have
    label = f"plot_loss_curves({n} jobs, {dense.checkpoints.height} checkpoints)"
    worst = max(worst, report(label, lambda: fp.plot_loss_curves(dense, metric="train_loss", ax=plt.figure().add_subplot()), repeat=repeat))

    job = max(js, key=lambda j: len(j.checkpoints or ()))
    report(f"plot_job({len(job.checkpoints or ())} checkpoints)", lambda: fp.plot_job(job), repeat=repeat)
    report("plot_timeline", lambda: fp.plot_timeline(js, ax=plt.figure().add_subplot()), repeat=repeat)
    report("plot_cost_quality", lambda: fp.plot_cost_quality(js, ax=plt.figure().add_subplot()), repeat=repeat)
    print(f"plot_loss_curves of {n} jobs, slowest median with render: {worst * 1e3:.0f} ms "
          f"({'under' if worst < 1.0 else 'OVER'} the 1 s target)")


if __name__ == "__main__":
    main()

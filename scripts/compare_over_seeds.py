"""The training guide's MNIST comparisons, each setting over several seeds.

    python scripts/compare_over_seeds.py --seeds 0 1 2 --jobs 2 \\
        --out runs/seeds --table docs/figures/seed_comparisons/results.json \\
        --figure docs/figures/seed_comparisons/frechet_distance.png

Every run trains on the embedded sample's 4,500 training digits and is scored on 2,000
samples against its 500 held-out digits: the Fréchet distance and its real-vs-real
reference, classes, KL to uniform, confidence, precision, recall, copy fraction. The
unconditional settings are ``minigan train`` runs (their ``summary.json``); the two
conditional models are ``examples/conditional_mnist.py`` (one run trains both; its
``results.json`` adds the classifier's accuracy against the requested labels). Each run is
its own process with one thread, ``--jobs`` of them side by side; the user CPU time of
each ``minigan train`` is recorded from the operating system (``os.wait4``). A run whose
results already exist is not run again: an interrupted comparison continues where it
stopped. ``--smoke`` runs 3 steps each (the example: ``--quick``) into a scratch folder.

The equal-time step counts (WGAN-GP, progressive at the DCGAN's time) are the ones that
matched the DCGAN's CPU time in single-seed runs; the table records each run's CPU time,
so how equal they were is measured, not assumed. ``--settings`` picks some by name.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy

TRAIN = "train"        # a ``minigan train`` run: its summary.json
CONDITIONAL = "conditional"   # one model of ``examples/conditional_mnist.py``: its results.json

SETTINGS = {
    "dcgan": ("the DCGAN, non-saturating loss", TRAIN, ["--epochs", "20"]),
    "wgan-gp": ("WGAN-GP, the paper's settings, the DCGAN's time", TRAIN,
                ["--loss", "wgan-gp", "--epochs", "20", "--max-steps", "250"]),
    "wgan-gp-2": ("WGAN-GP, 2 critic steps, lr 2e-4, the DCGAN's time", TRAIN,
                  ["--loss", "wgan-gp", "--d-steps", "2", "--lr-d", "2e-4", "--lr-g", "2e-4",
                   "--epochs", "20", "--max-steps", "500"]),
    "progressive-time": ("progressive, the DCGAN's time", TRAIN,
                         ["--model", "progressive", "--epochs", "20", "--max-steps", "910"]),
    "progressive-steps": ("progressive, the DCGAN's steps", TRAIN,
                          ["--model", "progressive", "--epochs", "20"]),
    "conditional-mlp": ("the conditional MLP GAN (100 epochs)", CONDITIONAL, "mlp"),
    "conditional-dcgan": ("the conditional DCGAN (20 epochs)", CONDITIONAL, "dcgan"),
}
NUMBERS = ("frechet_distance", "reference_frechet_distance", "classes_present",
           "kl_to_uniform", "mean_confidence", "precision", "recall", "reference_precision",
           "reference_recall", "copy_fraction", "steps", "cpu_seconds", "conditional_accuracy")
SMOKE = ["--max-steps", "3", "--evaluate", "50"]  # --smoke: proves the pipeline, in seconds
REPOSITORY = Path(__file__).resolve().parents[1]
_example_locks = {}   # one lock per example directory: both conditional models share a run


def _run(command, directory, log_path):
    """Run ``command`` with one thread; record its user CPU and wall seconds."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MINIGAN_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONPATH=str(REPOSITORY))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed (status {status}); see {log_path}")
    times = {"cpu_seconds": round(usage.ru_utime, 1),
             "wall_seconds": round(time.time() - started, 1)}
    (directory / "times.json").write_text(json.dumps(times) + "\n")
    print(f"{directory}: {times['wall_seconds']:.0f} s", flush=True)


def run_one(name, seed, out, smoke=False):
    """Run one setting with one seed (unless its results exist); its numbers."""
    _, kind, arguments = SETTINGS[name]
    if kind == TRAIN:
        directory = Path(out) / name / f"seed_{seed}"
        if not (directory / "summary.json").exists():
            _run([sys.executable, "-m", "minigan", "train", *arguments, "--seed", str(seed),
                  "--out", str(directory), "--data", "embedded", "--threads", "1",
                  "--no-progress", "--overwrite", *(SMOKE if smoke else ())],
                 directory, directory.parent / f"seed_{seed}.log")
        scores = json.loads((directory / "summary.json").read_text())
        scores["steps"] = scores["step"]
    else:
        directory = Path(out) / "conditional_mnist" / f"seed_{seed}"
        with _example_locks.setdefault(directory, threading.Lock()):
            if not (directory / "results.json").exists():
                _run([sys.executable, str(REPOSITORY / "examples" / "conditional_mnist.py"),
                      "--data", "embedded", "--seed", str(seed), "--out", str(directory),
                      *(["--quick"] if smoke else ())],
                     directory, directory.parent / f"seed_{seed}.log")
        scores = json.loads((directory / "results.json").read_text())[arguments]
        scores["cpu_seconds"] = None   # the example runs both models: its time is theirs
    times_path = directory / "times.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    row = {key: scores.get(key, times.get(key)) for key in NUMBERS}
    row["seed"] = seed
    return row


def aggregate(rows):
    """Mean, sample standard deviation and the per-seed values of each number."""
    out = {"seeds": [row["seed"] for row in rows]}
    for key in NUMBERS:
        values = [row[key] for row in rows if row[key] is not None]
        if not values:
            continue
        out[key] = {"mean": float(numpy.mean(values)),
                    "std": float(numpy.std(values, ddof=1)) if len(values) > 1 else None,
                    "values": values}
    return out


def markdown(table):
    """The table as Markdown rows, as the training guide shows it."""
    def cell(row, key, digits):
        if key not in row:
            return "–"
        value = row[key]
        spread = "" if value["std"] is None else f" ± {value['std']:.{digits}f}"
        return f"{value['mean']:.{digits}f}{spread}"

    lines = ["| setting | steps | CPU s a run | FD (seeds: " + ", ".join(
        str(s) for s in next(iter(table.values()))["seeds"]) + ") | FD per seed | precision "
             "| recall | copy fraction | classes | accuracy vs label |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in table.values():
        per_seed = " / ".join(f"{v:.1f}" for v in row["frechet_distance"]["values"])
        lines.append(f"| {row['label']} | {row['steps']['mean']:,.0f} | "
                     f"{cell(row, 'cpu_seconds', 0)} | **{cell(row, 'frechet_distance', 1)}** "
                     f"| {per_seed} | {cell(row, 'precision', 3)} | {cell(row, 'recall', 3)} | "
                     f"{cell(row, 'copy_fraction', 3)} | {cell(row, 'classes_present', 1)} | "
                     f"{cell(row, 'conditional_accuracy', 3)} |")
    return "\n".join(lines)


def draw(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(table)
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.55 * len(names) + 1.6), sharey=True)
    y = numpy.arange(len(names))[::-1]
    for ax, key, title in zip(axes, ("frechet_distance", "precision", "recall"),
                              ("Fréchet distance (lower is better)",
                               "precision (fidelity)", "recall (diversity)")):
        for yi, name in zip(y, names):
            cell = table[name][key]
            ax.scatter(cell["values"], [yi] * len(cell["values"]), s=14, color="0.6",
                       zorder=2)
            ax.errorbar(cell["mean"], yi, xerr=cell["std"] or 0, fmt="o", color="C0",
                        capsize=4, zorder=3)
        # the dotted line: training digits against the held-out ones, the same sizes
        reference = numpy.mean([table[n][f"reference_{key}"]["mean"] for n in names])
        ax.axvline(reference, color="k", ls=":", lw=1)
        ax.set_title(title + "\ndotted: real vs real", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([table[n]["label"] for n in names], fontsize=9)
    fig.suptitle("Embedded MNIST sample, 2,000 samples against the 500 held-out digits: "
                 "mean ± standard deviation over seeds (grey: each seed)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side")
    parser.add_argument("--out", default="runs/seeds", help="where the runs go")
    parser.add_argument("--table", help="write the means, spreads and per-seed values here")
    parser.add_argument("--figure", help="draw the Fréchet distance, precision and recall")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--smoke", action="store_true",
                        help="3 steps and 50 scored samples a run: proves the script runs")
    args = parser.parse_args()
    jobs = [(name, seed) for name in args.settings for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda job: run_one(*job, args.out, args.smoke), jobs))
    table = {}
    for name in args.settings:
        mine = [row for (n, _), row in zip(jobs, rows) if n == name]
        label, kind, arguments = SETTINGS[name]
        command = ("minigan train " + " ".join(arguments) if kind == TRAIN else
                   f"python examples/conditional_mnist.py (results.json: {arguments!r})")
        table[name] = {"label": label, "command": command, **aggregate(mine)}
        fd = table[name]["frechet_distance"]
        print(f"{name:18s} FD {fd['mean']:6.1f} ± {fd['std'] or 0:5.1f}  "
              f"({', '.join(f'{v:.1f}' for v in fd['values'])})")
    if args.markdown:
        print(markdown(table))
    if args.table:
        Path(args.table).parent.mkdir(parents=True, exist_ok=True)
        Path(args.table).write_text(json.dumps(table, indent=1) + "\n")
    if args.figure:
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        draw(table, args.figure)


if __name__ == "__main__":
    main()

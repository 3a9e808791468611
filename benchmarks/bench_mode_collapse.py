"""Mode collapse, measured: PacGAN's Table 1 (2-D ring and grid) on minigan's layers, then
the plain GAN with each of minigan's remedies.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mode_collapse.py \\
        --steps 2000 --seeds 5 --jobs 2 --out results.json --figure samples.png

The setting of Lin, Khetan, Fanti, Oh, "PacGAN" (NeurIPS 2018), after VEEGAN (Srivastava et
al. 2017): data from ``minigan.data.gaussian_ring`` / ``gaussian_grid`` (a training set of
100,000 samples, shuffled every epoch); G = ``pacgan_generator()`` (4 x Dense 400 +
BatchNorm + ReLU), D = ``pacgan_discriminator(pack=m)`` (3 maxout layers of 200 units x 5
pieces); N(0, 0.02) weights, zero biases; Adam lr 1e-4, betas (0.8, 0.999); B = 100 packed
inputs per batch (m * 100 samples); the non-saturating loss with hard labels (real 1, fake 0).
After training, 2,500 samples of G (eval mode) are scored by ``minigan.metrics.mode_coverage``:
modes captured, the fraction of high-quality samples (within 3 std of their mode), and the
reverse KL of the high-quality samples' mode histogram to uniform. Each cell is mean +-
standard error (std / sqrt(trials)) over ``--seeds`` trials (seeds 0, 1, ...).

Methods (``--methods``, comma separated; default all):

    gan                the baseline
    pacgan2..pacgan4   D sees m = 2, 3, 4 packed samples (``Trainer(pack=m)``)
    mbstd              D with MinibatchStdDev before its last layer (Karras et al. 2018)
    sn                 every Maxout and Dense of D spectrally normalised (Miyato et al. 2018)
    r1                 R1 penalty gamma/2 E||grad D(x_real)||^2, gamma = 10 (Mescheder 2018)
    wgan-gp            the same network as a critic, WGAN-GP loss, lambda = 10, one critic
                       step per G step (Gulrajani et al. 2017)
    instance-noise     N(0, s^2) noise on everything D sees, s from 10 data std (ring 0.1,
                       grid 0.5) decaying linearly to 0 at half the steps (Sønderby 2016)
    label-smoothing    one-sided, real label 0.9 (Salimans et al. 2016)

Trials run in a process pool (``--jobs``), each worker with single-threaded BLAS and one
minigan thread (``--threads``); the numbers do not depend on the pool size. The paper trains
400,000 steps; ``--steps`` sets the budget, and the table says how many steps each cell had.
``--checkpoints K`` also scores G at K evenly spaced steps (the last is the final one).
``--smoke``: 3 steps, one seed, 200 scored samples (CI: proves the script runs).
"""

import os
import sys

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # as common.BLAS_ENV_VARS
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "MINIGAN_NUM_THREADS")


def _threads_from_argv(argv):
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


if __name__ == "__main__":
    if any(name in os.environ for name in BLAS_ENV_VARS):
        # OpenBLAS reads these when it is loaded (at ``import numpy``): only a fresh
        # process without them runs the kernel the CPU really supports
        removed = " ".join(f"{name}={os.environ[name]}" for name in BLAS_ENV_VARS
                           if name in os.environ)
        env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS}
        env["MINIGAN_BENCH_REEXEC"] = removed
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    # before numpy loads, so that this process and every (spawned) worker inherit them
    for name in THREAD_VARS:
        os.environ[name] = _threads_from_argv(sys.argv[1:])

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: `import minigan`
sys.path.insert(0, HERE)                   # `import common`

import common  # noqa: E402

import minigan as mg  # noqa: E402

METHODS = ("gan", "pacgan2", "pacgan3", "pacgan4", "mbstd", "sn", "r1", "wgan-gp",
           "instance-noise", "label-smoothing")
MIXTURES = ("ring", "grid")
# CPU-seconds per step of one trial, measured on an AMD EPYC (one core, batch 100): the
# pool starts the longest trials of each seed first
COST = {"gan": 0.031, "pacgan2": 0.037, "pacgan3": 0.042, "pacgan4": 0.050, "mbstd": 0.031,
        "sn": 0.034, "r1": 0.039, "wgan-gp": 0.040, "instance-noise": 0.031,
        "label-smoothing": 0.031}
TRAIN_SET = 100_000
EVAL_SAMPLES = 2500
# PacGAN, Table 1 (10 trials, mean +- standard error): modes, high-quality %, reverse KL
PAPER = {
    "ring": {"gan": ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)),
             "pacgan2": ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)),
             "pacgan3": ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
             "pacgan4": ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02))},
    "grid": {"gan": ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)),
             "pacgan2": ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
             "pacgan3": ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
             "pacgan4": ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01))},
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--steps", type=int, default=2000, help="G steps per trial (default 2000; "
                   "the paper: 400,000)")
    p.add_argument("--seeds", type=int, default=5, help="trials per cell (default 5)")
    p.add_argument("--first-seed", type=int, default=0, help="seed of the first trial")
    p.add_argument("--methods", default=",".join(METHODS),
                   help="comma-separated subset of: " + ", ".join(METHODS))
    p.add_argument("--mixtures", default=",".join(MIXTURES), help="ring, grid or both")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS and minigan threads per worker (default 1)")
    p.add_argument("--batch", type=int, default=100, help="packed inputs per batch (100)")
    p.add_argument("--checkpoints", type=int, default=4,
                   help="also score G at this many evenly spaced steps (default 4)")
    p.add_argument("--eval-samples", type=int, default=EVAL_SAMPLES)
    p.add_argument("--out", help="write every trial's numbers (and seed 0's samples) as JSON")
    p.add_argument("--figure", help="draw the final samples of the first seed per method (PNG)")
    p.add_argument("--from", dest="from_files", nargs="+", metavar="JSON",
                   help="run nothing: print the table (and --figure) of the trials saved by "
                        "earlier --out runs (several files are merged)")
    p.add_argument("--smoke", action="store_true",
                   help="3 steps, 1 seed, batch 20, 200 scored samples (CI)")
    args = p.parse_args(argv)
    if args.smoke:
        args.steps, args.seeds, args.batch, args.eval_samples = 3, 1, 20, 200
        args.checkpoints = 1
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    args.mixtures = [m.strip() for m in args.mixtures.split(",") if m.strip()]
    bad = [m for m in args.methods if m not in METHODS]
    bad += [m for m in args.mixtures if m not in MIXTURES]
    if bad:
        p.error(f"unknown method or mixture {bad[0]!r}: methods are {', '.join(METHODS)}; "
                f"mixtures {', '.join(MIXTURES)}")
    for name in ("steps", "seeds", "jobs", "threads", "batch", "checkpoints", "eval_samples"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


# ------------------------------------------------------------------------------- one trial

def build(method, mixture, seed, steps):
    """(G, D, Trainer keyword arguments, pack) of one method."""
    rng = mg.backend.default_rng(seed)
    pack = int(method[-1]) if method.startswith("pacgan") else 1
    G = mg.gan.pacgan_generator(rng=rng)
    D = mg.gan.pacgan_discriminator(pack=pack, minibatch_stddev=method == "mbstd",
                                    spectral_norm=method == "sn", rng=rng)
    options = dict(loss="non-saturating", lr_d=1e-4, lr_g=1e-4, betas=(0.8, 0.999),
                   real_label=1.0, seed=seed, pack=pack)
    if method == "r1":
        options["r1"] = 10.0
    elif method == "wgan-gp":
        options["loss"] = "wgan-gp"
    elif method == "instance-noise":
        options.update(instance_noise=10 * mg.data.MIXTURES[mixture].std,
                       instance_noise_steps=max(1, steps // 2))
    elif method == "label-smoothing":
        options["real_label"] = 0.9
    return G, D, options, pack


def run_trial(job):
    """Train one (method, mixture, seed) for ``steps`` G steps; score it at checkpoints."""
    method, mixture, seed, args = job
    xp = mg.backend.xp
    data = mg.data.MIXTURES[mixture]
    G, D, options, pack = build(method, mixture, seed, args["steps"])
    trainer = mg.gan.Trainer(G, D, **options)
    train = data.sample(TRAIN_SET, seed=10_000 + seed)
    order_rng = mg.backend.default_rng(20_000 + seed)
    per_batch = args["batch"] * pack
    order, position = order_rng.permutation(TRAIN_SET), 0
    marks = sorted({max(1, round(args["steps"] * (k + 1) / args["checkpoints"]))
                    for k in range(args["checkpoints"])})
    eval_z = mg.backend.default_rng(30_000 + seed).standard_normal(
        (args["eval_samples"], trainer.latent_dim), dtype=xp.float32)
    curve, start, cpu_start = [], time.perf_counter(), time.process_time()
    for step in range(1, args["steps"] + 1):
        if step % 25 == 0 and os.getppid() != args["parent"]:
            raise SystemExit("the benchmark was stopped: this worker stops too")
        if position + per_batch > TRAIN_SET:  # a new epoch: reshuffle
            order, position = order_rng.permutation(TRAIN_SET), 0
        trainer.step(train[order[position:position + per_batch]])
        position += per_batch
        if step in marks:
            samples = trainer.sample(args["eval_samples"], z=eval_z)
            score = mg.metrics.mode_coverage(samples, data.means, data.std)
            curve.append({"step": step, **{k: score[k] for k in
                                           ("modes", "high_quality", "reverse_kl")}})
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # the same noise through G in training mode (BatchNorm normalising with the statistics
    # of these samples instead of its running averages): does the mode of G matter?
    fake = G.forward(eval_z)
    train_mode = mg.metrics.mode_coverage(fake, data.means, data.std)
    result = {"method": method, "mixture": mixture, "seed": seed, "steps": args["steps"],
              "seconds": seconds, "cpu_seconds": cpu, "steps_per_second": args["steps"] / seconds,
              "steps_per_cpu_second": args["steps"] / cpu,
              "curve": curve, **{k: score[k] for k in ("modes", "high_quality", "reverse_kl",
                                                       "counts")},
              "train_mode": {k: train_mode[k] for k in ("modes", "high_quality", "reverse_kl")}}
    if seed == args["first_seed"]:
        result["samples"] = np.round(mg.backend.to_numpy(samples), 4).tolist()
    return result


# ---------------------------------------------------------------------------- the table

def mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def summarise(trials):
    cells = {}
    for t in trials:
        cells.setdefault((t["mixture"], t["method"]), []).append(t)
    summary = {}
    for (mixture, method), group in cells.items():
        summary[f"{mixture}/{method}"] = {
            "mixture": mixture, "method": method, "trials": len(group),
            "steps": group[0]["steps"],
            "modes": mean_se([t["modes"] for t in group]),
            "high_quality": mean_se([100 * t["high_quality"] for t in group]),
            "reverse_kl": mean_se([t["reverse_kl"] for t in group]),
            "steps_per_second": float(np.mean([t["steps_per_second"] for t in group])),
            "steps_per_cpu_second": float(np.mean([t["steps_per_cpu_second"] for t in group])),
        }
    return summary


def _cell(value, digits):
    mean, se = value
    return f"{mean:.{digits}f} ± {se:.{digits}f}" if math.isfinite(se) else f"{mean:.{digits}f}"


def format_table(summary, mixtures, methods):
    lines = []
    for mixture in mixtures:
        total = mg.data.MIXTURES[mixture].modes
        lines += ["", f"{mixture} ({total} modes)",
                  f"{'method':<16} {'steps':>7} {'n':>2}  {'modes':>12} {'high quality %':>15} "
                  f"{'reverse KL':>13}   paper (400k steps): modes / HQ % / KL"]
        for method in methods:
            row = summary.get(f"{mixture}/{method}")
            if row is None:
                continue
            paper = PAPER[mixture].get(method)
            paper_text = (" / ".join(_cell(v, 1 if i < 2 else 2) for i, v in enumerate(paper))
                          if paper else "-")
            lines.append(f"{method:<16} {row['steps']:>7} {row['trials']:>2}  "
                         f"{_cell(row['modes'], 1):>12} {_cell(row['high_quality'], 1):>15} "
                         f"{_cell(row['reverse_kl'], 2):>13}   {paper_text}")
    return "\n".join(lines)


def draw_figure(trials, mixtures, methods, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    firsts = {(t["mixture"], t["method"]): t for t in trials if "samples" in t}
    columns = min(5, len(methods))
    per_mixture = -(-len(methods) // columns)            # rows of panels per mixture
    fig, axes = plt.subplots(len(mixtures) * per_mixture, columns, squeeze=False,
                             figsize=(1.7 * columns, 1.8 * len(mixtures) * per_mixture))
    for ax in axes.ravel():
        ax.set_axis_off()
    for i, mixture in enumerate(mixtures):
        data = mg.data.MIXTURES[mixture]
        lim = 1.5 if mixture == "ring" else 5.5
        for j, method in enumerate(methods):
            ax = axes[i * per_mixture + j // columns][j % columns]
            ax.set_axis_on()
            ax.scatter(data.means[:, 0], data.means[:, 1], s=10, c="tab:red", marker="x",
                       linewidths=0.8)
            t = firsts.get((mixture, method))
            if t is not None:
                pts = np.asarray(t["samples"])
                ax.scatter(pts[:, 0], pts[:, 1], s=0.5, c="tab:blue", alpha=0.4,
                           rasterized=True)
                ax.set_title(f"{mixture}: {method}\n{t['modes']}/{data.modes} modes, "
                             f"{100 * t['high_quality']:.1f} % HQ", fontsize=6)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
    fig.suptitle(f"final samples (seed {trials[0]['seed'] if trials else 0}, "
                 f"{trials[0]['steps'] if trials else 0} steps); x: the modes", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def from_files(args):
    """The table and figure of saved trials (--from): nothing is trained."""
    trials = []
    for path in args.from_files:
        with open(path) as f:
            trials += json.load(f)["trials"]
    methods = [m for m in METHODS if any(t["method"] == m for t in trials)]
    mixtures = [m for m in MIXTURES if any(t["mixture"] == m for t in trials)]
    print(f"{len(trials)} saved trials from {', '.join(args.from_files)}")
    print(format_table(summarise(trials), mixtures, methods))
    if args.figure:
        draw_figure(trials, mixtures, methods, args.figure)
        print(f"wrote {args.figure}")
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.from_files:
        return from_files(args)
    if os.environ.get("MINIGAN_BENCH_REEXEC"):
        print(f"(re-executed without {os.environ['MINIGAN_BENCH_REEXEC']}: OpenBLAS reads "
              "them at load time)")
    common.limit_threads(args.threads)
    report = common.machine_report()
    print("Mode collapse on the 2-D ring and grid (PacGAN's Table 1 setting), float32, NumPy")
    print(common.format_machine_report(report))
    for note in filter(None, [common.kernel_mismatch_note(report),
                              common.load_warning(report, args.jobs * args.threads)]):
        print(note)
    settings = {k: getattr(args, k) for k in ("steps", "batch", "checkpoints", "eval_samples",
                                              "first_seed")}
    settings["parent"] = os.getpid() if args.jobs > 1 else os.getppid()
    jobs = [(method, mixture, seed, settings)
            for seed in range(args.first_seed, args.first_seed + args.seeds)
            for mixture in args.mixtures for method in args.methods]
    # seed by seed (an interrupted run has every cell at about the same number of trials),
    # the longest trials of a seed first
    jobs.sort(key=lambda job: (job[2], -COST[job[0]]))
    print(f"{len(jobs)} trials ({len(args.methods)} methods x {len(args.mixtures)} mixtures x "
          f"{args.seeds} seeds), {args.steps} steps each (the paper: 400,000), batch "
          f"{args.batch} packed inputs, {args.jobs} worker processes x {args.threads} thread(s)")
    start = time.perf_counter()
    trials = []
    def done(result):
        trials.append(result)
        _progress(trials, len(jobs), start)
        if args.out:  # the trials so far, so that an interrupted run keeps what it measured
            _write(args.out, args, report, time.perf_counter() - start, trials)

    if args.jobs == 1:
        for job in jobs:
            done(run_trial(job))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
            for future in as_completed([pool.submit(run_trial, job) for job in jobs]):
                done(future.result())
    order = {(m, x, s): i for i, (m, x, s, _) in enumerate(jobs)}
    trials.sort(key=lambda t: order[t["method"], t["mixture"], t["seed"]])
    wall = time.perf_counter() - start
    summary = summarise(trials)
    print(format_table(summary, args.mixtures, args.methods))
    rates = [t["steps_per_second"] for t in trials]
    cpu_rates = [t["steps_per_cpu_second"] for t in trials]
    cpu_total = sum(t["cpu_seconds"] for t in trials)
    print(f"\n{len(trials)} trials in {wall:.1f} s wall, {cpu_total:.0f} CPU-s in the trials; "
          f"one trial ran {np.median(rates):.1f} steps/s of wall time (median; min "
          f"{min(rates):.1f}, max {max(rates):.1f}), {np.median(cpu_rates):.1f} steps per "
          f"CPU-second (min {min(cpu_rates):.1f}, max {max(cpu_rates):.1f})")
    for method in args.methods:
        mine = [t["steps_per_cpu_second"] for t in trials if t["method"] == method]
        print(f"  {method:<16} {np.mean(mine):6.1f} steps per CPU-second")
    if args.out:
        _write(args.out, args, report, wall, trials)
        print(f"wrote {args.out}")
    if args.figure:
        draw_figure(trials, args.mixtures, args.methods, args.figure)
        print(f"wrote {args.figure}")
    return 0


def _write(path, args, report, wall, trials):
    """Every trial so far and their summary, as JSON (written whole, then renamed)."""
    partial = path + ".partial"
    with open(partial, "w") as f:
        json.dump({"args": vars(args), "machine": report, "wall_seconds": wall,
                   "summary": summarise(trials), "paper": PAPER, "trials": trials}, f)
    os.replace(partial, path)


def _progress(trials, total, start):
    t = trials[-1]
    print(f"  [{len(trials)}/{total} {time.perf_counter() - start:6.0f} s] {t['mixture']:<4} "
          f"{t['method']:<16} seed {t['seed']}: {t['modes']} modes, "
          f"{100 * t['high_quality']:.1f} % HQ, KL {t['reverse_kl']:.2f} "
          f"({t['steps_per_second']:.1f} steps/s, {t['steps_per_cpu_second']:.1f} per CPU-s)",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())

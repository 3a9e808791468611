"""What a progressive GAN's training step costs at each stage, next to a DCGAN step.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_progressive_stages.py

A progressive run (``minigan train --model progressive``) spends its first phases at 7x7
and 14x14, where a step is cheap, and the rest at 28x28. To compare it with the DCGAN at
equal time one needs the price of a step in each phase: this script times
``ProgressiveTrainer.step`` with both networks held at 7x7, fading in 14x14 (alpha 0.5),
at 14x14, fading in 28x28 and at 28x28, and ``Trainer.step`` on the MNIST DCGAN, on the
same batch of full-size images, round-robin (``common.time_interleaved``), and prints
medians, p10/p90 and each one's ratio to the DCGAN step. Both trainers use the run's
defaults (non-saturating loss, label smoothing 0.9, Adam(2e-4, (0.5, 0.999))).

``--cpu-time`` times this process's CPU time instead of wall time (meaningful with
``--threads 1`` only). ``--smoke``: batch 4, 2 steps (CI proves the script runs).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: `import minigan`
sys.path.insert(0, HERE)                   # `import common`
import common  # noqa: E402  (the benchmarks' shared helpers, next to this file)

import minigan as mg  # noqa: E402

# (label, stage, alpha) of the phases timed
PHASES = [("7x7", 0, 1.0), ("14x14 fade-in, alpha 0.5", 1, 0.5), ("14x14", 1, 1.0),
          ("28x28 fade-in, alpha 0.5", 2, 0.5), ("28x28", 2, 1.0)]
HELD = 10**6   # steps per phase of the timed trainers: alpha stays put while they are timed


def progressive_trainer(stage, alpha, seed):
    """A ProgressiveTrainer whose schedule sits in ``stage`` at ``alpha``."""
    G, D = mg.gan.build_models("progressive", rng=mg.backend.default_rng(seed))
    trainer = mg.gan.ProgressiveTrainer(G, D, stage_steps=HELD, seed=seed)
    step = int(alpha * HELD) if stage > 0 else 0
    trainer.schedule.load_state_dict({"stage": stage, "stage_step": step,
                                      "alpha": trainer.schedule.alpha_at(stage, step)})
    return trainer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="timed steps of each")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time CPU time, not wall time (use with --threads 1)")
    parser.add_argument("--smoke", action="store_true", help="batch 4, 2 steps")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size, args.steps, args.warmup = 4, 2, 1

    common.limit_threads(args.threads)
    real = np.random.default_rng(0).uniform(-1, 1, (args.batch_size, 28, 28, 1))
    real = real.astype(np.float32)
    G, D = mg.gan.build_models("dcgan", rng=mg.backend.default_rng(0))
    trainers = {"DCGAN": mg.gan.Trainer(G, D, seed=0)}
    for label, stage, alpha in PHASES:
        trainer = progressive_trainer(stage, alpha, seed=0)
        stats = trainer.step(real)
        if (stats["stage"], round(stats["alpha"], 3)) != (stage, alpha):
            raise SystemExit(f"progressive {label}: the step ran at stage {stats['stage']}, "
                             f"alpha {stats['alpha']}")
        trainers[f"progressive {label}"] = trainer

    report = common.machine_report()
    print(common.format_machine_report(report))
    for warning in (common.blas_env_warning(sys.argv[1:]), common.load_warning(
            report, args.threads)):
        if warning:
            print(warning)
    timer = time.process_time if args.cpu_time else time.perf_counter
    times = common.time_interleaved({name: (lambda t=t: t.step(real))
                                     for name, t in trainers.items()},
                                    warmup=args.warmup, steps=args.steps, timer=timer)
    summary = common.summarise(times)
    dcgan = summary["DCGAN"]["median"]
    print(f"\nbatch {args.batch_size}, {args.threads} thread(s), {args.steps} steps each, "
          f"{'CPU' if args.cpu_time else 'wall'} time")
    print(f"{'step':38s} {'median ms':>10s} {'p10':>8s} {'p90':>8s} {'/ DCGAN':>8s}")
    for name, s in summary.items():
        print(f"{name:38s} {common.format_ms(s['median']):>10s} {common.format_ms(s['p10'])} "
              f"{common.format_ms(s['p90'])} {s['median'] / dcgan:8.2f}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"args": vars(args), "machine": report, "steps": summary}, file, indent=2)


if __name__ == "__main__":
    main()

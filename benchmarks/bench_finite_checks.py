"""What keeping the training state finite costs: ``Trainer.step`` with the checks of
``minigan.gan.finite_state`` (the gradient's norm against the second moment's overflow
before each update, a float64 sum of the weights after it) and with them replaced by
no-ops, timed interleaved on the same trainer and batch.

    python benchmarks/bench_finite_checks.py [--models mlp dcgan] [--steps 40] [--threads 2]

Prints the machine, then per model the median step time with and without the checks
and their ratio, and the time of ``check_weights`` alone on each network. ``--smoke``:
2 steps of the MLP (proves the script runs).
"""

import argparse
import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from common import format_machine_report, limit_threads, machine_report, time_interleaved  # noqa: E402,E501

import minigan.gan.trainer as trainer_module  # noqa: E402
from minigan.app.run import RunConfig, build_trainer  # noqa: E402
from minigan.gan.finite_state import check_weights  # noqa: E402

CHECKS = ("check_gradient", "check_weights")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--models", nargs="+", default=["mlp", "dcgan"])
    p.add_argument("--steps", type=int, default=40, help="timed steps each (default 40)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args()
    if args.smoke:
        args.models, args.steps = ["mlp"], 2
    limit_threads(args.threads)
    print(format_machine_report(machine_report()))
    real = {name: getattr(trainer_module, name) for name in CHECKS}
    for model in args.models:
        trainer = build_trainer(RunConfig(model=model))
        x = np.random.default_rng(0).uniform(-1, 1, (args.batch_size, 28, 28, 1))
        x = x.astype(np.float32)

        def step(checked):
            for name in CHECKS:
                setattr(trainer_module, name, real[name] if checked else lambda *a: None)
            trainer.step(x)

        times = time_interleaved({"checked": lambda: step(True), "unchecked": lambda: step(False)},
                                 warmup=2, steps=args.steps)
        for name in CHECKS:
            setattr(trainer_module, name, real[name])
        on, off = (statistics.median(times[k]) * 1e3 for k in ("checked", "unchecked"))
        print(f"{model}, batch {args.batch_size}: step median {on:.2f} ms with the checks, "
              f"{off:.2f} ms without: ratio {on / off:.3f} ({args.steps} steps each, "
              "interleaved)")
        for net in ("G", "D"):
            params = getattr(trainer, net).parameters()
            seconds = min(timeit.repeat(lambda: check_weights(1, net, params), number=20,
                                        repeat=5)) / 20
            print(f"  check_weights on {net} ({sum(q.data.size for q in params):,} values): "
                  f"{seconds * 1e3:.3f} ms")


if __name__ == "__main__":
    main()

"""The ``minigan`` command line (``python -m minigan`` is the same).

    minigan check [--mode elementwise|directional] [--seed S] [--backend numpy|cupy]
        Prove every layer's and the loss's handwritten backward pass against finite
        differences (float64) and print the relative errors; exit status 1 if any
        error exceeds the tolerance.
"""

import argparse
import sys

from . import backend
from .check_layers import TOLERANCE, check_all_layers


def build_parser():
    parser = argparse.ArgumentParser(prog="minigan", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check", help="check every layer's backward pass against finite differences")
    check.add_argument("--mode", choices=["elementwise", "directional"], default="elementwise",
                       help="compare every gradient element, or random directional "
                            "derivatives (default: elementwise)")
    check.add_argument("--seed", type=int, default=0, help="seed for inputs and weights")
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "check":
        backend.use(args.backend)
        results = check_all_layers(mode=args.mode, seed=args.seed)
        worst = 0.0
        print(f"{'layer':<58} {'gradient':<18} {'max rel. error':>14}")
        for layer, errors in results:
            for error in errors:
                worst = max(worst, error.max_rel_error)
                print(f"{layer:<58} {error.name:<18} {error.max_rel_error:>14.2e}")
        verdict = "PASS" if worst <= TOLERANCE else "FAIL"
        print(f"{verdict}: worst relative error {worst:.2e} (tolerance {TOLERANCE:.0e}, "
              f"float64, central differences, random upstream gradient)")
        return 0 if worst <= TOLERANCE else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

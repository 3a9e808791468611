"""The ``minigan`` command line (``python -m minigan`` is the same).

    minigan train    [--dataset mnist|fashion-mnist] [--data DIR] [--epochs N] [--batch-size 64]
                     [--loss non-saturating|minimax|lsgan|hinge|wgan|wgan-gp] [--gp-weight 10]
                     [--r1 GAMMA] [--out DIR] [--seed S]
                     [--resume CHECKPOINT] [--backend numpy|cupy] [--threads N] [...]
    minigan sample   CHECKPOINT [--n 64] [--out grid.png] [--backend numpy|cupy] [--threads N]
    minigan evaluate CHECKPOINT [--n 2000] [--data DIR] [--nearest FILE] [--backend numpy|cupy]
                     [--threads N]
    minigan check    [--mode elementwise|directional] [--seed S] [--backend numpy|cupy]
    minigan lab      [--port P] [--no-browser] [--data ring|grid|line|moons] [...]
    minigan lab      --export lab.html [--gif lab.gif] [--steps N]   (see cli_lab)
    minigan exercises init DIR [--force] | check DIR [NAME...] [--json]   (cli_exercises)

Every failure ends in one line on stderr, ``minigan: error: ...``, naming the input, what
was expected and what came. Exit status: 0 done; 2 bad input, refused before any work
began (nothing on disk changed: arguments, files and directories are checked first,
``cli_checks``); 1 a failure during the work (a NaN in training, a full disk; also an
unexpected exception, a bug, whose traceback ``MINIGAN_TRACEBACK=1`` prints); 128 + the
signal's number when SIGINT (130), SIGTERM (143) or SIGHUP (129) stopped it, after
``train`` saved a checkpoint.
"""

import argparse
import os
import re
import sys
import traceback

from . import backend, cli_checks, cli_exercises, cli_output, parallel
from .app.run import TrainingInterrupted
from .app.stop_signals import Stopped, StopSignals
from .cli_lab import add_lab_parser, command_lab
from .data.offline import downloads_forbidden
from .errors import InputError, MiniganError
from .gan.model_names import MODELS
from .gan.objectives import OBJECTIVES

LOSSES = list(OBJECTIVES)


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _float(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with every option's default after its help line: "(default:
    64)"; a switch's "off"; none for options whose default is None (their help says
    what they default to, e.g. the loss's paper's setting)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default is None or default is argparse.SUPPRESS or "%(default)" in text:
            return text
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif default == []:
            shown = "none"
        else:
            shown = "%(default)s"
        return f"{text} (default: {shown})"


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, in the style of ``cli_checks``:
    ``minigan: error: train: --epochs: expected a positive integer, got 0; try 'minigan
    train --help'`` (exit status 2), not the usage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        # no abbreviations (--epoch taken as --epochs): each subparser is a _Parser too,
        # and argparse asks each parser its own allow_abbrev
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(2, f"minigan: error: {command}{_plain(message)}; try '{self.prog} --help'\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option is the command's error (argparse leaves it
        to the top parser, whose --help would not describe the command's options)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
            command = commands[0].choices.get(getattr(parsed, commands[0].dest, None)) \
                if commands else None
            (command or self).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def _plain(message):
    """argparse's "argument --loss: invalid choice: 'x' (choose from 'a', 'b')" as
    "--loss: expected one of 'a', 'b', got 'x'", and "argument --n: ..." as "--n: ..."."""
    choice = re.fullmatch(r"argument (\S+): invalid choice: (.+) \(choose from (.+)\)", message)
    if choice:
        name, got, choices = choice.groups()
        return f"{name}: expected one of {choices}, got {got}"
    return re.sub(r"^argument (\S+): ", r"\1: ", message)


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_int(text):
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _non_negative_float(text):
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _probability(text):
    value = _float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text}")
    return value


def build_parser():
    from .app.run import RunConfig

    d = RunConfig()
    parser = _Parser(prog="minigan", description="minigan: GANs with handwritten backprop "
                     "on NumPy/CuPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do; 'minigan COMMAND --help' lists its "
                                          "options")

    train = commands.add_parser("train", help="train a GAN; writes a run directory")
    train.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=d.dataset,
                       help="which dataset")
    train.add_argument("--data", metavar="DIR", help="directory holding the four IDX files, "
                       "or 'embedded' for the 5,000-digit MNIST sample in the package "
                       "(default: $MINIGAN_DATA, the cache, a download, else that sample)")
    _no_download_option(train)
    train.add_argument("--model", choices=list(MODELS), default=d.model,
                       help="dcgan, mlp, conditional (MLP), conditional-dcgan (the DCGAN with "
                            "labels, a projection D) or progressive (grown 7x7 -> 14x14 -> 28x28)")
    train.add_argument("--epochs", type=_positive_int, default=d.epochs, metavar="N",
                       help="passes over the training set")
    train.add_argument("--batch-size", type=_positive_int, default=d.batch_size, metavar="N",
                       help="images per step")
    train.add_argument("--loss", choices=LOSSES, default=d.loss, help="the GAN objective")
    train.add_argument("--gp-weight", type=_non_negative_float, default=None,
                       metavar="LAMBDA", help="WGAN-GP's penalty weight (--loss wgan-gp; "
                       "default 10)")
    train.add_argument("--r1", type=_non_negative_float, default=d.r1, metavar="GAMMA",
                       help="R1 penalty gamma/2 mean ||grad_x D(real)||^2 for the BCE losses "
                            "(0: none); D becomes the LayerNorm critic")
    # None: the loss's default (minigan.app.run.LOSS_DEFAULTS, each loss's paper's)
    train.add_argument("--optimizer", choices=["adam", "rmsprop"], default=None,
                       help="default adam (wgan: rmsprop)")
    train.add_argument("--lr-d", type=_non_negative_float, default=None,
                       help="default 2e-4 (wgan-gp: 1e-4, wgan: 5e-5)")
    train.add_argument("--lr-g", type=_non_negative_float, default=None,
                       help="default 2e-4 (wgan-gp: 1e-4, wgan: 5e-5)")
    train.add_argument("--beta1", type=_probability, default=None,
                       help="Adam's beta1, default 0.5 (wgan-gp: 0.0)")
    train.add_argument("--beta2", type=_probability, default=None,
                       help="Adam's beta2, default 0.999 (wgan-gp: 0.9)")
    train.add_argument("--real-label", type=_probability, default=None,
                       help="target for real images: default 0.9 for the BCE losses (one-sided "
                            "label smoothing), 1.0 for lsgan; hinge and the Wasserstein losses "
                            "have none")
    train.add_argument("--d-steps", type=_positive_int, default=None,
                       help="discriminator updates per generator update, default 1 "
                            "(wgan, wgan-gp: 5)")
    train.add_argument("--latent-dim", type=_positive_int, default=d.latent_dim, metavar="N",
                       help="size of z")
    train.add_argument("--out", metavar="DIR", default=d.out, help="run directory")
    train.add_argument("--seed", type=int, default=d.seed, metavar="S",
                       help="seeds the weights, the noise and the data order")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue exactly from a checkpoint: its weights, optimizer "
                            "states (learning rates included) and data order are restored; "
                            "the run's settings come from the checkpoint, --out defaults to "
                            "its run directory")
    train.add_argument("--overwrite", action="store_true",
                       help="train into a run directory that holds another run (or rewind "
                            "a run with --resume of an older checkpoint): deletes that "
                            "run's own files first, nothing else")
    train.add_argument("--allow-change", metavar="KEY", action="append", default=[],
                       help="with --resume: allow this setting (e.g. lr-d, loss) to differ "
                            "from the checkpoint's; repeat or separate by commas; recorded "
                            "in <out>/resumes.jsonl")
    train.add_argument("--backend", choices=["numpy", "cupy"], default=d.backend,
                       help="cupy runs the same code on a GPU")
    _threads_option(train)
    train.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every,
                       metavar="EPOCHS", help="keep a numbered checkpoint every N epochs "
                                              "(0: never)")
    train.add_argument("--max-steps", type=_positive_int, default=None, metavar="N",
                       help="stop after this many generator steps (default: the epochs' "
                            "steps)")
    train.add_argument("--evaluate", type=int, default=d.evaluate, metavar="N",
                       help="score N samples at the end of the run (0: skip)")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--spectral-norm", action="store_true",
                       help="spectrally normalise D's Conv2d and Dense weights (every model "
                            "but progressive)")
    train.add_argument("--minibatch-stddev", action="store_true",
                       help="give D the batch's standard deviation as one more channel: a "
                            "cure for mode collapse")
    train.add_argument("--stage-steps", type=_positive_int, default=None, metavar="N",
                       help="progressive: generator steps per growth phase (7x7; each fade; "
                            "each stabilising phase), default 156")
    train.add_argument("--equalized-lr", action="store_true",
                       help="progressive: equalised learning rate (weights scaled by He's "
                            "constant at run time)")
    train.add_argument("--train-on-heldout", action="store_true",
                       help="embedded sample only: train on all 5,000 digits, the 500 held "
                            "out for scoring too (the scores are then not held out)")
    train.add_argument("--inspect-every", type=_non_negative_int, default=d.inspect_every,
                       metavar="N",
                       help="every N steps, record the step layer by layer and write "
                            "gradient figures and numbers to <out>/inspect/ (0: never)")

    sample = commands.add_parser("sample", help="write a grid of samples from a checkpoint")
    sample.add_argument("checkpoint", help="a checkpoint of minigan train, e.g. "
                        "runs/mnist-dcgan/checkpoints/last.npz")
    sample.add_argument("--n", type=_positive_int, default=64, metavar="N",
                        help="number of samples")
    sample.add_argument("--out", default="grid.png", metavar="FILE",
                        help="the image file to write (.png, .pdf, .svg, .jpg)")
    sample.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the noise")
    sample.add_argument("--label", type=_non_negative_int, default=None, metavar="K",
                        help="conditional models: N samples of class K (default: one class "
                             "per row, each row labelled)")
    sample.add_argument("--backend", choices=["numpy", "cupy"], default=None,
                        help="default: the backend the checkpoint was trained on")
    _threads_option(sample)

    evaluate = commands.add_parser("evaluate", help="quality numbers of a checkpoint")
    evaluate.add_argument("checkpoint", help="a checkpoint of minigan train, e.g. "
                          "runs/mnist-dcgan/checkpoints/last.npz")
    evaluate.add_argument("--n", type=_positive_int, default=2000, metavar="N",
                          help="number of generated samples to score")
    evaluate.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the noise")
    evaluate.add_argument("--data", metavar="DIR", default=None,
                          help="directory holding the training and test splits' IDX files, or "
                               "'embedded' (default: the run's --data, else the usual places)")
    evaluate.add_argument("--nearest", metavar="FILE", default=None,
                          help="write a grid of the samples closest to a training image, "
                               "each beside that image (.png, .pdf, .svg, .jpg)")
    _no_download_option(evaluate)
    evaluate.add_argument("--backend", choices=["numpy", "cupy"], default=None,
                          help="default: the backend the checkpoint was trained on")
    _threads_option(evaluate)

    check = commands.add_parser(
        "check", help="check every layer's backward pass against finite differences")
    check.add_argument("--mode", choices=["elementwise", "directional"], default="elementwise",
                       help="every entry of every gradient, or one random direction each")
    check.add_argument("--seed", type=int, default=0, metavar="S",
                       help="seeds the inputs and the upstream gradients")
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                       help="the backend whose layers are checked")
    cli_exercises.add_exercises_parser(commands)
    add_lab_parser(commands)
    return parser


def _no_download_option(command):
    command.add_argument("--no-download", action="store_true",
                         help="never download data (as MINIGAN_OFFLINE=1 does): use the files "
                              "found, else the embedded sample of MNIST")


def _threads_option(command):
    command.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                         help="CPU threads for minigan's work (default: $MINIGAN_NUM_THREADS, "
                              "else as many as the BLAS uses); see minigan.parallel")


def command_train(args, stop):
    from .app.run import train

    config, resume = cli_checks.train_settings(args, args.explicit)
    args.run_dir = config.out  # for the message after a failed write
    train(config, resume=resume, log=cli_output.say, overwrite=args.overwrite,
          allow_changes=cli_checks.allowed_changes(args.allow_change), stop=stop)
    return 0


def command_sample(args, stop):
    from .app.run import load_trainer
    from .app.sample_grid import grid_layout
    from .gan.progressive_trainer import growth_note
    from .plots import save_image_grid

    cli_checks.check_seed(args.seed)
    cli_checks.check_grid_count(args.n)
    out = cli_checks.sample_path(args.out)
    trainer, config = load_trainer(args.checkpoint, args.backend)
    grid = grid_layout(trainer, args.n, config.dataset, args.label, config.model)
    z = backend.default_rng(args.seed).standard_normal(
        (grid.n, trainer.latent_dim), dtype=trainer.G.parameters()[0].dtype)
    growth = growth_note(trainer)
    notes = ", ".join(note for note in (grid.note, growth) if note)
    title = sample_title(args.checkpoint, trainer.step_count, grid.n, args.seed)
    save_image_grid(trainer.sample(grid.n, z=z, labels=grid.labels), out, columns=grid.columns,
                    title=title + (f"\n{notes}" if notes else ""), row_labels=grid.row_labels)
    print(f"wrote {grid.n} samples to {out}" + (f" ({notes})" if notes else ""))
    return 0


def sample_title(checkpoint, step, n, seed):
    """The title of a ``minigan sample`` grid, e.g. "mnist-dcgan/last.npz: step 1560, 64
    samples (seed 0)": the checkpoint's file name, after its run directory's name when it
    is in one."""
    from .app.run_dir import checkpoint_run_dir

    name = os.path.basename(checkpoint)
    run_dir = checkpoint_run_dir(checkpoint)
    if run_dir is not None:
        name = f"{os.path.basename(os.path.abspath(run_dir))}/{name}"
    return f"{name}: step {step}, {n} samples (seed {seed})"


def command_evaluate(args, stop):
    from .app.evaluate import evaluate_checkpoint
    from .app.heldout_scores import format_heldout_lines
    from .metrics import format_report

    cli_checks.check_seed(args.seed)
    cli_checks.check_sample_count(args.n)
    nearest = None if args.nearest is None else cli_checks.sample_path(args.nearest, "--nearest")
    result = evaluate_checkpoint(args.checkpoint, n=args.n, seed=args.seed,
                                 backend_name=args.backend, data=args.data, nearest=nearest)
    print("\n".join([format_report(result), *format_heldout_lines(result)]))
    return 0


def command_check(args, stop):
    from .app.config_checks import use_backend
    from .check_layers import TOLERANCE, check_all_layers

    cli_checks.check_seed(args.seed)
    use_backend(args.backend)
    worst, passed = 0.0, True
    print(f"{'layer':<40} {'gradient':<16} {'max rel. error':>14}")
    for layer, errors in check_all_layers(mode=args.mode, seed=args.seed):
        for error in errors:
            worst = max(worst, error.max_rel_error)
            passed = passed and error.within(TOLERANCE)
            print(f"{layer:<40} {error.name:<16} {error.max_rel_error:>14.2e}")
    print(f"{'PASS' if passed else 'FAIL'}: worst relative error {worst:.2e} (tolerance "
          f"{TOLERANCE:.0e}, float64, central differences, random upstream gradient)")
    return 0 if passed else 1


def main(argv=None):
    """Run one command; returns the exit status (see the module docstring). Called as the
    program (``argv`` None), it leaves SIGINT, SIGTERM and SIGHUP ignored on its way out,
    so a late signal cannot turn the exit status into a death by signal."""
    program = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.explicit = cli_checks.explicit_options(build_parser(), argv)
    command = {"train": command_train, "sample": command_sample,
               "evaluate": command_evaluate, "check": command_check,
               "exercises": cli_exercises.command_exercises,
               "lab": command_lab}[args.command]
    threads = getattr(args, "threads", None)
    try:
        cli_checks.check_threads(threads)
    except InputError as error:
        return _error(error, 2)
    previous = parallel.set_threads(threads) if threads is not None else None
    try:
        with StopSignals(restore=not program) as stop, \
                downloads_forbidden("--no-download", getattr(args, "no_download", False)):
            return command(args, stop)
    except Stopped as stopped:  # train has saved its checkpoint and printed how to resume
        if stopped.second:
            print(f"minigan: stopped at once by a second {stopped.name}; the last checkpoint "
                  "saved is intact (checkpoints are replaced atomically)", file=sys.stderr)
        elif not isinstance(stopped, TrainingInterrupted):
            print(f"minigan: stopped by {stopped.name}", file=sys.stderr)
        return stopped.exit_status
    except InputError as error:  # refused before any work began: nothing was changed
        return _error(error, 2)
    except MiniganError as error:  # the library's own errors say what was wrong
        return _error(error, 1)
    except OSError as error:  # a full disk, a permission, a vanished directory
        return _error(_os_error(error, args), 1)
    except MemoryError:
        return _error("out of memory", 1)
    except Exception as error:  # a bug: still one line, the traceback on request
        if os.environ.get("MINIGAN_TRACEBACK"):
            traceback.print_exc()
        return _error(f"unexpected {type(error).__name__}: {error} (a bug in minigan; "
                      "MINIGAN_TRACEBACK=1 prints the traceback)", 1)
    except KeyboardInterrupt:  # a SIGINT StopSignals did not see (not the main thread)
        print("minigan: interrupted", file=sys.stderr)
        return 130
    finally:
        if threads is not None:
            parallel.set_threads(previous)


def _error(error, status):
    """Print ``minigan: error: <message>`` as one line on stderr; return ``status``."""
    message = " ".join(str(error).split())
    print(f"minigan: error: {message}", file=sys.stderr)
    return status


def _os_error(error, args):
    what = error.strerror or str(error)
    where = f": {error.filename}" if error.filename else ""
    run_dir = getattr(args, "run_dir", None)
    note = cli_output.after_a_failed_write(run_dir) if run_dir else ""
    return f"{what} (errno {error.errno}){where}{note}"


if __name__ == "__main__":
    sys.exit(main())

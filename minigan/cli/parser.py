"""The command line's parser: one small function per command, each adding its options.

Every option's default comes from ``RunConfig`` where a run has one, and the help shows
it; an argparse error is one line (``minigan: error: train: --epochs: ...``).
"""

import argparse
import re

from ..gan.model_names import MODELS
from ..gan.objectives import OBJECTIVES
from .arg_types import non_negative_float, non_negative_int, positive_int, probability
from .exercises import add_exercises_parser
from .lab import add_lab_parser

LOSSES = list(OBJECTIVES)


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
    """An argparse parser whose errors are one line, in the style of ``validate_args``:
    ``minigan: error: train: --epochs: expected a positive integer, got 0; try 'minigan
    train --help'`` (exit status 2), not the usage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        # no abbreviations (--epoch taken as --epochs): each subparser is a _Parser too,
        # and argparse asks each parser its own allow_abbrev
        kwargs.setdefault("allow_abbrev", False)
        self.options, self.commands = [], None  # before argparse adds --help
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        """As argparse's; the parser keeps the actions it adds (``options``)."""
        action = super().add_argument(*args, **kwargs)
        self.options.append(action)
        return action

    def all_actions(self):
        """Every option of this parser and of its commands, the commands' action too."""
        yield from self.options
        if self.commands is not None:
            yield self.commands
            for command in self.commands.choices.values():
                yield from command.all_actions()

    def error(self, message):
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(2, f"minigan: error: {command}{_plain(message)}; try '{self.prog} --help'\n")

    def add_subparsers(self, **kwargs):
        """As argparse's; the parser keeps the commands' action (``commands``) to find the
        command an unknown option belongs to."""
        self.commands = super().add_subparsers(**kwargs)
        return self.commands

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option is the command's error (argparse leaves it
        to the top parser, whose --help would not describe the command's options)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = self.commands
            command = commands.choices.get(getattr(parsed, commands.dest, None)) \
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


def build_parser():
    """The ``minigan`` parser: its commands, each from its own function below."""
    from ..app.run import RunConfig

    d = RunConfig()
    parser = _Parser(prog="minigan", description="minigan: GANs with handwritten backprop "
                     "on NumPy/CuPy.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do; 'minigan COMMAND --help' lists its "
                                          "options")
    add_train_parser(commands, d)
    add_sample_parser(commands)
    add_evaluate_parser(commands)
    add_check_parser(commands)
    add_exercises_parser(commands)
    add_lab_parser(commands)
    return parser


def add_train_parser(commands, d):
    """``minigan train``; ``d``: a default RunConfig, whose values the options default to."""
    train = commands.add_parser("train", help="train a GAN; writes a run directory")
    _train_data_options(train, d)
    _train_objective_options(train, d)
    _train_run_options(train, d)
    _train_technique_options(train, d)


def _train_data_options(train, d):
    """The data, the model, the epochs and the batch."""
    train.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=d.dataset,
                       help="which dataset")
    train.add_argument("--data", metavar="DIR", help="directory holding the four IDX files, "
                       "or 'embedded' for the 5,000-digit MNIST sample in the package "
                       "(default: $MINIGAN_DATA, the cache, a download, else that sample)")
    _no_download_option(train)
    train.add_argument("--model", choices=list(MODELS), default=d.model,
                       help="dcgan, mlp, conditional (MLP), conditional-dcgan (the DCGAN with "
                            "labels, a projection D) or progressive (grown 7x7 -> 14x14 -> 28x28)")
    train.add_argument("--epochs", type=positive_int, default=d.epochs, metavar="N",
                       help="passes over the training set")
    train.add_argument("--batch-size", type=positive_int, default=d.batch_size, metavar="N",
                       help="images per step")


def _train_objective_options(train, d):
    """The GAN objective, its penalty and the optimizer's settings."""
    train.add_argument("--loss", choices=LOSSES, default=d.loss, help="the GAN objective")
    train.add_argument("--gp-weight", type=non_negative_float, default=None,
                       metavar="LAMBDA", help="WGAN-GP's penalty weight (--loss wgan-gp; "
                       "default 10)")
    train.add_argument("--r1", type=non_negative_float, default=d.r1, metavar="GAMMA",
                       help="R1 penalty gamma/2 mean ||grad_x D(real)||^2 for the BCE losses "
                            "(0: none); D becomes the LayerNorm critic")
    # None: the loss's default (minigan.app.run.LOSS_DEFAULTS, each loss's paper's)
    train.add_argument("--optimizer", choices=["adam", "rmsprop"], default=None,
                       help="default adam (wgan: rmsprop)")
    train.add_argument("--lr-d", type=non_negative_float, default=None,
                       help="default 2e-4 (wgan-gp: 1e-4, wgan: 5e-5)")
    train.add_argument("--lr-g", type=non_negative_float, default=None,
                       help="default 2e-4 (wgan-gp: 1e-4, wgan: 5e-5)")
    train.add_argument("--beta1", type=probability, default=None,
                       help="Adam's beta1, default 0.5 (wgan-gp: 0.0)")
    train.add_argument("--beta2", type=probability, default=None,
                       help="Adam's beta2, default 0.999 (wgan-gp: 0.9)")
    train.add_argument("--real-label", type=probability, default=None,
                       help="target for real images: default 0.9 for the BCE losses (one-sided "
                            "label smoothing), 1.0 for lsgan; hinge and the Wasserstein losses "
                            "have none")
    train.add_argument("--d-steps", type=positive_int, default=None,
                       help="discriminator updates per generator update, default 1 "
                            "(wgan, wgan-gp: 5)")


def _train_run_options(train, d):
    """z's size; where the run goes, how it resumes, what it runs on, how long."""
    train.add_argument("--latent-dim", type=positive_int, default=d.latent_dim, metavar="N",
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
    train.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                       help="stop after this many generator steps (default: the epochs' "
                            "steps)")
    train.add_argument("--evaluate", type=int, default=d.evaluate, metavar="N",
                       help="score N samples at the end of the run (0: skip)")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")


def _train_technique_options(train, d):
    """Optional techniques for D and the progressive model; inspection."""
    train.add_argument("--spectral-norm", action="store_true",
                       help="spectrally normalise D's Conv2d and Dense weights (every model "
                            "but progressive)")
    train.add_argument("--minibatch-stddev", action="store_true",
                       help="give D the batch's standard deviation as one more channel: a "
                            "cure for mode collapse")
    train.add_argument("--stage-steps", type=positive_int, default=None, metavar="N",
                       help="progressive: generator steps per growth phase (7x7; each fade; "
                            "each stabilising phase), default 156")
    train.add_argument("--equalized-lr", action="store_true",
                       help="progressive: equalised learning rate (weights scaled by He's "
                            "constant at run time)")
    train.add_argument("--train-on-heldout", action="store_true",
                       help="embedded sample only: train on all 5,000 digits, the 500 held "
                            "out for scoring too (the scores are then not held out)")
    train.add_argument("--inspect-every", type=non_negative_int, default=d.inspect_every,
                       metavar="N",
                       help="every N steps, record the step layer by layer and write "
                            "gradient figures and numbers to <out>/inspect/ (0: never)")


def add_sample_parser(commands):
    """``minigan sample``."""
    sample = commands.add_parser("sample", help="write a grid of samples from a checkpoint")
    sample.add_argument("checkpoint", help="a checkpoint of minigan train, e.g. "
                        "runs/mnist-dcgan/checkpoints/last.npz")
    sample.add_argument("--n", type=positive_int, default=64, metavar="N",
                        help="number of samples")
    sample.add_argument("--out", default="grid.png", metavar="FILE",
                        help="the image file to write (.png, .pdf, .svg, .jpg)")
    sample.add_argument("--seed", type=int, default=0, metavar="S", help="seeds the noise")
    sample.add_argument("--label", type=non_negative_int, default=None, metavar="K",
                        help="conditional models: N samples of class K (default: one class "
                             "per row, each row labelled)")
    sample.add_argument("--backend", choices=["numpy", "cupy"], default=None,
                        help="default: the backend the checkpoint was trained on")
    _threads_option(sample)


def add_evaluate_parser(commands):
    """``minigan evaluate``."""
    evaluate = commands.add_parser("evaluate", help="quality numbers of a checkpoint")
    evaluate.add_argument("checkpoint", help="a checkpoint of minigan train, e.g. "
                          "runs/mnist-dcgan/checkpoints/last.npz")
    evaluate.add_argument("--n", type=positive_int, default=2000, metavar="N",
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


def add_check_parser(commands):
    """``minigan check``."""
    check = commands.add_parser(
        "check", help="check every layer's backward pass against finite differences")
    check.add_argument("--mode", choices=["elementwise", "directional"], default="elementwise",
                       help="every entry of every gradient, or one random direction each")
    check.add_argument("--seed", type=int, default=0, metavar="S",
                       help="seeds the inputs and the upstream gradients")
    check.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                       help="the backend whose layers are checked")


def _no_download_option(command):
    command.add_argument("--no-download", action="store_true",
                         help="never download data (as MINIGAN_OFFLINE=1 does): use the files "
                              "found, else the embedded sample of MNIST")


def _threads_option(command):
    command.add_argument("--threads", type=positive_int, default=None, metavar="N",
                         help="CPU threads for minigan's work (default: $MINIGAN_NUM_THREADS, "
                              "else as many as the BLAS uses); see minigan.parallel")

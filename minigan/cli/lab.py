"""``minigan lab``: the GAN lab on 127.0.0.1, or exported as a page and a GIF.

    minigan lab [--port P] [--no-browser] [--data ring|grid|line|moons] [--loss ...]
    minigan lab --export lab.html [--gif lab.gif] [--steps N] [--pictures N] [--data ...]

Bad arguments and outputs are refused before any work (exit 2, one line); a port in use
too. Ctrl-C (or SIGTERM) stops the server: exit 0.
"""

import argparse
import sys
import threading
import time

from ..app.stop_signals import Stopped
from ..errors import ConfigError, InputError
from ..lab import settings as lab_settings

D = lab_settings.DEFAULTS


def _number(kind, check, expected):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return convert


_port = _number(int, lambda v: 0 <= v <= 65535, "a port number in [0, 65535]")
_positive = _number(int, lambda v: v >= 1, "a positive integer")
_rate = _number(float, lambda v: 0 < v <= lab_settings.MAX_LR,
                f"a learning rate in (0, {lab_settings.MAX_LR}]")


def add_lab_parser(commands):
    lab = commands.add_parser(
        "lab", help="the GAN lab: watch a 2-D GAN train live in the browser (127.0.0.1)")
    lab.add_argument("--port", type=_port, default=0, metavar="P",
                     help="port on 127.0.0.1 (0: a free one)")
    lab.add_argument("--no-browser", action="store_true",
                     help="only print the address; do not open a browser")
    lab.add_argument("--data", choices=[n for n in lab_settings.NAMES if n != "points"],
                     default=D["data"], help="the data set")
    lab.add_argument("--loss", choices=lab_settings.LOSSES, default=D["loss"],
                     help="the GAN objective")
    lab.add_argument("--lr-d", type=_rate, default=D["lr_d"], metavar="LR",
                     help="D's learning rate")
    lab.add_argument("--lr-g", type=_rate, default=D["lr_g"], metavar="LR",
                     help="G's learning rate")
    lab.add_argument("--k", type=_positive, default=D["k"], metavar="K",
                     help="D steps per G step")
    lab.add_argument("--optimizer", choices=lab_settings.OPTIMIZERS, default=D["optimizer"],
                     help="both players' optimizer")
    lab.add_argument("--latent-dim", type=int, choices=[1, 2], default=D["latent_dim"],
                     help="dimension of z")
    lab.add_argument("--batch-size", type=_positive, default=D["batch_size"], metavar="N",
                     help="samples per step")
    lab.add_argument("--seed", type=_number(int, lambda v: 0 <= v < 2**31, "a seed in "
                                            "[0, 2^31)"), default=D["seed"], metavar="S",
                     help="seeds the networks, the data and the noise")
    lab.add_argument("--remedy", action="append", default=[], metavar="NAME",
                     choices=lab_settings.REMEDIES,
                     help="switch a remedy on (repeatable): " + ", ".join(lab_settings.REMEDIES))
    lab.add_argument("--export", metavar="FILE.html", default=None,
                     help="train without a browser and write one self-contained page")
    lab.add_argument("--gif", metavar="FILE.gif", default=None,
                     help="train without a browser and write an animated GIF")
    lab.add_argument("--steps", type=_positive, default=2000, metavar="N",
                     help="training steps of an export")
    lab.add_argument("--pictures", type=_positive, default=60, metavar="N",
                     help="pictures in an export (evenly spaced over the steps)")
    return lab


def lab_settings_from(args):
    """The lab's settings from the arguments (an InputError for a bad combination)."""
    changes = {"data": args.data, "loss": args.loss, "lr_d": args.lr_d, "lr_g": args.lr_g,
               "k": args.k, "optimizer": args.optimizer, "latent_dim": args.latent_dim,
               "batch_size": args.batch_size, "seed": args.seed,
               **{name: True for name in args.remedy}}
    if "gradient_penalty" in args.remedy and args.loss == "wgan":
        changes["loss"] = "wgan-gp"
    try:
        return lab_settings.validate(D, changes)
    except ConfigError as error:
        raise InputError(f"lab: {error}") from None


def command_lab(args, stop):
    from ..lab.export import check_output, export_run
    from ..lab.server import make_server
    from ..lab.session import LabSession

    settings = lab_settings_from(args)
    if args.export or args.gif:
        if args.export:
            check_output("--export", args.export, ".html")
        if args.gif:
            check_output("--gif", args.gif, ".gif")
        if args.pictures > args.steps:
            raise InputError(f"lab: --pictures {args.pictures}: expected at most --steps "
                             f"({args.steps}) pictures")
        data = export_run(settings, args.export, steps=args.steps, pictures=args.pictures,
                          gif=args.gif)
        wrote = " and ".join(p for p in (args.export, args.gif) if p)
        print(f"wrote {wrote}: {len(data['frames'])} pictures of {args.steps} steps")
        return 0
    try:
        session = LabSession(settings)
    except ConfigError as error:
        raise InputError(f"lab: {error}") from None
    server = make_server(session, args.port)
    session.start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="minigan-lab-server", daemon=True)
    thread.start()
    print(f"minigan lab: {server.url}  (Ctrl-C stops it)", flush=True)
    try:
        if not args.no_browser:
            import webbrowser

            webbrowser.open(server.url)
        while thread.is_alive():
            time.sleep(0.2)
    except Stopped as stopped:
        print(f"minigan lab: stopped by {stopped.name}", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()
        session.close()
    return 0

"""What each command of the command line does, once its arguments are parsed: a
``command_<name>(args, stop)`` returning the exit status."""

import os

from .. import backend
from . import output, validate_args


def command_train(args, stop):
    from ..app.run import train

    config, resume = validate_args.train_settings(args, args.explicit)
    args.run_dir = config.out  # for the message after a failed write
    train(config, resume=resume, log=output.say, overwrite=args.overwrite,
          allow_changes=validate_args.allowed_changes(args.allow_change), stop=stop)
    return 0


def command_sample(args, stop):
    from ..app.run import load_trainer
    from ..app.sample_grid import grid_layout
    from ..gan.progressive_trainer import growth_note
    from ..plots import save_image_grid

    validate_args.check_seed(args.seed)
    validate_args.check_grid_count(args.n)
    out = validate_args.sample_path(args.out)
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
    from ..app.run_dir import checkpoint_run_dir

    name = os.path.basename(checkpoint)
    run_dir = checkpoint_run_dir(checkpoint)
    if run_dir is not None:
        name = f"{os.path.basename(os.path.abspath(run_dir))}/{name}"
    return f"{name}: step {step}, {n} samples (seed {seed})"


def command_evaluate(args, stop):
    from ..app.evaluate import evaluate_checkpoint
    from ..app.heldout_scores import format_heldout_lines
    from ..metrics import format_report

    validate_args.check_seed(args.seed)
    validate_args.check_sample_count(args.n)
    nearest = (None if args.nearest is None
               else validate_args.sample_path(args.nearest, "--nearest"))
    result = evaluate_checkpoint(args.checkpoint, n=args.n, seed=args.seed,
                                 backend_name=args.backend, data=args.data, nearest=nearest)
    print("\n".join([format_report(result), *format_heldout_lines(result)]))
    return 0


def command_check(args, stop):
    from ..app.validate_config import use_backend
    from ..gradcheck.layers import TOLERANCE, check_all_layers

    validate_args.check_seed(args.seed)
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

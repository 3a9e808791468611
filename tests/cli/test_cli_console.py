"""What ``minigan`` prints: the training bars at 80 columns (the epoch's numbers whole,
the run's steps and time left), the lines that end a run, the sample grid's title,
``--help`` of every command (a help line and the default for every option) and
argparse's errors (one line naming the command and its --help)."""

import argparse
import functools
import io
import re

import pytest
from cli_rows import run, tiny_data
from tqdm import tqdm

from minigan.app.plain_progress import PlainProgress, duration
from minigan.app.progress import epoch_bar, run_bar, run_total, step_numbers
from minigan.cli import build_parser, sample_title


def rendered_lines(file):
    """Every state of a bar written to ``file``, as the terminal line it draws."""
    text = file.getvalue().replace("\x1b[A", "")
    return [line.rstrip() for line in text.split("\r") if line.strip()]  # tqdm pads with spaces


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as an interactive stderr does."""

    def isatty(self):
        return True


@pytest.mark.parametrize("stats, numbers", [
    ({"loss_d": 1.23456, "loss_g": 12.3456, "d_real": 0.58123, "d_fake": 0.41234},
     "loss D 1.23 G 12.3, D(x) 0.581 D(G(z)) 0.412"),
    # a Wasserstein critic: signed scores of any size
    ({"loss_d": -12.345, "loss_g": -123.45, "d_real": -123.456, "d_fake": -0.0012345},
     "loss D -12.3 G -123, D(x) -123 D(G(z)) -0.00123"),
])
def test_the_epoch_bar_fits_80_columns_with_its_numbers_whole(stats, numbers):
    assert step_numbers(stats) == numbers
    file = Terminal()
    # the widest epoch of a long run on the full training set: 937 steps, epoch 100/100
    bar = epoch_bar(100, 100, 937, 0, file=file, ncols=80, dynamic_ncols=False, mininterval=0)
    bar.set_postfix_str(step_numbers(stats), refresh=False)
    bar.update(936)
    bar.close()
    line = rendered_lines(file)[-1]
    assert line.startswith("epoch 100/100: 100%|") and "| 936/937, " in line
    assert line.endswith(", " + numbers) and len(line) <= 80, line


def test_the_run_bar_counts_the_runs_steps_and_its_time_left():
    assert run_total(78, 20) == 1560 and run_total(78, 20, max_steps=50) == 50
    file = Terminal()
    bar = run_bar(1560, 100, file=file, ncols=80, dynamic_ncols=False, mininterval=0)
    bar.update(50)
    bar.close()
    line = rendered_lines(file)[-1]
    assert line.startswith("run:  10%|") and len(line) <= 80, line
    assert re.search(r"\| 150/1560 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+step/s\]$", line), line


def train_with_bars(root, stderr):
    """A 6-step MLP run with its progress bars on (200 digits, 4 steps an epoch), its
    stderr written to ``stderr``: (run directory, what it printed, what it wrote on
    stderr)."""
    data = tiny_data(root / "data")
    out = root / "run"
    capture = pytest.MonkeyPatch()
    stdout = io.StringIO()
    capture.setattr("sys.stdout", stdout)
    capture.setattr("sys.stderr", stderr)
    # tqdm draws at most every 0.1 s; these steps are faster: draw every one
    capture.setattr("minigan.app.progress.tqdm", functools.partial(tqdm, mininterval=0,
                                                                    miniters=1))
    try:
        from minigan.cli import main

        status = main(["train", "--data", data, "--model", "mlp", "--batch-size", "50",
                       "--epochs", "2", "--max-steps", "6", "--seed", "3", "--evaluate", "0",
                       "--out", str(out)])
    finally:
        capture.undo()
    assert status == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """The 6-step run on a terminal."""
    return train_with_bars(tmp_path_factory.mktemp("console"), Terminal())


def test_in_a_log_file_progress_is_plain_lines(tmp_path):
    """stderr redirected to a file: no bar frames (no \\r) and no cursor movements, but a
    plain line for each tenth of the run (here: every step of six) and one at its end."""
    _, _, log = train_with_bars(tmp_path, io.StringIO())
    assert "\r" not in log and "\x1b[" not in log, repr(log)
    lines = [line for line in log.splitlines() if line.startswith("run: ")]
    assert [line.split(" steps")[0] for line in lines] == [f"run: {n}/6" for n in range(1, 7)]
    assert re.fullmatch(r"run: 1/6 steps \(16%\), \d+ s, about \d+ s left", lines[0]), lines
    assert re.fullmatch(r"run: 6/6 steps \(100%\) in \d+ s", lines[-1]), lines


def test_plain_progress_speaks_every_tenth_of_the_run_or_every_minute():
    file, now = io.StringIO(), [0.0]
    bar = PlainProgress(1000, 400, file=file, clock=lambda: now[0])
    for _ in range(300):        # a step every 0.5 s: a tenth of the run (100 steps) in 50 s
        now[0] += 0.5
        bar.update(1)
    now[0] += 150               # a slow step: a minute has passed
    bar.update(1)
    bar.close()
    bar.close()                 # closing twice says nothing more
    assert file.getvalue().splitlines() == [
        "run: 500/1000 steps (50%), 50 s, about 4 min 10 s left",
        "run: 600/1000 steps (60%), 1 min 40 s, about 3 min 20 s left",
        "run: 700/1000 steps (70%), 2 min 30 s, about 2 min 30 s left",
        "run: 701/1000 steps (70%), 5 min 0 s, about 4 min 58 s left"]  # a minute passed
    bar = PlainProgress(100, 0, file=file, clock=lambda: now[0])
    bar.update(3)               # stopped early: the last line says where
    bar.close()
    assert file.getvalue().splitlines()[-1] == "run: 3/100 steps (3%) in 0 s"
    assert duration(59.4) == "59 s" and duration(3725) == "1 h 2 min"


def test_training_shows_the_run_bar_and_each_epochs_numbers(finished_run):
    _, _, bars = finished_run
    lines = rendered_lines(io.StringIO(bars))
    assert any(re.match(r"run: 100%\|.*\| 6/6 \[", line) for line in lines), bars
    epoch_2 = [line for line in lines if line.startswith("epoch 2/2: ")]
    assert epoch_2 and re.search(r"\| 2/4, loss D [-\d.e+]+ G [-\d.e+]+, D\(x\) [-\d.e+]+ "
                                 r"D\(G\(z\)\) [-\d.e+]+$", epoch_2[-1]), epoch_2


def test_a_run_ends_by_saying_where_its_files_are(finished_run):
    out, printed, _ = finished_run
    lines = printed.splitlines()
    assert re.fullmatch(rf"trained 6 steps in \d+ s; run directory: {re.escape(str(out))}",
                        lines[-5]), lines
    assert lines[-4:] == [
        "the run's files:",
        f"  samples:    {out / 'samples' / 'epoch_002.png'}",
        f"  curves:     {out / 'curves.png'}",
        f"  checkpoint: {out / 'checkpoints' / 'last.npz'}"]


def test_a_sample_grid_is_titled_with_its_checkpoint_step_and_count(finished_run, capsys,
                                                                    monkeypatch, tmp_path):
    assert sample_title("runs/a/checkpoints/last.npz", 1560, 64, 0) == \
        "a/last.npz: step 1560, 64 samples (seed 0)"
    assert sample_title("model.npz", 3, 9, 5) == "model.npz: step 3, 9 samples (seed 5)"
    titles = []
    monkeypatch.setattr("minigan.plots.save_image_grid",
                        lambda images, path, title=None, **layout: titles.append(
                            (len(images), title)))
    status, _, _ = run(["sample", finished_run[0] / "checkpoints" / "last.npz", "--n", "4",
                        "--seed", "2", "--out", tmp_path / "grid.png"], capsys)
    assert status == 0 and titles == [(4, "run/last.npz: step 6, 4 samples (seed 2)")]


def parsers():
    """The top parser and each command's, by name."""
    top = build_parser()
    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {"minigan": top, **commands.choices}


def shown_default(default):
    if isinstance(default, bool):
        return "on" if default else "off"
    return "none" if default == [] else str(default)


@pytest.mark.parametrize("name", ["minigan", "train", "sample", "evaluate", "check"])
def test_every_option_has_a_help_line_showing_its_default(name):
    parser = parsers()[name]
    text = "".join(parser.format_help().split())  # argparse wraps lines, also at hyphens
    checked = 0
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"minigan {name}: {action.option_strings or action.dest} has no help"
        expected = action.help
        if action.default is not None and action.default is not argparse.SUPPRESS:
            expected += f" (default: {shown_default(action.default)})"
            checked += 1
        assert "".join(expected.split()) in text, (name, expected)
    assert checked == {"minigan": 0, "train": 21, "sample": 3, "evaluate": 3, "check": 3}[name]


def test_train_help_shows_real_defaults():
    text = "".join(parsers()["train"].format_help().split())
    for line in ["--epochs N passes over the training set (default: 20)",
                 "--batch-size N images per step (default: 64)",
                 "--out DIR run directory (default: runs/mnist-dcgan)",
                 "--no-progress no progress bars (default: off)",
                 "--lr-d LR_D default 2e-4 (wgan-gp: 1e-4, wgan: 5e-5)"]:
        assert "".join(line.split()) in text, line


@pytest.mark.parametrize("argv, line", [
    (["train", "--bogus"],
     "minigan: error: train: unrecognized arguments: --bogus; try 'minigan train --help'"),
    (["train", "--epochs", "0"], "minigan: error: train: --epochs: expected a positive "
                                 "integer, got 0; try 'minigan train --help'"),
    (["sample", "x.npz", "--n", "many"], "minigan: error: sample: --n: expected an integer, "
                                        "got 'many'; try 'minigan sample --help'"),
    (["check", "--mode", "fast"], "minigan: error: check: --mode: expected one of "
                                  "'elementwise', 'directional', got 'fast'; try 'minigan "
                                  "check --help'"),
    # no abbreviations, in any command: --epoch is not taken as --epochs
    (["train", "--epoch", "3"], "minigan: error: train: unrecognized arguments: --epoch 3; "
                                "try 'minigan train --help'"),
    (["sample", "x.npz", "--se", "1"], "minigan: error: sample: unrecognized arguments: --se "
                                       "1; try 'minigan sample --help'"),
    (["fly"], "minigan: error: COMMAND: expected one of 'train', 'sample', 'evaluate', "
              "'check', 'exercises', 'lab', got 'fly'; try 'minigan --help'"),
])
def test_an_argument_error_is_one_line_and_no_usage(argv, line, capsys):
    status, out, err = run(argv, capsys)
    assert (status, out, err) == (2, "", line + "\n")


def test_no_parser_in_the_repository_takes_abbreviations():
    """Every argparse parser of the examples, benchmarks and scripts is made with
    allow_abbrev=False (the CLI's are cli.parser's _Parser, covered above)."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent.parent
    made = 0
    for path in sorted(root.glob("[ebs]*/*.py")):
        text = path.read_text()
        for call in re.finditer(r"ArgumentParser\((.*?)\)\n", text, re.S):
            made += 1
            assert "allow_abbrev=False" in call.group(1), path
    assert made >= 15

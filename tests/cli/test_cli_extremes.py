"""Every numeric option of the command line at its extremes: each ends in exit status 0,
1 or 2 with at most one error line -- never a traceback, never "a bug in minigan", never a
hang -- and a refusal (2) changes nothing on disk (``cli_rows.assert_refused``).

``EXTREMES`` is the default-run table: per option the values that break unchecked code
(0, -1, a 31-digit integer, NaN, infinity, 1e308). Accepted training values
run one step of the MLP on 200 digits. ``test_random_combinations`` (slow) draws several
extreme options at once with hypothesis, subnormals and -0 among the values.
"""

import os
import re

import pytest
from cli_rows import run, snapshot, tiny_data
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan.checkpoint import load_checkpoint

HUGE = "1" + "0" * 30
INTS = ["0", "-1", HUGE]
FLOATS = ["-1", "nan", "inf", "1e308"]
SLOW_FLOATS = ["1e-320", "-0", "1e-45"]  # a subnormal, a negative zero: run only under -m slow
TRAIN_INT = ["--epochs", "--batch-size", "--d-steps", "--latent-dim", "--seed",
             "--checkpoint-every", "--max-steps", "--evaluate", "--inspect-every", "--threads"]
TRAIN_FLOAT = ["--lr-d", "--lr-g", "--beta1", "--beta2", "--real-label", "--r1"]
EXTREMES = ([("train", flag, value) for flag in TRAIN_INT for value in INTS]
            + [("train", flag, value) for flag in TRAIN_FLOAT for value in FLOATS]
            + [("train", "--gp-weight", value) for value in FLOATS]
            + [("train", "--stage-steps", value) for value in INTS]
            + [(command, flag, value) for command in ("sample", "evaluate")
               for flag in ("--n", "--seed", "--threads") for value in INTS]
            + [("check", "--seed", value) for value in INTS])


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """Tiny data and a finished 1-step run whose checkpoint sample and evaluate read."""
    root = tmp_path_factory.mktemp("extremes")
    data = tiny_data(root / "data")
    status, _, _ = _main(["train", "--data", data, "--model", "mlp", "--batch-size", "50",
                          "--max-steps", "1", "--no-progress", "--evaluate", "0",
                          "--out", str(root / "run")])
    assert status == 0
    return data, str(root / "run" / "checkpoints" / "last.npz")


def _main(argv):
    from minigan.cli import main
    try:
        return main(argv), None, None
    except SystemExit as exit:
        return exit.code, None, None


def argv_for(command, options, place, out):
    data, checkpoint = place
    if command == "train":
        base = ["train", "--data", data, "--model", "mlp", "--batch-size", "50", "--epochs",
                "1", "--max-steps", "1", "--no-progress", "--evaluate", "0", "--out", out]
        if "--gp-weight" in options:
            base += ["--loss", "wgan-gp", "--d-steps", "1"]
        if "--stage-steps" in options:
            base[base.index("mlp")] = "progressive"
        if "--beta1" in options or "--beta2" in options:
            base += ["--optimizer", "adam"]
        for flag in options:  # a flag given in options replaces the base's value
            if flag in base:
                i = base.index(flag)
                del base[i:i + 2]
    elif command == "sample":
        base = ["sample", checkpoint, "--out", os.path.join(out, "grid.png")]
    elif command == "evaluate":
        base = ["evaluate", checkpoint, "--data", data]
    else:
        base = ["check", "--mode", "directional"]
    return base + [item for flag, value in options.items() for item in (flag, value)]


def check_contract(argv, capsys, root):
    before = snapshot(root)
    status, _, err = run(argv, capsys)
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in err and "a bug in minigan" not in err, (argv, err)
    if status:
        last = err.splitlines()[-1]
        assert re.fullmatch(r"minigan: error: .+", last), (argv, last)
    if status == 2:
        assert snapshot(root) == before, (argv, "a refusal changed files")
    return status, err


@pytest.mark.parametrize("command, flag, value", EXTREMES,
                         ids=[f"{c}{f}={v[:6]}" for c, f, v in EXTREMES])
def test_an_extreme_value_is_refused_or_handled(command, flag, value, place, tmp_path,
                                                capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("out")
    status, err = check_contract(argv_for(command, {flag: value}, place, "out/run"), capsys,
                                 tmp_path)
    if status == 0 and command == "train":  # what it saved loads again
        load_checkpoint("out/run/checkpoints/last.npz")


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(drawn=st.sampled_from(["train", "sample", "evaluate"]).flatmap(
    lambda command: st.tuples(st.just(command), st.dictionaries(
        st.sampled_from(TRAIN_INT + TRAIN_FLOAT if command == "train"
                        else ["--n", "--seed", "--threads"]),
        st.sampled_from(INTS + FLOATS + SLOW_FLOATS + ["1", "2", "0.5", "100"]), min_size=1,
        max_size=4))))
def test_random_combinations(drawn, tmp_path_factory, capsys):
    command, options = drawn
    root = tmp_path_factory.mktemp("combo")
    data = tiny_data(root / "data")
    checkpoint = root / "ck" / "checkpoints" / "last.npz"
    if command != "train" and not checkpoint.exists():
        _main(["train", "--data", data, "--model", "mlp", "--batch-size", "50", "--max-steps",
               "1", "--no-progress", "--evaluate", "0", "--out", str(root / "ck")])
    os.makedirs(root / "out")
    check_contract(argv_for(command, options, (data, str(checkpoint)), str(root / "out" / "r")),
                   capsys, root / "out")

"""The command line's new models: ``--model progressive`` trains, writes its stage figure,
and resumes from the middle of a fade bit for bit; ``sample`` and ``evaluate`` of a
generator still at 7x7 say that its images were upsampled; ``--model conditional-dcgan``
and the conditional MLP train with ``--spectral-norm --minibatch-stddev``; ``--overwrite``
removes the stage figure with the run's other files."""


import numpy as np
from cli_rows import run, tiny_data, training_numbers

from minigan.checkpoint import load_checkpoint
from minigan.cli import main

QUICK = ["--batch-size", "16", "--no-progress", "--seed", "3", "--evaluate", "0"]
GROWING = ["--model", "progressive", "--stage-steps", "2", "--epochs", "1"]


def train(out, *extra):
    assert main(["train", "--out", str(out), *QUICK, *extra]) == 0


def trainer_arrays(checkpoint):
    arrays, meta = load_checkpoint(str(checkpoint))
    return {k: v for k, v in arrays.items() if k.startswith("trainer.")}, meta


def test_a_progressive_run_resumed_mid_fade_is_the_uninterrupted_run_bit_for_bit(tmp_path):
    """Stage steps 2: steps 1-2 at 7x7, 3-4 fade in 14x14, 5-6 at 14x14, 7-8 fade in 28x28.
    A run of 9 steps straight, and one stopped after step 7 (alpha 0.5 of the 28x28 fade)
    and resumed from its checkpoint: the same trainer.* arrays -- weights, both Adam
    states, the growth counters and alpha, the stage snapshots --, the same data order and
    the same metrics lines, which give each step's stage and alpha."""
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train(straight, *GROWING, "--max-steps", "9")
    train(interrupted, *GROWING, "--max-steps", "7")
    middle, meta = trainer_arrays(interrupted / "checkpoints" / "last.npz")
    assert meta["config"]["stage_steps"] == 2 and meta["step"] == 7
    assert (int(middle["trainer.growth.stage"]), float(middle["trainer.growth.alpha"]),
            int(middle["trainer.growth.stage_step"])) == (2, 0.5, 1)
    train(interrupted, *GROWING, "--max-steps", "9",
          "--resume", str(interrupted / "checkpoints" / "last.npz"))
    a, meta_a = trainer_arrays(straight / "checkpoints" / "last.npz")
    b, meta_b = trainer_arrays(interrupted / "checkpoints" / "last.npz")
    assert {"trainer.growth.stage", "trainer.growth.stage_step", "trainer.growth.alpha",
            "trainer.growth.snapshot_7", "trainer.growth.snapshot_14",
            "trainer.G.block_28.1.weight", "trainer.opt_g.t"} <= a.keys()
    assert a.keys() == b.keys() and meta_a["batches"] == meta_b["batches"]
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key
    assert int(a["trainer.opt_g.t"]) == 3   # Adam restarted at step 7, when 28x28 joined
    records = training_numbers(straight)
    assert records == training_numbers(interrupted)
    assert [(r["resolution"], r["alpha"]) for r in records] == [
        (7, 1.0), (7, 1.0), (14, 0.5), (14, 1.0), (14, 1.0), (14, 1.0), (28, 0.5), (28, 1.0),
        (28, 1.0)]
    assert (straight / "samples" / "stages.png").read_bytes()[:4] == b"\x89PNG"


def test_sample_and_evaluate_say_a_small_generator_was_upsampled(tmp_path, capsys):
    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    train(out, *GROWING, "--max-steps", "1", "--data", data)
    checkpoint = out / "checkpoints" / "last.npz"
    status, printed, _ = run(["sample", checkpoint, "--n", "4", "--out", tmp_path / "grid.png"],
                             capsys)
    assert status == 0 and printed.strip() == (
        f"wrote 4 samples to {tmp_path / 'grid.png'} (generator at 7x7, alpha 1.00 "
        "(stabilise); images nearest-upsampled to 28x28)")
    status, printed, _ = run(["evaluate", checkpoint, "--n", "50"], capsys)
    assert status == 0
    assert printed.splitlines()[0] == ("Note: generator at 7x7, alpha 1.00 (stabilise); images "
                                       "nearest-upsampled to 28x28")
    assert "Frechet distance" in printed


def test_the_stage_figure_is_a_run_file_and_inspection_sees_the_stage(tmp_path, capsys):
    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    train(out, *GROWING, "--max-steps", "3", "--data", data, "--inspect-every", "3")
    assert (out / "inspect" / "step_000003_saliency.png").exists()  # D's input: 14x14 reals
    (out / "notes.txt").write_text("mine")
    train(out, "--model", "mlp", "--epochs", "1", "--max-steps", "1", "--data", data,
          "--overwrite")
    assert not (out / "samples" / "stages.png").exists() and (out / "notes.txt").exists()


def test_the_conditional_models_train_with_the_cures(tmp_path, capsys):
    data = tiny_data(tmp_path / "data")
    for model in ("conditional-dcgan", "conditional"):
        out = tmp_path / model
        train(out, "--model", model, "--spectral-norm", "--minibatch-stddev", "--epochs", "1",
              "--max-steps", "2", "--data", data)
        arrays, meta = trainer_arrays(out / "checkpoints" / "last.npz")
        assert meta["config"]["spectral_norm"] and meta["config"]["minibatch_stddev"]
        u = "trainer.D.embed.u" if model == "conditional-dcgan" else "trainer.D.net.0.u"
        assert u in arrays and np.isfinite(arrays[u]).all()
        status, printed, _ = run(["evaluate", out / "checkpoints" / "last.npz", "--n", "20"],
                                 capsys)
        assert status == 0 and "Classes present" in printed


def test_the_growth_settings_and_their_defaults():
    from minigan.app.run import RunConfig
    from minigan.app.validate_config import check_config

    assert RunConfig(model="progressive").stage_steps == 156   # two epochs of the sample
    assert RunConfig(model="progressive", stage_steps=30).stage_steps == 30
    assert RunConfig().stage_steps is None and not RunConfig().equalized_lr
    check_config(RunConfig(model="progressive", equalized_lr=True, minibatch_stddev=True))

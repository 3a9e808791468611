"""A run trains on the embedded sample's 4,500 training digits and is scored against the
500 it never saw: summary.json and ``minigan evaluate`` report the held-out Fréchet
distance with its real-vs-real reference, precision / recall and the copy fraction; a
copier is caught; runs from before the split resume as they were trained, or are refused
with the setting named."""

import json

import numpy as np
import pytest

from minigan.checkpoint import load_checkpoint, save_checkpoint
from minigan.cli import main
from minigan.data import datasets, load_embedded_mnist, to_unit_range
from minigan.metrics import heldout_report

QUICK = ["--model", "mlp", "--batch-size", "50", "--epochs", "1", "--no-progress",
         "--seed", "3"]
UNREACHABLE = "http://127.0.0.1:1/"  # connection refused at once


@pytest.fixture(autouse=True)
def embedded_only(tmp_path, monkeypatch):
    """No MNIST anywhere and no download: every run falls back to the embedded sample."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(datasets, "CACHE_ROOT", str(tmp_path / "cache"))
    monkeypatch.setitem(datasets.DATASETS["mnist"], "mirrors", [UNREACHABLE])


def test_a_short_run_writes_the_held_out_scores_into_summary_json(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *QUICK, "--max-steps", "3",
                 "--evaluate", "120"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_fake"] == 120 and summary["n_real"] == 500   # the held-out digits
    assert summary["heldout"] == "the embedded sample's 500 held-out digits"
    assert summary["trained_on_heldout"] is False
    assert summary["frechet_distance"] > summary["reference_frechet_distance"] > 0
    assert summary["n_reference"] == 120
    assert summary["precision_recall_n"] == 120 and summary["precision_recall_k"] == 3
    for key in ("precision", "recall", "reference_precision", "reference_recall",
                "copy_fraction"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["reference_precision"] > 0.7 and summary["reference_recall"] > 0.7
    assert summary["precision"] < 0.2          # three steps of training: not digits yet
    assert summary["memorisation"]["n_train"] == 4500
    assert summary["memorisation"]["n_heldout"] == 120
    printed = capsys.readouterr()
    assert "never trained on" in printed.out and "Copy fraction" in printed.out
    assert printed.err.count("using the embedded MNIST sample") == 1
    _, meta = load_checkpoint(str(out / "checkpoints" / "last.npz"))
    assert meta["batches"]["num_samples"] == 4500
    assert meta["config"]["train_on_heldout"] is False


@pytest.fixture(scope="module")
def split():
    train, _ = load_embedded_mnist(quiet=True, split="train")
    heldout, _ = load_embedded_mnist(quiet=True, split="test")
    return to_unit_range(train), to_unit_range(heldout)


def test_a_copier_scores_like_real_digits_but_is_caught(split):
    train, heldout = split
    order = np.random.default_rng(7).permutation(len(train))
    copier = heldout_report(train[order[:400]], train, heldout)
    assert copier["copy_fraction"] >= 0.9
    # by the classifier's numbers alone a copier looks as good as real digits
    assert copier["frechet_distance"] < 2 * copier["reference_frechet_distance"] + 5
    assert copier["precision"] > 0.7 and copier["recall"] > 0.7
    noise = np.random.default_rng(8).uniform(-1, 1, (400, 28, 28, 1)).astype(np.float32)
    bad = heldout_report(noise, train, heldout)
    assert bad["copy_fraction"] == 0.0 and bad["precision"] < 0.05
    assert bad["frechet_distance"] > 20 * bad["reference_frechet_distance"]


def test_a_score_of_three_samples_has_no_precision_and_says_so(split):
    from minigan.app.heldout_scores import format_heldout_lines

    train, heldout = split
    result = heldout_report(train[:3], train, heldout)
    assert result["precision"] is None and result["recall"] is None   # k = 3 needs 4 points
    assert result["copy_fraction"] == 1.0 and result["memorisation"]["n_heldout"] == 3
    result.update(heldout="the test split", trained_on_heldout=False)
    assert "Precision (fidelity) n/a   recall (diversity) n/a" in "\n".join(
        format_heldout_lines(result))


def test_evaluate_draws_the_closest_pairs_and_refuses_a_bad_file_first(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), *QUICK, "--max-steps", "2",
                 "--evaluate", "0"]) == 0
    checkpoint = str(out / "checkpoints" / "last.npz")
    capsys.readouterr()
    assert main(["evaluate", checkpoint, "--n", "40", "--nearest",
                 str(tmp_path / "missing" / "pairs.png")]) == 2
    assert "--nearest" in capsys.readouterr().err
    grid = tmp_path / "pairs"
    assert main(["evaluate", checkpoint, "--n", "40", "--nearest", str(grid)]) == 0
    assert (tmp_path / "pairs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr()
    assert f"Closest sample-training pairs: {grid}.png" in printed.out
    assert "Precision (fidelity)" in printed.out and "real vs real" in printed.out
    assert printed.err.count("using the embedded MNIST sample") == 1


def as_stored_before_the_split(checkpoint):
    """Rewrite a --train-on-heldout checkpoint as one written before the setting existed."""
    arrays, meta = load_checkpoint(str(checkpoint))
    del meta["config"]["train_on_heldout"]
    save_checkpoint(str(checkpoint), arrays, meta)


def test_a_run_from_before_the_split_resumes_on_all_5000_digits(tmp_path, capsys):
    from minigan.app.resume import ResumeError
    from minigan.app.run import RunConfig, train

    out = tmp_path / "old"
    assert main(["train", "--out", str(out), *QUICK, "--max-steps", "2", "--evaluate", "0",
                 "--train-on-heldout"]) == 0
    checkpoint = out / "checkpoints" / "last.npz"
    assert load_checkpoint(str(checkpoint))[1]["batches"]["num_samples"] == 5000
    as_stored_before_the_split(checkpoint)
    # from Python with today's default (train on 4,500): refused, the setting named
    with pytest.raises(ResumeError, match="--train-on-heldout was True, now False"):
        train(RunConfig(model="mlp", batch_size=50, epochs=1, seed=3, out=str(out),
                        progress=False, evaluate=0, max_steps=4), resume=str(checkpoint))
    # the command line takes the checkpoint's settings: it goes on as it was trained
    assert main(["train", "--resume", str(checkpoint), "--max-steps", "4",
                 "--evaluate", "30"]) == 0
    _, meta = load_checkpoint(str(checkpoint))
    assert meta["step"] == 4 and meta["batches"]["num_samples"] == 5000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trained_on_heldout"] is True and "not held out" in summary["warning"]
    assert "Warning: this run trained on all 5,000" in capsys.readouterr().out


@pytest.mark.parametrize("where", [["--dataset", "fashion-mnist"], ["--data", "{tmp}"]])
def test_train_on_heldout_is_refused_where_it_would_change_nothing(where, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), *QUICK, "--train-on-heldout",
            *[a.format(tmp=tmp_path) for a in where]]
    assert main(argv) == 2
    assert "--train-on-heldout applies to the embedded sample of MNIST only" in \
        capsys.readouterr().err
    assert not out.exists()

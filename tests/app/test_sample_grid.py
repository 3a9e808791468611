"""``minigan sample`` on a conditional checkpoint: one class per row, each row labelled,
or ``--label K`` for samples of one class; refused in one line where it cannot apply."""

import numpy as np
import pytest
from cli_rows import QUIET, assert_refused, run, tiny_data
from PIL import Image

from minigan.app.run import load_trainer
from minigan.app.sample_grid import grid_layout
from minigan.cli import main
from minigan.plots import save_image_grid


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 2-step conditional MLP run and a 2-step unconditional one: their checkpoints."""
    root = tmp_path_factory.mktemp("sample_grid")
    data = tiny_data(root / "data")
    found = {}
    for model in ("conditional", "mlp"):
        out = root / model
        assert main(["train", "--data", data, "--model", model, "--batch-size", "50",
                     "--max-steps", "2", *QUIET, "--out", str(out)]) == 0
        found[model] = out / "checkpoints" / "last.npz"
    return found


def test_a_conditional_grid_has_one_labelled_class_per_row(runs, tmp_path, capsys):
    trainer, config = load_trainer(str(runs["conditional"]))
    grid = grid_layout(trainer, 64, config.dataset)
    assert grid.n == 70 and grid.columns == 7          # never fewer than asked: 7 of each
    np.testing.assert_array_equal(grid.labels, np.repeat(np.arange(10), 7))
    assert grid.row_labels == [str(d) for d in range(10)]
    assert grid_layout(trainer, 10, "fashion-mnist").row_labels[3] == "3 Dress"
    status, out, _ = run(["sample", runs["conditional"], "--n", "20", "--out",
                          tmp_path / "g.png"], capsys)
    assert (status, out) == (0, f"wrote 20 samples to {tmp_path / 'g.png'} (2 of each class, "
                                "one class per row)\n")
    labelled = np.asarray(Image.open(tmp_path / "g.png"))
    plain = tmp_path / "plain.png"
    save_image_grid(trainer.sample(20, labels=grid_layout(trainer, 20).labels), plain,
                    columns=2)
    assert labelled.shape[1] > np.asarray(Image.open(plain)).shape[1]  # room for the labels


def test_label_asks_for_one_class(runs, tmp_path, capsys, monkeypatch):
    trainer, _ = load_trainer(str(runs["conditional"]))
    grid = grid_layout(trainer, 8, label=3)
    assert grid.n == 8 and grid.row_labels is None and grid.note == "class 3"
    np.testing.assert_array_equal(grid.labels, [3] * 8)
    seen = []
    real_sample = type(trainer).sample

    def sample(self, n, z=None, labels=None):
        seen.append(np.asarray(labels))
        return real_sample(self, n, z=z, labels=labels)

    monkeypatch.setattr(type(trainer), "sample", sample)
    status, out, _ = run(["sample", runs["conditional"], "--label", "3", "--n", "8", "--out",
                          tmp_path / "three.png"], capsys)
    assert (status, out) == (0, f"wrote 8 samples to {tmp_path / 'three.png'} (class 3)\n")
    np.testing.assert_array_equal(seen[-1], [3] * 8)   # what the generator was given


@pytest.mark.parametrize("model, label, pattern", [
    ("conditional", "10", r"--label: expected a class from 0 to 9, got 10"),
    ("mlp", "3", r"--label 3: the checkpoint's generator \(mlp model\) is not conditional and "
                 r"takes no label; leave --label out"),
])
def test_a_label_that_cannot_apply_is_refused(runs, tmp_path, capsys, model, label, pattern):
    assert_refused(["sample", runs[model], "--label", label, "--out", tmp_path / "x.png"],
                   capsys, tmp_path, 2, pattern)

"""Pictures are written atomically: a write that fails or is killed half-way leaves the
picture that was there (a run redraws its grid and curves every epoch), and the format
follows the file's extension."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from minigan.plots import plot_training_curves, save_image_grid

IMAGES = np.linspace(-1, 1, 4 * 6 * 6).reshape(4, 6, 6, 1)


def test_a_failed_write_leaves_the_old_picture_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    save_image_grid(IMAGES, path, title="first")
    before = path.read_bytes()
    assert before[:8] == b"\x89PNG\r\n\x1a\n"

    def half_a_file(self, file, **options):
        file.write(b"\x89PNG\r\n\x1a\n half a picture")
        raise OSError("No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_a_file)
    with pytest.raises(OSError, match="No space left"):
        save_image_grid(-IMAGES, path, title="second")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]


def test_the_format_follows_the_extension(tmp_path):
    save_image_grid(IMAGES, tmp_path / "grid.pdf")
    assert (tmp_path / "grid.pdf").read_bytes()[:5] == b"%PDF-"
    records = [{"step": s, "loss_d": 1.0, "loss_d_real": 0.5, "loss_d_fake": 0.5,
                "loss_g": 2.0 - s / 10, "d_real": 0.6, "d_fake": 0.3} for s in range(1, 11)]
    plot_training_curves(records, tmp_path / "curves.svg")
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.svg", "grid.pdf"]


def test_headless_outside_a_notebook_whatever_mplbackend_says():
    """Outside a Jupyter kernel minigan.plots selects Agg (a script on a server has no
    display); inside one it keeps the kernel's backend (tests/docs/test_examples.py runs every
    example as a notebook and finds each figure shown inline)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import minigan

    code = ("import matplotlib, minigan.plots as p; "
            "print(p.inside_notebook(), matplotlib.get_backend().lower())")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(Path(minigan.__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "agg"]

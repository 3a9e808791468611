"""Every Python snippet of the README, and the training guide's "Training from Python",
runs as printed -- standing alone, in a fresh namespace -- and prints something.

The training snippets find their data as a user's would: through ``$MINIGAN_DATA``,
which the README documents; here it names 64 embedded digits written as IDX files (one
step an epoch), on one thread, so the snippets run in seconds."""

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from cli_rows import tiny_data
from test_docs import code_blocks

from minigan import parallel

ROOT = Path(__file__).resolve().parent.parent.parent


def section(text, heading):
    """The text of a Markdown section, from its heading to the next of the same level."""
    level = re.match(r"#+", heading).group(0)
    start = text.index(heading + "\n")
    end = re.compile(rf"^{level} ", re.M).search(text, start + len(heading))
    return text[start:end.start() if end else len(text)]


README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDE = (ROOT / "docs" / "training_guide.md").read_text(encoding="utf-8")
SNIPPETS = [(f"README.md python block {i + 1}", block)
            for i, block in enumerate(code_blocks(README, "python"))]
SNIPPETS += [("docs/training_guide.md: Training from Python", block)
             for block in code_blocks(section(GUIDE, "## Training from Python"), "python")]


def test_the_snippets_are_found():
    names = [name for name, _ in SNIPPETS]
    assert len(names) == 4, names   # a taste, training from Python, gradients; the guide's


@pytest.mark.parametrize("name, code", SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_a_snippet_runs_as_printed_and_shows_something(name, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MINIGAN_DATA", tiny_data(tmp_path / "mnist", n=64))
    parallel.set_threads(1)       # the conftest puts the default back afterwards
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(code, name, "exec"), {"__name__": "__main__"})  # nothing defined before
    assert printed.getvalue().strip(), f"{name} printed nothing"
    if "save_image_grid" in code:
        assert (tmp_path / "samples.png").stat().st_size > 1000
        assert "epoch 5: loss D" in printed.getvalue()

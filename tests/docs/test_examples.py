"""The runnable examples in ``examples/``: every ``examples/*.py`` runs in CI mode.

Each example is found by glob (a new one is picked up without touching this file) and:

- runs top to bottom as a Jupyter notebook: jupytext converts it, nbclient executes it
  in an ipykernel kernel (all three in the ``[test]`` extra) with ``MINIGAN_QUICK=1`` and
  no arguments but the kernel's own, in a fresh folder (no network needed: offline the
  loaders fall back to the embedded MNIST sample); every cell runs without an error
  within the timeout, and it writes at least one PNG, each a valid, non-empty PNG;
- writes exactly the figures its module docstring lists on a ``Figures:`` line, into
  its default ``--out`` (``runs/examples/<name>``), and shows each of them inline;
- is written as notebook cells (``# %%``), sets quick or full mode in one line of its
  first code cell, and accepts ``--quick`` and ``--out`` through argparse (which one
  example's script run, ``python <file> --quick --out <tmp>``, exercises: the notebook
  runs replace the script runs of every example, so CI runs each example once).
"""

import ast
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import minigan

EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = 180
QUICK_LINE = 'QUICK = os.environ.get("MINIGAN_QUICK") == "1"'
MNIST_TRAINING_EXAMPLES = ("mnist_dcgan", "mnist_mlp_gan", "conditional_mnist",
                           "label_smoothing", "wgan_gp_mnist")
SCRIPT_RUN = "gradient_penalty_1d"  # the example run as a script too: a fast one
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

examples = pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])


def test_examples_are_found():
    assert EXAMPLES, f"no examples found in {EXAMPLES_DIR}"


def documented_figures(path):
    """The figure names after ``Figures:`` in the example's module docstring (the list may
    go on over the next lines, up to a blank line)."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    match = re.search(r"^Figures:\s*(.+?)(?:\n\s*\n|\Z)", docstring,
                      flags=re.MULTILINE | re.DOTALL)
    assert match, f"{path.name}: the module docstring has no 'Figures: a.png, b.png' line"
    return {name.strip() for name in match.group(1).split(",") if name.strip()}


def check_png(path):
    """A valid, non-empty PNG: the signature, then an IHDR chunk with a positive size."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG (signature {data[:8]!r})"
    assert len(data) > 8 + 25 + 12, f"{path} is too short to hold an image ({len(data)} bytes)"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"{path}: first chunk is {kind!r}, not IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0, f"{path}: empty image {width}x{height}"
    assert b"IDAT" in data and data.endswith(b"IEND\xaeB`\x82"), \
        f"{path}: no image data or no IEND chunk (truncated file?)"


def repository_env(**extra):
    """The environment for an example: it imports the same minigan as this test process,
    and MPLBACKEND is left to the kernel (Jupyter's inline backend)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(minigan.__file__).resolve().parent.parent),
                      env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Execute each example once as a notebook in quick mode (shared by the tests below):
    path -> (error text or None, the executed notebook, its output folder)."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    cache = {}

    def run(path):
        if path not in cache:
            folder = tmp_path_factory.mktemp(path.stem)
            notebook = jupytext.read(path, fmt="py:percent")
            client = NotebookClient(notebook, timeout=TIMEOUT_S, kernel_name="python3",
                                    resources={"metadata": {"path": str(folder)}})
            error = None
            try:
                client.execute(env=repository_env(MINIGAN_QUICK="1"))
            except (CellExecutionError, CellTimeoutError) as failure:
                error = str(failure)[-4000:]
            cache[path] = (error, notebook, folder / "runs" / "examples" / path.stem)
        return cache[path]

    return run


@examples
def test_example_runs_as_a_notebook_and_writes_valid_pngs(path, quick_runs):
    error, _, out = quick_runs(path)
    assert error is None, f"{path.name} failed as a notebook (MINIGAN_QUICK=1):\n{error}"
    pngs = sorted(out.rglob("*.png"))
    assert pngs, f"{path.name} as a notebook wrote no PNG into {out}"
    for png in pngs:
        check_png(png)


@examples
def test_example_writes_exactly_the_documented_figures_and_shows_them(path, quick_runs):
    figures = documented_figures(path)
    error, notebook, out = quick_runs(path)
    assert error is None, f"{path.name} failed as a notebook: {error[-2000:]}"
    written = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert written == figures, (f"{path.name}: docstring lists {sorted(figures)}, "
                                f"quick mode wrote {sorted(written)}")
    shown = [output for cell in notebook.cells if cell.cell_type == "code"
             for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert len(shown) == len(figures), (f"{path.name}: {len(figures)} figures written, "
                                        f"{len(shown)} shown inline in the notebook")


@pytest.mark.parametrize("name", MNIST_TRAINING_EXAMPLES)
def test_mnist_training_example_is_scored_against_images_it_never_trained_on(name, quick_runs):
    """Each MNIST training example trains on the training split and scores its samples
    against the held-out split (the embedded sample's 500 digits, or the test split of the
    MNIST files this machine has), with the real-vs-real reference and the copy fraction."""
    error, _, out = quick_runs(EXAMPLES_DIR / f"{name}.py")
    assert error is None, f"{name}.py failed as a notebook: {error[-2000:]}"
    heldout = minigan.data.load_mnist("test", download=False, embedded_fallback=True,
                                      embedded_split=True)[0]
    results = json.loads((out / "results.json").read_text())
    reports = [results] if "frechet_distance" in results else list(results.values())
    assert reports and all("frechet_distance" in report for report in reports), results.keys()
    for report in reports:
        assert report["n_real"] == len(heldout), (name, report["n_real"], len(heldout))
        assert 0.0 <= report["copy_fraction"] <= 1.0
        assert report["reference_frechet_distance"] < report["frechet_distance"]


@examples
def test_example_sets_quick_mode_in_its_first_code_cell(path):
    import jupytext

    notebook = jupytext.read(path, fmt="py:percent")
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert QUICK_LINE in first.source, (
        f"{path.name}: the first code cell must set the mode in one line, {QUICK_LINE}, "
        "and use it as --quick's default")
    assert "default=QUICK" in first.source, f"{path.name}: --quick must default to QUICK"


def test_an_example_runs_as_a_script_with_quick_and_out(tmp_path):
    path = EXAMPLES_DIR / f"{SCRIPT_RUN}.py"
    out = tmp_path / "figures"
    env = repository_env(MPLBACKEND="Agg")
    env.pop("MINIGAN_QUICK", None)
    result = subprocess.run([sys.executable, str(path), "--quick", "--out", str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "quick=True" in result.stdout
    assert {p.name for p in out.glob("*.png")} == documented_figures(path)
    assert not (tmp_path / "runs").exists()  # --out was obeyed


@examples
def test_example_is_notebook_cells_with_quick_flag(path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    code_cells = [line for line in lines if re.fullmatch(r"# %%\s*", line)]
    markdown_cells = [line for line in lines if re.fullmatch(r"# %% \[(markdown|md)\]\s*", line)]
    assert len(code_cells) >= 2, f"{path.name}: expected '# %%' code cells"
    assert markdown_cells, f"{path.name}: expected '# %% [markdown]' cells explaining the code"
    tree = ast.parse(source)
    flags = [arg.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", None) == "add_argument"
             for arg in node.args if isinstance(arg, ast.Constant)]
    assert "--quick" in flags, f"{path.name}: no argparse option --quick"
    assert "--out" in flags, f"{path.name}: no argparse option --out"
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert "parse_known_args" in calls, (
        f"{path.name}: parse arguments with parse_known_args, so that a notebook kernel's "
        "own arguments (-f kernel.json) do not stop it")


@examples
def test_example_opens_as_a_notebook(path):
    """jupytext (in the [test] extra) reads the example as a py:percent notebook with
    both markdown and code cells."""
    import jupytext

    notebook = jupytext.read(path, fmt="py:percent")
    kinds = [cell.cell_type for cell in notebook.cells]
    assert "markdown" in kinds and "code" in kinds, f"{path.name}: cells {kinds}"

"""The runnable examples in ``examples/``: every ``examples/*.py`` runs in CI mode.

Each example is found by glob (a new one is picked up without touching this file) and:

- runs as ``python <file> --quick --out <tmp>`` in a subprocess (MPLBACKEND=Agg, no
  network needed: offline the loaders fall back to the embedded MNIST sample), exits 0
  within the timeout and writes at least one PNG, each a valid, non-empty PNG;
- writes exactly the figures its module docstring lists on a ``Figures:`` line;
- is written as notebook cells (``# %%``) and accepts ``--quick`` through argparse;
- opens as a notebook with jupytext (part of the ``[test]`` extra, so CI runs it).
"""

import ast
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import minigan

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
TIMEOUT_S = 180
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


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Run each example once in quick mode (shared by the tests below): path -> (result,
    output folder)."""
    cache = {}

    def run(path):
        if path not in cache:
            out = tmp_path_factory.mktemp(path.stem)
            env = dict(os.environ, MPLBACKEND="Agg")
            # the subprocess imports the same minigan as this test process
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(Path(minigan.__file__).resolve().parent.parent),
                              env.get("PYTHONPATH")]))
            try:
                result = subprocess.run(
                    [sys.executable, str(path), "--quick", "--out", str(out)],
                    cwd=out, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired as error:
                pytest.fail(f"{path.name} --quick did not finish in {TIMEOUT_S} s; output:\n"
                            f"{error.stdout or ''}\n{error.stderr or ''}")
            cache[path] = (result, out)
        return cache[path]

    return run


@examples
def test_example_runs_quick_and_writes_valid_pngs(path, quick_runs):
    result, out = quick_runs(path)
    assert result.returncode == 0, (
        f"{path.name} --quick exited with {result.returncode}\n--- stdout ---\n"
        f"{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}")
    pngs = sorted(out.rglob("*.png"))
    assert pngs, f"{path.name} --quick wrote no PNG into {out}"
    for png in pngs:
        check_png(png)


@examples
def test_example_writes_exactly_the_documented_figures(path, quick_runs):
    figures = documented_figures(path)
    result, out = quick_runs(path)
    assert result.returncode == 0, f"{path.name} --quick failed: {result.stderr[-2000:]}"
    written = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert written == figures, (f"{path.name}: docstring lists {sorted(figures)}, "
                                f"quick mode wrote {sorted(written)}")


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

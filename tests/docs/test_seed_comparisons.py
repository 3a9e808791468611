"""The training guide's comparisons over seeds (``scripts/compare_over_seeds.py``).

- the script runs end to end (``--smoke``: 3 steps a run, the example in quick mode) and
  writes a table whose means and spreads are those of its per-seed values, and a figure;
  a second call finds the runs done and does not run them again;
- the shipped table (``docs/figures/seed_comparisons/results.json``) has at least 3 seeds
  of every setting, scored against the held-out digits, and the numbers the training
  guide and the README print are the table's.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "compare_over_seeds.py"
TABLE = ROOT / "docs" / "figures" / "seed_comparisons" / "results.json"
GUIDE = ROOT / "docs" / "training_guide.md"
README = ROOT / "README.md"
_spec = importlib.util.spec_from_file_location("compare_over_seeds", SCRIPT)
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)


def run_script(*arguments):
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def test_the_script_runs_aggregates_its_seeds_and_does_not_rerun_finished_runs(tmp_path):
    arguments = ["--smoke", "--settings", "dcgan", "conditional-mlp", "--seeds", "3", "4",
                 "--jobs", "2", "--out", str(tmp_path / "runs"),
                 "--table", str(tmp_path / "table.json"), "--figure", str(tmp_path / "f.png")]
    first = run_script(*arguments)
    assert first.returncode == 0, first.stderr[-3000:]
    table = json.loads((tmp_path / "table.json").read_text())
    assert set(table) == {"dcgan", "conditional-mlp"}
    for name, row in table.items():
        assert row["seeds"] == [3, 4]
        for key in ("frechet_distance", "precision", "recall", "copy_fraction"):
            values = row[key]["values"]
            assert len(values) == 2
            assert row[key]["mean"] == np.mean(values)
            assert row[key]["std"] == np.std(values, ddof=1)
        assert row["frechet_distance"]["values"][0] != row["frechet_distance"]["values"][1]
        assert row["reference_frechet_distance"]["mean"] > 0
    assert "conditional_accuracy" in table["conditional-mlp"]
    assert table["dcgan"]["steps"]["values"] == [3, 3]
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    second = run_script(*arguments)
    assert second.returncode == 0, second.stderr[-3000:]
    def ran(result):
        return [line for line in result.stdout.splitlines() if line.startswith(str(tmp_path))]

    assert len(ran(first)) == 4   # two training runs, two example runs (each: both models)
    assert ran(second) == []       # nothing ran again
    assert json.loads((tmp_path / "table.json").read_text()) == table


def shipped_table():
    return json.loads(TABLE.read_text())


def fd_text(row):
    """A setting's Fréchet distance as the docs print it: mean ± sample sd, one decimal."""
    fd = row["frechet_distance"]
    return f"{fd['mean']:.1f} ± {fd['std']:.1f}"


def test_the_shipped_table_has_three_seeds_of_every_setting_scored_on_held_out_digits():
    table = shipped_table()
    assert set(table) == set(compare.SETTINGS)
    for name, row in table.items():
        assert len(row["seeds"]) >= 3, name
        for key in ("frechet_distance", "precision", "recall", "copy_fraction"):
            values = row[key]["values"]
            assert len(values) == len(row["seeds"]), (name, key)
            assert row[key]["mean"] == pytest.approx(np.mean(values), rel=1e-12)
            assert row[key]["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-12)
        # the real-vs-real reference at the held-out sizes (training digits against the 500
        # held out) is about 5 for every run: a run scored another way would not be near it
        reference = row["reference_frechet_distance"]["values"]
        assert all(4.0 < value < 6.5 for value in reference), (name, reference)
        assert all(value < 0.05 for value in row["copy_fraction"]["values"]), name
    for name in ("conditional-mlp", "conditional-dcgan"):
        assert all(0.1 < value <= 1 for value in table[name]["conditional_accuracy"]["values"])


def test_the_guide_and_the_readme_print_the_tables_numbers():
    table = shipped_table()
    # Markdown renders a line break as a space: "44.0 ±\n1.0" reads "44.0 ± 1.0"
    guide = " ".join(GUIDE.read_text().split())
    for name, row in table.items():
        assert fd_text(row) in guide, (name, fd_text(row))
    printed = set(re.findall(r"\*\*(\d+\.\d ± \d+\.\d)\*\*", guide))
    assert printed, "the guide shows no mean ± sd in bold"
    assert printed <= {fd_text(row) for row in table.values()}, printed
    readme = " ".join(README.read_text().split())
    for name in ("dcgan", "wgan-gp", "wgan-gp-2", "progressive-time", "conditional-dcgan"):
        assert fd_text(table[name]) in readme, (name, fd_text(table[name]))

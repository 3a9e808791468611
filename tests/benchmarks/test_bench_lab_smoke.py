"""Smoke test: the GAN lab's benchmark still runs (1-second runs, no browser). It proves
the script works end to end, not that any rate is good (that is the benchmark's job)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_lab_smoke(tmp_path):
    out = tmp_path / "lab.json"
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_lab.py"),
                           "--smoke", "--threads", "1", "--no-browser", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "steps/s" in proc.stdout and "BLAS" in proc.stdout
    result = json.loads(out.read_text())
    assert result["live"]["steps_per_s"] > 0 and result["live"]["pictures_per_s"] > 0
    assert set(result["parts"]) >= {"Trainer.step (reference)", "lab step + picture"}
    assert result["browser"] is None

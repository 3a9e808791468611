"""The math imports and runs where matplotlib is not installed; plotting is imported on
first use. Run in a fresh interpreter with matplotlib made unimportable."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["matplotlib"] = None          # `import matplotlib` now raises ImportError
    import numpy as np
    import minigan.functional
    import minigan as mg
    y, _ = minigan.functional.dense_forward(np.ones((2, 3)), np.ones((3, 4)), None)
    trainer = mg.gan.Trainer(mg.gan.dcgan_generator(), mg.gan.dcgan_discriminator())
    stats = trainer.step(np.zeros((4, 28, 28, 1), "float32"))
    print("step", stats["step"], "sum", float(y.sum()))
    try:
        mg.plots.save_image_grid
    except ImportError as error:
        print("plots:", type(error).__name__, error)
""")


def test_the_math_runs_without_matplotlib_and_plotting_says_what_is_missing():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "step 1 sum 24.0"
    assert lines[1].startswith("plots: ModuleNotFoundError") and "matplotlib" in lines[1]

"""Smoke test: the discriminator benchmark still runs (tiny batch, 2 steps).

It proves the script works end to end -- with torch when installed, and in its
minigan-only mode (``--no-torch``) everywhere -- not that any timing is good.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "benchmarks", "bench_discriminator.py")
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_smoke(script, *extra, env_extra=None):
    """``script --smoke --threads 1 *extra`` in a subprocess, without the variables that
    force OpenBLAS's kernel (the scripts would re-execute themselves to drop them), on
    this checkout's minigan (not an installed copy)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, script, "--smoke", "--threads", "1", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def run_bench(*extra):
    return run_smoke(SCRIPT, *extra)


def median_lines(stdout):
    return [line for line in stdout.splitlines() if "median" in line]


def test_smoke_minigan_only(tmp_path):
    out = tmp_path / "result.json"
    proc = run_bench("--no-torch", "--per-layer", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert median_lines(proc.stdout), proc.stdout
    assert "minigan" in proc.stdout and "BLAS" in proc.stdout
    result = json.loads(out.read_text())
    assert result["args"]["batch"] == 4
    assert set(result["stats"]) == {"minigan D step", "minigan G step"}
    assert all(s["median"] > 0 for s in result["stats"].values())
    assert result["ratios"] == {}


def test_smoke_writes_nothing_without_json(tmp_path):
    before = set(os.listdir(ROOT))
    proc = run_bench("--no-torch")
    assert proc.returncode == 0, proc.stderr
    assert set(os.listdir(ROOT)) == before


@pytest.mark.torch
@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_smoke_with_torch():
    proc = run_bench("--per-layer")
    assert proc.returncode == 0, proc.stderr
    assert median_lines(proc.stdout), proc.stdout
    assert "ratio minigan/torch" in proc.stdout


def test_blas_env_warning_names_the_rerun_command(monkeypatch):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import common
    finally:
        sys.path.pop(0)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert common.blas_env_warning(["benchmarks/bench_discriminator.py"]) is None
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    message = common.blas_env_warning(["benchmarks/bench_discriminator.py", "--threads", "2"])
    assert "OPENBLAS_CORETYPE=Haswell" in message
    assert ("env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python"
            in message.replace(os.path.basename(sys.executable), "python"))
    assert message.rstrip().endswith("benchmarks/bench_discriminator.py --threads 2")


# ---------------------------------------------------------------------------- full step

STEP_SCRIPT = os.path.join(ROOT, "benchmarks", "bench_training_step.py")


def run_step_bench(*extra, env_extra=None):
    return run_smoke(STEP_SCRIPT, *extra, env_extra=env_extra)


def test_training_step_smoke_minigan_only(tmp_path):
    out = tmp_path / "step.json"
    before = set(os.listdir(ROOT))
    proc = run_step_bench("--no-torch", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "BLAS" in proc.stdout and "median ms" in proc.stdout, proc.stdout
    result = json.loads(out.read_text())
    assert result["args"]["batch_sizes"] == [4]
    batch = result["batches"]["4"]
    assert batch["gflop_per_step"] > 0 and batch["stats"]["minigan"]["median"] > 0
    assert set(batch["stats"]) == {"minigan", "gemms only"}
    assert result["generation"]["stats"]["minigan"]["median"] > 0
    assert result["rss"]["4"]["minigan"]["peak_rss_kib"] > 0   # the child process ran
    assert set(os.listdir(ROOT)) == before


def test_training_step_reexecs_without_the_openblas_variables():
    proc = run_step_bench("--no-torch", "--no-rss",
                          env_extra={"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "re-executed without OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=1" in proc.stdout
    assert "OPENBLAS_CORETYPE=(unset), OPENBLAS_L2_SIZE=(unset)" in proc.stdout
    assert "OpenBLAS may be using a slower kernel" not in proc.stdout


@pytest.mark.torch
@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_training_step_smoke_with_torch(tmp_path):
    out = tmp_path / "step.json"
    proc = run_step_bench("--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "step ratio minigan/torch" in proc.stdout
    assert "generation ratio minigan/torch" in proc.stdout
    assert "the step's GEMMs alone take" in proc.stdout
    result = json.loads(out.read_text())
    assert result["batches"]["4"]["gemms_only_ratio"] > 0
    agreement = result["batches"]["4"]["agreement"]
    assert all(v["relative_difference"] < 1e-3 for v in agreement.values())
    assert result["generation"]["agreement"] < 1e-4
    assert result["rss"]["4"]["ratio"] > 0


def test_the_gpu_path_runs_on_the_strict_backend(monkeypatch, capsys):
    """``--backend cupy`` end to end with the strict CuPy-like backend standing in for CuPy
    (device arrays that refuse implicit conversion to NumPy): the step, the recorded
    products, the profile and generation bring every number to the host explicitly."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import bench_training_step as bench
        import common
        import strict_backend

        from minigan import backend
    finally:
        sys.path.pop(0)
    use = backend.use
    monkeypatch.setattr(backend, "use", lambda name: backend._activate(
        strict_backend.strict_xp, "cupy") if name == "cupy" else use(name))
    monkeypatch.setattr(backend, "synchronize", lambda: None)   # no GPU to wait for
    monkeypatch.setattr(common, "gpu_report", lambda torch=None: {
        "name": "strict test backend", "memory_gib": 0.0, "cupy": "-", "cuda_runtime": "-",
        "torch_cuda": None})
    try:
        assert bench.main(["--smoke", "--backend", "cupy", "--no-torch", "--profile",
                           "--threads", "1"]) == 0
    finally:
        use("numpy")
    out = capsys.readouterr().out
    assert "minigan (CuPy, NHWC)" in out and "GPU:      strict test backend" in out
    assert "device engine" in out and "overhead: step - GEMMs alone" in out
    assert "peak resident memory" not in out        # a CPU measure, not taken on a GPU


@pytest.mark.parametrize("n", [1, 4, 64])
def test_the_replayed_gemms_are_the_steps_gemm_work(n):
    """The products recorded from a step (the "gemms only" row) are exactly the analytical
    GEMM work of a step, counted independently from the layers by step_gflop, and the
    replay arrays have the recorded shapes and layouts."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import bench_training_step as bench
        import step_products
    finally:
        sys.path.pop(0)
    products = step_products.record(bench.build_minigan, bench.real_batch(n))
    assert len(products) == 33
    expected, _ = bench.step_gflop(bench.build_minigan(), n)
    assert step_products.flop(products) / 1e9 == pytest.approx(expected, rel=1e-12)
    for (a_shape, b_shape, a_t, b_t), (a, b, out) in zip(products,
                                                          step_products.replay_arrays(products)):
        assert a.shape == a_shape and b.shape == b_shape and out.shape == (a_shape[0], b_shape[1])
        assert step_products._transposed(a) == a_t and step_products._transposed(b) == b_t
    # the six weight gradients cols^T g of the convolutions (the dense layers' x^T g too)
    assert sum(a_t for _, _, a_t, _ in products) >= 6


STAGES_SCRIPT = os.path.join(ROOT, "benchmarks", "bench_progressive_stages.py")


def test_progressive_stages_smoke(tmp_path):
    out = tmp_path / "stages.json"
    proc = run_smoke(STAGES_SCRIPT, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "BLAS" in proc.stdout and "/ DCGAN" in proc.stdout, proc.stdout
    steps = json.loads(out.read_text())["steps"]
    assert set(steps) == {"DCGAN", "progressive 7x7", "progressive 14x14 fade-in, alpha 0.5",
                          "progressive 14x14", "progressive 28x28 fade-in, alpha 0.5",
                          "progressive 28x28"}
    assert all(s["n"] == 2 and s["median"] > 0 for s in steps.values())


def test_finite_checks_smoke():
    """The cost of the finite-state checks: the script runs two interleaved MLP steps."""
    result = run_smoke(os.path.join(ROOT, "benchmarks", "bench_finite_checks.py"))
    assert result.returncode == 0, result.stderr
    assert "mlp, batch 64: step median" in result.stdout and "ratio" in result.stdout
    assert "check_weights on G (559,632 values)" in result.stdout


MODE_COLLAPSE_SCRIPT = os.path.join(ROOT, "benchmarks", "bench_mode_collapse.py")


def test_mode_collapse_smoke(tmp_path):
    """Every method on both mixtures, 3 steps, in a pool of 2 workers; the JSON has every
    trial's three numbers and the table names every method."""
    out, figure = tmp_path / "modes.json", tmp_path / "samples.png"
    proc = run_smoke(MODE_COLLAPSE_SCRIPT, "--jobs", "2", "--out", str(out),
                     "--figure", str(figure))
    assert proc.returncode == 0, proc.stderr
    assert "BLAS" in proc.stdout and "steps per CPU-second" in proc.stdout, proc.stdout
    result = json.loads(out.read_text())
    methods = {"gan", "pacgan2", "pacgan3", "pacgan4", "mbstd", "sn", "r1", "wgan-gp",
               "instance-noise", "label-smoothing"}
    assert {(t["mixture"], t["method"]) for t in result["trials"]} == {
        (mixture, method) for mixture in ("ring", "grid") for method in methods}
    for t in result["trials"]:
        assert t["steps"] == 3 and 0 <= t["high_quality"] <= 1 and t["reverse_kl"] >= 0
        assert 0 <= t["modes"] <= (8 if t["mixture"] == "ring" else 25)
    assert all(method in proc.stdout for method in methods)
    assert figure.stat().st_size > 1000

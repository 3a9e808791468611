"""The backend switch, conversions, seeded generators, and real CuPy where it exists."""

import builtins
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from conftest import has_gpu

import minigan as mg

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


def test_cupy_missing_gives_one_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    with pytest.raises(mg.BackendError, match=r"CuPy is not installed .*minigan\[gpu\]"):
        mg.backend.use("cupy")
    assert mg.backend.xp is np and mg.backend.name == "numpy"


def test_cupy_without_a_gpu_says_so(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("cupy")

    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(mg.BackendError, match=r"CuPy is installed, but no usable GPU.*NoDevice"):
        mg.backend.use("cupy")
    assert mg.backend.xp is np


def test_conversions_and_seeded_generators(array_backend):
    xp = array_backend
    host = np.arange(6.0).reshape(2, 3)
    device = mg.backend.to_device(host)
    assert isinstance(device, xp.ndarray)
    assert mg.backend.to_device(device) is device
    np.testing.assert_array_equal(mg.backend.to_numpy(device), host)
    a = mg.backend.to_numpy(mg.backend.default_rng(7).standard_normal(5))
    b = mg.backend.to_numpy(mg.backend.default_rng(7).standard_normal(5))
    np.testing.assert_array_equal(a, b)
    mg.backend.seed(3)
    w1 = mg.backend.to_numpy(mg.nn.Dense(4, 4).weight.data)
    mg.backend.seed(3)
    np.testing.assert_array_equal(w1, mg.backend.to_numpy(mg.nn.Dense(4, 4).weight.data))


def _run_layers_on(name):
    """On backend ``name`` ("numpy", "strict" or "cupy"): a float64 Conv2d -> LeakyReLU ->
    BatchNorm2d (training) -> Flatten -> Dense stack whose parameters are copied from
    host arrays drawn with a fixed seed, run forward and backward on a host input and a
    random upstream gradient. Also asserts that its gradients pass the directional
    finite-difference check there. Returns host copies of the output, the input gradient,
    every parameter gradient and the running statistics."""
    import strict_backend

    from minigan.gradcheck import check_module

    if name == "strict":
        strict_backend.activate()
    else:
        mg.backend.use(name)
    try:
        host = np.random.default_rng(1)
        net = mg.nn.Sequential(
            mg.nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype="float64"), mg.nn.LeakyReLU(0.2),
            mg.nn.BatchNorm2d(3, dtype="float64"), mg.nn.Flatten(),
            mg.nn.Dense(4 * 4 * 3, 2, dtype="float64"))
        for _, p in net.named_parameters():
            mg.backend.xp.copyto(p.data, mg.backend.to_device(host.standard_normal(p.shape)))
        x = mg.backend.to_device(host.standard_normal((2, 7, 7, 2)))
        gy = mg.backend.to_device(host.standard_normal((2, 2)))
        results = {"output": net(x), "input gradient": net.backward(gy)}
        results.update({f"{n} gradient": p.grad for n, p in net.named_parameters()})
        results.update({n: b for n, b in net.named_buffers()})
        results = {k: mg.backend.to_numpy(v).copy() for k, v in results.items()}
        errors = check_module(net, x, mode="directional")
        assert all(e.within(1e-6) for e in errors), (name, errors)
        return results
    finally:
        mg.backend.use("numpy")


@pytest.mark.parametrize("other", [
    "strict",
    pytest.param("cupy", marks=[pytest.mark.gpu,
                                pytest.mark.skipif(not has_gpu(),
                                                   reason="needs CuPy and a CUDA device")]),
])
def test_layers_on_another_backend_match_numpy(other):
    """The same small network (conv, LeakyReLU, batch norm in training, dense) with the
    same weights, input and upstream gradient on NumPy and on ``other`` -- the strict
    CuPy-like test backend (always), real CuPy (only where a GPU exists): its output,
    input gradient, six parameter gradients and two running statistics agree to 1e-12
    relative (max |other - numpy| / max |numpy|), and pass finite differences on both."""
    expected, got = _run_layers_on("numpy"), _run_layers_on(other)
    assert sorted(got) == sorted(expected) and len(expected) == 2 + 6 + 2, sorted(expected)
    for key, value in expected.items():
        assert got[key].shape == value.shape and np.abs(value).max() > 0, key
        assert np.abs(got[key] - value).max() <= 1e-12 * np.abs(value).max(), key


def test_a_derived_seed_is_the_same_in_every_process():
    """Trainer noise after a resume depends on it; string hashes would differ per process."""
    script = "import minigan as mg; print(mg.backend.derived_seed(7, 123, 16))"
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed},
                              timeout=120, cwd=ROOT).stdout.strip() for seed in ("1", "2")}
    assert outputs == {str(mg.backend.derived_seed(7, 123, 16))}
    assert 0 <= mg.backend.derived_seed(7, 123, 16) < 2**63
    assert mg.backend.derived_seed(7, 123, 16) != mg.backend.derived_seed(7, 124, 16)

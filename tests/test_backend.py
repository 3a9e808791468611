"""The backend switch, conversions, seeded generators, and real CuPy where it exists."""

import builtins

import numpy as np
import pytest

import minigan as mg
from conftest import has_gpu


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


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs CuPy and a CUDA device")
def test_layers_run_on_cupy_and_match_numpy():
    from minigan.gradcheck import check_module

    for name in ["numpy", "cupy"]:
        mg.backend.use(name)
        layer = mg.nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype="float64",
                             rng=mg.backend.default_rng(0))
        x = mg.backend.to_device(np.random.default_rng(1).standard_normal((2, 7, 7, 2)))
        assert all(e.within(1e-6) for e in check_module(layer, x, mode="directional"))

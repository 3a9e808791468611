"""Shared test set-up: hypothesis profiles and the backend fixtures.

``array_backend`` runs a test on NumPy, on the strict test backend
(``strict_backend.py``: an array type that refuses implicit conversion to NumPy,
like CuPy), so a stray ``np.`` call in the library math fails on a CPU-only machine,
and on real CuPy where CuPy and a GPU exist (that case is marked ``gpu`` and skipped
elsewhere). What holds on every backend is what the tests claim: the same numbers to
rounding; bitwise equality only where the same operations run on the same shapes (a
GPU's BLAS may round a product differently for another batch size), and NumPy's random
numbers only on NumPy and the strict backend (CuPy's generator is another algorithm).
"""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# the helpers here (strict_backend, cli_rows, conv_geometry, exercise_solutions) and the
# test modules in the folders below (some import another's helpers: ``from test_penalties
# import ...``) import by their names; every test module's name is unique across folders
TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)
for _folder in sorted(os.listdir(TESTS)):
    if os.path.isdir(os.path.join(TESTS, _folder)) and _folder[0] not in "_." \
            and _folder != "exercise_solutions":
        sys.path.insert(1, os.path.join(TESTS, _folder))

from minigan import backend  # noqa: E402

settings.register_profile(
    "default", deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile(
    "thorough", deadline=None, max_examples=400,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _numpy_backend_by_default():
    """Every test starts and ends on the NumPy backend with a fixed global seed, and with
    minigan's default thread count (a test may change it with parallel.set_threads)."""
    from minigan import parallel

    backend.use("numpy")
    backend.seed(0)
    previous = parallel.set_threads(None)
    yield
    parallel.set_threads(previous)
    backend.use("numpy")


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch, tmp_path_factory):
    """No test downloads data or writes the user's cache: downloads are off
    (MINIGAN_OFFLINE=1, which subprocesses inherit) and the cache of this process is a
    temporary directory (the tests of downloading point the mirrors at loopback and turn
    them back on)."""
    from minigan.data import datasets

    monkeypatch.setenv("MINIGAN_OFFLINE", "1")
    monkeypatch.setattr(datasets, "CACHE_ROOT", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(params=["numpy", "strict", pytest.param("cupy", marks=pytest.mark.gpu)])
def array_backend(request):
    """Run the test on NumPy, on the strict CuPy-like backend and on CuPy (skipped without
    a GPU); yields the module."""
    if request.param == "strict":
        import strict_backend

        strict_backend.activate()
    elif request.param == "cupy":
        if not has_gpu():
            pytest.skip("needs CuPy and a CUDA device")
        backend.use("cupy")
    backend.seed(0)
    yield backend.xp


def has_gpu():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False

"""Shared test set-up: hypothesis profiles and the backend fixtures.

``array_backend`` runs a test once on NumPy and once on the strict test backend
(``strict_backend.py``: an array type that refuses implicit conversion to NumPy,
like CuPy), so a stray ``np.`` call in the library math fails on a CPU-only machine.
Real CuPy runs happen in the tests marked ``gpu`` where a GPU exists.
"""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

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
    """Every test starts and ends on the NumPy backend with a fixed global seed."""
    backend.use("numpy")
    backend.seed(0)
    yield
    backend.use("numpy")


@pytest.fixture(params=["numpy", "strict"])
def array_backend(request):
    """Run the test on NumPy and on the strict CuPy-like backend; yields the module."""
    if request.param == "strict":
        import strict_backend

        strict_backend.activate()
    backend.seed(0)
    yield backend.xp


def has_gpu():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False

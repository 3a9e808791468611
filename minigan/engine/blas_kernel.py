"""Whether OpenBLAS was told to use a slower GEMM kernel than this CPU supports.

OpenBLAS picks the kernel for the CPU it finds when it is loaded, unless
``OPENBLAS_CORETYPE`` names one: ``OPENBLAS_CORETYPE=Haswell`` on an AVX-512 CPU runs
the AVX2 kernel, and every matrix product of a training step is slower for it (run
``benchmarks/bench_training_step.py`` with and without the variable to see by how much
on your machine; it prints the kernel in use). The variable is read once, when NumPy
loads OpenBLAS, so nothing can undo it from inside the process: the only fix is to run
without it. ``forced_kernel_note()`` says so in one line; a training
run prints it once at its start, and the benchmarks use the same ranking
(``slower_kernel``) for the kernel threadpoolctl reports.

The ranking is by instruction set, the kernel families of OpenBLAS's ``DYNAMIC_ARCH``
builds: SSE (Prescott ... Nehalem, the older AMD cores), AVX (Sandybridge, Bulldozer
... Excavator), AVX2 (Haswell, Zen), AVX-512 (SkylakeX, Cooperlake, SapphireRapids);
the CPU's from the flags in ``/proc/cpuinfo`` (Linux; elsewhere no note is given).
"""

import os

__all__ = ["BLAS_ENV_VARS", "cpu_flags", "cpu_level", "kernel_level", "slower_kernel",
           "forced_kernel_note"]

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""The variables OpenBLAS reads once, when it loads, that can force a slower kernel."""

LEVELS = ("SSE", "AVX", "AVX2", "AVX-512")

_KERNELS = {
    0: ("prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron",
        "opteron_sse3", "barcelona", "bobcat", "athlon", "katmai", "coppermine",
        "northwood", "banias", "yonah"),
    1: ("sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"),
    2: ("haswell", "zen"),
    3: ("skylakex", "cooperlake", "sapphirerapids"),
}
_LEVEL_OF = {name: level for level, names in _KERNELS.items() for name in names}


def cpu_flags():
    """The CPU's feature flags (``/proc/cpuinfo``), an empty set where they are unknown."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return set(value.split())
    except OSError:
        pass
    return set()


def cpu_level(flags):
    """The best kernel family (an index into ``LEVELS``) a CPU with ``flags`` can run, or
    None when the flags say nothing (not x86, or unknown)."""
    for level, flag in ((3, "avx512f"), (2, "avx2"), (1, "avx"), (0, "sse2")):
        if flag in flags:
            return level
    return None


def kernel_level(name):
    """The family (an index into ``LEVELS``) of an OpenBLAS core name such as "Haswell",
    or None for a name this table does not know."""
    return _LEVEL_OF.get(str(name).strip().lower())


def slower_kernel(name, flags):
    """(kernel family, CPU family) as names, e.g. ("AVX2", "AVX-512"), when the kernel
    ``name`` is of an older family than the CPU with ``flags`` can run; else None."""
    forced, best = kernel_level(name), cpu_level(flags)
    if forced is None or best is None or forced >= best:
        return None
    return LEVELS[forced], LEVELS[best]


def forced_kernel_note(environ=None, flags=None, openblas=None):
    """One line when ``OPENBLAS_CORETYPE`` forces a slower kernel than the CPU supports
    (and NumPy's BLAS is OpenBLAS), else None. ``environ``, ``flags`` and ``openblas``
    default to this process's environment, this CPU and whether OpenBLAS is loaded."""
    environ = os.environ if environ is None else environ
    name = environ.get("OPENBLAS_CORETYPE")
    if not name:
        return None
    families = slower_kernel(name, cpu_flags() if flags is None else flags)
    if families is None:
        return None
    if openblas is None:
        from . import blas

        openblas = blas.available()
    if not openblas:
        return None
    return (f"minigan: note: OPENBLAS_CORETYPE={name} makes OpenBLAS run its {families[0]} "
            f"kernel on this {families[1]} CPU, so training is slower than this machine can "
            f"go; for full speed run without it: env -u OPENBLAS_CORETYPE minigan ...")

"""Shared helpers for minigan's benchmarks.

* ``machine_report()``   what the numbers were measured on: CPU, cores, library versions,
                         the BLAS library and the kernel it picked, and the environment
                         variables that can force a slower kernel (``gpu_report()``: the GPU);
* ``blas_env_warning()`` a warning (with the exact command to rerun) when
                         OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set;
* ``load_warning()``     a warning when other processes are competing for the CPU;
* ``limit_threads(n)``   cap the BLAS / OpenMP thread pools with threadpoolctl;
* ``time_interleaved()`` time several step functions round-robin, so that they share
                         the machine's noise fairly;
* ``summarise()``        median, p10, p90 of those timings;
* ``layer_macs()``, ``step_gflop()``  the analytical GEMM work of a minigan Sequential.

Only the standard library, NumPy and minigan (its table of OpenBLAS's kernels,
``minigan.engine.blas_kernel``) are needed here (threadpoolctl and torch are used when
installed); nothing is written anywhere.
"""

import gc
import importlib.metadata
import os
import platform
import shlex
import sys
import time

import numpy as np

from minigan.engine.blas_kernel import BLAS_ENV_VARS, slower_kernel

# OpenBLAS reads BLAS_ENV_VARS once, when it is loaded: a benchmark cannot undo them itself.
# Informative only: thread-count variables that also shape the results.
THREAD_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------- machine

def _cpu_info():
    """(model name, set of CPU flags) from /proc/cpuinfo; platform's answer elsewhere."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and value.strip():
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def _version(package):
    """The installed version of ``package`` without importing it, or None."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _thread_pools():
    """threadpoolctl's view of the loaded BLAS / OpenMP libraries (empty without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return threadpool_info()


def machine_report():
    """A dict describing the machine and the numerical libraries this process has loaded.

    Call it *after* importing everything the benchmark uses (torch loads its own
    OpenMP runtime), so that every thread pool shows up.
    """
    model, flags = _cpu_info()
    pools = _thread_pools()
    blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                   "threading_layer", "filepath")}
            for p in pools if p.get("user_api") == "blas"]
    openmp = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
              for p in pools if p.get("user_api") == "openmp"]
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable_cores = os.cpu_count()
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores,
        "simd": sorted(f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                       if f in flags),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _version("torch"),
        "threadpoolctl": _version("threadpoolctl"),
        "blas": blas,
        "openmp": openmp,
        "env": {name: os.environ.get(name) for name in BLAS_ENV_VARS + THREAD_ENV_VARS},
        "load_average": _load_average(),
    }


def gpu_report(torch=None):
    """The GPU CuPy uses: name, memory, CuPy and CUDA versions (and torch's CUDA build)."""
    import cupy
    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    name = props["name"]
    return {"name": name.decode() if isinstance(name, bytes) else str(name),
            "memory_gib": props["totalGlobalMem"] / 2**30, "cupy": cupy.__version__,
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "torch_cuda": getattr(getattr(torch, "version", None), "cuda", None)}


def _load_average():
    """(1, 5, 15)-minute load averages, or None where the OS has none."""
    try:
        return tuple(round(v, 2) for v in os.getloadavg())
    except (AttributeError, OSError):
        return None


def format_machine_report(report):
    """The report of ``machine_report()`` as a few readable lines."""
    lines = [
        f"CPU:      {report['cpu_model']} ({report['usable_cores']} usable of "
        f"{report['cpu_count']} logical cores; {' '.join(report['simd']) or 'no AVX'})",
        f"versions: python {report['python']}, numpy {report['numpy']}, "
        f"torch {report['torch'] or '(not installed)'}, "
        f"threadpoolctl {report['threadpoolctl'] or '(not installed)'}",
    ]
    for b in report["blas"]:
        lines.append(f"BLAS:     {b['internal_api']} {b['version']}, kernel "
                     f"{b['architecture']}, {b['num_threads']} threads "
                     f"({os.path.basename(b['filepath'] or '?')})")
    if not report["blas"]:
        lines.append("BLAS:     (unknown: threadpoolctl missing or no BLAS loaded yet)")
    for o in report["openmp"]:
        lines.append(f"OpenMP:   {o['internal_api']}, {o['num_threads']} threads "
                     f"({os.path.basename(o['filepath'] or '?')})")
    if report.get("gpu"):
        gpu = report["gpu"]
        lines.append(f"GPU:      {gpu['name']} ({gpu['memory_gib']:.0f} GiB), CuPy {gpu['cupy']}, "
                     f"CUDA runtime {gpu['cuda_runtime']}, torch CUDA {gpu['torch_cuda']}")
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in report["env"].items())
    lines.append(f"env:      {env}")
    if report["load_average"] is not None:
        lines.append("load:     " + " / ".join(f"{v:.2f}" for v in report["load_average"])
                     + " (1 / 5 / 15 min averages)")
    return "\n".join(lines)


def blas_env_warning(script_args=None):
    """A warning string when OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, else None.

    Those variables can force a slower GEMM kernel than the CPU supports (about half
    the speed on an AVX-512 machine given OPENBLAS_CORETYPE=Haswell). OpenBLAS reads them
    when it loads, so the only fix is to rerun without them: the message gives the exact
    command.
    """
    found = {name: os.environ[name] for name in BLAS_ENV_VARS if name in os.environ}
    if not found:
        return None
    args = sys.argv if script_args is None else script_args
    unset = " ".join(f"-u {name}" for name in BLAS_ENV_VARS)
    command = f"env {unset} {shlex.join([os.path.basename(sys.executable)] + list(args))}"
    settings = ", ".join(f"{k}={v}" for k, v in found.items())
    return (f"WARNING: {settings} is set: OpenBLAS may be using a slower kernel than this "
            f"CPU supports, so these timings understate what the machine can do.\n"
            f"         Rerun as:  {command}")


def load_warning(report, threads):
    """A warning when the 1-minute load average says other work shares the CPU, else None.

    With ``threads`` BLAS / OpenMP threads on a machine whose cores are busy, a step
    waits for the slowest thread: timings can grow many times over, and unevenly.
    """
    load = report["load_average"]
    # our own earlier runs linger in the average: allow one core's worth of it
    if load is None or load[0] + threads <= report["usable_cores"] + 1:
        return None
    return (f"WARNING: 1-minute load average {load[0]:.2f} on {report['usable_cores']} cores "
            f"and {threads} benchmark threads: other processes compete for the CPU, so "
            "multi-threaded timings are inflated and noisy (a thread that loses its core\n"
            "         stalls every barrier for a scheduler tick). Rerun on a quiet machine; "
            "--threads 1 --cpu-time compares the work itself.")


def kernel_mismatch_note(report):
    """A note when OpenBLAS runs an older kernel family than the CPU supports (e.g. the
    Haswell kernel, AVX2, on an AVX-512 CPU), else None; the ranking is minigan's own
    (``minigan.engine.blas_kernel.slower_kernel``), which a training run uses too."""
    _, flags = _cpu_info()
    for b in report["blas"]:
        if b["internal_api"] != "openblas" or not b["architecture"]:
            continue
        families = slower_kernel(b["architecture"], flags)
        if families is not None:
            return (f"NOTE: the CPU supports {families[1]} but OpenBLAS uses the "
                    f"{b['architecture']} kernel ({families[0]}; OPENBLAS_CORETYPE set, or "
                    "an OpenBLAS build without the newer kernels).")
    return None


# ---------------------------------------------------------------------------- threads

def import_torch_with_threads(no_torch, threads):
    """torch (or None when ``no_torch`` or not installed, saying so), then every thread
    pool -- BLAS, OpenMP, torch's intra-op pool -- capped at ``threads``. The cap comes
    after the import, so that torch's own OpenMP runtime is loaded when it is limited."""
    torch = None
    if not no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed: timing minigan only")
    limit_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    return torch


def limit_threads(n):
    """Cap every BLAS and OpenMP pool loaded *so far* at ``n`` threads (threadpoolctl).

    Returns the threadpoolctl controller (it stays in force; call ``.restore_original_limits()``
    to undo), or None when threadpoolctl is not installed. Call it after the imports
    (torch brings its own OpenMP runtime); torch's own intra-op pool still needs
    ``torch.set_num_threads(n)``.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=n)


# ---------------------------------------------------------------------------- timing

def time_interleaved(fns, warmup=5, steps=30, timer=time.perf_counter, pause=0.0):
    """Time each callable in ``fns`` ({name: fn}) ``steps`` times, round-robin.

    Every function first runs ``warmup`` untimed calls (caches, allocator, thread
    pools), then each round calls every function once, each timed with
    ``perf_counter``. The order within a round is rotated every round so no function
    always runs right after the same neighbour. The garbage collector is paused while
    timing (it is collected once before). Returns {name: [seconds, ...]}.

    ``pause`` seconds of sleep (untimed) before every timed call let the thread pools
    of the previous call go idle. It matters when the callables use *different*
    thread pools (NumPy's OpenBLAS vs torch's OpenMP): OpenBLAS workers busy-wait for
    a while after each GEMM and, on a machine with few cores, steal the cores of the
    next library's threads -- on 2 cores that more than doubled torch's time.

    ``timer`` is wall-clock time by default; ``time.process_time`` (this process's CPU
    time) is a load-insensitive measure of the work, meaningful with ONE thread only
    (with more, it adds up every thread's busy-waiting too).
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times = {name: [] for name in names}
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for step in range(steps):
            shift = step % len(names)
            for name in names[shift:] + names[:shift]:
                if pause:
                    time.sleep(pause)
                t0 = timer()
                fns[name]()
                times[name].append(timer() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def summarise(times):
    """{name: [seconds]} -> {name: {"median", "p10", "p90", "min", "mean" (seconds), "n"}}."""
    out = {}
    for name, seconds in times.items():
        a = np.asarray(seconds, dtype=np.float64)
        p10, median, p90 = np.percentile(a, [10, 50, 90])
        out[name] = {"median": float(median), "p10": float(p10), "p90": float(p90),
                     "min": float(a.min()), "mean": float(a.mean()), "n": int(a.size)}
    return out


def format_ms(seconds):
    """Seconds as milliseconds with a sensible number of digits."""
    ms = seconds * 1e3
    return f"{ms:8.2f}" if ms < 100 else f"{ms:8.1f}"


# ---------------------------------------------------------------------------- work

def layer_macs(model, x):
    """Multiply-accumulates of one forward pass, layer by layer, for a minigan Sequential.

    Runs ``x`` through the layers one at a time to learn the shapes, and returns a list
    of (index, layer repr, has_params, macs): Conv2d = out pixels * KH*KW*C_in per output
    channel, ConvTranspose2d = in pixels * KH*KW*C_out per input channel, Dense =
    N*IN*OUT; elementwise layers (activations, BatchNorm, reshapes) count 0 -- they are
    memory-bound and tiny next to the GEMMs. The backward of a layer costs the same MACs
    once for its input gradient and once for its weight gradient.
    """
    rows = []
    for i, layer in enumerate(model.layers):
        y = layer.forward(x)
        kind = type(layer).__name__
        if kind == "Conv2d":
            kh, kw = layer.kernel_size
            macs = y.size * kh * kw * layer.in_channels
        elif kind == "ConvTranspose2d":
            kh, kw = layer.kernel_size
            macs = x.size * kh * kw * layer.out_channels
        elif kind == "Dense":
            macs = x.shape[0] * layer.in_features * layer.out_features
        else:
            macs = 0
        rows.append((i, repr(layer), bool(layer.parameters()), int(macs)))
        x = y
    model.clear_backward_state()  # drop the caches this pass left behind
    return rows


def step_gflop(rows, backward=True, weight_grads=True, first_input_grad=False):
    """GFLOP (2 per MAC) of one forward (+ backward) pass over the ``layer_macs`` rows.

    In the backward, every layer but the first computes its input gradient (the
    first only with ``first_input_grad``), and every layer with parameters its
    weight gradient when ``weight_grads``.
    """
    macs = sum(m for *_, m in rows)
    if backward:
        for i, _, has_params, m in rows:
            macs += m if (i > 0 or first_input_grad) else 0   # input gradient
            macs += m if (weight_grads and has_params) else 0  # weight gradient
    return 2 * macs / 1e9

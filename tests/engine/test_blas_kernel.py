"""The note a run prints when OPENBLAS_CORETYPE forces an older kernel family than the
CPU supports (``minigan.engine.blas_kernel``), and the benchmarks' use of the same table."""

import os
import sys

import pytest
from cli_rows import QUIET, tiny_data

from minigan.engine import blas_kernel
from minigan.engine.blas_kernel import forced_kernel_note, slower_kernel

AVX512 = {"sse2", "avx", "avx2", "fma", "avx512f"}
AVX2 = {"sse2", "avx", "avx2", "fma"}


@pytest.mark.parametrize("kernel, flags, families", [
    ("Haswell", AVX512, ("AVX2", "AVX-512")),
    ("haswell", AVX512, ("AVX2", "AVX-512")),     # OpenBLAS takes any case
    ("Zen", AVX512, ("AVX2", "AVX-512")),
    ("Sandybridge", AVX2, ("AVX", "AVX2")),
    ("Nehalem", AVX2, ("SSE", "AVX2")),
    ("Haswell", AVX2, None),                      # the CPU's own best: nothing to say
    ("SkylakeX", AVX512, None),
    ("SkylakeX", AVX2, None),                     # a newer kernel than the CPU: not slower
    ("NoSuchCore", AVX512, None),                 # a name the table does not know
    ("Haswell", set(), None),                     # the CPU's flags unknown (not x86)
])
def test_slower_kernel_ranks_openblas_kernels_against_the_cpu(kernel, flags, families):
    assert slower_kernel(kernel, flags) == families


def test_the_note_names_the_variable_the_families_and_the_fix():
    note = forced_kernel_note({"OPENBLAS_CORETYPE": "Haswell"}, AVX512, openblas=True)
    assert note == ("minigan: note: OPENBLAS_CORETYPE=Haswell makes OpenBLAS run its AVX2 "
                    "kernel on this AVX-512 CPU, so training is slower than this machine can "
                    "go; for full speed run without it: env -u OPENBLAS_CORETYPE minigan ...")
    assert forced_kernel_note({}, AVX512, openblas=True) is None
    assert forced_kernel_note({"OPENBLAS_CORETYPE": "Haswell"}, AVX2, openblas=True) is None
    # another BLAS than OpenBLAS does not read the variable
    assert forced_kernel_note({"OPENBLAS_CORETYPE": "Haswell"}, AVX512, openblas=False) is None


def test_a_run_says_it_once_at_its_start(tmp_path, monkeypatch, capsys):
    from minigan.cli import main

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")  # read by the note, not by OpenBLAS now
    monkeypatch.setattr(blas_kernel, "cpu_flags", lambda: AVX512)
    monkeypatch.setattr("minigan.engine.blas.available", lambda: True)
    data = tiny_data(tmp_path / "data")
    assert main(["train", "--data", data, "--model", "mlp", "--batch-size", "50", "--epochs",
                 "1", "--max-steps", "2", *QUIET, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert out.count("OPENBLAS_CORETYPE=Haswell makes OpenBLAS run its AVX2 kernel") == 1
    assert out.index("OPENBLAS_CORETYPE") < out.index("trained 2 steps")


def test_the_benchmarks_report_the_same_mismatch():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    try:
        import common
    finally:
        sys.path.pop(0)
    assert common.BLAS_ENV_VARS == blas_kernel.BLAS_ENV_VARS
    report = {"blas": [{"internal_api": "openblas", "architecture": "Haswell"}]}
    flags = blas_kernel.cpu_flags()
    note = common.kernel_mismatch_note(report)
    if blas_kernel.slower_kernel("Haswell", flags) is None:  # this CPU runs nothing newer
        assert note is None
    else:
        assert note.startswith(f"NOTE: the CPU supports {blas_kernel.LEVELS[-1]}"
                               if "avx512f" in flags else "NOTE: the CPU supports")
        assert "Haswell kernel (AVX2;" in note

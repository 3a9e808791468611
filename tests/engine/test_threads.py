"""minigan's CPU threads (``minigan.engine.threads``, ``minigan.parallel``) and memory.

* pieces cover a range once, with disjoint pieces of at least ``min_size``, run at once
  on distinct threads, do not nest, and report an error after every piece finished;
* a region runs the BLAS on one thread and restores it, whatever happens inside;
* bad settings raise ``ConfigError``; ``MINIGAN_KEEP_FREED_MEMORY=0`` leaves the
  allocator alone.
"""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigan import engine, parallel
from minigan.engine import memory, threads
from minigan.errors import ConfigError

FAST = settings(deadline=None, max_examples=25)


@FAST
@given(n=st.integers(0, 50), count=st.integers(1, 5), min_size=st.integers(1, 8))
def test_split_covers_the_range_once_with_disjoint_pieces(n, count, min_size):
    parallel.set_threads(count)
    hits = np.zeros(n, dtype=int)
    pieces, lock = [], threading.Lock()

    def part(start, stop):
        with lock:
            pieces.append((start, stop))
        hits[start:stop] += 1

    threads.split(n, part, min_size=min_size)
    assert (hits == 1).all()
    assert len(pieces) == max(1, min(count, n // min_size))
    assert all(stop - start >= min_size for start, stop in pieces) or len(pieces) == 1


def test_pieces_run_on_distinct_threads_at_once_and_do_not_nest():
    parallel.set_threads(3)
    together = threading.Barrier(3, timeout=10)  # broken unless 3 pieces run at once
    outer, inner = set(), []

    def part(start, stop):
        together.wait()
        outer.add(threading.get_ident())
        threads.split(10, lambda a, b: inner.append((a, b)))  # inside a piece: one call

    threads.split(3, part)
    assert len(outer) == 3
    assert sorted(inner) == [(0, 10)] * 3


def test_an_exception_in_a_piece_is_raised_after_every_piece_finished():
    parallel.set_threads(3)
    finished = []

    def part(start, stop):
        if start == 0:
            raise ValueError("piece 0 failed")
        threading.Event().wait(0.05)
        finished.append(start)

    with pytest.raises(ValueError, match="piece 0 failed"):
        threads.split(3, part)
    assert sorted(finished) == [1, 2]


def test_region_runs_the_blas_single_threaded_and_restores_it():
    if parallel.blas_threads() is None:
        pytest.skip("the BLAS's thread count cannot be set here (not OpenBLAS)")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        assert parallel.blas_threads() == 2
        assert parallel.threads() == 2             # follows the BLAS by default
        with pytest.raises(RuntimeError):
            with parallel.region():
                assert parallel.blas_threads() == 1
                with parallel.region():            # nested: changes nothing
                    assert parallel.blas_threads() == 1
                assert parallel.threads() == 2
                raise RuntimeError("inside")
        assert parallel.blas_threads() == 2
    with threadpool_limits(1, user_api="blas"):
        assert parallel.threads() == 1             # one BLAS thread: no splitting


def test_bad_thread_settings_raise_config_error(monkeypatch):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="positive int"):
            parallel.set_threads(bad)
    parallel.set_threads(None)
    monkeypatch.setenv("MINIGAN_NUM_THREADS", "two")
    with pytest.raises(ConfigError, match="MINIGAN_NUM_THREADS"):
        parallel.threads()
    monkeypatch.setenv("MINIGAN_NUM_THREADS", "3")
    assert parallel.threads() == 3
    with pytest.raises(ConfigError, match="unknown engine 'gpu'"):
        with engine.using("gpu"):
            pass


def test_keeping_freed_memory_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setenv("MINIGAN_KEEP_FREED_MEMORY", "0")
    assert memory.keep_freed_memory() is False
    assert memory._done                             # asked once per process


def test_keeping_freed_memory_can_be_forbidden_by_a_call_before_the_first_region(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)     # as in a fresh process
    monkeypatch.setattr(memory, "_kept", False)
    monkeypatch.delenv("MINIGAN_KEEP_FREED_MEMORY", raising=False)
    calls = []
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda *a: calls.append(a))  # never reached
    previous = parallel.set_keep_freed_memory(False)
    try:
        assert memory.allowed() is False
        with parallel.region():
            pass
        assert memory.keep_freed_memory() is False and calls == []
    finally:
        parallel.set_keep_freed_memory(previous)
    assert memory.allowed() is True                 # back to the environment's default
    with pytest.raises(ConfigError, match="enabled must be True, False or None"):
        parallel.set_keep_freed_memory("no")
    monkeypatch.setenv("MINIGAN_KEEP_FREED_MEMORY", "no")   # "0" or "1", like the others
    with pytest.raises(ConfigError, match=r"MINIGAN_KEEP_FREED_MEMORY must be 1 \(keep freed "
                                          r"memory for reuse\) or 0 .*, got 'no'"):
        memory.allowed()


def test_a_region_leaves_the_blas_alone_when_told_to(monkeypatch):
    switched = []
    monkeypatch.setattr(threads.blas, "get_threads", lambda: 2)
    monkeypatch.setattr(threads.blas, "set_threads", switched.append)
    parallel.set_threads(None)
    with parallel.region():                         # the default: one BLAS thread inside
        assert parallel.threads() == 2
    assert switched == [1, 2]
    switched.clear()
    for opt_out in ("call", "environment"):
        if opt_out == "call":
            previous = parallel.set_blas_control(False)
        else:
            monkeypatch.setenv("MINIGAN_BLAS_CONTROL", "0")
        try:
            assert parallel.threads() == 1          # no pieces on top of a many-thread BLAS
            with parallel.region():
                assert parallel.threads() == 1
            assert switched == []
            parallel.set_threads(2)                 # an explicit count still holds
            assert parallel.threads() == 2
        finally:
            parallel.set_threads(None)
            if opt_out == "call":
                parallel.set_blas_control(previous)
    monkeypatch.setenv("MINIGAN_BLAS_CONTROL", "off")
    with pytest.raises(ConfigError, match="MINIGAN_BLAS_CONTROL must be 1 .* or 0"):
        parallel.threads()
    with pytest.raises(ConfigError, match="enabled must be True, False or None"):
        parallel.set_blas_control(1)

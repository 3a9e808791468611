"""The exercises (``minigan.exercises``, ``minigan exercises init / check``).

* every reference solution in ``tests/exercise_solutions/`` passes its exercise, at
  hypothesis-drawn seeds of the grader's random cases; every untouched stub is
  "not started" (a stub holds no solution);
* for every exercise, typical wrong answers fail with the reason a student needs (a
  missing term, the wrong sign, a mutated gy, a dtype change, ...);
* a syntax error, an exception, an endless loop, a hard exit: one line naming the file
  (and the line), never a traceback, never a hung grader;
* ``init`` refuses a non-empty folder and never overwrites a file, even with --force;
  ``check``'s exit status and its --json schema.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan
from minigan.errors import InputError
from minigan.exercises import EXERCISES, check_directory, grade_file, write_stubs

SOLUTIONS = Path(__file__).resolve().parent.parent / "exercise_solutions"
REPO = Path(minigan.__file__).resolve().parent.parent
NAMES = [e.name for e in EXERCISES]


def solution(name):
    return (SOLUTIONS / f"{name}.py").read_text(encoding="utf-8")


def graded(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return grade_file(str(path), name)


def test_the_catalogue_has_the_eight_exercises_and_a_solution_for_each():
    assert NAMES == ["dense_backward", "leaky_relu_backward", "bce_with_logits",
                     "batch_norm_backward", "conv2d_backward", "conv_transpose2d_forward",
                     "g_step_gradients", "dense_double_backward"]
    assert sorted(NAMES) == sorted(p.stem for p in SOLUTIONS.glob("*.py"))


@pytest.mark.parametrize("name", NAMES)
def test_a_correct_solution_passes(name):
    result = grade_file(str(SOLUTIONS / f"{name}.py"), name)
    assert result.status == "passed", result.message
    assert result.details["max_rel_error_vs_reference"] < 1e-12
    other = [v for k, v in result.details.items() if k != "max_rel_error_vs_reference"]
    assert other and all(v < 1e-6 for v in other), result.details


@settings(max_examples=4)
@given(seed=st.integers(1, 2**31))
def test_correct_solutions_pass_at_drawn_cases(seed):
    for name in ("dense_backward", "batch_norm_backward", "conv2d_backward",
                 "conv_transpose2d_forward"):
        result = grade_file(str(SOLUTIONS / f"{name}.py"), name, seed=seed)
        assert result.status == "passed", (seed, result.message)


@pytest.mark.parametrize("exercise", EXERCISES, ids=NAMES)
def test_a_stub_is_not_started_and_names_what_to_do(exercise):
    text = exercise.stub()
    for word in ("Task", "Shapes", "Hint", exercise.docs.split("/")[-1]):
        assert word in text, f"{exercise.name}: the stub does not mention {word!r}"
    for function in exercise.functions:
        assert f"def {function}(" in text
    result = grade_file(str(Path(minigan.exercises.__file__).parent / "templates"
                            / exercise.file_name), exercise.name)
    assert result.status == "not_started", result.message
    assert "NotImplementedError" in result.message


def test_the_stub_signatures_are_the_library_functions():
    import inspect

    from minigan import functional as F

    for exercise in EXERCISES:
        namespace = {}
        exec(exercise.stub(), namespace)
        for function in exercise.functions:
            if hasattr(F, function):
                assert inspect.signature(namespace[function]) == \
                    inspect.signature(getattr(F, function)), function


def _replace(name, old, new):
    source = solution(name)
    assert old in source, (name, old)
    return source.replace(old, new)


WRONG = [  # (exercise, source, words the message must contain)
    ("dense_backward", _replace("dense_backward", "gx = gy @ w.T", "gx = -(gy @ w.T)"),
     "gx: wrong sign"),
    ("dense_backward", _replace("dense_backward", "gw = x.T @ gy", "gw = gy.T @ x"),
     "transposed"),
    ("dense_backward", _replace("dense_backward", "np.sum(gy, axis=0)", "gy"),
     "gb has shape"),
    ("dense_backward", _replace("dense_backward", "    gx = gy @ w.T",
                                "    gy *= 2\n    gy /= 3\n    gx = gy @ w.T * 1.5"),
     "changed gy in place"),
    ("dense_backward",
     _replace("dense_backward", "gx = gy @ w.T", "gx = (gy @ w.T).astype(float)"),
     "gx is float64, but the inputs were float32"),
    ("leaky_relu_backward", _replace("leaky_relu_backward", "x > 0", "x >= 0"),
     "wrong at x == 0 exactly"),
    ("leaky_relu_backward", _replace("leaky_relu_backward", "1.0, negative_slope", "1.0, 0.0"),
     "wrong where x < 0"),
    ("leaky_relu_backward", _replace("leaky_relu_backward", ".astype(gy.dtype)", ""),
     "is float64, but the inputs were float32"),
    ("bce_with_logits", _replace("bce_with_logits",
                                 "loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                                 "s = 1 / (1 + np.exp(-z))\n"
                                 "    loss = -(y * np.log(s) + (1 - y) * np.log(1 - s))"),
     "use the stable form"),
    ("bce_with_logits", _replace("bce_with_logits", "loss.mean()", "loss.sum()"),
     "is the SUM"),
    ("bce_with_logits", _replace("bce_with_logits", "(upstream / z.size)", "upstream"),
     "the loss is a mean"),
    ("batch_norm_backward", _replace("batch_norm_backward", "(gy - gbeta / m - xhat",
                                     "(gy - xhat"),
     "does not sum to zero over the batch: the mean's term is missing"),
    ("batch_norm_backward", _replace("batch_norm_backward", " - xhat * (ggamma / m))", ")"),
     "the variance's term is missing"),
    ("conv2d_backward", textwrap.dedent("""
        import numpy as np


        def conv2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
            cols, w, x_shape, (sh, sw), (ph, pw), has_bias = cache
            kh, kw, c_in, c_out = w.shape
            n, h, wd, _ = x_shape
            oh, ow = gy.shape[1:3]
            g = gy.reshape(-1, c_out)
            d6 = (g @ w.reshape(-1, c_out).T).reshape(n, oh, ow, kh, kw, c_in)
            x_pad = np.zeros((n, h + 2 * ph + kh, wd + 2 * pw + kw, c_in))
            for i in range(oh):
                for j in range(ow):   # assigned, not added: overlapping windows are lost
                    x_pad[:, i * sh:i * sh + kh, j * sw:j * sw + kw] = d6[:, i, j]
            gx = x_pad[:, ph:ph + h, pw:pw + wd] if need_input_grad else None
            gw = (cols.T @ g).reshape(w.shape) if need_param_grads else None
            gb = g.sum(axis=0) if need_param_grads and has_bias else None
            return gx, gw, gb
        """), "col2im must ADD"),
    ("conv2d_backward", _replace("conv2d_backward", "(cols.T @ g)", "-(cols.T @ g)"),
     "gw: wrong sign"),
    ("conv_transpose2d_forward", _replace("conv_transpose2d_forward", "y = y + b", "pass"),
     "right up to the bias"),
    ("conv_transpose2d_forward", _replace("conv_transpose2d_forward",
                                          "return y, (x, w, (sh, sw), (ph, pw), b is not None)",
                                          "return y, (x, w, sh, ph)"),
     "the cache does not work with minigan's conv_transpose2d_backward"),
    ("g_step_gradients", _replace("g_step_gradients", "    D.freeze()\n", ""),
     "D is frozen in the G step"),
    ("g_step_gradients", _replace("g_step_gradients", "    G.zero_grad()\n", ""),
     "call G.zero_grad() first"),
    ("g_step_gradients", _replace("g_step_gradients", "    fake = G(z)\n",
                                  "    fake = G(z)\n    D.eval()\n").replace(
                                      "D.unfreeze()", "D.unfreeze()\n        D.train()"),
     "frozen never means eval"),
    ("g_step_gradients", _replace("g_step_gradients", "D.unfreeze()\n", "pass\n"),
     "D is still frozen after your function"),
    ("dense_double_backward", _replace("dense_double_backward", "v.T @ gy", "gy.T @ v"),
     "transposed"),
    ("dense_double_backward", _replace("dense_double_backward", "return v @ w",
                                       "return -(v @ w)"),
     "ggy: wrong sign"),
]


@pytest.mark.parametrize("name, source, reason", WRONG,
                         ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_a_wrong_solution_fails_with_the_reason(tmp_path, name, source, reason):
    result = graded(tmp_path, name, source)
    assert result.status == "failed"
    assert reason in result.message, result.message
    assert "\n" not in result.message and "Traceback" not in result.message


def test_every_exercise_has_a_wrong_solution_tested():
    assert {w[0] for w in WRONG} == set(NAMES)


def test_calling_the_library_function_is_not_an_answer(tmp_path):
    aliased = graded(tmp_path, "dense_backward", """
        from minigan.functional import dense_backward as reference

        def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
            return reference(gy, cache, need_input_grad, need_param_grads)
        """)
    assert aliased.status == "failed" and "minigan's own dense_backward" in aliased.message
    attribute = graded(tmp_path, "dense_backward", """
        import minigan.functional as F

        def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
            return F.dense_backward(gy, cache, need_input_grad, need_param_grads)
        """)
    assert attribute.status == "failed" and "calls minigan's dense_backward" in attribute.message


def test_errors_in_the_students_file_are_one_line_with_file_and_line(tmp_path):
    syntax = graded(tmp_path, "dense_backward", "import numpy\ndef dense_backward(gy, cache:\n")
    assert syntax.status == "error"
    assert syntax.message.startswith("dense_backward.py:2: syntax error"), syntax.message
    on_import = graded(tmp_path, "dense_backward", "import numpy\n\nraise ValueError('boom')\n")
    assert on_import.message == ("dense_backward.py:3: ValueError: boom (while importing the "
                                 "file)")
    in_call = graded(tmp_path, "dense_backward", """
        def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
            x, w = cache
        """)
    assert in_call.status == "error"
    assert in_call.message.startswith("dense_backward.py:3: ValueError: too many values"), \
        in_call.message
    assert in_call.message.endswith("(in dense_backward())")
    renamed = graded(tmp_path, "dense_backward", "def dense_backwards(gy, cache):\n    pass\n")
    assert renamed.status == "error" and "defines no function dense_backward()" in \
        renamed.message
    exits = graded(tmp_path, "dense_backward", "import sys\nsys.exit(3)\n")
    assert exits.status == "error" and exits.message.startswith("dense_backward.py:2: exit()")


def test_an_endless_loop_and_a_hard_exit_are_stopped_and_the_rest_still_graded(tmp_path):
    (tmp_path / "dense_backward.py").write_text(
        "def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):\n"
        "    while True:\n        pass\n")
    (tmp_path / "leaky_relu_backward.py").write_text("import os\nos._exit(7)\n")
    (tmp_path / "dense_double_backward.py").write_text(solution("dense_double_backward"))
    [looping] = check_directory(str(tmp_path), ["dense_backward"], timeout=3)
    assert looping.status == "timeout"
    assert looping.message == ("dense_backward.py: did not finish in 3 s (an endless loop?); "
                               "stopped")
    results = check_directory(str(tmp_path), ["leaky_relu_backward", "dense_double_backward"])
    assert [r.status for r in results] == ["error", "passed"]
    assert "ended with status 7" in results[0].message


def test_init_writes_every_stub_and_refuses_a_non_empty_folder(tmp_path):
    target = tmp_path / "mine"
    written, kept = write_stubs(str(target))
    assert written == [e.file_name for e in EXERCISES] and kept == []
    for exercise in EXERCISES:
        assert (target / exercise.file_name).read_text() == exercise.stub()
    (target / "dense_backward.py").write_text("# my work\n")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(InputError, match="not empty"):
        write_stubs(str(target))
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="--force"):
        write_stubs(str(other))
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_init_force_writes_only_missing_stubs_and_keeps_every_file(tmp_path):
    write_stubs(str(tmp_path / "a"))
    folder = tmp_path / "a"
    (folder / "dense_backward.py").write_text("# my work\n")
    (folder / "conv2d_backward.py").unlink()
    written, kept = write_stubs(str(folder), force=True)
    assert written == ["conv2d_backward.py"]
    assert "dense_backward.py" in kept and len(kept) == len(EXERCISES) - 1
    assert (folder / "dense_backward.py").read_text() == "# my work\n"


def cli(capsys, *args):
    """``minigan ARGS`` in this process: (exit status, stdout, stderr)."""
    from minigan.cli import main

    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_init_and_check_json_and_exit_status(tmp_path, capsys):
    folder = tmp_path / "ex"
    status, out, _ = cli(capsys, "exercises", "init", str(folder))
    assert status == 0 and "wrote" in out
    status, _, err = cli(capsys, "exercises", "init", str(folder))
    assert status == 2
    assert err.startswith("minigan: error: exercises init:") and len(err.splitlines()) == 1
    (folder / "dense_backward.py").write_text(solution("dense_backward"))
    (folder / "leaky_relu_backward.py").write_text(
        _replace("leaky_relu_backward", "x > 0", "x >= 0"))
    status, out, _ = cli(capsys, "exercises", "check", str(folder), "dense_backward",
                         "leaky_relu_backward.py", "conv2d_backward", "--json")
    assert status == 1
    data = json.loads(out)
    assert set(data) == {"directory", "passed", "counts", "results"}
    assert data["passed"] is False
    assert data["counts"] == {"passed": 1, "failed": 1, "not_started": 1}
    for row in data["results"]:
        assert set(row) == {"name", "file", "status", "message", "details"}
    statuses = [(r["name"], r["status"]) for r in data["results"]]
    assert statuses == [("dense_backward", "passed"), ("leaky_relu_backward", "failed"),
                        ("conv2d_backward", "not_started")]
    assert "x == 0" in data["results"][1]["message"]
    assert data["results"][0]["details"]["max_rel_error_vs_finite_differences"] < 1e-6


def test_cli_check_as_a_program_prints_one_line_per_exercise(tmp_path):
    write_stubs(str(tmp_path))
    (tmp_path / "dense_backward.py").write_text(solution("dense_backward"))
    done = subprocess.run([sys.executable, "-m", "minigan", "exercises", "check", str(tmp_path),
                           "dense_backward"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["dense_backward  PASS", "1/1 passed"]


@pytest.mark.parametrize("args, words", [
    (["check", "MISSING"], "is not a directory"),
    (["check", "EMPTY"], "holds no exercise file"),
    (["check", "EMPTY", "dense_backwards"], "unknown exercise dense_backwards"),
    (["init", "FILE"], "is a file"),
    (["check"], "required"),
    (["check", "EMPTY", "--timeout", "0"], "--timeout: expected a positive number of seconds"),
])
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, capsys, args, words):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "FILE").write_text("x")
    args = [str(tmp_path / a) if a in ("MISSING", "EMPTY", "FILE") else a for a in args]
    try:
        status, _, err = cli(capsys, "exercises", *args)
    except SystemExit as stop:  # argparse's own errors exit
        status, err = stop.code, capsys.readouterr().err
    assert status == 2
    assert len(err.splitlines()) == 1 and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["EMPTY", "FILE"]


def test_grade_file_refuses_another_backend_and_an_unknown_name(tmp_path):
    import strict_backend

    from minigan.errors import ConfigError

    path = str(SOLUTIONS / "dense_backward.py")
    with pytest.raises(ConfigError, match="unknown exercise 'dense'"):
        grade_file(path, "dense")
    previous = strict_backend.activate()
    try:
        with pytest.raises(ConfigError, match="graded on NumPy"):
            grade_file(path, "dense_backward")
    finally:
        strict_backend.deactivate(previous)

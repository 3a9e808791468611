"""Exercises: backward passes a student writes and minigan grades.

``minigan exercises init DIR`` writes one stub per exercise (``EXERCISES``): the task,
the shapes, the docs page to read, and the function to complete under the library's own
name and signature (``dense_backward(gy, cache, ...)`` as ``minigan.functional``'s; the
cache is what the library's forward returns). ``minigan exercises check DIR [NAME...]``
grades them: each file imported in its own subprocess with a time limit, run in float64
(and once in float32: the dtype must not change) on random shapes, compared with the
library's function and with finite differences (``minigan.gradcheck``), with one line
per exercise saying what is wrong in words -- a shape, a sign, a missing term, a mutated
``gy``. See docs/exercises.md.

    from minigan import exercises
    exercises.write_stubs("my_exercises")                  # -> (written, kept)
    for result in exercises.check_directory("my_exercises"):
        print(result.name, result.status, result.message)
"""

from .catalog import EXERCISES, Exercise
from .init_dir import write_stubs
from .runner import Result, check_directory, grade_file

__all__ = ["EXERCISES", "Exercise", "Result", "check_directory", "grade_file", "write_stubs"]

"""The exercises: one stub file each, in the order a course would take them.

Each ``Exercise`` names its file (``<name>.py``, written by ``minigan exercises init``),
the functions the student completes -- the library's own names and signatures, e.g.
``dense_backward(gy, cache, need_input_grad=True, need_param_grads=True)`` as in
``minigan.functional`` --, the docs page to read, and its grader.
"""

from dataclasses import dataclass
from importlib import resources

from . import graders_conv, graders_gan, graders_layers


@dataclass(frozen=True)
class Exercise:
    name: str         # the file's stem, and the NAME of ``minigan exercises check DIR NAME``
    functions: tuple  # what the student writes
    title: str
    docs: str         # the page with the derivation
    grade: object     # grade(module, path, rng) -> details; raises diagnose.Wrong

    @property
    def file_name(self):
        return f"{self.name}.py"

    def stub(self):
        """The stub's text (package data: minigan/exercises/templates/<name>.py)."""
        return (resources.files(__package__) / "templates" / self.file_name).read_text(
            encoding="utf-8")


EXERCISES = (
    Exercise("dense_backward", ("dense_backward",), "Dense backward",
             "docs/layers/dense.md", graders_layers.grade_dense_backward),
    Exercise("leaky_relu_backward", ("leaky_relu_backward",), "LeakyReLU backward",
             "docs/layers/leaky_relu.md", graders_layers.grade_leaky_relu_backward),
    Exercise("bce_with_logits", ("bce_with_logits_forward", "bce_with_logits_backward"),
             "stable BCE with logits and its gradient", "docs/layers/bce_with_logits.md",
             graders_layers.grade_bce_with_logits),
    Exercise("batch_norm_backward", ("batch_norm_backward",), "BatchNorm backward (training)",
             "docs/layers/batchnorm.md", graders_layers.grade_batch_norm_backward),
    Exercise("conv2d_backward", ("conv2d_backward",), "Conv2d backward (im2col / col2im)",
             "docs/layers/conv2d.md", graders_conv.grade_conv2d_backward),
    Exercise("conv_transpose2d_forward", ("conv_transpose2d_forward",),
             "ConvTranspose2d forward as Conv2d's adjoint", "docs/layers/conv_transpose2d.md",
             graders_conv.grade_conv_transpose2d_forward),
    Exercise("g_step_gradients", ("g_step_gradients",), "the G step through a frozen D",
             "docs/exercises.md", graders_gan.grade_g_step_gradients),
    Exercise("dense_double_backward", ("dense_double_backward",),
             "Dense double backward (for a gradient penalty)",
             "docs/backprop_through_the_backprop.md", graders_layers.grade_dense_double_backward),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}

"""A hypothesis strategy for the geometry of a convolution or transposed convolution,
shared by the tests that draw whole conv layers.

The output size is written out here from the definitions, independently of the
library's ``conv_output_size`` / ``conv_transpose_output_size``:

    conv:       out = (in + 2 p - k) // s + 1          (none when in + 2 p < k)
    transposed: out = (in - 1) s - 2 p + k + output_padding
"""

from hypothesis import assume
from hypothesis import strategies as st


@st.composite
def conv_geometry(draw, transpose, max_kernel, max_size):
    """{"hw", "out", "k", "s", "p", "op"}: input and output (height, width), kernel,
    stride, padding and output padding ((0, 0) unless ``transpose``), kernels up to
    ``max_kernel``, inputs up to ``max_size``, strides up to 3, padding up to 2; only
    geometries with a non-empty output."""
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    op = tuple(draw(st.integers(0, si - 1)) for si in s) if transpose else (0, 0)
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    if transpose:
        out = [(i - 1) * si - 2 * pi + ki + oi for i, ki, si, pi, oi in zip((h, w), k, s, p, op)]
    else:
        out = [(i + 2 * pi - ki) // si + 1 if i + 2 * pi >= ki else 0
               for i, ki, si, pi in zip((h, w), k, s, p)]
    assume(min(out) >= 1)
    return dict(hw=(h, w), out=tuple(out), k=k, s=s, p=p, op=op)

"""The BCE equilibrium's reference lines on the training curves: D* = (a + b) / 2 and
loss_d = BCE(D*, a) + BCE(D*, b) at p_g = p_data, checked against minigan's own objective
evaluated at the logit of D*."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.plots import bce_equilibrium, plot_training_curves


def test_log_4_and_one_half_without_smoothing():
    eq = bce_equilibrium()
    assert eq["d_output"] == 0.5 and abs(eq["loss_d"] - math.log(4)) < 1e-15


@given(real=st.floats(0.55, 1.0), fake=st.floats(0.0, 0.45))
def test_matches_the_objective_at_the_equilibrium_logit(real, fake):
    eq = bce_equilibrium(real, fake)
    logit = np.full((3, 1), math.log(eq["d_output"] / (1 - eq["d_output"])))
    loss = mg.gan.get_objective("non-saturating").d_loss(logit, logit, real, fake)["loss"]
    assert abs(loss - eq["loss_d"]) < 1e-12
    # and D* is where D's loss is lowest when real and fake look alike
    for shift in (-0.05, 0.05):
        other = np.full((3, 1), float(logit[0, 0]) + shift)
        worse = mg.gan.get_objective("non-saturating").d_loss(other, other, real, fake)
        assert worse["loss"] > eq["loss_d"]


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="real_label must lie in"):
        bce_equilibrium(1.5)


def test_the_curves_draw_the_reference_lines(tmp_path):
    records = [{"step": s, "loss_d": 1.3, "loss_d_real": 0.6, "loss_d_fake": 0.7,
                "loss_g": 0.8, "d_real": 0.5, "d_fake": 0.4} for s in range(1, 11)]
    path = plot_training_curves(records, tmp_path / "curves.svg",
                                equilibrium=bce_equilibrium(0.9))
    svg = (tmp_path / "curves.svg").read_text()
    assert str(path).endswith("curves.svg")
    assert "loss D at equilibrium (1.376)" in svg and "D* at equilibrium (0.45)" in svg

"""GAN objectives: values against the formulas, gradients against finite differences
(float64), BCE ones against PyTorch, stability at extreme logits, saturation, errors --
on NumPy and on the strict CuPy-like backend."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError
from minigan.gan.objectives import OBJECTIVES, Objective, get_objective
from minigan.gradcheck import numerical_gradient

NAMES = ["non-saturating", "minimax", "lsgan", "hinge", "wgan", "wgan-gp"]
BCE_NAMES = ["non-saturating", "minimax"]


def softplus(z):
    return np.logaddexp(0.0, z)


def bce(z, y):
    """Mean BCE-with-logits, host float64: softplus(z) - z y."""
    return float(np.mean(softplus(z) - z * y))


def relu(z):
    return np.maximum(z, 0.0)


def reference(name, r, f, a_real, a_fake):
    """(d loss_real, d loss_fake, g loss) from the formulas, on host arrays."""
    if name in BCE_NAMES:
        g = bce(f, 1.0) if name == "non-saturating" else -bce(f, 0.0)
        return bce(r, a_real), bce(f, a_fake), g
    if name == "lsgan":
        return (0.5 * np.mean((r - a_real) ** 2), 0.5 * np.mean((f - a_fake) ** 2),
                0.5 * np.mean((f - 1.0) ** 2))
    if name == "hinge":
        return np.mean(relu(1 - r)), np.mean(relu(1 + f)), -np.mean(f)
    assert name in ("wgan", "wgan-gp")  # wgan-gp: its penalty is added by the Trainer
    return -np.mean(r), np.mean(f), -np.mean(f)


def draw_outputs(name, n_real, n_fake, scale, seed):
    rng = mg.backend.default_rng(seed)
    real = rng.standard_normal((n_real, 1)) * scale
    fake = rng.standard_normal((n_fake, 1)) * scale
    if name == "hinge":  # stay 0.01 away from the kinks r = 1, f = -1
        real += 0.01 * (((real - 1) >= 0) * 2 - 1)
        fake += 0.01 * (((fake + 1) >= 0) * 2 - 1)
    return real, fake


def labels_for(name, data):
    if name in BCE_NAMES:
        return data.draw(st.floats(0.7, 1.0)), data.draw(st.floats(0.0, 0.3))
    if name == "lsgan":
        return data.draw(st.floats(-1.0, 1.5)), data.draw(st.floats(-1.0, 0.5))
    return 1.0, 0.0


@pytest.mark.parametrize("name", NAMES)
@given(n_real=st.integers(1, 6), n_fake=st.integers(1, 6), scale=st.floats(0.1, 5.0),
       seed=st.integers(0, 2**31 - 1), data=st.data())
def test_gradients_match_finite_differences(array_backend, name, n_real, n_fake, scale, seed,
                                            data):
    objective = get_objective(name)
    real, fake = draw_outputs(name, n_real, n_fake, scale, seed)
    a_real, a_fake = labels_for(name, data)
    d = objective.d_loss(real, fake, a_real, a_fake)
    g = objective.g_loss(fake)

    def d_value():
        return objective.d_loss(real, fake, a_real, a_fake)["loss"]

    for key, array in (("grad_real", real), ("grad_fake", fake)):
        assert d[key].shape == array.shape and d[key].dtype == array.dtype
        assert isinstance(d[key], array_backend.ndarray)
        assert_matches(d[key], numerical_gradient(d_value, array), (name, key))
    numeric = numerical_gradient(lambda: objective.g_loss(fake)["loss"], fake)
    assert g["grad_fake"].shape == fake.shape and g["grad_fake"].dtype == fake.dtype
    assert_matches(g["grad_fake"], numeric, (name, "g"))


def assert_matches(analytic, numeric, what):
    """Relative 1e-6, plus an absolute 1e-8 for elements far smaller than the loss: central
    differences of a loss L carry a round-off of about 1e-16 |L| / eps = 1e-10 |L|."""
    np.testing.assert_allclose(mg.backend.to_numpy(analytic), mg.backend.to_numpy(numeric),
                               rtol=1e-6, atol=1e-8, err_msg=str(what))


@pytest.mark.parametrize("name", NAMES)
@given(n_real=st.integers(1, 8), n_fake=st.integers(1, 8), scale=st.floats(0.1, 10.0),
       seed=st.integers(0, 2**31 - 1), data=st.data())
def test_values_match_the_formulas(array_backend, name, n_real, n_fake, scale, seed, data):
    objective = get_objective(name)
    real, fake = draw_outputs(name, n_real, n_fake, scale, seed)
    a_real, a_fake = labels_for(name, data)
    d = objective.d_loss(real, fake, a_real, a_fake)
    g = objective.g_loss(fake)
    for value in (d["loss"], d["loss_real"], d["loss_fake"], g["loss"]):
        assert type(value) is float
    expected_real, expected_fake, expected_g = reference(
        name, mg.backend.to_numpy(real), mg.backend.to_numpy(fake), a_real, a_fake)
    assert d["loss_real"] == pytest.approx(expected_real, rel=1e-12, abs=1e-14)
    assert d["loss_fake"] == pytest.approx(expected_fake, rel=1e-12, abs=1e-14)
    assert d["loss"] == d["loss_real"] + d["loss_fake"]
    assert g["loss"] == pytest.approx(expected_g, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", BCE_NAMES)
@given(n=st.integers(1, 8), scale=st.floats(0.1, 20.0), real_label=st.floats(0.5, 1.0),
       seed=st.integers(0, 2**31 - 1))
def test_bce_objectives_match_torch(array_backend, name, n, scale, real_label, seed):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    objective = get_objective(name)
    real, fake = draw_outputs(name, n, n + 1, scale, seed)
    d = objective.d_loss(real, fake, real_label=real_label)
    g = objective.g_loss(fake)

    tr = torch.tensor(mg.backend.to_numpy(real), requires_grad=True)
    tf_ = torch.tensor(mg.backend.to_numpy(fake), requires_grad=True)
    # abs=1e-13 on values: at |logit| ~ 17 torch's log(1 + exp(-|z|)) rounds to ~1e-15
    # where minigan's log1p form is exact (checked with mpmath)
    loss_real = tf.binary_cross_entropy_with_logits(tr, torch.full_like(tr, real_label))
    loss_fake = tf.binary_cross_entropy_with_logits(tf_, torch.zeros_like(tf_))
    (loss_real + loss_fake).backward()
    assert d["loss_real"] == pytest.approx(loss_real.item(), rel=1e-12, abs=1e-13)
    assert d["loss_fake"] == pytest.approx(loss_fake.item(), rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(mg.backend.to_numpy(d["grad_real"]), tr.grad.numpy(),
                               rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(mg.backend.to_numpy(d["grad_fake"]), tf_.grad.numpy(),
                               rtol=1e-12, atol=1e-17)

    tf_.grad = None
    if name == "non-saturating":
        loss_g = tf.binary_cross_entropy_with_logits(tf_, torch.ones_like(tf_))
    else:  # minimise log(1 - D(G(z))) = -BCE(f, 0)
        loss_g = -tf.binary_cross_entropy_with_logits(tf_, torch.zeros_like(tf_))
    loss_g.backward()
    assert g["loss"] == pytest.approx(loss_g.item(), rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(mg.backend.to_numpy(g["grad_fake"]), tf_.grad.numpy(),
                               rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BCE_NAMES)
def test_bce_objectives_finite_and_exact_at_extreme_logits(array_backend, name, dtype):
    xp = array_backend
    real = xp.asarray(np.array([[1e4], [-1e4]], dtype=dtype))
    fake = xp.asarray(np.array([[-1e4], [1e4]], dtype=dtype))
    d = get_objective(name).d_loss(real, fake, real_label=0.9)
    g = get_objective(name).g_loss(fake)
    # BCE(z, y) = softplus(z) - z y: real 1e4 -> 1e4 * 0.1, real -1e4 -> 1e4 * 0.9
    assert d["loss_real"] == pytest.approx((1000 + 9000) / 2, rel=1e-6)
    assert d["loss_fake"] == pytest.approx((0 + 1e4) / 2, rel=1e-6)
    assert g["loss"] == pytest.approx(1e4 / 2 if name == "non-saturating" else -1e4 / 2,
                                      rel=1e-6)
    for grad in (d["grad_real"], d["grad_fake"], g["grad_fake"]):
        host = mg.backend.to_numpy(grad)
        assert host.dtype == np.dtype(dtype) and np.all(np.isfinite(host))
    np.testing.assert_allclose(mg.backend.to_numpy(d["grad_real"]).ravel(), [0.1 / 2, -0.9 / 2],
                               rtol=1e-6)
    np.testing.assert_allclose(mg.backend.to_numpy(d["grad_fake"]).ravel(), [0, 1 / 2],
                               atol=1e-12)
    expected_g = [-1 / 2, 0] if name == "non-saturating" else [0, -1 / 2]
    np.testing.assert_allclose(mg.backend.to_numpy(g["grad_fake"]).ravel(), expected_g,
                               atol=1e-12)


@pytest.mark.parametrize("logit", [-30.0, -100.0, -1e4])
def test_minimax_saturates_where_non_saturating_does_not(array_backend, logit):
    """D confidently rejects the fakes: sigma(f) = D(G(z)) ~ 0. The minimax gradient
    -sigma(f)/N vanishes; the non-saturating one -(1 - sigma(f))/N stays at -1/N."""
    n = 4
    fake = array_backend.full((n, 1), logit)
    minimax = mg.backend.to_numpy(get_objective("minimax").g_loss(fake)["grad_fake"])
    non_saturating = mg.backend.to_numpy(get_objective("non-saturating").g_loss(fake)["grad_fake"])
    assert np.all(np.abs(minimax) < 1e-12)
    assert np.all(minimax <= 0)
    np.testing.assert_allclose(non_saturating, -1 / n, rtol=1e-12)


def test_hinge_kink_convention(array_backend):
    """At r = 1 and f = -1 the hinge terms' gradient is 0 (relu'(0) = 0, as PyTorch)."""
    xp = array_backend
    real = xp.asarray(np.array([[1.0], [0.5], [2.0]]))
    fake = xp.asarray(np.array([[-1.0], [-0.5], [-2.0]]))
    d = get_objective("hinge").d_loss(real, fake)
    np.testing.assert_array_equal(mg.backend.to_numpy(d["grad_real"]).ravel(), [0, -1 / 3, 0])
    np.testing.assert_array_equal(mg.backend.to_numpy(d["grad_fake"]).ravel(), [0, 1 / 3, 0])
    assert d["loss_real"] == pytest.approx(0.5 / 3)
    assert d["loss_fake"] == pytest.approx(0.5 / 3)


@pytest.mark.parametrize("name", ["hinge", "wgan", "wgan-gp"])
def test_labels_are_ignored_where_they_do_not_apply(name):
    objective = get_objective(name)
    assert objective.uses_labels is False
    real, fake = np.array([[0.3], [2.0]]), np.array([[-0.4], [-3.0]])
    plain = objective.d_loss(real, fake)
    smoothed = objective.d_loss(real, fake, real_label=0.9, fake_label=0.1)
    assert plain["loss"] == smoothed["loss"]
    np.testing.assert_array_equal(plain["grad_real"], smoothed["grad_real"])


def test_attributes_a_trainer_reads():
    for name in NAMES:
        objective = get_objective(name)
        assert isinstance(objective, Objective) and objective.name == name
        assert objective.sigmoid_outputs == (name in BCE_NAMES)
        assert objective.clip_value == (0.01 if name == "wgan" else None)
        assert objective.gp_weight == (10.0 if name == "wgan-gp" else None)
        assert objective.critic == (name in ("wgan", "wgan-gp"))
    assert get_objective("wgan", clip_value=0.05).clip_value == 0.05
    wgan_gp = get_objective("wgan-gp", weight=5, target=0.5)
    assert (wgan_gp.gp_weight, wgan_gp.gp_target) == (5.0, 0.5)
    assert get_objective("lsgan", generator_target=0.5).generator_target == 0.5
    assert get_objective("Non_Saturating").name == "non-saturating"
    objective = get_objective("hinge")
    assert get_objective(objective) is objective
    assert sorted(OBJECTIVES) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_kept_and_inputs_not_mutated(array_backend, name):
    xp = array_backend
    real = xp.asarray(np.array([[0.3], [-2.0], [1.7]], dtype=np.float32))
    fake = xp.asarray(np.array([[-0.4], [0.9]], dtype=np.float32))
    real_copy, fake_copy = real.copy(), fake.copy()
    objective = get_objective(name)
    d = objective.d_loss(real, fake, 0.9 if name != "hinge" else 1.0)
    g = objective.g_loss(fake)
    for grad in (d["grad_real"], d["grad_fake"], g["grad_fake"]):
        assert grad.dtype == xp.float32
    assert bool((real == real_copy).all()) and bool((fake == fake_copy).all())


def test_errors_are_clear():
    with pytest.raises(ConfigError, match=r"unknown GAN objective 'lsq'.*'non-saturating', "
                                          r"'minimax', 'lsgan', 'hinge', 'wgan', 'wgan-gp'"):
        get_objective("lsq")
    with pytest.raises(ConfigError, match=r"'hinge' takes no option\(s\) \['clip_value'\]"):
        get_objective("hinge", clip_value=0.1)
    with pytest.raises(ConfigError, match="clip_value must be a positive finite number"):
        get_objective("wgan", clip_value=0)
    with pytest.raises(ConfigError, match=r"WGANGP: weight must be a finite number >= 0, "
                                          r"got -1"):
        get_objective("wgan-gp", weight=-1)
    with pytest.raises(ConfigError, match=r"'wgan-gp' takes no option\(s\) \['clip_value'\]"):
        get_objective("wgan-gp", clip_value=0.1)
    with pytest.raises(ConfigError, match="generator_target must be a finite number"):
        get_objective("lsgan", generator_target=math.nan)
    objective = get_objective("non-saturating")
    out = np.zeros((2, 1))
    with pytest.raises(ConfigError, match=r"real_label is a BCE target and must lie in \[0, 1\]"):
        objective.d_loss(out, out, real_label=1.5)
    with pytest.raises(ConfigError, match="fake_label must be a finite number"):
        objective.d_loss(out, out, fake_label=None)
    with pytest.raises(DTypeError, match="real_out must be a floating numpy array"):
        objective.d_loss(np.zeros((2, 1), dtype=int), out)
    with pytest.raises(ShapeError, match=r"fake_out is empty, shape \(0, 1\)"):
        objective.g_loss(np.zeros((0, 1)))


def test_strict_backend_refuses_host_outputs():
    import strict_backend

    with strict_backend.strict_backend():
        with pytest.raises(DTypeError, match="must be a floating strict array"):
            get_objective("wgan").g_loss(np.zeros((2, 1)))


@pytest.mark.parametrize("name", NAMES)
def test_one_term_at_a_time_matches_d_loss(array_backend, name):
    xp = array_backend
    real = xp.asarray(np.array([[0.3], [-2.0], [1.7]]))
    fake = xp.asarray(np.array([[-0.4], [0.9]]))
    objective = get_objective(name)
    d = objective.d_loss(real, fake, 0.9, 0.1)
    loss_real, grad_real = objective.d_real(real, 0.9)
    loss_fake, grad_fake = objective.d_fake(fake, 0.1)
    assert (loss_real, loss_fake) == (d["loss_real"], d["loss_fake"])
    assert type(loss_real) is float
    assert bool((grad_real == d["grad_real"]).all()) and bool((grad_fake == d["grad_fake"]).all())
    mean = objective.mean_output(real)
    host = mg.backend.to_numpy(real)
    expected = np.mean(1 / (1 + np.exp(-host))) if name in BCE_NAMES else np.mean(host)
    assert type(mean) is float and mean == pytest.approx(expected, rel=1e-12)

"""``examples/dcgan_by_hand.py``'s ``train_step`` -- the GAN step written with layer calls,
backward, the loss and the optimizers -- computes what ``Trainer.step`` computes.

The function is taken from the example's own source (so the test checks the code the
student reads), run from the same initial weights on the same real batches and on the
noise that ``Trainer.step`` drew (recorded from ``trainer.noise``, in the order drawn:
the D step's z, then the G step's). Both run the same layer operations in the same order
on the same shapes, in one process with the same thread count, inside an engine region:
the same computation, so the weights, the optimizer states and the losses must agree
bit for bit after every step.
"""

import ast
from pathlib import Path

import numpy as np

import minigan as mg

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "dcgan_by_hand.py"


def example_train_step():
    source = EXAMPLE.read_text(encoding="utf-8")
    [node] = [n for n in ast.parse(source).body
              if isinstance(n, ast.FunctionDef) and n.name == "train_step"]
    namespace = {"mg": mg}
    exec(compile(ast.Module([node], []), str(EXAMPLE), "exec"), namespace)
    return namespace["train_step"]


def test_the_handwritten_step_equals_trainer_step_bit_for_bit():
    train_step = example_train_step()
    rng = mg.backend.default_rng(3)
    G, D = mg.gan.dcgan_generator(latent_dim=100, rng=rng), mg.gan.dcgan_discriminator(rng=rng)
    G2, D2 = mg.gan.dcgan_generator(latent_dim=100), mg.gan.dcgan_discriminator()
    initial_g, initial_d = mg.gan.dcgan_generator(latent_dim=100), mg.gan.dcgan_discriminator()
    for copy in (G2, initial_g):
        copy.load_state_dict(G.state_dict())
    for copy in (D2, initial_d):
        copy.load_state_dict(D.state_dict())
    trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=2e-4, lr_g=2e-4,
                             betas=(0.5, 0.999), real_label=0.9, d_steps=1, seed=7)
    opt_d = mg.optim.Adam(D2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = mg.optim.Adam(G2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    drawn, draw = [], trainer.noise

    def recording_noise(n, stream=0):
        z = draw(n, stream)
        drawn.append(z.copy())
        return z

    trainer.noise = recording_noise
    data = np.random.default_rng(0).uniform(-1, 1, (3, 8, 28, 28, 1)).astype(np.float32)
    for step, real in enumerate(data, start=1):
        drawn.clear()
        stats = trainer.step(real)
        assert len(drawn) == 2, "Trainer.step drew other noise than one z per D and G step"
        mine = train_step(G2, D2, opt_d, opt_g, real, drawn[0], drawn[1])
        for key in ("loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake"):
            assert mine[key] == stats[key], (step, key, mine[key], stats[key])
        for name, (a, b) in {**_pairs("G", G, G2), **_pairs("D", D, D2)}.items():
            assert np.array_equal(a, b), f"step {step}: {name} differs"
        for name, (a, b) in {**_pairs("opt_g", trainer.opt_g, opt_g),
                             **_pairs("opt_d", trainer.opt_d, opt_d)}.items():
            assert np.array_equal(np.asarray(a), np.asarray(b)), f"step {step}: {name} differs"
    assert trainer.step_count == 3
    for name, (now, before) in {**_pairs("G", G, initial_g), **_pairs("D", D, initial_d)}.items():
        if name.endswith("weight"):  # the steps did train: the equality is not of idle weights
            assert not np.array_equal(now, before), name


def _pairs(prefix, a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return {f"{prefix}.{k}": (sa[k], sb[k]) for k in sa}


def test_the_docs_quote_the_examples_train_step():
    """Every line of docs/exercises.md's ```python block is a line of the example ("..."
    marks an elision), so the page cannot drift from the code the test above checks."""
    import re

    page = (EXAMPLE.parent.parent / "docs" / "exercises.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    source = {line.strip() for line in EXAMPLE.read_text(encoding="utf-8").splitlines()}
    quoted = [line.strip() for line in block.splitlines() if line.strip()]
    assert "def train_step(G, D, opt_d, opt_g, real, z_d, z_g, real_label=0.9):" in quoted
    assert [line for line in quoted if line != "..." and line not in source] == []

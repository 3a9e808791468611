"""Retrain the MNIST classifier behind ``minigan evaluate``, reproducibly.

    python scripts/train_classifier.py [--epochs 24] [--seed 0] [--backend numpy|cupy]
                                       [--out minigan/data/mnist_classifier.npz]

Uses only minigan's own layers, ``CrossEntropy`` and ``Adam``, on the embedded
5,000-digit MNIST sample: the fixed stratified split of ``metrics.heldout_split``
(4,500 training digits, 500 held out, 50 per class), random shifts of +-2 pixels as
augmentation (seeded), a fixed seed for initialisation and shuffling. Writes the
weights (float16, compressed, atomically) and a json file next to them with the
architecture, seed, held-out accuracy (of the float16 weights as shipped), date,
sha256 of the npz, the command, and the baseline Fréchet distances. A few minutes
on 2 CPU cores with NumPy.
"""

import argparse
import datetime
import hashlib
import io
import json
import pathlib
import sys
import time

import numpy

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import minigan as mg  # noqa: E402
from minigan import backend, metrics  # noqa: E402
from minigan.atomic import atomic_write  # noqa: E402
from minigan.data import to_unit_range  # noqa: E402
from minigan.losses import CrossEntropy  # noqa: E402

DEFAULT_OUT = pathlib.Path(metrics.__file__).parent / "data" / metrics.WEIGHTS_FILE
SHIFT = 2


def random_shifts(x, rng):
    """Shift each image of x (N, 28, 28, 1) by its own random (dy, dx) in [-2, 2]^2.

    Pads with the background value -1, takes the (5, 5) grid of 28x28 windows as a
    strided view and gathers one window per image: no per-image Python loop.
    """
    xp = backend.xp
    n = x.shape[0]
    padded = xp.pad(x, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)), constant_values=-1.0)
    windows = xp.lib.stride_tricks.sliding_window_view(padded, (28, 28), axis=(1, 2))
    offsets = rng.integers(0, 2 * SHIFT + 1, size=(2, n))          # (2, N)
    picked = windows[xp.arange(n), offsets[0], offsets[1]]           # (N, 1, 28, 28)
    return xp.ascontiguousarray(picked.transpose(0, 2, 3, 1))


def accuracy(model, images, labels):
    """Fraction of images (host, NHWC in [-1, 1]) whose argmax matches labels (host)."""
    _, probabilities = metrics.classifier_outputs(images, model=model)
    return float((probabilities.argmax(axis=1) == labels).mean())


def train(images, labels, epochs, seed, batch_size=64, lr=1e-3, log=print):
    """Train a fresh classifier on host images (N, 28, 28, 1) / labels (N,); returns it."""
    xp = backend.xp
    model = metrics.mnist_classifier(dtype="float32", rng=backend.default_rng(seed))
    optimizer = mg.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    loss = CrossEntropy()
    rng = backend.default_rng(seed + 1)
    x_all = backend.to_device(images)
    y_all = backend.to_device(labels.astype(numpy.int64))
    n = x_all.shape[0]
    for epoch in range(epochs):
        if epoch == (3 * epochs) // 4:  # the last quarter at a tenth of the learning rate
            optimizer.lr = lr / 10
        order = xp.argsort(rng.random(n))  # a permutation (CuPy's Generator has none)
        total, start_time = 0.0, time.perf_counter()
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            x = random_shifts(x_all[index], rng)
            optimizer.zero_grad()
            total += loss(model(x), y_all[index]) * index.shape[0]
            model.backward(loss.backward(), need_input_grad=False)
            optimizer.step()
        log(f"epoch {epoch + 1}/{epochs}: mean loss {total / n:.4f} "
            f"({time.perf_counter() - start_time:.1f} s)")
    return model.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    backend.use(args.backend)
    from minigan.data import load_embedded_mnist

    digits, labels = load_embedded_mnist(quiet=True)
    images = to_unit_range(digits)
    labels = numpy.asarray(labels, dtype=numpy.int64)
    train_index, heldout_index = metrics.heldout_split(labels)
    print(f"{len(train_index)} training digits, {len(heldout_index)} held out; "
          f"backend {backend.name}, seed {args.seed}")

    started = time.perf_counter()
    model = train(images[train_index], labels[train_index], args.epochs, args.seed)
    seconds = time.perf_counter() - started
    print(f"held-out accuracy (float32 weights): "
          f"{accuracy(model, images[heldout_index], labels[heldout_index]):.4f}")

    # Ship float16 weights; everything below is measured with the weights as shipped.
    state = {k: backend.to_numpy(v).astype(numpy.float16) for k, v in model.state_dict().items()}
    buffer = io.BytesIO()
    numpy.savez_compressed(buffer, **state)
    payload = buffer.getvalue()
    with atomic_write(args.out) as f:
        f.write(payload)
    model.load_state_dict(state)
    heldout_accuracy = accuracy(model, images[heldout_index], labels[heldout_index])
    print(f"held-out accuracy (float16 weights as shipped): {heldout_accuracy:.4f}")

    features, _ = metrics.classifier_outputs(images, model=model)
    noise = numpy.random.default_rng(args.seed).uniform(-1, 1, (2500, 28, 28, 1))
    noise_features, noise_probabilities = metrics.classifier_outputs(
        noise.astype(numpy.float32), model=model)
    halves = numpy.random.default_rng(args.seed).permutation(len(images))
    first, second = features[halves[:2500]], features[halves[2500:]]
    baselines = {
        "real_vs_real_halves": metrics.frechet_distance(first, second),
        "noise_vs_real": metrics.frechet_distance(noise_features, second),
        "noise_classes_present": metrics.class_coverage(noise_probabilities)[0],
    }
    print(f"FD real vs real (two halves, 2500/2500): {baselines['real_vs_real_halves']:.3f}")
    print(f"FD uniform noise vs real (2500/2500): {baselines['noise_vs_real']:.3f}")

    info = {
        "architecture": metrics.ARCHITECTURE,
        "builder": "minigan.metrics.mnist_classifier",
        "parameters": int(sum(v.size for v in state.values())),
        "storage": "float16, numpy.savez_compressed",
        "bytes": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "seed": args.seed,
        "epochs": args.epochs,
        "backend": backend.name,
        "data": "embedded MNIST sample (minigan.data.load_embedded_mnist), "
                "metrics.heldout_split: 4500 train / 500 held out",
        "heldout_accuracy": heldout_accuracy,
        "training_seconds": round(seconds, 1),
        "frechet_distance_baselines": baselines,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "scripts/train_classifier.py"]
                            + (argv if argv is not None else sys.argv[1:])),
    }
    json_path = args.out.with_suffix(".json")
    with atomic_write(json_path, "w") as f:
        f.write(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.out} ({len(payload) / 1024:.0f} KB) and {json_path}; "
          f"training took {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

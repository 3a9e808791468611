"""Hostile files: checkpoints, metrics logs and data that are damaged, forged or not what
they claim. Each is refused with exit status 2 and one line naming the file, the entry
and what was expected -- never a traceback, never a silently wrong result -- and nothing
on disk changes (``cli_rows.assert_refused``).

* ``CHECKPOINTS``: each row turns a good checkpoint of a tiny finished run (MLP, 200
  digits, 8 steps) into a bad one, which ``minigan sample`` and ``minigan train --resume``
  must both refuse;
* ``METRICS``: a resume over a run whose metrics.jsonl holds a line that is not a step;
* ``DATA``: data directories and IDX files that ``minigan train`` must refuse before it
  creates its run directory.

A checkpoint with a large extra member is read without decompressing it; downloads that
do not stop are in ``test_data_download.py``.
"""

import gzip
import io
import json
import os
import re
import shutil
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from cli_rows import assert_refused, finished_tiny_run, run, tiny_data

from minigan.checkpoint import load_checkpoint
from minigan.data import load_embedded_mnist, write_idx

W = "trainer.G.0.weight"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """(data dir, a finished run dir) -- its checkpoints/last.npz is the good checkpoint."""
    return finished_tiny_run(tmp_path_factory.mktemp("good"), checkpoint_every=0)


def savez(path, arrays, meta):
    """An .npz as numpy writes it, with ``meta`` (a JSON-able value, or raw text) as the
    metadata entry."""
    text = meta if isinstance(meta, str) else json.dumps(meta)
    with open(path, "wb") as file:
        np.savez(file, __meta__=np.array(text), **arrays)


def changed(path, good, arrays=None, meta=None, drop=()):
    """The good checkpoint with some arrays replaced, metadata edited, entries dropped."""
    a, m = load_checkpoint(str(good))
    a.update(arrays or {})
    for key in drop:
        a.pop(key)
    if callable(meta):
        m = meta(m)
    savez(path, a, m)


def edit(**changes):
    """A metadata editor: ``config__seed=-1`` sets meta["config"]["seed"]; ``step=None``
    deletes meta["step"]."""
    def apply(meta):
        for key, value in changes.items():
            target, name = meta, key
            if "__" in key:
                part, name = key.split("__")
                target = meta[part]
            if value is None:
                del target[name]
            else:
                target[name] = value
        return meta
    return apply


def flip_a_data_byte(path, good):
    """One byte inside the stored data of the first weight: the member's CRC no longer fits."""
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo(W + ".npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[start] ^= 0xFF
    path.write_bytes(bytes(data))


def huge_header(path, good):
    """The first weight's .npy header claims 10**12 float32s; its data is 16 bytes."""
    a, m = load_checkpoint(str(good))
    savez(path, {k: v for k, v in a.items() if k != W}, m)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (10**12,)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(W + ".npy", np.lib.format.magic(1, 0) + header.getvalue()[8:]
                         + bytes(16))


def write(content):
    return lambda path, good: path.write_bytes(content)


FOREIGN = "expected a minigan checkpoint: an .npz archive written by minigan train"
CHECKPOINTS = [
    ("an .npy renamed .npz", lambda p, g: np.save(open(p, "wb"), np.ones(3)),
     r"the file is a single NumPy array \(\.npy\), not an \.npz archive; " + FOREIGN),
    ("an HTML page", write(b"<!DOCTYPE html><html><body>Sign in</body></html>"),
     r"the file is an HTML page; " + FOREIGN),
    ("a PNG image", write(b"\x89PNG\r\n\x1a\n" + bytes(100)), r"the file is a PNG image; "),
    ("a JSON document", write(b'{"weights": [1, 2]}'), r"the file is a JSON document; "),
    ("a README", write(b"# my run\nThese are notes.\n"), r"the file is a text file; "),
    ("an empty file", write(b""), r"the file is an empty file; "),
    ("a directory", lambda p, g: p.mkdir(), r"the file is a directory; "),
    ("a FIFO", lambda p, g: os.mkfifo(p), r"the file is a FIFO; "),
    ("truncated", lambda p, g: p.write_bytes(g.read_bytes()[:len(g.read_bytes()) // 2]),
     r"not a readable minigan checkpoint \(truncated or corrupted \.npz\)"),
    ("a flipped data byte", flip_a_data_byte,
     rf"not a readable minigan checkpoint \(truncated or corrupted \.npz\) \(member '{W}'\): "
     r"Bad CRC-32"),
    ("a pickled weight", lambda p, g: changed(p, g, {W: np.array([{"a": 1}], dtype=object)}),
     rf"refused: member '{W}' holds pickled objects \(dtype object\)"),
    ("metadata that is not JSON", lambda p, g: changed(p, g, meta=lambda m: "{'step': 8"),
     r"'__meta__' is not valid JSON"),
    ("metadata that is a list", lambda p, g: changed(p, g, meta=lambda m: [m]),
     r"'__meta__' must be a JSON object, got list"),
    ("no data-order state", lambda p, g: changed(p, g, meta=edit(batches=None)),
     r"the metadata has no 'batches' \(not written by minigan train\)"),
    ("no step count", lambda p, g: changed(p, g, drop=["trainer.step_count"]),
     r"keys do not match: missing \['step_count'\], unexpected \[\]"),
    ("no optimizer lr", lambda p, g: changed(p, g, drop=["trainer.opt_d.lr"]),
     r"keys do not match: missing \['opt_d\.lr'\]"),
    ("a string weight array", lambda p, g: changed(p, g, {W: np.array(["a", "b"])}),
     rf"'{W}': expected a real floating array of shape \(100, 256\), got <U1 of shape \(2,\)"),
    ("a step-count vector", lambda p, g: changed(p, g, {"trainer.step_count": np.arange(3)}),
     r"'trainer\.step_count': expected an integer scalar from 0 to 1,000,000,000,000, got "
     r"int64 of shape \(3,\)"),
    ("optimizer t = -1", lambda p, g: changed(p, g, {"trainer.opt_d.t": np.array(-1)}),
     r"'trainer\.opt_d\.t': expected an integer scalar from 0 to 1,000,000,000,000, got -1"),
    ("a header claiming 10**12 floats", huge_header,
     rf"member '{W}': its header says float32 of shape \(1000000000000,\) \(4000000000000 "
     r"bytes of data from offset 128\), the member holds 16 bytes"),
    ("a bad generator state",
     lambda p, g: changed(p, g, meta=edit(batches__rng={"bit_generator": "MT19937"})),
     r"data-order state 'rng' is not a PCG64 generator state: state must be for a PCG64 RNG"),
    ("an unknown setting", lambda p, g: changed(p, g, meta=edit(config__bogus=1)),
     r"its stored settings are not valid: unknown config key 'bogus' \(known: .*\)"),
    ("a stored seed of -1", lambda p, g: changed(p, g, meta=edit(config__seed=-1)),
     r"its stored settings are not valid: config key 'seed': expected an integer from 0"),
    ("complex weights", lambda p, g: changed(p, g, {W: np.zeros((100, 256), np.complex64)}),
     rf"'{W}': expected a real floating array of shape \(100, 256\), got complex64"),
    ("int64 weights", lambda p, g: changed(p, g, {W: np.zeros((100, 256), np.int64)}),
     rf"'{W}': expected a real floating array of shape \(100, 256\), got int64"),
    ("lr = -1", lambda p, g: changed(p, g, {"trainer.opt_g.lr": np.array(-1.0)}),
     r"'trainer\.opt_g\.lr': expected a finite real scalar >= 0, got -1\.0"),
    ("step_count = -5", lambda p, g: changed(p, g, {"trainer.step_count": np.array(-5)}),
     r"'trainer\.step_count': expected an integer scalar from 0 to 1,000,000,000,000, got -5"),
    ("NaN weights", lambda p, g: changed(p, g, {W: np.full((100, 256), np.nan, np.float32)}),
     rf"'{W}': 25600 of 25600 values are NaN or infinite"),
    ("a step that is not the metadata's", lambda p, g: changed(p, g, meta=edit(step=7)),
     r"'trainer\.step_count' is 8 but the metadata says step 7"),
    ("metadata nested 50,000 deep",
     lambda p, g: changed(p, g, meta=lambda m: "[" * 50_000 + "]" * 50_000),
     r"'__meta__' is JSON nested too deep to be a minigan checkpoint's metadata"),
    ("a stored latent_dim of 10**30",
     lambda p, g: changed(p, g, meta=edit(config__latent_dim=10**30)),
     r"its stored settings are not valid: config key 'latent_dim': expected an integer from 1 "
     r"to 4,096, got 10{30}"),
    ("a stored sample_count of 10**9",
     lambda p, g: changed(p, g, meta=edit(config__sample_count=10**9)),
     r"config key 'sample_count': expected an integer from 1 to 2,500 \(one grid\), got "
     r"1000000000"),
    ("a stored d_steps of 10**12", lambda p, g: changed(p, g, meta=edit(config__d_steps=10**12)),
     r"config key 'd_steps': expected an integer from 1 to 100, got 1000000000000"),
    ("step_count 2**64 - 1", lambda p, g: changed(
        p, g, {"trainer.step_count": np.array(2**64 - 1, np.uint64)}, meta=edit(step=2**64 - 1)),
     r"the metadata's step must be from 0 to 1,000,000,000,000, got 1\.84e\+19"),
    ("step_count 2**64 - 1, the metadata's step 8", lambda p, g: changed(
        p, g, {"trainer.step_count": np.array(2**64 - 1, np.uint64)}),
     r"'trainer\.step_count': expected an integer scalar from 0 to 1,000,000,000,000, got "
     r"18446744073709551615"),
]


OPTIMIZER_VALUES = {"optimizer t = -1", "lr = -1"}
"""Rows that damage only an optimizer's values: ``sample`` needs G's state alone and draws
from them (the entries must still be present); a resume refuses them."""


@pytest.mark.parametrize("command", ["sample", "train"])
@pytest.mark.parametrize("row", CHECKPOINTS, ids=[row[0] for row in CHECKPOINTS])
def test_a_bad_checkpoint_is_refused_with_what_it_is(row, command, good, tmp_path, capsys,
                                                      monkeypatch):
    name, make, pattern = row
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.npz"
    make(path, good[1] / "checkpoints" / "last.npz")
    if command == "sample" and name in OPTIMIZER_VALUES:
        status, out, err = run(["sample", path, "--n", "4", "--out", "grid.png"], capsys)
        assert status == 0 and (tmp_path / "grid.png").is_file(), err
        return
    argv = (["sample", path, "--out", "grid.png"] if command == "sample"
            else ["train", "--resume", path, "--out", "resumed"])
    line = assert_refused(argv, capsys, tmp_path, 2, pattern)
    assert str(path) in line


def test_a_huge_unused_member_is_never_read(good, tmp_path, capsys, monkeypatch):
    """A good checkpoint plus a 256 MiB member of zeros (a few hundred KB compressed):
    ``sample`` reads only the members the generator needs, so its memory stays far below
    the member's size."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "padded.npz"
    shutil.copy(good[1] / "checkpoints" / "last.npz", path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (2**26,)})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("junk.npy", "w", force_zip64=True) as member:
            member.write(np.lib.format.magic(1, 0) + header.getvalue()[8:])
            for _ in range(256):
                member.write(bytes(2**20))
    assert path.stat().st_size < 20 * 2**20
    tracemalloc.start()
    try:
        status, out, err = run(["sample", path, "--n", "4", "--out", "grid.png"], capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 0, err
    assert peak < 64 * 2**20, peak


METRICS = [
    ("{}", b"{}", r"line 2: expected a JSON object with an integer 'step' >= 1, got \{\}"),
    ("null", b"null", r"line 2: expected a JSON object with an integer 'step' >= 1, got null"),
    ("bytes that are not UTF-8", b"\xff\xfe{\"step\": 2}",
     r"line 2: not UTF-8 text \(invalid start byte at byte 0\)"),
    ("not JSON", b"step 2: loss 0.7", r"line 2: not JSON \(Expecting value"),
    ("a string step", b'{"step": "2"}', r"line 2: expected a JSON object with an integer 'step'"),
    ("steps going back", b'{"step": 1}', r"line 2: step 1 after step 1 \(steps must increase\)"),
]


@pytest.mark.parametrize("row", METRICS, ids=[row[0] for row in METRICS])
def test_a_resume_over_a_damaged_metrics_log_is_refused(row, good, tmp_path, capsys,
                                                        monkeypatch):
    _, line, pattern = row
    monkeypatch.chdir(tmp_path)
    shutil.copytree(good[1], tmp_path / "run")
    metrics = tmp_path / "run" / "metrics.jsonl"
    lines = metrics.read_bytes().split(b"\n")
    lines[1] = line
    metrics.write_bytes(b"\n".join(lines))
    assert_refused(["train", "--resume", "run/checkpoints/last.npz", "--epochs", "3"], capsys,
                   tmp_path, 2,
                   r"minigan: error: run/metrics\.jsonl " + pattern + r".*: repair or remove "
                   r"that line")


def test_a_metrics_line_cut_by_a_kill_is_dropped(good, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(good[1], tmp_path / "run")
    metrics = tmp_path / "run" / "metrics.jsonl"
    metrics.write_bytes(metrics.read_bytes() + b'{"loss_d": 0.7, "st')
    status, _, err = run(["train", "--resume", "run/checkpoints/last.npz", "--epochs", "3"],
                         capsys)
    assert status == 0, err
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == list(range(1, 13))


def idx_header(dims, body=1000):
    return struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims) \
        + bytes(body)


def data_dir(kind):
    """Make the data directory of a DATA row in the current directory; returns --data."""
    os.makedirs("d")
    images, labels = np.zeros((200, 28, 28), np.uint8), np.zeros(200, np.uint8)
    if kind == "32x32":
        images = np.zeros((200, 32, 32), np.uint8)
    if kind == "label 12":
        labels[[7, 9]] = 12
    if kind != "empty":
        write_idx("d/train-labels-idx1-ubyte.gz", labels)
        write_idx("d/train-images-idx3-ubyte.gz", images)
    if kind == "empty test split":
        write_idx("d/t10k-labels-idx1-ubyte.gz", labels[:0])
        write_idx("d/t10k-images-idx3-ubyte.gz", images[:0])
    if kind == "2 million":
        with open("d/train-images-idx3-ubyte.gz", "wb") as file:
            file.write(gzip.compress(idx_header((2_000_000, 28, 28)), mtime=0))
    if kind == "corrupt gzip":
        with open("d/train-images-idx3-ubyte.gz", "r+b") as file:
            file.seek(20)
            file.write(b"\x00" * 40)
    return "d"


DATA = [
    ("$MINIGAN_DATA missing", "env", [],
     r"MNIST: the data directory /no/such/dir \(from \$MINIGAN_DATA\) does not exist or is "
     r"not a directory"),
    ("--data missing", None, ["--data", "/no/such/dir"],
     r"MNIST: the data directory /no/such/dir does not exist or is not a directory"),
    ("--data empty", "empty", ["--data", "d"],
     r"MNIST: the data directory d holds no train split: expected train-images-idx3-ubyte\.gz "
     r"and train-labels-idx1-ubyte\.gz"),
    ("32x32 images", "32x32", ["--data", "d"],
     r"train-images-idx3-ubyte\.gz: header says 200x32x32 uint8; expected uint8 images "
     r"\(Nx28x28\) \(MNIST and Fashion-MNIST images are 28x28, and minigan's models take "
     r"28x28\)"),
    ("a header claiming 2 million images", "2 million", ["--data", "d"],
     r"header says 2000000x28x28 uint8; expected at most 1,000,000 images"),
    ("a corrupt gzip file", "corrupt gzip", ["--data", "d"],
     r"train-images-idx3-ubyte\.gz: corrupt or truncated gzip data"),
    ("a label 12 for a conditional model", "label 12", ["--data", "d", "--model", "conditional"],
     r"--model conditional needs training labels 0 to 9, but 2 of the 200 labels in d are "
     r"not \(label 12 at index 7\)"),
    ("an empty test split to score against", "empty test split",
     ["--data", "d", "--evaluate", "100"],
     r"--evaluate 100: the test split to score against, in d, holds 0 image\(s\); at least 2 "
     r"are needed \(a Fréchet distance needs a covariance\): add images, or pass --evaluate 0"),
    ("no test split to score against", "train only", ["--data", "d", "--evaluate", "100"],
     r"--evaluate 100 scores against the test split, which the data directory d does not "
     r"hold \(expected t10k-images-idx3-ubyte\.gz and t10k-labels-idx1-ubyte\.gz\)"),
]


@pytest.mark.parametrize("row", DATA, ids=[row[0] for row in DATA])
def test_bad_data_is_refused_before_the_run_directory_exists(row, tmp_path, capsys,
                                                              monkeypatch):
    _, kind, extra, pattern = row
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    if kind == "env":
        monkeypatch.setenv("MINIGAN_DATA", "/no/such/dir")
    elif kind is not None:
        data_dir(kind)
    argv = ["train", "--model", "mlp", "--no-progress", "--evaluate", "0", *extra]
    assert_refused(argv, capsys, tmp_path, 2, pattern)
    assert not (tmp_path / "runs").exists()


def test_evaluate_refuses_a_test_split_of_one_image(tmp_path, capsys):
    data, out = finished_tiny_run(tmp_path, 0)
    images = load_embedded_mnist(quiet=True)[0][:1]
    write_idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"), images)
    write_idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz"), np.zeros(1, np.uint8))
    assert_refused(["evaluate", str(out / "checkpoints" / "last.npz"), "--n", "50"], capsys,
                   tmp_path, 2, r"scoring the samples: the test split to score against, in "
                   rf"{re.escape(data)}, holds 1 image\(s\); at least 2 are needed")


@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_a_negative_batchnorm_variance_is_refused(command, tmp_path_factory, tmp_path, capsys,
                                                  monkeypatch):
    """A DCGAN checkpoint (one step) whose generator's BatchNorm running_var holds -1: sampling
    would divide by sqrt(-1 + eps) (an all-NaN grid), scoring would fail in a matrix square
    root; both refuse the file instead."""
    root = tmp_path_factory.getbasetemp() / "dcgan-one-step"
    last = root / "run" / "checkpoints" / "last.npz"
    if not last.exists():
        data = tiny_data(root / "data")
        assert run(["train", "--data", data, "--model", "dcgan", "--batch-size", "50",
                    "--max-steps", "1", "--no-progress", "--evaluate", "0", "--out",
                    root / "run"], capsys)[0] == 0
    monkeypatch.chdir(tmp_path)
    arrays, meta = load_checkpoint(str(last))
    key = next(k for k in arrays if k.startswith("trainer.G.") and k.endswith("running_var"))
    arrays[key][0] = -1.0
    savez(tmp_path / "bad.npz", arrays, meta)
    argv = (["sample", "bad.npz", "--out", "grid.png"] if command == "sample"
            else ["evaluate", "bad.npz", "--n", "100", "--data", root / "data"])
    assert_refused(argv, capsys, tmp_path, 2,
                   rf"bad\.npz: does not fit this run: .*'{key[len('trainer.G.'):]}' holds "
                   r"negative values; a variance is >= 0")

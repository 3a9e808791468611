"""What a path holds, in words, for error messages: "a PNG image", "a directory", ...

When a file given as a checkpoint (or as data) is something else altogether -- a web
page saved by a browser, a picture, a README, a single ``.npy`` array -- the useful
error says what it is and what was expected, instead of the complaint of whichever
parser happened to read it first. ``describe_path`` looks at the file type and at the
first bytes only (never more than ``SNIFF_BYTES``), so it is safe on any file.
"""

import os
import stat

SNIFF_BYTES = 512

# (leading bytes, what a file starting with them is), first match wins
_MAGIC = [
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x93NUMPY", "a single NumPy array (.npy), not an .npz archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x80", "a Python pickle"),
    (b"\x00\x00\x08", "an IDX file (MNIST-style images or labels)"),
    (b"\x7fELF", "an executable (ELF)"),
]


def describe_path(path):
    """A short phrase saying what ``path`` is: "no such file", "a directory", "a FIFO",
    "an empty file", "a PNG image", "an HTML page", "a JSON document", "a text file",
    "binary data", ... (the kinds of ``_MAGIC`` and a few text sniffs)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as error:
        return f"not accessible ({error.strerror or error})"
    if stat.S_ISDIR(mode):
        return "a directory"
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        return kind
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError as error:
        return f"not readable ({error.strerror or error})"
    return describe_bytes(head)


def describe_bytes(head):
    """What a file starting with the bytes ``head`` is (see ``describe_path``)."""
    if not head:
        return "an empty file"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the sniffed bytes is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "binary data"
    stripped = text.lstrip().lower()
    if stripped.startswith(("<!doctype html", "<html", "<head", "<body")):
        return "an HTML page"
    if stripped.startswith("<"):
        return "an XML or HTML document"
    if stripped.startswith(("{", "[")):
        return "a JSON document"
    return "a text file"

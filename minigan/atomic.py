"""Atomic file writes: the file at a path is always either the old one or the new one.

    with atomic_write("run/checkpoints/last.npz") as f:
        numpy.savez(f, **arrays)   # a file object: savez must not append ".npz" to a name

writes to a temporary file in the same directory, flushes and fsyncs it, then renames
it over the target (``os.replace`` is atomic on POSIX and Windows). On any error the
temporary file is deleted and the target is left untouched, so a crash or a kill at
any moment never leaves half a file behind. An ``OSError`` that names no file (a full
disk while writing) is raised again naming ``path``.
"""

import contextlib
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Yield an open file (``mode`` "wb" or "w") that replaces ``path`` on success."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                                     suffix=".part")
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give open()'s default
        with os.fdopen(fd, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.filename is None and error.errno:
            raise OSError(error.errno, error.strerror, path) from error  # name the file
        raise

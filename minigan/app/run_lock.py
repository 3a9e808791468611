"""The lock that gives a run directory one writer: ``<out>/train.lock``.

Two ``minigan train`` processes writing into one directory interleave their metrics,
config and checkpoints (and the metrics one of them appends can land in a file the other
has just replaced). So ``train`` holds this lock from before its first write to its exit;
a second one is refused, and told which process holds it.

On POSIX systems the lock is an advisory ``flock`` on the file, which the kernel drops
when the process ends, however it ends: a lock file left by a killed run (SIGKILL, a
power cut) is recognised as stale because nobody holds its ``flock``, and is taken over
-- no guessing from process ids, which the system reuses. The file holds the owner's
process id and start time, for the message, and is deleted on a normal exit. Where
``fcntl`` does not exist, the file is created exclusively; a stale one must then be
deleted by hand (the message says so).
"""

import os
import time

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

LOCK_NAME = "train.lock"


class RunDirectoryBusy(Exception):
    """Another live process holds the lock (``owner``: what its lock file says)."""

    def __init__(self, path, owner):
        super().__init__(path, owner)
        self.path, self.owner = path, owner


class RunLock:
    """``with RunLock(directory) as lock:`` -- the directory's one writer, or
    ``RunDirectoryBusy``. ``lock.stale`` is what a dead owner's leftover file said
    (None if there was none)."""

    def __init__(self, directory):
        self.path = os.path.join(directory, LOCK_NAME)
        self.stale = None
        self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def acquire(self):
        while self._fd is None:
            fd = self._lock_posix() if fcntl else self._create_exclusively()
            if fd is None:  # the owner deleted the file as we opened it: try again
                continue
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            os.write(fd, f"pid {os.getpid()}, started {started}".encode())
            os.fsync(fd)
            self._fd = fd

    def _lock_posix(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = _read(fd)
            os.close(fd)
            raise RunDirectoryBusy(self.path, owner) from None
        if not _same_file(fd, self.path):
            os.close(fd)
            return None
        self.stale = _read(fd) or None
        return fd

    def _create_exclusively(self):
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            with open(self.path, "rb") as file:
                owner = file.read(200).decode("utf-8", "replace")
            raise RunDirectoryBusy(self.path, owner + " (if no such run is going on, delete "
                                   "the lock file)") from None

    def release(self):
        if self._fd is None:
            return
        try:
            if _same_file(self._fd, self.path):
                os.unlink(self.path)
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _read(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 200).decode("utf-8", "replace").strip()


def _same_file(fd, path):
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False

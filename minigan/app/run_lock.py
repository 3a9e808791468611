"""The lock that gives a run directory one writer: ``<out>/train.lock``.

Two ``minigan train`` processes writing into one directory interleave their metrics,
config and checkpoints (and the metrics one of them appends can land in a file the other
has just replaced). So ``train`` holds this lock from before its first write to its exit;
a second one is refused, and told which process holds it.

On POSIX systems the lock is an advisory ``flock`` on the run directory itself and on the
file, which the kernel drops when the process ends, however it ends: a lock file left by a
killed run (SIGKILL, a power cut) is recognised as stale because nobody holds its
``flock``, and is taken over -- no guessing from process ids, which the system reuses.
The directory's ``flock`` is what a bystander cannot take away: deleting or replacing
``train.lock`` while a run goes on does not let a second writer in (it is refused, told
that the lock file was removed). The file holds the owner's process id and start time,
for the message, and is deleted on a normal exit. It is opened without following a
symbolic link (``O_NOFOLLOW``) and must be a regular file: a ``train.lock`` that is a link
or anything else is refused (``NotALockFile``), never written through. Where ``fcntl``
does not exist, the file is created exclusively; a stale one must then be deleted by hand
(the message says so).
"""

import os
import stat
import time

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None

LOCK_NAME = "train.lock"


class NotALockFile(Exception):
    """``train.lock`` exists and is not a regular file (``what`` says what it is)."""

    def __init__(self, path, what):
        super().__init__(path, what)
        self.path, self.what = path, what


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
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self.stale = None
        self._fd = None
        self._dir_fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def acquire(self):
        if fcntl:
            self._lock_directory()
        try:
            self._acquire_file()
        except BaseException:
            self._unlock_directory()
            raise

    def _lock_directory(self):
        """The ``flock`` on the directory: held for the whole run, whatever happens to
        the lock file."""
        fd = os.open(self.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            owner = _read_path(self.path) or "its lock file train.lock was removed"
            raise RunDirectoryBusy(self.path, owner) from None
        self._dir_fd = fd

    def _unlock_directory(self):
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None

    def _acquire_file(self):
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
        _check_kind(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
        except OSError:
            _check_kind(self.path)  # replaced by a link in between: say so
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            _check_kind(self.path)
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
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        except FileExistsError:
            _check_kind(self.path)
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
            self._unlock_directory()


def _read(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 200).decode("utf-8", "replace").strip()


def _same_file(fd, path):
    try:
        mine, there = os.fstat(fd), os.lstat(path)
    except FileNotFoundError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _check_kind(path):
    """``NotALockFile`` when ``path`` exists and is not a regular file (a symbolic link is
    never followed)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        what = ("a symbolic link" if stat.S_ISLNK(mode) else "a directory" if stat.S_ISDIR(mode)
                else "not a regular file")
        raise NotALockFile(path, what)


def _read_path(path):
    """What the lock file at ``path`` says ("" if it is missing or not a regular file)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        return _read(fd) if stat.S_ISREG(os.fstat(fd).st_mode) else ""
    finally:
        os.close(fd)

"""A run directory belongs to one run: what ``train`` may write into, and when.

``check_out_dir`` is asked before anything is loaded or written, and again once the
directory's lock is held (another process may have written in between):

* the path must be a directory, or not exist yet with every existing part of it a
  directory that can be written to;
* a fresh run (no ``--resume``) needs it empty or absent: training into a directory
  holding another run would cut its metrics, replace its checkpoint and leave its old
  sample grids behind, mixed with the new ones. ``--overwrite`` allows it, and deletes
  the old run's own files first (``RUN_FILES``; anything else stays) -- only in a
  directory that is provably a minigan run (``check_minigan_run``: its ``config.json``
  is a run's settings), never by file name alone in a folder of another tool's files;
* the run's folders (``samples/``, ``checkpoints/``, ``inspect/``) must be folders of
  their own, not symbolic links: writing or deleting through a link would change
  another directory (another run's checkpoints);
* a resumed run continues in the checkpoint's own directory (``<dir>/checkpoints/*.npz``),
  or starts an empty one. From an older checkpoint of the directory than its
  ``last.npz``, it would discard the later steps: that needs ``--overwrite``, which then
  deletes the later epochs' files (``remove_after``).

``claim`` creates the directory, takes its lock (``run_lock``) and checks again.
"""

import contextlib
import fnmatch
import json
import os
import stat

from ..errors import InputError
from .resume import resume_command
from .run_lock import LOCK_NAME, NotALockFile, RunDirectoryBusy, RunLock

RUN_FILES = ["config.json", "metrics.jsonl", "curves.png", "summary.json", "resumes.jsonl",
             "samples/epoch_*.png", "samples/stages.png", "checkpoints/last.npz",
             "checkpoints/epoch_*.npz",
             "checkpoints/.*.part", "inspect/step_*"]
"""What ``train`` writes (patterns relative to the run directory): all that ``--overwrite``
ever deletes."""


class RunDirectoryError(InputError):
    """The run directory cannot be used as asked; the message says why and what to do."""


def checkpoint_run_dir(checkpoint):
    """The run directory a checkpoint lies in (``<dir>/checkpoints/<name>.npz``), or None;
    relative when the checkpoint's path is."""
    parent = os.path.dirname(os.fspath(checkpoint)) or "."
    if os.path.basename(os.path.abspath(parent)) != "checkpoints":
        return None
    return os.path.normpath(os.path.join(parent, os.pardir))


def same_dir(a, b):
    return a is not None and os.path.realpath(a) == os.path.realpath(b)


def check_path(out):
    """The path itself: a writable directory, or creatable (every existing part a directory)."""
    path = os.path.abspath(out)
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise RunDirectoryError(f"run directory {out}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == path else f"cannot be created: {existing} is " \
                                                           "not writable"
        raise RunDirectoryError(f"run directory {out} {what}")


RUN_FOLDERS = ("samples", "checkpoints", "inspect")
RUN_CONFIG_KEYS = {"dataset", "model", "epochs", "batch_size", "loss", "lr_d", "lr_g",
                   "latent_dim", "seed", "out", "checkpoint_every", "sample_count"}
"""Settings every minigan run's ``config.json`` has held: what proves a directory is one."""


def check_folders(out):
    """Refuse a run folder of ``out`` that is a symbolic link or not a folder."""
    for name in RUN_FOLDERS:
        path = os.path.join(out, name)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise RunDirectoryError(
                f"run directory {out}: {name}/ is a symbolic link (to "
                f"{os.readlink(path)}): a run writes and deletes only inside its own "
                f"directory, and through the link it would change another one; replace "
                f"the link by a folder, or choose another --out")
        if not stat.S_ISDIR(mode):
            raise RunDirectoryError(f"run directory {out}: {name} is not a folder, expected "
                                    f"the run's {name}/ folder")


def check_minigan_run(out):
    """Refuse ``--overwrite`` of ``out`` unless its ``config.json`` is a minigan run's
    settings (a JSON object holding ``RUN_CONFIG_KEYS``): files are deleted by name, and
    another tool's metrics.jsonl or summary.json must not go because of their names."""
    path = os.path.join(out, "config.json")
    why = None
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            why = "its config.json is not a regular file"
        else:
            with open(path, "rb") as file:
                settings = json.loads(file.read(1 << 20).decode("utf-8"))
            if not isinstance(settings, dict) or not RUN_CONFIG_KEYS <= set(settings):
                why = "its config.json is not the settings of a minigan run"
    except FileNotFoundError:
        why = "it holds no config.json"
    except (OSError, ValueError):
        why = "its config.json is not the settings of a minigan run"
    if why:
        shown = ", ".join(_entries(out)[:4]) + (", ..." if len(_entries(out)) > 4 else "")
        raise RunDirectoryError(
            f"run directory {out} ({shown}) is not a minigan run ({why}): --overwrite deletes "
            "a run's files by name and only in a directory a minigan train wrote; move "
            "these files away, or choose another --out")


def _entries(out):
    """What the directory holds, the lock file aside (sorted, directories with a '/')."""
    if not os.path.isdir(out):
        return []
    return sorted(name + ("/" if os.path.isdir(os.path.join(out, name)) else "")
                  for name in os.listdir(out) if name != LOCK_NAME)


def check_out_dir(out, resume=None, overwrite=False):
    """Refuse, with ``RunDirectoryError``, a run that would destroy or mix with another
    run in ``out`` (see the module docstring); ``resume`` is the checkpoint path or None."""
    check_path(out)
    check_folders(out)
    entries = _entries(out)
    if not entries:
        return
    if overwrite:
        if not same_dir(checkpoint_run_dir(resume) if resume else None, out):
            check_minigan_run(out)  # a rewind's directory is proven by its checkpoint
        return
    shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
    last = os.path.join(out, "checkpoints", "last.npz")
    if resume is None:
        if os.path.isfile(last):
            options = f"To continue it: {resume_command(last, out)}; to start another run"
        else:
            options = "It holds no checkpoints/last.npz to resume from. To start another run"
        try:
            check_minigan_run(out)
            replace = "; to replace it: --overwrite (deletes only the files a run writes)"
        except RunDirectoryError:
            replace = " (--overwrite replaces only a minigan run, which this is not)"
        raise RunDirectoryError(
            f"run directory {out} is not empty ({shown}): a new run would overwrite the one "
            f"there. {options}: a new --out{replace}")
    if not same_dir(checkpoint_run_dir(resume), out):
        raise RunDirectoryError(
            f"run directory {out} is not empty ({shown}) and is not where the checkpoint "
            f"{resume} comes from: resuming into it would mix two runs. Resume into the "
            "checkpoint's own run directory or an empty --out, or pass --overwrite to "
            "replace the run there")


def check_rewind(out, resume, resume_step, later_step, overwrite):
    """Refuse resuming ``out`` from a checkpoint older than its last.npz (at
    ``later_step``) unless ``overwrite``: the steps after ``resume_step`` would be lost."""
    if later_step is not None and later_step > resume_step and not overwrite:
        raise RunDirectoryError(
            f"{resume} is at step {resume_step} but {out}/checkpoints/last.npz is at step "
            f"{later_step}: resuming from it would discard steps {resume_step + 1}-"
            f"{later_step}. Resume into a new --out to branch off from it, or pass "
            "--overwrite to rewind this run (its later samples and checkpoints are deleted)")


@contextlib.contextmanager
def claim(out, resume=None, overwrite=False, log=print):
    """Create ``out``, hold its lock for the ``with`` block and check it again under the
    lock. ``RunDirectoryError`` if it cannot be created, another process holds it, or the
    check fails; in every case nothing was written but the (removed) lock file. When the
    ``with`` block fails (an error, not a stop signal) in a directory that was empty or
    absent and no checkpoint was saved, what the run wrote is removed again
    (``remove_failed_start``): a run refused at its first step leaves no directory that
    a next try would need ``--overwrite`` for."""
    created = not os.path.lexists(out)
    fresh = created or not _entries(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise RunDirectoryError(f"cannot create the run directory {out}: "
                                f"{error.strerror or error}") from None
    try:
        lock = RunLock(out)
        lock.acquire()
    except NotALockFile as bad:
        raise RunDirectoryError(f"run directory {out}: its lock file {bad.path} is {bad.what}; "
                                "minigan's lock is a regular file that train creates and never "
                                "writes through a link: remove it") from None
    except RunDirectoryBusy as busy:
        raise RunDirectoryError(f"run directory {out} is in use by another minigan train "
                                f"({busy.owner}; lock file {busy.path}): wait for it to end, "
                                "or choose another --out") from None
    except OSError as error:
        raise RunDirectoryError(f"cannot lock the run directory {out} ({LOCK_NAME}): "
                                f"{error.strerror or error}") from None
    try:
        if lock.stale:
            log(f"note: {out} had the lock file of a run that ended without removing it "
                f"({lock.stale}); that run is not running any more")
        check_out_dir(out, resume, overwrite)
        try:
            yield
        except Exception:
            if fresh and remove_failed_start(out):
                lock.release()
                if created:
                    with contextlib.suppress(OSError):
                        os.rmdir(out)
            raise
    finally:
        lock.release()


def remove_failed_start(out):
    """Undo a run that failed before saving any checkpoint in a directory that was empty:
    its files go (``RUN_FILES``). Returns whether it did (False: a checkpoint exists, the
    run stays to be resumed)."""
    checkpoints = os.path.join(out, "checkpoints")
    if os.path.isdir(checkpoints) and any(n.endswith(".npz") for n in os.listdir(checkpoints)):
        return False
    remove_run_files(out)
    return True


def remove_unfinished_writes(out):
    """Delete the temporary files that a killed write left half-written in the run's
    folders: ``.NAME.XXXX.part`` (``atomic_write``) for NAME a run file (``RUN_FILES``);
    finished files are never named like that, and other tools' files are not touched."""
    for pattern in RUN_FILES:
        folder, name = os.path.split(pattern)
        directory = os.path.join(out, folder)
        if name.startswith(".") or not os.path.isdir(directory):
            continue
        for entry in os.listdir(directory):
            if fnmatch.fnmatchcase(entry, f".{name}.*.part"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, entry))


def run_files(out):
    """The files a run wrote in ``out`` (paths), by ``RUN_FILES``."""
    found = []
    for pattern in RUN_FILES:
        folder, name = os.path.split(pattern)
        directory = os.path.join(out, folder)
        if os.path.isdir(directory):
            found += [os.path.join(directory, n) for n in sorted(os.listdir(directory))
                      if fnmatch.fnmatchcase(n, name)
                      and os.path.isfile(os.path.join(directory, n))]
    return found


def remove_run_files(out, keep=lambda path: False):
    """Delete the run files of ``out`` (``RUN_FILES``) for which ``keep(path)`` is false,
    then the run's folders if that left them empty. Nothing else is touched."""
    for path in run_files(out):
        if not keep(path):
            os.unlink(path)
    for folder in ("samples", "checkpoints", "inspect"):
        with contextlib.suppress(OSError):  # absent, or holding other files: kept
            os.rmdir(os.path.join(out, folder))


def remove_after(out, epoch, step):
    """For a rewind to (``epoch`` completed epochs, ``step``): delete the run's files that
    belong to later epochs or steps, and its final summary."""
    def later(path):
        name = os.path.basename(path)
        if name.startswith("epoch_") and name[6:9].isdigit():
            return int(name[6:9]) > epoch
        if name.startswith("step_") and name[5:11].isdigit():
            return int(name[5:11]) > step
        return name == "summary.json"

    remove_run_files(out, keep=lambda path: not later(path))

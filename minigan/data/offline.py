"""Working offline: asking for the embedded sample, forbidding downloads, and remembering
a failed download for a while instead of trying again on every command.

* ``--data embedded`` (``load_dataset(path="embedded")``, or ``MINIGAN_DATA=embedded``):
  the 5,000-digit MNIST sample shipped in the package, with nothing searched or
  downloaded (MNIST only: there is no embedded Fashion-MNIST);
* ``--no-download`` (``train``, ``evaluate``), or ``MINIGAN_OFFLINE=1`` in the
  environment: no download is tried; the named directory and the cache are still used;
* a download that fails leaves a small file, ``<cache>/<dataset>/.download-failed``
  (JSON: when, and each mirror's failure). For ``RETRY_AFTER`` seconds (an hour) after
  that, no download of that dataset is tried: the run goes on as if downloads were off,
  and says so. Delete the file to try again at once; a download that succeeds deletes it.
"""

import contextlib
import json
import os
import time
import urllib.parse

from ..atomic import atomic_write

__all__ = ["EMBEDDED", "OFFLINE_ENV", "RETRY_AFTER", "MARKER_NAME", "wants_embedded",
           "downloads_forbidden", "no_download_reason", "remember_failure",
           "forget_failure", "failure_summary", "attempt_line"]

EMBEDDED = "embedded"
"""The ``--data`` value (and ``$MINIGAN_DATA`` value) that asks for the embedded sample."""

OFFLINE_ENV = "MINIGAN_OFFLINE"
"""Set to 1 (or true, yes): never download."""

RETRY_AFTER = 3600.0
"""Seconds after a failed download during which no download of that dataset is tried."""

MARKER_NAME = ".download-failed"
"""The file in a dataset's cache directory that remembers a failed download."""

_forbidden = []   # the reasons given by downloads_forbidden() blocks now open


def wants_embedded(path):
    """Whether ``path`` (else ``$MINIGAN_DATA``) asks for the embedded sample."""
    if path is None:
        path = os.environ.get("MINIGAN_DATA") or None
    return isinstance(path, str) and path == EMBEDDED


@contextlib.contextmanager
def downloads_forbidden(reason="--no-download", active=True):
    """Within the block no download is tried (``reason`` is what the messages name);
    a no-op when ``active`` is false (the CLI passes its ``--no-download`` switch)."""
    if not active:
        yield
        return
    _forbidden.append(reason)
    try:
        yield
    finally:
        _forbidden.pop()


def _offline_env():
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def no_download_reason(download, cache, now=None):
    """Why no download may be tried now, as a phrase for the messages ("downloads are off
    (MINIGAN_OFFLINE=1)"), or None when one may: ``download`` is the caller's permission,
    ``cache`` the dataset's cache directory (where a failed attempt is remembered)."""
    if not download:
        return "downloading was not allowed"
    if _forbidden:
        return f"downloads are off ({_forbidden[-1]})"
    if _offline_env():
        return f"downloads are off ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]})"
    failed = _failed_at(cache)
    now = time.time() if now is None else now
    if failed is not None and 0 <= now - failed < RETRY_AFTER:
        marker = os.path.join(cache, MARKER_NAME)
        again = time.strftime("%H:%M", time.localtime(failed + RETRY_AFTER))
        return (f"a download failed {_ago(now - failed)} ago and is not tried again before "
                f"{again} (delete {marker} to try now)")
    return None


def _ago(seconds):
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes else f"{int(seconds)} s"


def _failed_at(cache):
    """When the remembered download failed (seconds since the epoch), or None: no file,
    or one that is not what ``remember_failure`` writes (then it is ignored)."""
    try:
        with open(os.path.join(cache, MARKER_NAME)) as file:
            record = json.load(file)
        failed = record["failed_at"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return float(failed) if isinstance(failed, (int, float)) else None


def remember_failure(cache, failures):
    """Write ``<cache>/.download-failed``: now, and each mirror's failure. Best effort: a
    cache that cannot be written just means the next command tries again."""
    record = {"failed_at": time.time(),
              "failed_at_text": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "retry_after_seconds": RETRY_AFTER, "failures": list(failures)}
    try:
        os.makedirs(cache, exist_ok=True)
        with atomic_write(os.path.join(cache, MARKER_NAME), "w") as file:
            json.dump(record, file, indent=2)
    except OSError:
        pass


def forget_failure(cache):
    """Delete the record of a failed download, if there is one."""
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(cache, MARKER_NAME))


def failure_summary(failures):
    """The mirrors' failures ("URL: reason" each) in a few words: "the download failed
    (ossci-datasets.s3.amazonaws.com: no answer within 3 s; ...)"."""
    parts = []
    for failure in failures:
        url, _, reason = failure.partition(": ")
        host = urllib.parse.urlsplit(url).hostname or url
        reason = reason.split(" (")[0]
        parts.append(f"{host}: {reason if len(reason) <= 60 else reason[:57] + '...'}")
    return f"the download failed ({'; '.join(parts) or 'no mirrors'})"


def attempt_line(title, split, cache, mirrors, size, connect_timeout):
    """The one line said before a download is tried: what, where to, from where, how long
    it may wait, and how to skip it."""
    hosts = [urllib.parse.urlsplit(m).hostname or m for m in mirrors]
    rest = f" (then {len(hosts) - 1} more)" if len(hosts) > 1 else ""
    return (f"minigan: {title} {split} split not in {cache}: downloading it "
            f"({size / 1e6:.1f} MB) from {hosts[0] if hosts else '(no mirrors)'}{rest}, "
            f"{connect_timeout:g} s each to answer; --data embedded or {OFFLINE_ENV}=1 "
            "skips this")

"""Downloading a file from a list of mirrors, verified and written atomically.

``download(urls, dest, sha256)`` tries each mirror in turn. A mirror's answer is
streamed into a temporary file *in the destination directory* while its SHA-256 is
computed; only when the byte count and the checksum are right is the file flushed,
fsynced and renamed over ``dest`` (``os.replace``, atomic on POSIX and Windows). Any
failure -- HTTP error, timeout, a connection cut half-way, an HTML page where a file
should be, a checksum mismatch -- deletes the temporary file and moves on to the next
mirror, so the destination (minigan's cache) never holds a partial or wrong file.
When the size is known (it is for every published file) a mirror may not send more:
with or without a ``Content-Length`` header, the transfer stops at the first byte past
it, so a hostile or broken server cannot fill the disk. A mirror has ``CONNECT_TIMEOUT``
(3 s) to answer (``connect.py``), so a network that swallows connections costs seconds,
not minutes; a transfer that outlasts its deadline or falls below a minimum rate is given
up (``transfer_clock``). When every mirror fails, ``DownloadError`` names the file and
each mirror's failure.
"""

import contextlib
import hashlib
import os
import sys
import urllib.error
import urllib.request

from ..atomic import atomic_write
from ..errors import MiniganError
from .connect import open_url
from .transfer_clock import TransferClock, TransferTooSlow

__all__ = ["DownloadError", "download", "sha256_of"]

USER_AGENT = "minigan-data/0.1 (Python urllib)"
"""Sent with every request (some hosts refuse urllib's default agent)."""

TIMEOUT = 30.0
"""Seconds to wait for the next piece of data, once a mirror has answered."""

CONNECT_TIMEOUT = 3.0
"""Seconds a mirror has to answer (connect, TLS, the status line and headers): a network
that accepts connections and never answers costs this much per mirror, not ``TIMEOUT``."""

_CHUNK = 1 << 16


class DownloadError(MiniganError, OSError):
    """No mirror delivered a file with the expected checksum; says what each one did.

    ``failures`` lists one ``"URL: reason"`` string per mirror tried.
    """

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = list(failures)

    def __str__(self):
        return self.args[0]


def sha256_of(path):
    """The SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _MirrorFailed(Exception):
    """One mirror's failure, with a short reason (internal)."""


def _progress_bar(total, name, enabled):
    """A tqdm bar on a terminal; elsewhere (a log file, a pipe) one line, since a bar's
    carriage-return frames would fill a log with hundreds of half-lines."""
    if not enabled:
        return contextlib.nullcontext(None)
    if not getattr(sys.stderr, "isatty", lambda: False)():
        size = "" if total is None else f" ({total / 2**20:.1f} MiB)"
        print(f"downloading {name}{size}", file=sys.stderr, flush=True)
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                desc=f"downloading {name}", file=sys.stderr, leave=False)


def _fetch(url, f, name, size, progress, timeout, connect_timeout=CONNECT_TIMEOUT):
    """Stream ``url`` into the open file ``f``; return (bytes received, sha256 hex)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        response = open_url(request, connect_timeout, timeout)
    except urllib.error.HTTPError as exc:
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):  # while connecting
            raise _MirrorFailed(f"no answer within {connect_timeout:g} s") from None
        raise _MirrorFailed(f"cannot connect: {exc.reason}") from None
    except TimeoutError:  # connected, then no status line and headers in time
        raise _MirrorFailed(f"no answer within {connect_timeout:g} s") from None
    except (OSError, ValueError) as exc:  # resets, malformed URLs
        raise _MirrorFailed(f"{type(exc).__name__}: {exc}") from None
    with response:
        ctype = response.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"):
            raise _MirrorFailed(f"answered an HTML page (Content-Type {ctype!r}), not the file")
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if size is not None and length is not None and length != size:
            raise _MirrorFailed(f"announces {length} bytes, the file has {size}")
        h = hashlib.sha256()
        got = 0
        clock = TransferClock()  # a total deadline and a minimum rate, not only a timeout
        with _progress_bar(length or size, name, progress) as bar:
            while True:
                try:
                    block = clock.read(response, _CHUNK, got)
                except TransferTooSlow as exc:
                    raise _MirrorFailed(str(exc)) from None
                except Exception as exc:  # IncompleteRead, timeouts, connection resets
                    raise _MirrorFailed(f"connection broke after {got} bytes "
                                        f"({type(exc).__name__}: {exc})") from None
                if not block:
                    break
                if size is not None and got + len(block) > size:
                    raise _MirrorFailed(f"sent more than the {size} bytes the file has "
                                        f"(stopped after {got + len(block)})")
                f.write(block)
                h.update(block)
                got += len(block)
                if bar is not None:
                    bar.update(len(block))
    expected = length if length is not None else size
    if expected is not None and got != expected:
        raise _MirrorFailed(f"stopped after {got} of {expected} bytes")
    return got, h.hexdigest()


def download(urls, dest, sha256, size=None, progress=True, timeout=None, connect_timeout=None):
    """Download one file to ``dest`` from the first of ``urls`` that delivers it intact.

    ``sha256`` is the published checksum (hex); ``size`` the expected byte count, if known.
    Each URL is tried in order; a mirror whose answer fails for any reason (HTTP error,
    timeout, short read, HTML page, checksum mismatch) is skipped. The file appears at
    ``dest`` only complete and verified. Shows a tqdm progress bar on stderr unless
    ``progress`` is false. A mirror has ``connect_timeout`` seconds (``CONNECT_TIMEOUT``)
    to answer, then ``timeout`` (``TIMEOUT``) for each read. Returns ``dest``; raises
    ``DownloadError`` listing every mirror's failure when none succeeds.
    """
    dest = os.fspath(dest)
    name = os.path.basename(dest)
    timeout = TIMEOUT if timeout is None else timeout
    connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    try:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"could not download {name}: cannot create the directory "
                            f"for {dest}: {exc}") from None
    failures = []
    for url in urls:
        try:
            with atomic_write(dest) as f:
                got, digest = _fetch(url, f, name, size, progress, timeout, connect_timeout)
                if digest != sha256.lower():
                    raise _MirrorFailed(f"checksum mismatch: SHA-256 of the {got} bytes "
                                        f"received is {digest}, expected {sha256.lower()}")
            return dest
        except _MirrorFailed as exc:
            failures.append(f"{url}: {exc}")
        except OSError as exc:  # e.g. the cache directory is not writable
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
    detail = "; ".join(failures) if failures else "(no mirrors given)"
    raise DownloadError(f"could not download {name} (every mirror failed): {detail}",
                        failures)

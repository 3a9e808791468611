"""Downloading from mirrors, against a local HTTP server on loopback (no internet).

``serve(files)`` starts a threaded ``http.server`` on 127.0.0.1 with an ephemeral port.
URL paths select the behaviour of a "mirror":

    /good/<name>   the file as it is
    /wrong/<name>  other bytes of the same length (checksum mismatch)
    /half/<name>   announces the full Content-Length, sends half, closes the connection
    /html/<name>   200 OK with an HTML page (a captive portal, a moved-page notice)
    /endless/<name> no Content-Length: the file, then zeros without end (up to 64 MB)
    /missing/...   404
"""

import contextlib
import hashlib
import http.server
import os
import threading

import pytest

from minigan.atomic import atomic_write
from minigan.data import DownloadError
from minigan.data.download import download, sha256_of
from minigan.errors import MiniganError


class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}
    hits = []
    sent = []  # bytes of zeros sent after the file, per /endless/ request

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self.hits.append(self.path)
        _, mode, name = (self.path.split("/", 2) + ["", ""])[:3]
        body = self.files.get(name)
        if body is None or mode not in ("good", "wrong", "half", "html", "endless"):
            self.send_error(404, "Not Found")
            return
        if mode == "html":
            page = b"<!DOCTYPE html><html><body>Please log in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if mode == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.sent.append(0)
            try:
                self.wfile.write(body)
                for _ in range(1024):
                    self.wfile.write(bytes(1 << 16))
                    self.sent[-1] += 1 << 16
            except OSError:  # the client hung up
                pass
            self.close_connection = True
            return
        if mode == "wrong":
            body = bytes(b ^ 0x55 for b in body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "half":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@contextlib.contextmanager
def serve(files, sent=None):
    """Serve ``files`` ({name: bytes}) on loopback; yields (base URL, list of paths hit).
    ``sent``, a list, gets the bytes sent after the file by each /endless/ request."""
    handler = type("Handler", (_Handler,), {"files": dict(files), "hits": [],
                                            "sent": [] if sent is None else sent})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def mirror():
    with serve({"data.gz": PAYLOAD}) as (base, hits):
        yield base, hits


def test_a_download_without_content_length_stops_at_the_expected_size(tmp_path):
    """A mirror that sends no Content-Length and never stops: the transfer ends at the
    first block past the published size (not after gigabytes), nothing stays on disk."""
    sent = []
    with serve({"data.gz": PAYLOAD}, sent) as (base, _):
        with pytest.raises(DownloadError, match=r"endless/data.gz: sent more than the 300000 "
                                                r"bytes the file has"):
            download([f"{base}/endless/data.gz"], tmp_path / "data.gz", SHA,
                     size=len(PAYLOAD), progress=False, timeout=5)
    assert only_file(tmp_path) == []
    # the server got as far as the socket buffers let it before the client hung up
    assert len(sent) == 1 and sent[0] < 16 * 2**20, sent


def only_file(directory):
    return sorted(p.name for p in directory.iterdir())


def test_good_mirror(tmp_path, mirror, capsys):
    base, hits = mirror
    dest = tmp_path / "cache" / "data.gz"  # the directory is created
    assert download([f"{base}/good/data.gz"], dest, SHA, size=len(PAYLOAD),
                    progress=True) == str(dest)
    assert dest.read_bytes() == PAYLOAD
    assert only_file(dest.parent) == ["data.gz"]
    # stderr is not a terminal here: one line instead of a bar's carriage-return frames
    err = capsys.readouterr().err
    assert "\r" not in err and err.count("downloading data.gz") == 1, err


@pytest.mark.parametrize("bad", ["wrong", "half", "html", "missing"])
def test_falls_back_to_next_mirror(tmp_path, mirror, bad):
    base, hits = mirror
    dest = tmp_path / "data.gz"
    download([f"{base}/{bad}/data.gz", f"{base}/good/data.gz"], dest, SHA, progress=False)
    assert hits == [f"/{bad}/data.gz", "/good/data.gz"]
    assert sha256_of(dest) == SHA
    assert only_file(tmp_path) == ["data.gz"]  # no partial or temp file left


def test_all_mirrors_fail_names_file_and_each_failure(tmp_path, mirror):
    base, _ = mirror
    dest = tmp_path / "data.gz"
    urls = [f"{base}/{m}/data.gz" for m in ("wrong", "half", "html", "missing")]
    urls.append("http://127.0.0.1:1/refused/data.gz")  # nothing listens on port 1
    with pytest.raises(DownloadError) as info:
        download(urls, dest, SHA, progress=False, timeout=5)
    msg = str(info.value)
    assert msg.startswith("could not download data.gz (every mirror failed)")
    assert f"{base}/wrong/data.gz: checksum mismatch: SHA-256 of the 300000 bytes" in msg
    assert f"expected {SHA}" in msg
    assert f"{base}/half/data.gz: " in msg and "150000" in msg
    assert f"{base}/html/data.gz: answered an HTML page" in msg
    assert f"{base}/missing/data.gz: HTTP 404" in msg
    assert "http://127.0.0.1:1/refused/data.gz: cannot connect" in msg
    assert isinstance(info.value, MiniganError) and isinstance(info.value, OSError)
    assert only_file(tmp_path) == []  # nothing written, nothing left over


def test_wrong_checksum_never_replaces_a_good_file(tmp_path, mirror):
    base, _ = mirror
    dest = tmp_path / "data.gz"
    dest.write_bytes(b"previous good content")
    with pytest.raises(DownloadError):
        download([f"{base}/wrong/data.gz", f"{base}/half/data.gz"], dest, SHA, progress=False)
    assert dest.read_bytes() == b"previous good content"
    assert only_file(tmp_path) == ["data.gz"]


def test_size_announced_differs_from_published(tmp_path, mirror):
    base, _ = mirror
    with pytest.raises(DownloadError, match=r"announces 300000 bytes, the file has 12"):
        download([f"{base}/good/data.gz"], tmp_path / "d", SHA, size=12, progress=False)


def test_atomic_write(tmp_path):
    import numpy as np

    target = tmp_path / "arrays.npz"
    with atomic_write(target) as f:  # a file object: np.savez adds no suffix
        np.savez(f, a=np.arange(3))
    assert only_file(tmp_path) == ["arrays.npz"]
    with np.load(target) as z:
        assert z["a"].tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert only_file(tmp_path) == ["arrays.npz"]
    with np.load(target) as z:
        assert z["a"].tolist() == [0, 1, 2]

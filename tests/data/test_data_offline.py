"""Working offline (``minigan.data.offline``, ``connect.py``): a network that accepts
connections and never answers costs seconds, not minutes; a failed download is
remembered for an hour; downloads can be forbidden and the embedded sample asked for.
Every server here is on 127.0.0.1."""

import contextlib
import hashlib
import http.server
import json
import os
import socket
import threading
import time

import numpy as np
import pytest
from test_data_datasets import _published

from minigan import data
from minigan.data import DataNotFoundError, datasets, download, offline
from minigan.data.embedded import notice_once


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $MINIGAN_DATA or $MINIGAN_OFFLINE, no Debian directory."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.delenv("MINIGAN_OFFLINE", raising=False)
    monkeypatch.setattr(datasets, "CACHE_ROOT", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_DIR", str(tmp_path / "debian"))


@contextlib.contextmanager
def silent_server():
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte
    (a hanging proxy): yields (base URL, list of accepted connections)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(connection)  # held open, never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/", accepted
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()


def test_a_server_that_never_answers_costs_the_connect_timeout_then_the_sample(
        tmp_path, monkeypatch, capsys):
    """The whole fallback comes within CONNECT_TIMEOUT per mirror (3 s; 1 s here, to keep
    the test short), though the read timeout is 30 s; the second command does not try
    again."""
    assert download.CONNECT_TIMEOUT == 3.0 and download.TIMEOUT == 30.0
    monkeypatch.setattr(download, "CONNECT_TIMEOUT", 1.0)
    with silent_server() as (base, accepted):
        monkeypatch.setitem(datasets.DATASETS["mnist"], "mirrors", [base + "a/", base + "b/"])
        began = time.monotonic()
        images, _ = data.load_mnist("train", embedded_fallback=True, progress=False)
        took = time.monotonic() - began
        assert images.shape == (5000, 28, 28)
        assert len(accepted) == 2                  # both mirrors were really connected to
        assert 2 * 1.0 - 0.3 < took < 2 * 1.0 + 2.5, took
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines[0] == (f"minigan: MNIST train split not in {tmp_path / 'cache' / 'mnist'}: "
                            "downloading it (9.9 MB) from 127.0.0.1 (then 1 more), 1 s each to "
                            "answer; --data embedded or MINIGAN_OFFLINE=1 skips this")
        assert lines[1].endswith("; the download failed (127.0.0.1: no answer within 1 s; "
                                 "127.0.0.1: no answer within 1 s).")
        assert len(lines) == 3
        marker = tmp_path / "cache" / "mnist" / ".download-failed"
        record = json.loads(marker.read_text())
        assert record["retry_after_seconds"] == 3600
        assert [f.split(": ", 1)[1] for f in record["failures"]] == ["no answer within 1 s"] * 2

        began = time.monotonic()
        data.load_mnist("test", embedded_fallback=True, progress=False)  # remembered
        assert time.monotonic() - began < 1 and len(accepted) == 2
        err = capsys.readouterr().err
        assert "downloading" not in err
        assert ("a download failed 0 s ago and is not tried again before " in err
                and f"(delete {marker} to try now)." in err)


class _SlowBody(http.server.BaseHTTPRequestHandler):
    """Answers at once, then waits ``pause`` seconds before sending the body."""

    body, pause = b"", 0.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(self.pause)
        self.wfile.write(self.body)


def test_after_the_headers_the_read_timeout_applies_not_the_connect_timeout(tmp_path):
    body = os.urandom(5000)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowBody)
    _SlowBody.body, _SlowBody.pause = body, 0.6
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file"
        dest = tmp_path / "file"
        download.download([url], dest, hashlib.sha256(body).hexdigest(), size=len(body),
                          progress=False, connect_timeout=0.2, timeout=5)
        assert dest.read_bytes() == body
        with pytest.raises(data.DownloadError, match="connection broke after 0 bytes"):
            download.download([url], tmp_path / "other", hashlib.sha256(body).hexdigest(),
                              size=len(body), progress=False, connect_timeout=5, timeout=0.2)
    finally:
        server.shutdown()
        server.server_close()


def test_a_remembered_failure_expires_and_a_download_that_works_forgets_it(tmp_path,
                                                                         monkeypatch):
    from test_data_download import serve

    images, labels, blobs = _published(20)
    files = {name: (hashlib.sha256(b).hexdigest(), len(b)) for name, b in blobs.items()}
    cache = tmp_path / "cache" / "mnist"
    marker = cache / offline.MARKER_NAME
    with serve(blobs) as (base, hits):
        monkeypatch.setitem(datasets.DATASETS["mnist"], "files", files)
        monkeypatch.setitem(datasets.DATASETS["mnist"], "mirrors", [f"{base}/good/"])
        offline.remember_failure(cache, ["http://x/: no answer within 3 s"])
        with pytest.raises(DataNotFoundError, match="a download failed 0 s ago"):
            data.load_mnist("train", progress=False)
        assert hits == []
        # an hour later it is tried again; success deletes the record
        record = json.loads(marker.read_text())
        record["failed_at"] -= offline.RETRY_AFTER + 1
        marker.write_text(json.dumps(record))
        got, _ = data.load_mnist("train", progress=False)
        np.testing.assert_array_equal(got, images)
        assert len(hits) == 2 and not marker.exists()
        # a record that is not one (damaged, hand-written) is ignored, not an error
        for name in blobs:
            os.unlink(cache / name)
        marker.write_text("not json")
        data.load_mnist("train", progress=False)
        assert len(hits) == 4


def test_downloads_can_be_forbidden(tmp_path, monkeypatch, capsys):
    from test_data_download import serve

    with serve({}) as (base, hits):
        monkeypatch.setitem(datasets.DATASETS["mnist"], "mirrors", [f"{base}/good/"])
        monkeypatch.setenv("MINIGAN_OFFLINE", "1")
        with notice_once():
            data.load_mnist("train", embedded_fallback=True)
        assert "; downloads are off (MINIGAN_OFFLINE=1)." in capsys.readouterr().err
        monkeypatch.setenv("MINIGAN_OFFLINE", "0")  # 0 means downloads are on
        with offline.downloads_forbidden("--no-download"), notice_once():
            data.load_mnist("train", embedded_fallback=True)
        assert "; downloads are off (--no-download)." in capsys.readouterr().err
        assert hits == []
        with pytest.raises(DataNotFoundError, match=r"downloads are off \(--no-download\)\. "
                                                    r"Put the files in .*cache/fashion-mnist"):
            with offline.downloads_forbidden():
                data.load_fashion_mnist("train")
        assert not (tmp_path / "cache" / "mnist" / offline.MARKER_NAME).exists()


def test_the_embedded_sample_asked_for_searches_nothing(tmp_path, monkeypatch, capsys):
    from test_data_datasets import make_split

    make_split(tmp_path / "cache" / "mnist", 3, 7)       # in the cache, but not asked for
    images, labels = data.load_mnist("train", path="embedded")
    assert images.shape == (5000, 28, 28) and np.bincount(labels).tolist() == [500] * 10
    assert capsys.readouterr().err == ("minigan: using the embedded MNIST sample (5,000 real "
                                       "digits, 500 per class), as --data embedded asks.\n")
    monkeypatch.setenv("MINIGAN_DATA", "embedded")
    _, _, source = datasets.load_with_source("mnist", "test")
    assert source == {"source": "embedded sample", "path": None, "images": 5000,
                      "how": "asked for (MINIGAN_DATA=embedded)"}
    assert "as MINIGAN_DATA=embedded asks" in capsys.readouterr().err
    with pytest.raises(DataNotFoundError, match="only MNIST has an embedded sample, not "
                                                "Fashion-MNIST"):
        data.load_fashion_mnist("train")


def test_the_source_of_the_data_is_reported(tmp_path, monkeypatch):
    from test_data_datasets import make_split

    make_split(tmp_path / "cache" / "mnist", 3, 7)
    _, _, source = datasets.load_with_source("mnist", download=False)
    assert source == {"source": "directory", "path": str(tmp_path / "cache" / "mnist"),
                      "images": 3, "how": "the cache"}
    make_split(tmp_path / "mine", 4, 7)
    _, _, source = datasets.load_with_source("mnist", path=str(tmp_path / "mine"))
    assert source == {"source": "directory", "path": str(tmp_path / "mine"), "images": 4,
                      "how": "--data"}
    make_split(tmp_path / "debian", 5, 7)
    _, _, source = datasets.load_with_source("fashion-mnist", download=False)
    assert source["how"] == "Debian's dataset-fashion-mnist" and source["images"] == 5


def test_missing_fashion_mnist_names_the_debian_package(tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        data.load_fashion_mnist("test", download=False)
    assert ("or install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist: "
            f"the files in {tmp_path / 'debian'})") in str(error.value)
    with pytest.raises(DataNotFoundError) as error:
        data.load_mnist("test", download=False)
    assert "apt-get" not in str(error.value)


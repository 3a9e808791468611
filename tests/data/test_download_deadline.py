"""A download has a total deadline and a minimum rate, not only a per-read timeout: a
local server (127.0.0.1) that drips its file a few bytes at a time -- each piece well
within the socket timeout -- is given up, the next mirror is tried, nothing stays on disk.
The limits are lowered here (``transfer_clock.DEADLINE`` ...) so that the test takes a
second; ``TransferClock`` itself is checked on a fake clock."""

import contextlib
import hashlib
import http.server
import threading
import time

import pytest

from minigan.data import DownloadError, transfer_clock
from minigan.data.download import download
from minigan.data.transfer_clock import TransferClock, TransferTooSlow

PAYLOAD = bytes(range(256)) * 40
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Drip(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        try:
            if self.path.startswith("/good"):
                self.wfile.write(PAYLOAD)
                return
            for i in range(0, len(PAYLOAD), 4):  # 4 bytes every 50 ms: never a timeout
                self.wfile.write(PAYLOAD[i:i + 4])
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up
            pass


@contextlib.contextmanager
def drip_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("limits, reason", [
    ({"DEADLINE": 0.6, "MIN_RATE": 0, "GRACE": 0}, r"gave up after \d+ s \(the deadline for "
                                                   r"a whole file is 0\.6 s\), \d+ bytes"),
    ({"DEADLINE": 60, "MIN_RATE": 1000, "GRACE": 0.3}, r"too slow: \d+ bytes in \d+ s, below "
                                                       r"1000 bytes/s"),
])
def test_a_dripping_mirror_is_given_up_and_the_next_one_tried(limits, reason, tmp_path,
                                                             monkeypatch):
    for name, value in limits.items():
        monkeypatch.setattr(transfer_clock, name, value)
    with drip_server() as base:
        started = time.monotonic()
        with pytest.raises(DownloadError, match=rf"drip/data\.gz: {reason}"):
            download([f"{base}/drip/data.gz"], tmp_path / "data.gz", SHA, size=len(PAYLOAD),
                     progress=False, timeout=5)
        assert time.monotonic() - started < 3  # the file would take 2.5 s to drip
        assert list(tmp_path.iterdir()) == []
        dest = download([f"{base}/drip/data.gz", f"{base}/good/data.gz"],
                        tmp_path / "data.gz", SHA, size=len(PAYLOAD), progress=False,
                        timeout=5)
        assert open(dest, "rb").read() == PAYLOAD


def test_the_clock_enforces_the_deadline_and_the_rate_after_the_grace_period():
    now = [100.0]
    clock = TransferClock(deadline=50, min_rate=10, grace=5, clock=lambda: now[0])
    now[0] = 104.0
    clock.check(0)            # within the grace period: any rate
    now[0] = 110.0
    clock.check(100)          # 10 bytes/s: allowed
    with pytest.raises(TransferTooSlow, match=r"too slow: 99 bytes in 10 s, below 10 bytes/s"):
        clock.check(99)
    now[0] = 151.0
    with pytest.raises(TransferTooSlow, match=r"gave up after 51 s \(the deadline for a whole "
                                              r"file is 50 s\), 10000 bytes received"):
        clock.check(10_000)

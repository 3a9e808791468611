"""A download's time limits beyond the per-read timeout: a total deadline and a minimum rate.

A socket timeout bounds the wait for the *next* piece of data, so a server that drips
one byte every few seconds keeps a download going forever. ``TransferClock`` bounds the
transfer as a whole: ``read(response, n)`` reads what has arrived (at most ``n`` bytes,
one receive: ``read1``), waiting no longer than the time left, and refuses to go on once
``deadline`` seconds have passed, or once, after ``grace`` seconds, the average rate is
below ``min_rate`` bytes a second. Each refusal is a ``TransferTooSlow`` saying which
limit, after how many bytes.
"""

import socket
import time

DEADLINE = 900.0
"""Seconds a whole file may take (the largest MNIST file, 9.9 MB, at 11 KB/s)."""
MIN_RATE = 8 * 1024
"""Bytes a second, averaged over the transfer, below which it is given up ..."""
GRACE = 30.0
"""... once this many seconds have passed (a slow start is allowed)."""


class TransferTooSlow(Exception):
    """The transfer passed its deadline or fell below the minimum rate."""


class TransferClock:
    def __init__(self, deadline=None, min_rate=None, grace=None, clock=time.monotonic):
        self.deadline = DEADLINE if deadline is None else deadline
        self.min_rate = MIN_RATE if min_rate is None else min_rate
        self.grace = GRACE if grace is None else grace
        self._clock = clock
        self.started = clock()

    def check(self, got):
        """Raise ``TransferTooSlow`` when ``got`` bytes so far break a limit."""
        elapsed = self._clock() - self.started
        if elapsed > self.deadline:
            raise TransferTooSlow(f"gave up after {elapsed:.0f} s (the deadline for a whole "
                                  f"file is {self.deadline:g} s), {got} bytes received")
        if elapsed > self.grace and got < self.min_rate * elapsed:
            raise TransferTooSlow(f"too slow: {got} bytes in {elapsed:.0f} s, below "
                                  f"{self.min_rate:g} bytes/s")

    def read(self, response, n, got):
        """At most ``n`` bytes of ``response`` (b"" at its end), waiting at most until the
        deadline; ``got``: the bytes received before."""
        self.check(got)
        _limit_wait(response, max(0.01, self.deadline - (self._clock() - self.started)))
        read1 = getattr(response, "read1", None)
        try:
            block = read1(n) if read1 is not None else response.read(n)
        except (socket.timeout, TimeoutError):
            self.check(got)
            raise
        self.check(got + len(block))
        return block


def _limit_wait(response, seconds):
    """Lower the socket timeout of an ``http.client`` response to ``seconds`` (never
    raise it): a receive cannot outlast the deadline."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is None:
        return
    current = sock.gettimeout()
    if current is None or current > seconds:
        sock.settimeout(seconds)

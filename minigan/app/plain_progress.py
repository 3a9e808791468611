"""The run's progress where stderr is not a terminal (a log file, a pipe, a CI job): a
plain line now and then instead of a bar redrawn with ``\\r`` at every step, which a log
file would keep as one long line of frames::

    run: 156/1560 steps (10%), 21 s, about 3 min 9 s left
    run: 312/1560 steps (20%), 42 s, about 2 min 48 s left
    ...
    run: 1560/1560 steps (100%) in 3 min 30 s

A line comes every tenth of the run's steps or every ``every_seconds`` (60), whichever
comes first, and one when it closes. The time left is this process's rate applied to the
steps still to go (a resumed run counts from where it resumed).
"""

import sys
import time

__all__ = ["PlainProgress", "duration"]


def duration(seconds):
    """Seconds as "12 s", "3 min 9 s" or "1 h 2 min"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class PlainProgress:
    """The run bar's stand-in off a terminal: ``update(n)`` counts steps, ``close()``
    prints the last line; usable as a context manager, like the tqdm bar it replaces."""

    def __init__(self, total, initial=0, file=None, every_seconds=60.0, clock=time.monotonic):
        self.total, self.n, self.first = total, initial, initial
        self.file = file
        self.every_steps = max(1, total // 10)
        self.every_seconds = every_seconds
        self.clock = clock
        self.started = self.said_at = clock()
        self.said_n = initial
        self.closed = False

    def update(self, n=1):
        self.n += n
        now = self.clock()
        if (self.n - self.said_n >= self.every_steps or now - self.said_at >= self.every_seconds) \
                and self.n < self.total:
            self._say(self._line(now))
            self.said_at, self.said_n = now, self.n

    def _line(self, now):
        spent = now - self.started
        line = f"run: {self.n}/{self.total} steps ({100 * self.n // max(self.total, 1)}%), " \
               f"{duration(spent)}"
        done = self.n - self.first
        if done > 0 and self.n < self.total:
            line += f", about {duration(spent / done * (self.total - self.n))} left"
        return line

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self.n != self.said_n or self.n == self.first:
            spent = duration(self.clock() - self.started)
            self._say(f"run: {self.n}/{self.total} steps "
                      f"({100 * self.n // max(self.total, 1)}%) in {spent}")

    def _say(self, line):
        print(line, file=self.file or sys.stderr, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

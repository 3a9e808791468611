"""Stopping a run by a signal without losing it: SIGINT (Ctrl-C), SIGTERM, SIGHUP.

A terminal's Ctrl-C, a ``kill``, a batch system ending a job and a closed terminal all
mean "stop", and each should cost nothing but the step in progress. Inside
``StopSignals`` the first of these signals only sets ``received`` (and says so on stderr:
"stopping after this step"); the training loop
looks at it between two steps, saves a checkpoint there and ends with
``TrainingInterrupted`` (exit status 128 + the signal's number: 130, 143, 129). Outside
``deferring_stops()`` -- while data loads, while the final report is computed -- there is
nothing unsaved, and the first signal stops at once (``Stopped``). A second signal
always stops at once: the checkpoint file is then either the previous one or the new
one, never half of one (``minigan.atomic``).

After the first ``Stopped`` is raised, further signals are ignored while this context
lasts, so the way out (saving, printing, exiting) is not interrupted again. A command
line process passes ``restore=False``: the signals stay ignored after the context, as
the process is about to exit, and a late signal cannot turn its exit status into a
death by signal.
"""

import contextlib
import os
import signal
import threading

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A signal stopped the command; ``signum`` is the signal, ``exit_status`` 128 + it;
    ``second``: it came after a first one, whose stop at the next step it cut short."""

    def __init__(self, signum, second=False):
        super().__init__(signum)
        self.signum, self.second = signum, second

    @property
    def exit_status(self):
        return 128 + self.signum

    @property
    def name(self):
        return signal.Signals(self.signum).name


class StopSignals:
    """Catch SIGINT, SIGTERM and SIGHUP for the ``with`` block (main thread only; in
    another thread the signals keep their handlers and ``received`` stays None)."""

    def __init__(self, restore=True, notice=None):
        self.restore = restore
        self.notice = _say if notice is None else notice  # told of a deferred stop
        self.received = None  # the first signal's number
        self.deferring = False
        self._stopping = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if self.restore else signal.SIG_IGN)
        self._previous = {}
        return False

    @contextlib.contextmanager
    def deferring_stops(self):
        """Within this block the first signal only sets ``received``."""
        self.deferring = True
        try:
            yield self
        finally:
            self.deferring = False

    def _handle(self, signum, frame):
        if self._stopping:
            return
        if self.deferring and self.received is None:
            self.received = signum
            self.notice(f"minigan: {signal.Signals(signum).name} received: stopping after "
                        "this step, with a checkpoint (a second signal stops at once)")
            return
        second = self.received is not None
        self.received = self.received or signum
        self._stopping = True
        raise Stopped(signum, second)


def _say(line):
    """Write ``line`` to stderr from a signal handler: one unbuffered write, which cannot
    deadlock on a buffer the interrupted code holds; a closed stderr is ignored."""
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode())

"""A lab session served on 127.0.0.1 (a free port) by a background thread, for the tests."""

import contextlib
import threading

from minigan.lab import LabSession
from minigan.lab.server import make_server


@contextlib.contextmanager
def served_lab(batch_size, resolution):
    """Yields the running server (``server.server_address``: where it listens); afterwards
    shuts the server down and closes its lab session."""
    session = LabSession({"batch_size": batch_size}, resolution=resolution).start()
    server = make_server(session, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        session.close()

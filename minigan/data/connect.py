"""Opening a URL with one timeout for getting an answer and another for reading it.

``urllib.request.urlopen(url, timeout=t)`` applies ``t`` to every socket operation: a
short ``t`` breaks a slow but working transfer, a long one makes a network that accepts
connections and never answers (a hanging proxy, a firewall that swallows packets) cost
``t`` seconds per mirror. ``open_url`` waits at most ``connect_timeout`` seconds for
everything up to the answer's headers -- the TCP connection, a proxy's tunnel, the TLS
handshake, the status line and headers -- and then ``read_timeout`` for each read of the
body. Proxies from the environment (``https_proxy`` ...) are honoured as by ``urlopen``.
"""

import http.client
import urllib.request

__all__ = ["open_url"]


class _HeadersInTime:
    """A connection mixin: the socket's timeout becomes ``read_timeout`` once the answer's
    headers have arrived (until then it is the connection's own, the connect timeout)."""

    read_timeout = None

    def getresponse(self):
        sock = self.sock  # the connection may drop its reference when the answer closes it
        response = super().getresponse()
        if sock is not None and self.read_timeout is not None:
            sock.settimeout(self.read_timeout)
        return response


def _connection_class(base, read_timeout):
    return type(base.__name__, (_HeadersInTime, base), {"read_timeout": read_timeout})


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout):
        super().__init__()
        self._class = _connection_class(http.client.HTTPConnection, read_timeout)

    def http_open(self, req):
        return self.do_open(self._class, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout):
        super().__init__()
        self._read_timeout = read_timeout

    def do_open(self, http_class, req, **kwargs):
        # https_open passes its TLS settings in kwargs, which differ between Python versions
        return super().do_open(_connection_class(http_class, self._read_timeout), req, **kwargs)


def open_url(request, connect_timeout, read_timeout):
    """``urlopen(request)`` that waits at most ``connect_timeout`` seconds for the answer's
    headers and ``read_timeout`` seconds for each read of its body after them. Raises what
    ``urlopen`` raises (``HTTPError``, ``URLError``, ``TimeoutError``, ...)."""
    opener = urllib.request.build_opener(_HTTPHandler(read_timeout),
                                         _HTTPSHandler(read_timeout))
    return opener.open(request, timeout=connect_timeout)

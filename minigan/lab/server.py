"""The GAN lab's HTTP server: the standard library's ``ThreadingHTTPServer``, bound to
127.0.0.1 only, serving the page from the package (``static/``) and a small JSON API
over one ``LabSession``:

    GET  /                 the page (static/index.html); /static/<file> its script and style
    GET  /api/state        the latest picture, the curves, the settings, running / message;
                           ?after=V waits (up to a second) for a version other than V
    POST /api/action       {"action": "play" | "pause" | "step" | "d_step" | "g_step" |
                            "slow_step" | "reset"}
    POST /api/settings     {"loss": "minimax", "lr_d": 0.0005, "packing": true, ...}
    POST /api/points       {"points": [[x, y], ...]}     train on the clicked points

A malformed or out-of-range request is answered 400 with {"error": "<one line>"} (the
page shows it) and changes nothing; an unknown path 404. Requests must name the lab's
own address as their Host (127.0.0.1 or localhost and the port), so that a page on
another site cannot drive the lab through a renamed address, and a POST that names an
Origin must come from the lab's own page (a page elsewhere cannot press its buttons).
Every answer forbids the page to load anything from elsewhere (Content-Security-Policy:
'self' only).
"""

import errno
import http.server
import importlib.resources
import json
import sys
import urllib.parse

from ..errors import InputError, MiniganError

HOST = "127.0.0.1"
MAX_BODY = 64 * 1024
STATIC = {"index.html": "text/html; charset=utf-8",
          "lab.css": "text/css; charset=utf-8",
          "draw.js": "text/javascript; charset=utf-8",
          "app.js": "text/javascript; charset=utf-8"}
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; frame-ancestors 'none'")


def static_file(name):
    """The bytes of one of the page's files, from the installed package."""
    return importlib.resources.files("minigan.lab").joinpath("static", name).read_bytes()


class LabServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, session, port):
        self.session = session
        super().__init__((HOST, port), LabHandler)

    def handle_error(self, request, client_address):
        """A browser that closes a tab mid-answer is no error; anything else is printed
        as the standard library does."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)

    @property
    def url(self):
        return f"http://{HOST}:{self.server_address[1]}/"


def make_server(session, port=0):
    """A LabServer for ``session`` on 127.0.0.1:``port`` (0: a free port). A port in use
    is an InputError naming it."""
    try:
        return LabServer(session, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise InputError(f"lab: --port {port}: the port is in use on {HOST}; choose "
                             "another port, or --port 0 for a free one") from None
        if error.errno == errno.EACCES:
            raise InputError(f"lab: --port {port}: not allowed to listen on that port; "
                             "choose one above 1023, or --port 0 for a free one") from None
        raise


class BadRequest(Exception):
    pass


class LabHandler(http.server.BaseHTTPRequestHandler):
    server_version = "minigan-lab"

    def log_message(self, format, *args):  # quiet: the terminal shows only the URL
        pass

    # -- answers -------------------------------------------------------------
    def _send(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, value):
        self._send(status, json.dumps(value, allow_nan=False).encode(),
                   "application/json; charset=utf-8")

    def _error(self, status, message):
        self._json(status, {"error": " ".join(str(message).split())})

    def _host_ok(self):
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"{HOST}:{port}", f"localhost:{port}")

    # -- GET -------------------------------------------------------------------
    def do_GET(self):
        if not self._host_ok():
            return self._error(400, f"Host: expected {HOST}:{self.server.server_address[1]}, "
                                    f"got {self.headers.get('Host')!r}")
        path, _, query = self.path.partition("?")
        if path == "/api/state":
            after = urllib.parse.parse_qs(query).get("after")
            if after:   # a long poll: answer when something changed (or after a second)
                try:
                    self.server.session.wait_for_change(int(after[0]), timeout=1.0)
                except ValueError:
                    return self._error(400, f"after: expected a version number, got "
                                            f"{after[0]!r}")
            return self._send(200, self.server.session.state_json().encode(),
                              "application/json; charset=utf-8")
        if path == "/favicon.ico":      # none: say so without an error in the console
            return self._send(204, b"", "image/x-icon")
        name = "index.html" if path in ("/", "/index.html") else (
            path[len("/static/"):] if path.startswith("/static/") else None)
        if name in STATIC:
            return self._send(200, static_file(name), STATIC[name])
        return self._error(404, f"no such page: {path}")

    do_HEAD = do_GET

    # -- POST ------------------------------------------------------------------
    def do_POST(self):
        if not self._host_ok():
            return self._error(400, f"Host: expected {HOST}:{self.server.server_address[1]}, "
                                    f"got {self.headers.get('Host')!r}")
        origin = self.headers.get("Origin")
        port = self.server.server_address[1]
        if origin is not None and origin not in (f"http://{HOST}:{port}",
                                                 f"http://localhost:{port}"):
            return self._error(400, f"Origin: expected the lab's own page "
                                    f"(http://{HOST}:{port}), got {origin!r}")
        routes = {"/api/action": self._action, "/api/settings": self._settings,
                  "/api/points": self._points}
        route = routes.get(self.path)
        if route is None:
            return self._error(404, f"no such request: POST {self.path}")
        try:
            body = self._body()
            result = route(body)
        except BadRequest as error:
            return self._error(400, error)
        except MiniganError as error:   # a ConfigError from the settings: nothing changed
            return self._error(400, error)
        return self._json(200, {"ok": True, **(result or {}),
                                "state": self.server.session.state()})

    def _body(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest("Content-Length: expected the body's size in bytes") from None
        if not 0 <= length <= MAX_BODY:
            raise BadRequest(f"body: expected at most {MAX_BODY} bytes, got {length}")
        raw = self.rfile.read(length)
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest(f"body: expected a JSON object, got invalid JSON ({error})") \
                from None
        if not isinstance(value, dict):
            raise BadRequest(f"body: expected a JSON object, got {type(value).__name__}")
        return value

    def _action(self, body):
        if set(body) != {"action"}:
            raise BadRequest(f'body: expected {{"action": ...}}, got keys {sorted(body)}')
        self.server.session.act(body["action"])

    def _settings(self, body):
        return self.server.session.update(body)

    def _points(self, body):
        if set(body) != {"points"}:
            raise BadRequest(f'body: expected {{"points": [[x, y], ...]}}, got keys '
                             f"{sorted(body)}")
        return self.server.session.set_points(body["points"])

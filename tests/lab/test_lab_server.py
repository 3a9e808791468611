"""The GAN lab's server over 127.0.0.1 (in this process), and ``minigan lab`` as a
program: the page and the API, bad requests answered 400 with a message and changing
nothing, the loopback-only binding, a port in use, Ctrl-C, the export and the GIF."""

import configparser
import fnmatch
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
from served_lab import served_lab

from minigan.cli import main
from minigan.errors import InputError
from minigan.lab.server import STATIC, make_server

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def lab():
    with served_lab(batch_size=32, resolution=12) as server:
        yield server


def request(server, method, path, body=None, headers=None, raw=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    connection.request(method, path, body=data, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    kind = response.getheader("Content-Type", "")
    return response.status, (json.loads(payload) if "json" in kind else payload), response


def test_the_server_listens_on_127_0_0_1_only(lab):
    assert lab.server_address[0] == "127.0.0.1" and lab.url.startswith("http://127.0.0.1:")
    # another loopback address of this machine reaches nothing: the socket is bound to
    # 127.0.0.1, not to every interface
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", lab.server_address[1]), timeout=2).close()


def test_the_page_and_its_files_come_from_the_package(lab):
    status, body, response = request(lab, "GET", "/")
    assert status == 200 and b'id="play"' in body
    policy = response.getheader("Content-Security-Policy")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for name in STATIC:
        status, body, _ = request(lab, "GET", f"/static/{name}")
        assert status == 200 and body == (ROOT / "minigan/lab/static" / name).read_bytes()
    for path in ("/static/../server.py", "/static/session.py", "/nothing"):
        status, body, _ = request(lab, "GET", path)
        assert status == 404 and "no such page" in body["error"]
    assert not (b"http://" in (ROOT / "minigan/lab/static/index.html").read_bytes()
                or b"https://" in (ROOT / "minigan/lab/static/app.js").read_bytes())


def test_the_static_files_are_package_data():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["minigan"].split(",")]
    for path in (ROOT / "minigan/lab/static").iterdir():
        name = path.relative_to(ROOT / "minigan").as_posix()
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def test_play_trains_in_the_background_and_pause_stops_it(lab):
    status, body, _ = request(lab, "GET", "/api/state")
    assert status == 200 and body["frame"]["step"] == 0 and not body["running"]
    status, body, _ = request(lab, "POST", "/api/action", {"action": "play"})
    assert status == 200 and body["state"]["running"]
    deadline = time.monotonic() + 20
    while request(lab, "GET", "/api/state")[1]["frame"]["step"] < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    request(lab, "POST", "/api/action", {"action": "pause"})
    step = lab.session.trainer.step_count
    time.sleep(0.3)
    assert lab.session.trainer.step_count == step
    state = request(lab, "GET", "/api/state")[1]
    assert not state["running"] and len(state["curves"]) >= 5


def test_settings_and_points_over_http(lab):
    status, body, _ = request(lab, "POST", "/api/settings", {"spectral_norm": True})
    assert status == 200 and body["restarted"] and body["state"]["settings"]["spectral_norm"]
    status, body, _ = request(lab, "POST", "/api/settings", {"lr_g": 0.002})
    assert status == 200 and not body["restarted"] and "continued" in body["message"]
    status, body, _ = request(lab, "POST", "/api/points", {"points": [[0.5, 0.5], [1, -1]]})
    assert status == 200 and body["state"]["settings"]["data"] == "points"
    assert body["state"]["clicked"] == [[0.5, 0.5], [1.0, -1.0]]


@pytest.mark.parametrize("path, raw, message", [
    ("/api/settings", b'{"lr_d": 100}', "lr_d: expected a learning rate in (0, 10.0]"),
    ("/api/settings", b'{"lr_d": NaN}', "lr_d: expected a learning rate"),
    ("/api/settings", b'{"loss": "gan"}', "loss: expected one of"),
    ("/api/settings", b'{"latent_dim": 3}', "latent_dim: expected one of 1, 2"),
    ("/api/settings", b'[1, 2]', "expected a JSON object, got list"),
    ("/api/settings", b'{"lr_d": ', "invalid JSON"),
    ("/api/settings", b'\xff\xfe', "invalid JSON"),
    ("/api/action", b'{"action": "jump"}', "action: expected one of play, pause"),
    ("/api/action", b'{"action": "play", "x": 1}', "expected {\"action\": ...}"),
    ("/api/points", b'{"points": [[0, 9]]}', "each coordinate must be a finite number"),
])
def test_a_bad_request_is_400_with_a_message_and_changes_nothing(lab, path, raw, message):
    before = request(lab, "GET", "/api/state")[1]
    status, body, _ = request(lab, "POST", path, raw=raw,
                              headers={"Content-Type": "application/json"})
    assert status == 400 and message in body["error"] and "\n" not in body["error"]
    after = request(lab, "GET", "/api/state")[1]
    assert (after["settings"], after["version"], after["running"]) == (
        before["settings"], before["version"], before["running"])


def test_oversized_bodies_unknown_paths_and_foreign_hosts_are_refused(lab):
    status, body, _ = request(lab, "POST", "/api/settings", raw=b"{}",
                              headers={"Content-Length": str(10**7)})
    assert status == 400 and "at most 65536 bytes" in body["error"]
    status, body, _ = request(lab, "POST", "/api/other", {"a": 1})
    assert status == 404
    status, body, _ = request(lab, "GET", "/api/state", headers={"Host": "example.org"})
    assert status == 400 and "Host: expected 127.0.0.1:" in body["error"]
    # a page on another site posting to the lab (a "simple" request needs no preflight)
    status, body, _ = request(lab, "POST", "/api/action", {"action": "play"},
                              headers={"Origin": "http://example.org",
                                       "Content-Type": "text/plain"})
    assert status == 400 and "Origin: expected the lab's own page" in body["error"]
    assert not lab.session.running
    status, body, _ = request(lab, "POST", "/api/action", {"action": "pause"},
                              headers={"Origin": lab.url.rstrip("/")})
    assert status == 200


def test_a_port_in_use_is_one_clear_error(lab):
    with pytest.raises(InputError, match=f"--port {lab.server_address[1]}: the port is in use"):
        make_server(lab.session, lab.server_address[1])


def test_closing_the_tab_keeps_the_game(lab):
    request(lab, "POST", "/api/action", {"action": "step"})
    first = request(lab, "GET", "/api/state")[1]
    again = request(lab, "GET", "/api/state")[1]     # a new connection: a reopened tab
    assert again["frame"]["step"] == first["frame"]["step"] == 1


# -- minigan lab as a program ---------------------------------------------------------

def run_cli(*args, timeout=120, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "minigan", "lab", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


def test_the_program_serves_until_ctrl_c_and_exits_0():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "minigan", "lab", "--no-browser",
                                "--port", "0", "--batch-size", "32"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("minigan lab: http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/state")
        assert json.loads(connection.getresponse().read())["frame"]["step"] == 0
        connection.close()
        start = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0 and time.monotonic() - start < 5
        assert "Traceback" not in err and "stopped by SIGINT" in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_program_says_in_one_line_that_the_port_is_in_use(capsys):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        port = holder.getsockname()[1]
        status = main(["lab", "--no-browser", "--port", str(port), "--batch-size", "16"])
    finally:
        holder.close()
    assert status == 2
    assert capsys.readouterr().err == (
        f"minigan: error: lab: --port {port}: the port is in use on 127.0.0.1; choose "
        "another port, or --port 0 for a free one\n")


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port: expected a port number in [0, 65535], got 70000"),
    (["--lr-d", "0"], "--lr-d: expected a learning rate in (0, 10.0], got 0"),
    (["--remedy", "magic"], "--remedy: expected one of"),
    (["--loss", "hinge", "--remedy", "r1"], "lab: r1: the R1 penalty is for the BCE losses"),
    (["--export", "nowhere/lab.html"], "the directory"),
    (["--export", "lab.txt"], "expected a file name ending in .html"),
    (["--gif", "lab.png"], "expected a file name ending in .gif"),
    (["--export", "lab.html", "--steps", "3", "--pictures", "5"], "at most --steps"),
])
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path, monkeypatch, capsys, args,
                                                     message):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["lab", "--no-browser", *args])
    except SystemExit as exit:   # argparse's errors end the program from the parser
        status = exit.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("minigan: error: lab: ")
    assert list(tmp_path.iterdir()) == []


def test_the_export_is_one_page_that_loads_nothing_and_the_gif_animates(tmp_path):
    page, gif = tmp_path / "lab.html", tmp_path / "lab.gif"
    result = run_cli("--export", str(page), "--gif", str(gif), "--steps", "20",
                     "--pictures", "4", "--batch-size", "32")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "5 pictures of 20 steps" in result.stdout
    html = page.read_text()
    assert "window.LAB_EXPORT = " in html and "/static/" not in html
    assert 'content="default-src \'none\'' in html
    data = json.loads(html.split("window.LAB_EXPORT = ", 1)[1].split(";</script>", 1)[0])
    assert [f["step"] for f in data["frames"]] == [0, 5, 10, 15, 20]
    from PIL import Image

    with Image.open(gif) as image:
        assert image.n_frames == 5 and image.size[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.gif", "lab.html"]


@pytest.mark.slow
def test_pip_builds_a_wheel_that_ships_the_page(tmp_path):
    """``pip install .`` ships the page: a wheel built from the committed files (copied,
    so that the build leaves the checkout alone) holds every file the server serves."""
    import shutil
    import zipfile

    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path / "wheels")],
                   check=True, timeout=600, capture_output=True)
    (wheel,) = (tmp_path / "wheels").glob("minigan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert all(f"minigan/lab/static/{name}" in names for name in STATIC)

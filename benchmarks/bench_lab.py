"""How fast the GAN lab trains and draws, with its default networks and batch (256).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lab.py

Targets: at least 30 training steps and 10 drawn pictures per second
on 2 CPU cores. Three measurements:

1. the parts, interleaved round-robin (``common.time_interleaved``): a bare
   ``Trainer.step`` on a batch of the ring (the reference: the library without the lab),
   the lab's unrecorded step (the same step plus the lab's data and curve keeping), a
   step with its picture (the G hooks, D over the plane, D*, the manifold, the mode
   metrics), a step recorded layer by layer (``minigan.inspect.Recorder``: what the
   gradient-norm chart costs, every 20th picture while playing), and the JSON of the
   state the page polls;
2. the live loop: the lab's training thread at full speed for ``--seconds``, while a client
   long-polls ``/api/state?after=V`` over HTTP on 127.0.0.1 as the page does: training
   steps per second, pictures made per second, pictures the client received, and the
   time from a request to its answer (mostly the wait for the next picture);
3. the page: headless Chromium (``/usr/bin/chromium`` via playwright's Python package,
   when both are there; ``--no-browser`` skips it) loads the page, presses Play, and
   counts the pictures it drew (``window.labFramesDrawn``) in ``--seconds``.

``--smoke``: 1-second runs (CI). Nothing is written outside stdout unless ``--json``.
"""

import os
import sys

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # as common.BLAS_ENV_VARS

if __name__ == "__main__" and any(name in os.environ for name in BLAS_ENV_VARS):
    # OpenBLAS reads these when it loads: benchmark the kernel the CPU supports, in a
    # fresh process without them
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS}
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import common  # noqa: E402
import numpy  # noqa: E402

from minigan import backend, parallel  # noqa: E402
from minigan.gan import Trainer  # noqa: E402
from minigan.lab import LabSession, networks  # noqa: E402
from minigan.lab import settings as lab_settings  # noqa: E402
from minigan.lab.server import make_server  # noqa: E402

STEPS_TARGET, FRAMES_TARGET = 30, 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--threads", type=int, default=2, help="BLAS and minigan threads (2)")
    p.add_argument("--seconds", type=float, default=8.0,
                   help="length of the live and the browser runs (8)")
    p.add_argument("--steps", type=int, default=30, help="timed rounds of the parts (30)")
    p.add_argument("--no-browser", action="store_true", help="skip the browser run")
    p.add_argument("--smoke", action="store_true", help="1-second runs, 3 rounds (CI)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers to this file")
    args = p.parse_args(argv)
    if args.smoke:
        args.seconds, args.steps = 1.0, 3
    return args


def parts(rounds):
    """Median seconds of each part of the lab's work, interleaved."""
    session = LabSession()
    s = lab_settings.DEFAULTS
    G, D = networks.build(s, 1)
    bare = Trainer(G, D, loss=s["loss"], lr_d=s["lr_d"], lr_g=s["lr_g"], betas=(0.5, 0.999),
                   real_label=1.0, seed=s["seed"])
    rng = numpy.random.default_rng(0)
    real = backend.to_device(session.data.sample(s["batch_size"], rng).astype("float32"))
    fns = {
        "Trainer.step (reference)": lambda: bare.step(real),
        "lab step": lambda: session.train_step("both"),
        "lab step + picture": lambda: session.train_step("both", picture=True, norms=False),
        "lab step + picture, recorded": lambda: session.train_step("both", picture=True,
                                                                   norms=True),
        "state as JSON (once per picture)": lambda: json.dumps(session.state()),
    }
    return common.summarise(common.time_interleaved(fns, warmup=3, steps=rounds))


def live(seconds):
    """The lab's training thread at full speed, long-polled over HTTP."""
    session = LabSession().start()
    server = make_server(session, 0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    port = server.server_address[1]
    seen, latencies = set(), []

    def get_state(after):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        t0 = time.perf_counter()
        connection.request("GET", "/api/state" + ("" if after is None else f"?after={after}"))
        state = json.loads(connection.getresponse().read())
        latencies.append(time.perf_counter() - t0)
        connection.close()
        return state

    try:
        session.act("play")
        start, step0, pictures0 = time.perf_counter(), session.trainer.step_count, session.version
        version = None
        while time.perf_counter() - start < seconds:
            version = get_state(version)["version"]
            seen.add(version)
        elapsed = time.perf_counter() - start
        steps, pictures = session.trainer.step_count - step0, session.version - pictures0
        session.act("pause")
    finally:
        server.shutdown()
        server.server_close()
        session.close()
    return {"seconds": elapsed, "steps_per_s": steps / elapsed,
            "pictures_per_s": pictures / elapsed, "received_per_s": len(seen) / elapsed,
            "state_latency_median_ms": 1e3 * float(numpy.median(latencies))}


def browser(seconds):
    """Pictures the page drew per second in headless Chromium, or None (no browser)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not os.path.exists(chromium):
        return None
    session = LabSession().start()
    server = make_server(session, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"])
            page = b.new_page(viewport={"width": 1100, "height": 900})
            page.goto(server.url)
            page.wait_for_function("() => window.labFramesDrawn > 0")
            page.click("#play")
            page.wait_for_function("() => document.getElementById('play').textContent === "
                                   "'Pause'")
            drawn0, step0 = page.evaluate("() => window.labFramesDrawn"), \
                session.trainer.step_count
            start = time.perf_counter()
            page.wait_for_timeout(1000 * seconds)
            elapsed = time.perf_counter() - start
            drawn = page.evaluate("() => window.labFramesDrawn") - drawn0
            steps = session.trainer.step_count - step0
            b.close()
    finally:
        server.shutdown()
        server.server_close()
        session.close()
    return {"seconds": elapsed, "drawn_per_s": drawn / elapsed, "steps_per_s": steps / elapsed}


def main(argv=None):
    args = parse_args(argv)
    parallel.set_threads(args.threads)
    common.limit_threads(args.threads)
    report = common.machine_report()
    print(common.format_machine_report(report))
    for warning in (common.blas_env_warning(), common.load_warning(report, args.threads)):
        if warning:
            print(warning)
    print(f"threads: {args.threads} (minigan and BLAS); default lab: batch "
          f"{lab_settings.DEFAULTS['batch_size']}, G and D MLPs {networks.HIDDEN}, float32\n")

    stats = parts(args.steps)
    print(f"parts, median (p10-p90) of {args.steps} interleaved rounds:")
    for name, s in stats.items():
        print(f"  {name:<32} {common.format_ms(s['median'])} ms  "
              f"({common.format_ms(s['p10']).strip()}-{common.format_ms(s['p90']).strip()})")
    result = {"args": vars(args), "machine": report, "parts": stats}

    loop = live(args.seconds)
    result["live"] = loop
    print(f"\nlive, {loop['seconds']:.1f} s at full speed, long-polled over HTTP:\n"
          f"  {loop['steps_per_s']:.0f} steps/s (target >= {STEPS_TARGET}), "
          f"{loop['pictures_per_s']:.1f} pictures/s made (target >= {FRAMES_TARGET}), "
          f"{loop['received_per_s']:.1f}/s received by the client (answer after "
          f"{loop['state_latency_median_ms']:.1f} ms median)")
    page = None if args.no_browser else browser(args.seconds)
    result["browser"] = page
    if page is not None:
        print(f"page in headless Chromium, {page['seconds']:.1f} s: {page['drawn_per_s']:.1f} "
              f"pictures drawn/s (target >= {FRAMES_TARGET}), {page['steps_per_s']:.0f} "
              "steps/s meanwhile")
    elif not args.no_browser:
        print("page: skipped (no chromium or no playwright)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())

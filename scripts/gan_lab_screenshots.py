"""The screenshots of docs/gan_lab.md: the GAN lab's page in headless Chromium after a
given number of steps of each setting of the guided tour.

    python scripts/gan_lab_screenshots.py --out docs/figures/gan_lab [--only NAME ...]

Each shot trains a ``LabSession`` here (no thread, so the step count is exact), records
its last step layer by layer, serves it on 127.0.0.1 and photographs the page with
Debian's ``chromium`` through playwright's Python package. Needs both.
"""

import argparse
import os
import shutil
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minigan.lab import LabSession  # noqa: E402
from minigan.lab.server import make_server  # noqa: E402

# name: (settings, steps, checkboxes to switch, what to photograph)
SLOW_D = {"lr_d": 1e-4, "lr_g": 1e-3}   # a discriminator ten times slower than G
FAST_D = {"data": "grid", "lr_d": 3e-3, "lr_g": 1e-4, "k": 3}   # D far ahead of G
SHOTS = {
    "overview": ({}, 1500, [], "main"),
    "collapse": (SLOW_D, 2000, [], ".left"),
    "collapse_packing": ({**SLOW_D, "packing": True}, 2000, [], ".left"),
    "collapse_minibatch_stddev": ({**SLOW_D, "minibatch_stddev": True}, 2000, [], ".left"),
    "minimax_saturates": ({**FAST_D, "loss": "minimax"}, 100, ["fixed-arrows"], ".left"),
    "non_saturating_same_start": ({**FAST_D, "loss": "non-saturating"}, 100,
                                  ["fixed-arrows"], ".left"),
    "wgan_gp_critic": ({"loss": "wgan-gp", "data": "moons", "k": 5}, 1500, [], ".left"),
    "d_versus_d_star": ({"data": "moons"}, 600, ["show-dstar"], ".left"),
    "arrows": ({"data": "grid"}, 200, ["show-manifold"], ".left"),
}
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def shoot(browser, name, settings, steps, switches, target, out):
    session = LabSession(settings)
    session.run_steps(steps - 1, pictures=50)  # the modes curve gets its points
    session.train_step("both", picture=True, norms=True)
    server = make_server(session, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page(viewport={"width": 1060, "height": 1000})
        page.goto(server.url)
        page.wait_for_function(f"() => document.getElementById('status').textContent"
                               f".includes('step {steps} ')")
        for box in switches:
            page.click(f"#{box}")
        page.wait_for_timeout(200)
        path = os.path.join(out, f"{name}.png")
        page.locator(target).first.screenshot(path=path)
        status = page.inner_text("#status")
        page.close()
    finally:
        server.shutdown()
        server.server_close()
        session.close()
    print(f"{path}: {' | '.join(status.splitlines())}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--out", default="docs/figures/gan_lab")
    p.add_argument("--only", nargs="*", choices=list(SHOTS), default=None)
    args = p.parse_args(argv)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    from playwright.sync_api import sync_playwright

    os.makedirs(args.out, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        for name in args.only or SHOTS:
            shoot(browser, name, *SHOTS[name], args.out)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The GAN lab in a real browser: headless Chromium (Debian's ``chromium``), driven by
playwright's Python package pointed at the system browser (no browser download). The
page loads with no request leaving the lab's address and no script error; #play makes
the picture change; a remedy toggles (and restarts the networks); a bad value shows the
server's message; an exported page opened from disk replays with its scrubber."""

import os
import shutil
import urllib.parse

import pytest
from served_lab import served_lab

from minigan.lab.export import export_run

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if os.path.exists("/usr/bin/chromium") else None)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright (the Python package) is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Chromium is missing (apt-get install chromium)")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def lab():
    with served_lab(batch_size=64, resolution=24) as server:
        yield server


def watched_page(browser, allowed):
    """A new page recording every request that goes anywhere but ``allowed`` (a
    function of the URL) and every script error."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.foreign, page.errors, page.console_errors, page.seen = [], [], [], []
    page.on("request", lambda r: page.seen.append(r.url))
    page.on("request", lambda r: None if allowed(r.url) else page.foreign.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console",
            lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    return page


def pixels(page):
    return page.evaluate("() => document.getElementById('plane').toDataURL()")


def test_play_changes_the_picture_remedies_toggle_and_nothing_leaves_127_0_0_1(browser, lab):
    origin = lab.url.rstrip("/")

    def local(url):
        parts = urllib.parse.urlsplit(url)
        return parts.scheme == "http" and parts.netloc == urllib.parse.urlsplit(origin).netloc

    page = watched_page(browser, local)
    page.goto(lab.url)
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('step 0')")
    before = pixels(page)
    page.click("#play")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Pause'")
    page.wait_for_function(
        "() => /step ([1-9][0-9]*)/.test(document.getElementById('status').textContent)",
        timeout=30000)
    page.wait_for_timeout(300)
    assert pixels(page) != before
    page.click("#play")
    page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    assert not lab.session.running

    page.check("#remedy-spectral_norm")
    page.wait_for_function(
        "() => document.getElementById('notice').textContent.includes('restarted')")
    assert lab.session.settings["spectral_norm"] is True
    assert page.is_checked("#remedy-spectral_norm")

    page.fill("#lr_d", "-1")
    page.dispatch_event("#lr_d", "change")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('lr_d: expected')")
    assert lab.session.settings["lr_d"] == 1e-3

    page.click("#step")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('(step)')")
    assert len(page.seen) > 10 and page.foreign == [] and page.errors == []
    # the browser logs the refused setting's answer, and nothing else
    assert page.console_errors and all("status of 400" in e for e in page.console_errors)
    page.close()


def test_an_export_opened_from_disk_replays_and_loads_nothing(browser, tmp_path):
    path = tmp_path / "lab.html"
    export_run({"batch_size": 32}, str(path), steps=6, pictures=3)
    url = path.as_uri()
    page = watched_page(browser, lambda u: u == url)
    page.goto(url)
    page.wait_for_function(
        "() => document.getElementById('replay-label').textContent.includes('1/4')")
    assert page.is_hidden("#live-controls") and page.is_visible("#scrubber")
    first = pixels(page)
    page.fill("#scrubber", "3")
    page.dispatch_event("#scrubber", "input")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('step 6')")
    assert pixels(page) != first
    assert page.seen == [url]   # the page itself, and nothing else
    assert page.foreign == [] and page.errors == [] and page.console_errors == []
    page.close()

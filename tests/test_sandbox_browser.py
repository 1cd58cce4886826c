"""The sandbox as a person meets it, in a real browser (Debian's chromium through
Playwright): `/okr new` and two key results in a modal, a jump to the next check-in, a
threaded reply as the owner, the digest with its chart, another person's App Home.

Without a browser this is skipped, unless REQUIRE_BROWSER=1 (set by .ci/run) makes that a
failure. UPDATE_SCREENSHOTS=1 rewrites the README's screenshot (docs/sandbox.png).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox.stack import free_port
from tests.cli_env import clean_env

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "sandbox.png"

playwright_api = pytest.importorskip("playwright.sync_api")

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing", pytrace=False)
    pytest.skip(f"no browser at {CHROMIUM}", allow_module_level=True)


def wait_for_page(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the sandbox exited: {process.stdout and process.stdout.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the sandbox page did not come up")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    """`python -m bot sandbox` on a fresh database in an empty folder."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--fresh", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_week_of_the_ceremony_in_the_browser(sandbox: str) -> None:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(20_000)
        page.goto(sandbox)
        expect = playwright_api.expect

        # Jonas leads Platform: he writes an objective with two key results.
        page.select_option("#person", label="Jonas Weber (Europe/Berlin)")
        page.click("#sidebar >> text=# platform")
        expect(page.locator(".pane-title")).to_have_text("#platform")
        page.fill("#compose-text", "/okr new")
        page.press("#compose-text", "Enter")
        modal = page.locator("[data-modal]")
        expect(modal.locator(".modal-title")).to_have_text("New objective")
        modal.locator('[data-block-id="title"] input').fill(
            "Checkout never keeps a customer waiting"
        )
        modal.locator('[data-block-id="team"] select').select_option(label="Platform")
        modal.locator("[data-modal-submit]").click()
        expect(modal.locator(".modal-title")).to_contain_text("Key results of O6")
        added = (
            ("KR8", "Checkout errors below 0.1%", "0.1"),
            ("KR9", "Pay pages load in 1 s", "1"),
        )
        for ref_added, title, target in added:  # the demo has KR1 to KR7
            kr_modal = page.locator("[data-modal]")
            kr_modal.locator('[data-block-id="title"] input').fill(title)
            kr_modal.locator('[data-block-id="start"] input').fill("5")
            kr_modal.locator('[data-block-id="target"] input').fill(target)
            kr_modal.locator("[data-modal-submit]").click()
            expect(page.locator("[data-modal]")).to_contain_text(
                re.compile(rf"Added (KR\d+, )?{ref_added}\b")
            )
        page.locator("[data-modal-close]").click()
        expect(page.locator("[data-modal]")).to_have_count(0)

        # The next check-in: the prompt in #platform lists the new key results.
        page.click("[data-travel=checkin]")
        prompt = page.locator(".msg", has_text="Reply in this thread").last
        expect(prompt).to_contain_text("Checkout errors below 0.1%")
        expect(page.locator("#clock")).to_contain_text("Mon 30 Nov 2026, 10:00")
        ref = re.search(r"KR(\d+)\s+Checkout errors", prompt.inner_text())
        assert ref is not None, prompt.inner_text()
        expect(prompt).to_contain_text("Checked in: nobody yet")

        # Jonas answers in the thread; the bot reacts and the prompt says who checked in.
        prompt.locator("[data-open-thread]").click()
        page.fill("#thread-text", f"KR{ref.group(1)} 2 conf 8 — rate limiter shipped")
        page.press("#thread-text", "Enter")
        reply = page.locator("#thread .msg", has_text="rate limiter shipped")
        expect(reply.locator(".reaction")).to_contain_text("✅")
        expect(prompt).to_contain_text(re.compile(r"Checkout errors below 0\.1%.*✅ checked in"))
        expect(prompt.locator(".edited")).to_be_visible()

        # Past the digest time: the digest and its chart in #platform.
        page.click("[data-close-thread]")
        page.click("[data-travel=day]")
        page.click("[data-travel=day]")
        digest = page.locator("#main .msg", has_text="📊 Platform · 2026-W49").last
        expect(digest).to_be_visible()
        digest.locator("[data-open-thread]").click()
        chart = page.locator("#thread .bk-image img")
        expect(chart).to_be_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth") == 800

        # Someone else's App Home.
        page.select_option("#person", label="Priya Nair (Asia/Kolkata)")
        page.click("[data-nav=home]")
        expect(page.locator(".home")).to_contain_text("Checkout")
        page.select_option("#person", label="Jonas Weber (Europe/Berlin)")
        page.click("#sidebar >> text=# platform")
        page.locator("[data-open-thread]").last.click()
        expect(page.locator("#thread .bk-image img")).to_be_visible()
        page.locator("#thread .bk-image img").scroll_into_view_if_needed()
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        browser.close()

"""End to end in real headless Chromium: `vnsearch serve` over the fixture index, driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("VNSEARCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Headless on a machine with no network but loopback: nothing in the background may phone out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30.0

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vnsearch() -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "indexer"]


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    """`vnsearch serve` on a free loopback port; yields its base URL once it answers."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*_vnsearch(), "serve", "--index", str(index_dir), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"vnsearch serve did not answer on {base}:\n{log.read_text('utf-8', 'replace')}")
            time.sleep(0.1)  # polling for readiness, bounded by the deadline
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="vi-VN"
        )
        yield context
        context.close()


@pytest.fixture()
def page(browser):
    """A tab that fails the test on any console error (a CSP violation is one) or script dialog."""
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield tab
    tab.close()
    assert not problems, problems


def test_search_facet_article_in_a_real_browser(server, page):
    expect = sync_api.expect
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_label("Tìm kiếm tin tức")).to_be_focused()  # autofocus

    # Typed without diacritics, found with them, highlighted.
    page.keyboard.type("gia vang")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=gia+vang")
    expect(page.locator(".summary .count")).to_contain_text("2 kết quả")
    marks = page.locator(".snippet mark")
    expect(marks.first).to_have_text("Giá vàng")
    assert marks.count() >= 2
    # The stylesheet applied (no inline style is allowed, so this proves it loaded under the CSP).
    assert page.locator("mark").first.evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(255, 224, 102)"
    # The article's own "<script>" is text on the page, not a script.
    expect(page.locator(".snippet").filter(has_text="<script>alert('x')</script>")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)

    # Ticking two sources and filtering (a plain form) shows either; unticking one narrows to the other.
    page.locator(".facet-source").get_by_role("checkbox", name="baomoi.com").check()
    page.locator(".facet-source").get_by_role("checkbox", name="vnexpress.net").check()
    page.get_by_role("button", name="Lọc nguồn").click()
    page.wait_for_url("**/search?q=gia+vang&source=baomoi.com&source=vnexpress.net")
    expect(page.locator(".hit")).to_have_count(2)
    page.locator(".facet-source").get_by_role("checkbox", name="vnexpress.net").uncheck()
    page.get_by_role("button", name="Lọc nguồn").click()
    page.wait_for_url("**/search?q=gia+vang&source=baomoi.com")
    expect(page.locator(".summary .count")).to_contain_text("1 kết quả")
    expect(page.locator(".hit")).to_have_count(1)
    chip = page.get_by_role("link", name="Bỏ lọc nguồn baomoi.com")
    expect(chip).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "results-facet.png"), full_page=True)

    # The article, the query's matches highlighted in its text.
    page.locator(".hit-title a").first.click()
    page.wait_for_url("**/article/gia-vang-trong-nuoc?q=gia+vang")
    expect(page.locator("h1 mark")).to_have_text("Giá vàng")
    expect(page.locator(".body")).to_contain_text("<script>alert('x')</script> Người mua <b>vẫn</b> xếp hàng.")
    expect(page.get_by_role("heading", name="Bài liên quan")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "article.png"), full_page=True)

    # Back to the search, then the chip clears the filter.
    page.get_by_role("link", name="‹ Quay lại kết quả tìm «gia vang»").click()
    page.wait_for_url("**/search?q=gia+vang")
    expect(page.locator(".summary .count")).to_contain_text("2 kết quả")


def test_results_fit_a_phone(server, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/search?q=da+nang")
    expect = sync_api.expect
    expect(page.locator(".hit")).to_have_count(3)
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Bỏ qua, đến nội dung chính")).to_be_focused()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results-phone.png"), full_page=True)


def test_bad_parameter_and_missing_article_pages(server, browser):
    page = browser.new_page()  # Chromium logs each 4xx as a console error: this tab doesn't check them
    response = page.goto(server + "/search?q=vang&page=0")
    assert response.status == 400
    assert response.headers["x-content-type-options"] == "nosniff"
    sync_api.expect(page.locator("main")).to_contain_text("Tham số page không hợp lệ.")
    response = page.goto(server + "/article/khong-co")
    assert response.status == 404
    sync_api.expect(page.locator("h1")).to_have_text("Không tìm thấy bài báo")
    page.close()

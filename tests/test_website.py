"""The built website, as a reader sees it: headless Chromium with the network cut off.

For the intro and every chapter in book/_toc.yml: the formulas are typeset by
the site's own MathJax (no raw TeX left on the page), every image loads, the
browser console shows no error beyond known noise, and no request leaves
127.0.0.1 (each one is blocked and recorded, so math and figures that depend on
the network would show up here).

Needs the built site (`make book`) and /usr/bin/chromium (`make browser-deps`).
SEQ_BOOK_DIR points the test at another book folder (its `_build/html` is served);
SEQ_SCREENSHOT_DIR, when set, receives a full-page PNG of every page.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("SEQ_BOOK_DIR", REPO / "book")).resolve()
SITE = BOOK / "_build" / "html"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Console errors every Jupyter Book 1.x page produces that say nothing about the content:
# no favicon is shipped, and sphinx-thebe looks up its (unused, disabled) launcher URL.
KNOWN_NOISE = ("favicon.ico", "THEBE_JS_URL")

# Visible TeX that MathJax should have replaced: $$, \( \) \[ \], environments,
# and $...$ around a TeX command (a bare "$5" is just money).
RAW_TEX_JS = r"""() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
      .forEach(node => node.remove());
  const text = copy.textContent;
  const patterns = [/\$\$/, /\\\(/, /\\\)/, /\\\[/, /\\\]/, /\\begin\{/,
                    /\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/];
  const found = [];
  for (const pattern of patterns) {
    const match = text.match(pattern);
    if (match) {
      const at = match.index;
      found.push(text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, ' '));
    }
  }
  return found;
}"""

MATH_JS = r"""() => {
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    math: math.length,
    untypeset: math.filter(el => !el.querySelector('mjx-container'))
                   .map(el => el.textContent.slice(0, 80)),
    containers: document.querySelectorAll('mjx-container').length,
    // TeX errors render as merror; undefined macros (MathJax's noundefined extension)
    // as red mtext. The assistive MathML copy shows both, with the offending TeX.
    errors: Array.from(document.querySelectorAll('mjx-container'))
      .filter(el => el.querySelector('mjx-merror, merror, mtext[mathcolor="red"]'))
      .map(el => {
        const bad = el.querySelector('merror, mtext[mathcolor="red"]');
        return (bad ? bad.textContent + ' in: ' : '') + el.textContent.slice(0, 80);
      }),
    mathjaxLoaded: typeof window.MathJax === 'object' && !!window.MathJax.startup,
  };
}"""

IMAGES_JS = r"""() => Array.from(document.images).map(img => ({
  src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth}))"""


def toc_pages(book: Path) -> list[str]:
    """The root document and every file listed in the book's _toc.yml, in order."""
    toc_file = book / "_toc.yml"
    if not toc_file.is_file():
        return []
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8")) or {}
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk([{key: toc[key] for key in ("parts", "chapters", "sections") if key in toc}])
    return [str(Path(page).with_suffix("")) for page in pages]


PAGES = toc_pages(BOOK)


def chromium() -> str:
    found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("SEQ_SKIP_BROWSER") == "1":
        pytest.skip("SEQ_SKIP_BROWSER=1: no chromium, the website is not checked in a browser")
    pytest.fail("chromium not found: run `make browser-deps` (or `apt-get install -y chromium`); "
                "to skip the browser test explicitly, set SEQ_SKIP_BROWSER=1", pytrace=False)


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"the website is not built ({SITE / 'index.html'} missing): run `make book` first",
                    pytrace=False)

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Never `playwright install`: the distribution's chromium is used instead.
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def settled(page, condition_js: str, timeout_ms: int = 15_000) -> bool:
    """Wait until the condition holds in the page; False (not an exception) on timeout."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition_js, timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def test_toc_lists_pages():
    assert PAGES, f"no pages found in {BOOK / '_toc.yml'}"


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders_offline(page_name, site_url, browser):
    html = SITE / f"{page_name}.html"
    if not html.is_file():
        pytest.fail(f"{html} missing although {page_name} is in _toc.yml: run `make book` first",
                    pytrace=False)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    blocked, console_errors, failed = [], [], []

    def route(route_):
        if urlsplit(route_.request.url).hostname == "127.0.0.1":
            route_.continue_()
        else:
            blocked.append(route_.request.url)
            route_.abort()

    def on_console(message):
        if message.type == "error":
            console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_response(response):
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    page.on("response", on_response)
    try:
        page.goto(f"{site_url}/{page_name}.html", wait_until="load")
        # Lazy images offscreen would never load in a fixed viewport.
        page.evaluate("() => document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
        settled(page, "() => Array.from(document.images).every(i => i.complete)")
        if page.evaluate("() => document.querySelectorAll('.math').length > 0"):
            # A failure here is reported by the assertions below, with its cause.
            if settled(page, "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"):
                page.evaluate("() => MathJax.startup.promise")
        math = page.evaluate(MATH_JS)
        raw_tex = page.evaluate(RAW_TEX_JS)
        images = page.evaluate(IMAGES_JS)
        page.wait_for_load_state("networkidle")
        shots = os.environ.get("SEQ_SCREENSHOT_DIR")
        if shots:
            target = Path(shots) / (page_name.replace("/", "__") + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
    finally:
        context.close()

    where = f"{page_name}.html"
    assert not blocked, f"{where} tried to reach the network (blocked): {blocked}"
    failed = [entry for entry in failed if not any(noise in entry for noise in KNOWN_NOISE)]
    assert not failed, f"{where}: requests that failed: {failed}"
    if math["math"]:
        assert math["mathjaxLoaded"], f"{where} has math but MathJax did not load"
        assert not math["untypeset"], f"{where}: formulas not typeset by MathJax: {math['untypeset']}"
        assert math["containers"] >= math["math"], f"{where}: MathJax output missing: {math}"
    assert not math["errors"], f"{where}: MathJax reports TeX errors in: {math['errors']}"
    assert not raw_tex, f"{where}: raw TeX visible on the page: {raw_tex}"
    broken = [image["src"] for image in images if not (image["complete"] and image["width"] > 0)]
    assert not broken, f"{where}: images that did not load: {broken}"
    errors = [entry for entry in console_errors if not any(noise in entry for noise in KNOWN_NOISE)]
    assert not errors, f"{where}: browser console errors: {errors}"

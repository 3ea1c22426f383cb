"""The built website, as a reader sees it: headless Chromium with the network cut off.

Every page of book/_toc.yml is opened at a laptop width (1366 px) and a phone width (390 px).
On each, with every problem of the page collected before the test fails:

* nothing loads from outside 127.0.0.1 (each such request is blocked and recorded) and no
  request fails; the browser console shows no error (only the missing favicon is excused);
* the formulas are typeset by the site's own MathJax, without TeX errors, and no raw TeX is
  left in the text (paragraphs, lists and admonitions included);
* no element is wider than the content column unless it sits inside its own scroll box, the
  page itself never scrolls sideways, and no formula, code or figure lies under the sidebar;
* at phone width every displayed formula fits its column (MathJax breaks it, or course.js
  sets it a little smaller), except the few listed in UNBREAKABLE, which scroll in their own
  box with a faded edge; a formula that no longer needs its entry is reported too;
* an inline formula and the comma after it are never split across lines;
* no text is cut off by a box that hides its overflow without scrolling (the theme's
  previous/next links at the foot of the page did that to long chapter titles on a phone);
* printed cell output carries no build noise: no progress bar, no TeX meant for a plot label;
* the sidebar toggle and the "Contents" toggle open and close what they name;
* every figure loads, has an alt text that describes it (not its file path) and is shown at
  >= 80 % of its natural width or can be enlarged by a click; and it is never shown so small
  that the smallest text a plot may carry (10.5 pt at 100 dpi, the book style) falls under
  10 px, at the phone's width too;
* every chapter links its executed notebook and its exercise notebook, and both resolve;
* FontAwesome's 1.5 MB script is not loaded, nor MathJax's speech engine (1.2 MB) until a reader
  turns it on; every formula carries the hidden MathML that screen readers read.

A full-page screenshot of every page at both widths is saved under
book/_build/screenshots/<width>px/ (SEQ_SCREENSHOT_DIR chooses another folder) for a person
to look at; SEQ_SCREENSHOTS=0 skips them (no check reads them, and they take about a third of
the test's time). Needs the built site (`make book`) and /usr/bin/chromium (`make browser-deps`);
SEQ_BOOK_DIR points the test at another book folder (its `_build/html` is served).
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from seqcourse.figures import measure

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
BOOK = Path(os.environ.get("SEQ_BOOK_DIR", REPO / "book")).resolve()
SITE = BOOK / "_build" / "html"
SCREENSHOTS = Path(os.environ.get("SEQ_SCREENSHOT_DIR", BOOK / "_build" / "screenshots"))
TAKE_SCREENSHOTS = os.environ.get("SEQ_SCREENSHOTS", "1") != "0"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The one request every page makes that says nothing about the content: no favicon is shipped.
KNOWN_NOISE = ("/favicon.ico",)
WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}
MIN_SCALE = 0.8   # a figure drawn smaller than this must be click-to-enlarge
# The smallest text a plot may carry (the book style, seqcourse/figures/book.mplstyle; tests/
# test_figures.py keeps smaller sizes out of the chapters) and the smallest it may become on
# screen: a figure shown below TEXT_SCALE of its natural width takes that text under MIN_TEXT_PX.
# (The architecture diagrams go down to 10 pt; test_figures.py sizes each for a phone directly.)
MIN_TEXT_PT, MIN_TEXT_PX, FIGURE_DPI = measure.PLOT_TEXT_PT, measure.MIN_TEXT_PX, 100
TEXT_SCALE = MIN_TEXT_PX / (MIN_TEXT_PT * FIGURE_DPI / 72)

# Text a reader sees, without code, math output and scripts; then TeX that should have been
# typeset: $$, \( \) \[ \], \begin{...}, and any TeX command such as \mathbb or \sum.
RAW_TEX_JS = r"""() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, kbd, script, style, noscript, template, textarea, '
                        + 'mjx-container, .highlight, .MathJax_Preview')
      .forEach(node => node.remove());
  const text = copy.textContent;
  const patterns = [/\$\$/, /\\\(/, /\\\)/, /\\\[/, /\\\]/, /\\begin\{/, /\\[A-Za-z]{2,}/,
                    /\$[^$\n]*[\\^_][^$\n]*\$/];
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
    // What a screen reader reads: the hidden MathML copy of each formula.
    assistive: document.querySelectorAll('mjx-container mjx-assistive-mml').length,
  };
}"""

# Layout: elements that stick out of the content column without a scroll box of their own
# around them (the outermost one of each is reported), the page's own sideways scrolling, and
# formulas, code or figures that overlap a visible sidebar.
LAYOUT_JS = r"""() => {
  const column = document.querySelector('.bd-article');
  if (!column) return {error: 'no .bd-article on the page'};
  const col = column.getBoundingClientRect();
  const slack = 1.5;
  const describe = el => {
    const cls = (el.getAttribute('class') || '').split(/\s+/).slice(0, 3).join('.');
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
    return `<${el.tagName.toLowerCase()}${cls ? '.' + cls : ''}> "${text}"`;
  };
  const shown = el => {
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden';
  };
  const outside = r => r.right > col.right + slack || r.left < col.left - slack;
  // The nearest ancestor that clips or scrolls sideways and lies inside the column (boxes in
  // between may be wider: what matters is the box the reader scrolls). Overflow does nothing
  // on inline and table boxes, whatever their computed style says.
  const clipper = el => {
    for (let a = el.parentElement; a && a !== column; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== 'visible' && !/^(inline|table|inline-table)$/.test(style.display)
          && !outside(a.getBoundingClientRect())) return a;
    }
    return null;
  };
  const wide = [];
  const reported = new Set();
  for (const el of column.querySelectorAll('*')) {
    if (el.closest('mjx-assistive-mml')) continue;   // MathJax's off-screen copy for screen readers
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || !outside(r) || !shown(el)) continue;
    // Prose (a caption, a paragraph, a list item) must wrap to the column; a scroll box is
    // excuse enough for code, output, a table or a formula, not for a sentence that a reader
    // would have to scroll sideways (a caption with a long formula widened its figure so).
    const prose = el.matches('figcaption, p, li, dt, dd') && !el.closest('pre, table, .cell_output pre');
    if (!prose && clipper(el)) continue;   // scrolls inside its own box
    let parent = el.parentElement, inside = false;
    while (parent && parent !== column) {
      if (reported.has(parent)) { inside = true; break; }
      parent = parent.parentElement;
    }
    reported.add(el);
    if (!inside) wide.push(`${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px,`
                           + ` column ${Math.round(col.left)}..${Math.round(col.right)} px`);
  }
  const sidebar = document.querySelector('.bd-sidebar-primary');
  const under = [];
  if (sidebar && shown(sidebar)) {
    const s = sidebar.getBoundingClientRect();
    if (s.width > 0 && s.right > 0 && s.left < window.innerWidth) {
      for (const el of column.querySelectorAll('mjx-container, pre, img, table')) {
        const r = el.getBoundingClientRect();
        // What shows of it: its rectangle cut by its scroll box, if any.
        const box = clipper(el);
        const left = box ? Math.max(r.left, box.getBoundingClientRect().left) : r.left;
        if (r.width > 0 && left < s.right - slack && r.right > s.left + slack
            && r.top < s.bottom && r.bottom > s.top) under.push(describe(el));
      }
    }
  }
  return {
    wide: wide.slice(0, 12),
    wideCount: wide.length,
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    under: under.slice(0, 12),
  };
}"""

# Text cut off by a box that hides what does not fit (overflow hidden or clip, as opposed to a
# scroll box the reader can move): anywhere in the main area, the page's foot included. MathJax's
# internals and its off-screen copy for screen readers clip by design and are skipped.
CLIPPED_JS = r"""() => {
  const main = document.querySelector('.bd-main');
  if (!main) return [];
  const found = [];
  for (const el of main.querySelectorAll('*')) {
    if (el.closest('mjx-container, .bd-sidebar-primary, .bd-sidebar-secondary')) continue;
    const style = getComputedStyle(el);
    if (!/^(hidden|clip)$/.test(style.overflowX) || style.display === 'none'
        || style.visibility === 'hidden' || /^inline/.test(style.display)) continue;
    if (el.clientWidth === 0 || !(el.textContent || '').trim()) continue;
    if (el.scrollWidth > el.clientWidth + 2) {
      const cls = (el.getAttribute('class') || '').split(/\s+/).slice(0, 2).join('.');
      found.push(`<${el.tagName.toLowerCase()}${cls ? '.' + cls : ''}> "`
                 + `${el.textContent.replace(/\s+/g, ' ').trim().slice(0, 50)}" shows `
                 + `${el.clientWidth} of ${el.scrollWidth} px`);
    }
  }
  return found.slice(0, 12);
}"""

# Build noise in what the cells printed: a tqdm bar ("42%|████  | 126/300 [00:21<...") or TeX
# that was meant for a plot label ("$0.9 \times$").
NOISE_JS = r"""() => {
  const found = [];
  for (const out of document.querySelectorAll('.bd-article .cell_output')) {
    const text = out.textContent;
    for (const pattern of [/\d+%\|[^|\n]*\|\s*\d+\/\d+/, /\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/]) {
      const match = text.match(pattern);
      if (match) found.push(text.slice(Math.max(0, match.index - 20), match.index + 60)
                                .replace(/\s+/g, ' '));
    }
  }
  return found.slice(0, 12);
}"""

# Displayed formulas wider than the room their box leaves them (its content width; the equation
# number sits in the padding), each with its TeX and whether it is marked as scrolling (faded).
FORMULAS_JS = r"""() => {
  const tex = new Map();
  const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  if (doc && doc.math) for (const item of Array.from(doc.math)) tex.set(item.typesetRoot, item.math);
  const wide = [], cut = [], overlapping = [];
  for (const box of document.querySelectorAll('.bd-article div.math')) {
    const container = box.querySelector('mjx-container');
    const math = container && container.querySelector(':scope > mjx-math');
    if (!math) continue;
    const style = getComputedStyle(box);
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const need = math.getBoundingClientRect().width;
    const name = (tex.get(container) || box.textContent).replace(/\s+/g, ' ').trim();
    // Where the characters are drawn (a box can be narrower than what it draws): a line of a
    // broken formula centred in a column narrower than itself starts left of the box, where no
    // scrolling reaches it; cells of one row of a table are drawn over each other when MathJax
    // breaks a cell.
    const extent = el => {
      let lo = Infinity, hi = -Infinity;
      for (const c of el.querySelectorAll('mjx-c')) {
        const r = c.getBoundingClientRect();
        if (r.width > 0) { lo = Math.min(lo, r.left); hi = Math.max(hi, r.right); }
      }
      return [lo, hi];
    };
    const left = box.getBoundingClientRect().left + parseFloat(style.paddingLeft);
    if (extent(math)[0] < left - 1.5) cut.push(name);
    for (const row of math.querySelectorAll('mjx-mtr, mjx-mlabeledtr')) {
      const cells = Array.from(row.querySelectorAll(':scope > mjx-mtd')).map(extent)
                         .filter(([lo, hi]) => hi > lo).sort((a, b) => a[0] - b[0]);
      if (cells.some((c, i) => i > 0 && cells[i - 1][1] > c[0] + 1.5)) { overlapping.push(name); break; }
    }
    if (need <= room + 1.5) continue;
    wide.push({tex: name, need: Math.round(need), room: Math.round(room),
               faded: !!box.querySelector('.course-scrolls') || box.classList.contains('course-scrolls')});
  }
  return {wide, cut, overlapping};
}"""

# An inline formula whose following comma (or full stop...) starts the next line.
PUNCTUATION_JS = r"""() => {
  const split = [];
  for (const math of document.querySelectorAll('.bd-article span.math')) {
    const container = math.querySelector('mjx-container');
    const text = math.nextSibling;
    if (!container || !text || text.nodeType !== Node.TEXT_NODE || !/^[,.;:]/.test(text.data)) continue;
    const range = document.createRange();
    range.setStart(text, 0);
    range.setEnd(text, 1);
    const mark = range.getBoundingClientRect();
    const boxes = Array.from(container.getClientRects());
    const last = boxes[boxes.length - 1];
    if (last && mark.top >= last.bottom - 1) split.push(math.textContent.slice(0, 60));
  }
  return split;
}"""

# Displayed formulas that MathJax cannot break to a phone's column and that are more than a
# quarter too wide to be set smaller: they scroll in their own box. Page -> the start of
# their TeX, with why they cannot break.
# None today: the one there was (an \underbrace over a sum in the LSTM chapter, no break point
# outside the brace) is now written as two equations.
UNBREAKABLE: dict[str, tuple[str, ...]] = {}

IMAGES_JS = r"""() => Array.from(document.querySelectorAll('.bd-article img')).map(img => ({
  src: img.getAttribute('src') || '', alt: img.getAttribute('alt'), complete: img.complete,
  natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
  zoomable: img.classList.contains('course-zoomable')}))"""

DOWNLOADS_JS = r"""() => ({
  links: Array.from(document.querySelectorAll('.course-downloads a.course-download'))
              .map(a => ({href: a.href, text: a.textContent.trim()})),
  text: (document.querySelector('.course-downloads') || {textContent: ''}).textContent})"""

# How visible a sidebar is: the part of its box inside the viewport, in px.
_VISIBLE_FUNCTION = r"""function visible(selector) {
  const el = document.querySelector(selector);
  if (!el) return -1;
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden' || +style.opacity === 0) return 0;
  const r = el.getBoundingClientRect();
  const w = Math.min(r.right, window.innerWidth) - Math.max(r.left, 0);
  const h = Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0);
  return (w > 0 && h > 0) ? Math.round(w) : 0;
}"""
VISIBLE_JS = "(selector) => { " + _VISIBLE_FUNCTION + " return visible(selector); }"
# True once the panel is shown (or hidden, as asked) and has stopped moving: the drawers slide, so
# the same visible width on two polls in a row means the animation is over.
SETTLED_JS = "([selector, shown]) => { " + _VISIBLE_FUNCTION + r"""
  const now = visible(selector), key = '__settled ' + selector, last = window[key];
  window[key] = now;
  return (now > 0) === shown && last === now;
}"""

TOGGLES = {
    "sidebar": ("button.primary-toggle", ".bd-sidebar-primary"),
    "contents": ("button.secondary-toggle", ".bd-sidebar-secondary"),
}


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


def chapter_exercises(book: Path) -> dict[str, str]:
    """Chapter -> exercise notebook, as book/_config.yml gives it (seqcourse.sphinx_ext)."""
    config_file = book / "_config.yml"
    if not config_file.is_file():
        return {}
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    return ((config.get("sphinx") or {}).get("config") or {}).get("course_exercises") or {}


PAGES = toc_pages(BOOK)
EXERCISES = chapter_exercises(BOOK)
# A figure's alt text that is only where it lives: a path, a file name or a hash.
PATH_LIKE = re.compile(r"(^|/)[^ ]*\.(png|jpe?g|svg|gif|webp)$|^[0-9a-f]{16,}|^\.\./|/_images/", re.I)


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


def panel_becomes(page, panel: str, shown: bool, timeout_ms: int = 3_000) -> bool:
    """Wait until the panel is shown (or hidden) and still; False if it never gets there."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SETTLED_JS, arg=[panel, shown], polling=100, timeout=timeout_ms)
        return True
    except PlaywrightTimeout:
        return False


def check_toggle(page, name: str, button: str, panel: str) -> list[str]:
    """Click the toggle: the panel it names must change from shown to hidden or back, and a
    second action (the toggle again, or Escape, or a click outside when it covers the page)
    must bring the page back to where it was."""
    toggle = page.locator(button).filter(visible=True)
    if toggle.count() == 0:
        if page.evaluate(VISIBLE_JS, panel) > 0:
            return []   # always shown at this width (e.g. the sidebar on a wide screen): fine
        return [f"the {name} toggle ({button}) is missing and {panel} is not shown"]
    before = page.evaluate(VISIBLE_JS, panel)
    toggle.first.click()
    panel_becomes(page, panel, shown=before <= 0)
    after = page.evaluate(VISIBLE_JS, panel)
    if (before > 0) == (after > 0):
        return [f"the {name} toggle does nothing: {panel} {'shown' if before > 0 else 'hidden'} "
                f"before and after a click ({before} px -> {after} px visible)"]
    for close in ("toggle", "escape", "outside"):
        if close == "toggle":
            if not toggle.first.is_visible():
                continue
            try:
                toggle.first.click(timeout=1_000)
            except Exception:   # covered by the open drawer: the reader closes it another way
                continue
        elif close == "escape":
            page.keyboard.press("Escape")
        else:
            width, height = page.viewport_size["width"], page.viewport_size["height"]
            page.mouse.click(width - 5, height // 2)
        if panel_becomes(page, panel, shown=before > 0):
            return []
    return [f"the {name} toggle opens {panel} but neither the toggle, Escape nor a click beside "
            "it closes it again"]


def check_downloads(page, downloads: dict, where: str) -> list[str]:
    problems = []
    notebooks = [link for link in downloads["links"] if link["href"].endswith(".ipynb")]
    if len(notebooks) < 2:
        problems.append(f"{where}: expected links to the executed chapter notebook and its exercise "
                        f"notebook under the title, found {downloads['links']}")
    if "make check" not in downloads["text"]:
        problems.append(f"{where}: the downloads do not say how to check the exercise (make check)")
    for link in notebooks:
        response = page.request.get(link["href"])
        if response.status != 200:
            problems.append(f"{where}: download {link['href']} answers {response.status}")
            continue
        try:
            notebook = json.loads(response.body())
        except ValueError:
            problems.append(f"{where}: download {link['href']} is not a notebook (not JSON)")
            continue
        cells = notebook.get("cells") or []
        code = [cell for cell in cells if cell.get("cell_type") == "code"]
        if not code:
            problems.append(f"{where}: download {link['href']} has no code cells")
        if "chapter" in link["text"] and not any(cell.get("outputs") for cell in code):
            problems.append(f"{where}: the chapter notebook {link['href']} has no outputs "
                            "(it should be the executed one)")
    return problems


def test_toc_lists_pages():
    assert PAGES, f"no pages found in {BOOK / '_toc.yml'}"


def test_every_chapter_has_an_exercise_notebook():
    chapters = [page for page in PAGES if page.startswith("chapters/")]
    missing = [page for page in chapters if page not in EXERCISES]
    assert not missing, f"chapters without course_exercises entry in {BOOK / '_config.yml'}: {missing}"


@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("page_name", PAGES)
def test_page_as_a_reader_sees_it(page_name, width_name, site_url, browser):
    html = SITE / f"{page_name}.html"
    if not html.is_file():
        pytest.fail(f"{html} missing although {page_name} is in _toc.yml: run `make book` first",
                    pytrace=False)
    width, height = WIDTHS[width_name]
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    blocked, console_errors, failed, scripts, loaded = [], [], [], [], []

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
        if response.request.resource_type == "script":
            scripts.append(response.url)
        loaded.append(response.url)

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    page.on("response", on_response)
    where = f"{page_name}.html at {width} px"
    problems: list[str] = []
    try:
        page.goto(f"{site_url}/{page_name}.html", wait_until="load")
        # Lazy images offscreen would never load in a fixed viewport.
        page.evaluate("() => document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
        settled(page, "() => Array.from(document.images).every(i => i.complete)")
        if page.evaluate("() => document.querySelectorAll('.math').length > 0"):
            # A failure here is reported by the assertions below, with its cause.
            if settled(page, "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"):
                page.evaluate("() => MathJax.startup.promise")
        try:   # fonts and MathJax components load after "load"; a busy machine may never idle
            page.wait_for_load_state("networkidle", timeout=10_000)
        except PlaywrightTimeout:
            pass
        math = page.evaluate(MATH_JS)
        raw_tex = page.evaluate(RAW_TEX_JS)
        images = page.evaluate(IMAGES_JS)
        layout = page.evaluate(LAYOUT_JS)
        clipped = page.evaluate(CLIPPED_JS)
        noise = page.evaluate(NOISE_JS)
        downloads = page.evaluate(DOWNLOADS_JS)
        formulas = page.evaluate(FORMULAS_JS)
        wide_formulas = formulas["wide"]
        split_punctuation = page.evaluate(PUNCTUATION_JS)
        if TAKE_SCREENSHOTS:
            target = SCREENSHOTS / f"{width}px" / (page_name.replace("/", "__") + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            # The theme scrolls its sidebar to the current page after load; a capture taken while
            # it moves showed a page shifted sideways and a half-drawn outline, not what a reader
            # sees. Let it settle, and freeze CSS animations for the capture.
            page.wait_for_timeout(500)
            page.screenshot(path=str(target), full_page=True, animations="disabled")
        for name, (button, panel) in TOGGLES.items():
            if name == "contents" and not page.locator(f"{panel} nav, {panel} ul").count():
                continue   # a page without sections has no outline to show
            problems += [f"{where}: {problem}" for problem in check_toggle(page, name, button, panel)]
        if page_name in EXERCISES:
            problems += check_downloads(page, downloads, where)
    finally:
        context.close()

    if blocked:
        problems.append(f"{where} tried to reach the network (blocked): {blocked}")
    failed = [entry for entry in failed if not any(noise in entry for noise in KNOWN_NOISE)]
    if failed:
        problems.append(f"{where}: requests that failed: {failed}")
    errors = [entry for entry in console_errors if not any(noise in entry for noise in KNOWN_NOISE)]
    if errors:
        problems.append(f"{where}: browser console errors: {errors}")
    speech = [url for url in loaded if "/mathjax/sre/" in url]
    if speech:
        problems.append(f"{where}: loads MathJax's speech engine (1.2 MB), which should stay off until a "
                        f"reader asks for it: {speech[:3]}")
    heavy = [url for url in scripts if "fontawesome" in url]
    if heavy:
        problems.append(f"{where}: loads FontAwesome's script (1.5 MB): {heavy}")
    if math["math"]:
        if not math["mathjaxLoaded"]:
            problems.append(f"{where} has math but MathJax did not load")
        if math["untypeset"]:
            problems.append(f"{where}: formulas not typeset by MathJax: {math['untypeset']}")
        elif math["containers"] < math["math"]:
            problems.append(f"{where}: MathJax output missing: {math}")
        if math["assistive"] < math["containers"]:
            problems.append(f"{where}: only {math['assistive']} of {math['containers']} formulas carry the "
                            "hidden MathML that screen readers read")
    if math["errors"]:
        problems.append(f"{where}: MathJax reports TeX errors in: {math['errors']}")
    if raw_tex:
        problems.append(f"{where}: raw TeX visible on the page: {raw_tex}")
    if "error" in layout:
        problems.append(f"{where}: {layout['error']}")
    else:
        if layout["pageWidth"] > layout["viewport"] + 1:
            problems.append(f"{where}: the page scrolls sideways ({layout['pageWidth']} px wide in a "
                            f"{layout['viewport']} px window)")
        if layout["wide"]:
            problems.append(f"{where}: {layout['wideCount']} element(s) wider than the content column "
                            f"outside a scroll box: {layout['wide']}")
        if layout["under"]:
            problems.append(f"{where}: under the sidebar: {layout['under']}")
    if formulas["cut"]:
        problems.append(f"{where}: formulas with a line starting left of their box, out of reach: "
                        + "; ".join(t[:70] for t in formulas["cut"]))
    if formulas["overlapping"]:
        problems.append(f"{where}: formulas whose table cells overlap: "
                        + "; ".join(t[:70] for t in formulas["overlapping"]))
    for formula in wide_formulas:
        if not formula["faded"]:
            problems.append(f"{where}: a formula wider than its column ({formula['need']} px in "
                            f"{formula['room']} px) is not marked as scrolling: {formula['tex'][:80]}")
    if width_name == "phone":
        allowed = UNBREAKABLE.get(page_name, ())
        wide = [f for f in wide_formulas if not any(f["tex"].startswith(a) for a in allowed)]
        if wide:
            problems.append(f"{where}: {len(wide)} displayed formula(s) wider than the column (not "
                            "broken by MathJax, nor listed in UNBREAKABLE): "
                            + "; ".join(f"{f['tex'][:70]} ({f['need']} px in {f['room']} px)"
                                        for f in wide))
        stale = [a for a in allowed if not any(f["tex"].startswith(a) for f in wide_formulas)]
        if stale:
            problems.append(f"{where}: UNBREAKABLE lists formulas that now fit or are gone: {stale}")
    if split_punctuation:
        problems.append(f"{where}: punctuation after an inline formula starts the next line: "
                        f"{split_punctuation}")
    if clipped:
        problems.append(f"{where}: text cut off by a box that hides its overflow: {clipped}")
    if noise:
        problems.append(f"{where}: build noise in the printed output: {noise}")
    for image in images:
        name = image["src"].rsplit("/", 1)[-1][:24]
        if not (image["complete"] and image["natural"] > 0):
            problems.append(f"{where}: image {image['src']} did not load")
            continue
        alt = (image["alt"] or "").strip()
        if not alt or PATH_LIKE.search(alt) or alt == image["src"]:
            problems.append(f"{where}: image {name}... has no alt text describing it (alt={alt!r})")
        if image["shown"] < MIN_SCALE * image["natural"] and not image["zoomable"]:
            problems.append(f"{where}: image {name}... shown at {image['shown'] / image['natural']:.0%} "
                            "of its natural width and cannot be enlarged")
        if image["shown"] < TEXT_SCALE * image["natural"] - 0.5:
            problems.append(f"{where}: image {name}... ({alt[:50]}) is {image['natural']} px wide and shown "
                            f"at {image['shown'] / image['natural']:.0%}: its smallest text ({MIN_TEXT_PT:g} pt) "
                            f"would be under {MIN_TEXT_PX:g} px; draw it at most "
                            f"{int(image['shown'] / TEXT_SCALE)} px wide (see seqcourse.figures.book)")
    assert not problems, f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


def test_formulas_are_broken_again_when_the_width_changes(site_url, browser):
    """A phone turned sideways, or a window narrowed: MathJax breaks displayed formulas for the
    width it measured, so course.js has them broken again for the new one. Narrowed from the
    laptop's width to the phone's, the LSTM/GRU chapter must show what it shows when opened on
    a phone (no formula too wide but those UNBREAKABLE lists), and widened back, none either."""
    page_name = "chapters/lstm_gru"
    context = browser.new_context(viewport={"width": WIDTHS["laptop"][0], "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    lines = "() => document.querySelectorAll('.bd-article div.math mjx-linebox').length"
    try:
        page.goto(f"{site_url}/{page_name}.html", wait_until="load")
        settled(page, "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)")
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_timeout(500)
        assert page.evaluate(FORMULAS_JS)["wide"] == []
        laptop_lines = page.evaluate(lines)
        page.set_viewport_size({"width": WIDTHS["phone"][0], "height": 900})
        settled(page, f"() => ({lines})() > {laptop_lines}")
        page.wait_for_timeout(800)    # the refit after the re-render
        narrowed = [f["tex"] for f in page.evaluate(FORMULAS_JS)["wide"]]
        allowed = UNBREAKABLE.get(page_name, ())
        assert all(any(t.startswith(a) for a in allowed) for t in narrowed), \
            f"too wide after narrowing to the phone's width: {narrowed}"
        page.set_viewport_size({"width": WIDTHS["laptop"][0], "height": 900})
        settled(page, f"() => ({lines})() <= {laptop_lines}")
        page.wait_for_timeout(800)
        assert page.evaluate(FORMULAS_JS)["wide"] == [], "too wide after widening back"
        assert not errors, errors
    finally:
        context.close()

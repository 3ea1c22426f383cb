// The course website's own behaviour (no library, nothing loaded from elsewhere):
// * every figure in a chapter opens at its natural size in an overlay when clicked
//   (Escape, a click or the close button closes it); one drawn smaller than 80 % of its size
//   gets an "Enlarge" button under it;
// * the chapter's download links save the notebook instead of showing its JSON;
// * a table printed by a cell keeps its columns (set smaller to fit, or scrolled); a displayed
//   formula MathJax could not break to the column's width (book/_config.yml) is set smaller
//   if it is a little too wide, or set on one line to scroll if it is much too wide;
// * an inline formula keeps the punctuation that follows it on its line, and one with a part
//   longer than the line scrolls;
// * a box that scrolls sideways (code, output, table, formula) is marked on the side where
//   more of it lies hidden, for course.css to fade that edge out.
(function () {
  "use strict";

  // Where a displayed formula may break. MathJax 4 breaks a displayed formula that is too wide
  // at any operator, even inside brackets and between a function and its argument: on a phone
  // "\rho_k(w, h)" became "\rho_k" and "(w, h)" on two lines, and "+=" split into "+" and "=".
  // Here a break is allowed only at a relation or a binary operator at the top level of the
  // formula (or of a table cell), outside every bracket, and at a wide space there (\qquad
  // between two equations); every other operator gets linebreak="nobreak". The filter runs on
  // each displayed formula's MathML as the TeX input makes it, before layout.
  function markBreakPoints(args) {
    const mj = window.MathJax, tree = mj._ && mj._.core && mj._.core.MmlTree && mj._.core.MmlTree.MmlNode;
    if (!tree) return;
    const TEX = tree.TEXCLASS;
    // a row whose own children are laid out side by side, where a break could go
    const transparent = {mrow: true, mstyle: true, mpadded: true};
    // Brackets as TeX's classes mark them, and by their character where TeX does not
    // (\Big( is an ordinary symbol to TeX); | and \| open and close a norm in turn.
    const OPENS = "([{\u27e8\u2308\u230a", CLOSES = ")]}\u27e9\u2309\u230b", BARS = "|\u2016\u2225";
    const operator = function (node) { return node && (node.texClass === TEX.BIN || node.texClass === TEX.REL); };
    // A space of a quad or more at the top level separates two equations ("a = b, \\qquad c = d")
    // or an equation and its condition. Such a formula breaks at those spaces, and inside one of
    // its parts only if that part is long (LONG_PART symbols) and might not fit a line alone:
    // MathJax, left to itself, breaks "a = b, c = d" before the second "=", leaving "c" behind.
    const LONG_PART = 28;
    const wideSpace = function (node) {
      if (!node.isKind("mspace")) return false;
      const width = String(node.attributes.get("width") || "");
      return /em$/.test(width) && parseFloat(width) >= 1;
    };
    const symbols = function (node) {
      let n = 0;
      node.walkTree(function (leaf) { if (leaf.isToken) n++; });
      return n;
    };
    // For each child of a row: whether it lies in a short part between wide spaces.
    function inShortPart(children) {
      const short = new Array(children.length).fill(false);
      if (!children.some(wideSpace)) return short;
      let start = 0;
      for (let i = 0; i <= children.length; i++) {
        if (i === children.length || wideSpace(children[i])) {
          const size = children.slice(start, i).reduce(function (n, c) { return n + symbols(c); }, 0);
          for (let j = start; j < i; j++) short[j] = size < LONG_PART;
          start = i + 1;
        }
      }
      return short;
    }
    const SCRIPTED = {msub: true, msup: true, msubsup: true};
    function base(node) {
      while (node && SCRIPTED[node.kind]) node = node.childNodes[0];
      return node && node.isKind && node.isKind("mo") ? node : null;
    }
    function visit(node, top) {
      if (!node || !node.childNodes) return;
      if (node.kind === "mtd" || node.kind === "math") top = true;
      const children = node.childNodes.filter(function (child) { return child && child.isKind; });
      const short = top ? inShortPart(children) : [];
      let afterSpace = false;   // a wide space passed, and no relation since
      const open = [];   // the brackets open at this point of the row
      let previous = null;
      children.forEach(function (child, i) {
        const isRow = child.isInferred || (transparent[child.kind] && !child.texClass);
        const bracket = base(child);   // "(W)_w": the bracket is the base of a subscript
        if (bracket) {
          const cls = bracket.texClass, text = bracket.getText();
          const bar = BARS.includes(text) && cls !== TEX.REL;
          if (bar && open[open.length - 1] === text) open.pop();
          else if (bar || cls === TEX.OPEN || OPENS.includes(text)) open.push(text);
          else if ((cls === TEX.CLOSE || CLOSES.includes(text)) && open.length) open.pop();
        }
        if (child.isKind("mo")) {
          // "+=" (\mathrel{+}=): no break between the two halves of one relation; nor before the
          // first relation of a part after a wide space ("..., \qquad c = d": not after "c")
          const first = afterSpace && open.length === 0 && child.texClass === TEX.REL;
          if (first) afterSpace = false;
          const ok = top && !short[i] && open.length === 0 && operator(child) && !operator(previous) && !first;
          if (!ok) child.attributes.set("linebreak", "nobreak");
        } else if (child.isKind("mspace")) {
          if (wideSpace(child) && open.length === 0) afterSpace = true;
          if (!(top && open.length === 0 && (wideSpace(child) || !short[i]))) child.attributes.set("linebreak", "nobreak");
        }
        visit(child, top && open.length === 0 && isRow && !short[i]);
        previous = child;
      });
    }
    // Inline formulas keep MathJax's own break points, which are TeX's (any top-level operator,
    // brackets or not): a caption's formula unbreakable inside its brackets widened the whole
    // figure. But the operator ends the line, as in TeX, instead of starting the next one: a
    // line of prose that begins "= W_hh ..." reads as a new formula.
    if (!(args.math && args.math.display)) {
      args.data.root.walkTree(function (node) {
        if (node.isKind && node.isKind("mo") && operator(node)) node.attributes.set("linebreakstyle", "after");
      });
      return;
    }
    visit(args.data.root, true);   // args.data: the TeX parser's options, with the tree in .root
  }
  window.MathJax = window.MathJax || {};
  window.MathJax.startup = window.MathJax.startup || {};
  window.MathJax.startup.ready = function () {
    MathJax.startup.defaultReady();
    const tex = MathJax.startup.document.inputJax.find(function (jax) { return jax.name === "TeX"; });
    if (tex) tex.postFilters.add(markBreakPoints, 50);
  };

  function openLightbox(img) {
    const overlay = document.createElement("div");
    overlay.className = "course-lightbox";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "Enlarged figure: " + (img.alt || ""));
    const big = document.createElement("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    // Natural size, but never wider than twice the screen (a phone still gets a readable figure).
    big.style.width = Math.min(img.naturalWidth, 2 * window.innerWidth) + "px";
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", "Close the enlarged figure");
    overlay.append(close, big);
    const previousFocus = document.activeElement;
    function shut() {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      if (previousFocus && previousFocus.focus) previousFocus.focus();
    }
    function onKey(event) { if (event.key === "Escape") shut(); }
    overlay.addEventListener("click", shut);
    document.addEventListener("keydown", onKey);
    document.body.append(overlay);
    close.focus();
  }

  // A figure drawn at less than 80 % of its size (a phone) has labels too small to read there:
  // a button under it says so and opens it at full size.
  function offerEnlarge(img) {
    const shrunk = img.naturalWidth > 0 && img.getBoundingClientRect().width < 0.8 * img.naturalWidth;
    let button = img.nextElementSibling;
    if (!(button && button.classList.contains("course-enlarge"))) button = null;
    if (shrunk && !button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "course-enlarge";
      button.textContent = "\u2922 Enlarge the figure";
      button.addEventListener("click", function () { openLightbox(img); });
      img.after(button);
    } else if (!shrunk && button) {
      button.remove();
    }
  }

  function setUp() {
    document.querySelectorAll(".bd-article img").forEach(function (img) {
      if (img.closest("a")) return;  // an image that is a link keeps its link
      img.classList.add("course-zoomable");
      img.tabIndex = 0;
      img.setAttribute("role", "button");
      img.title = "Click to enlarge";
      img.addEventListener("click", function () { openLightbox(img); });
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openLightbox(img); }
      });
      if (img.complete) offerEnlarge(img);
      else img.addEventListener("load", function () { offerEnlarge(img); });
    });
    let imageTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(imageTimer);
      imageTimer = setTimeout(function () {
        document.querySelectorAll(".bd-article img.course-zoomable").forEach(offerEnlarge);
      }, 250);
    });
    document.querySelectorAll("a.course-download").forEach(function (link) {
      link.setAttribute("download", link.getAttribute("href").split("/").pop());
    });
  }

  const SCROLL_BOXES = ".bd-article div.highlight pre, .bd-article .cell_output, "
    + ".bd-article .cell_output pre, .bd-article .pst-scrollable-table-container, "
    + ".bd-article table, .bd-article div.math, .bd-article mjx-container";

  function markScroll(box) {
    // A formula's scrollWidth also counts MathJax's off-screen copy for screen readers:
    // measure the typeset formula itself.
    const math = box.matches("mjx-container") && box.querySelector(":scope > mjx-math");
    const hidden = (math ? math.getBoundingClientRect().width : box.scrollWidth) - box.clientWidth;
    const style = getComputedStyle(box);
    // A few px past the edge is a subscript's italic overhang, not hidden content. An inline
    // box (an inline formula, which MathJax breaks like text) never scrolls, whatever its
    // overflow says.
    const scrolls = hidden > 8 && style.display !== "inline" && /(auto|scroll)/.test(style.overflowX);
    box.classList.toggle("course-scrolls", scrolls);
    box.classList.toggle("course-more-right", scrolls && box.scrollLeft < hidden - 1);
    box.classList.toggle("course-more-left", scrolls && box.scrollLeft > 1);
  }

  // The room a displayed formula has: its box's content width (the equation number sits in
  // the padding, course.css).
  function formulaRoom(box) {
    const style = getComputedStyle(box);
    return box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }

  // MathJax breaks a displayed formula that is too wide at its operators (book/_config.yml),
  // but not always to the column's width: a part it cannot break (an \underbrace, a row of an
  // aligned table) may stay wider. Up to a quarter too wide, it is set smaller until it fits
  // (MathJax sizes its output in em, so the font size of its box scales it). Wider still, it
  // would read worse broken and scrolled than whole and scrolled: it is set again on one line,
  // in its own scroll box, as is a formula that does not break at all (one long fraction).
  function unbreakOverflowing() {
    const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
    if (!(doc && doc.math)) return;
    Array.from(doc.math).forEach(function (item) {
      const root = item.typesetRoot;
      const box = item.display && root && root.closest && root.closest(".bd-article div.math");
      const math = box && root.querySelector(":scope > mjx-math");
      if (!math || !root.querySelector("mjx-linebox")) return;
      box.style.fontSize = "";
      if (0.8 * math.getBoundingClientRect().width > formulaRoom(box)) {
        item.root.attributes.set("overflow", "scroll");
        item.rerender(doc);
      }
    });
  }

  function fitFormulas() {
    document.querySelectorAll(".bd-article div.math").forEach(function (box) {
      const math = box.querySelector("mjx-container > mjx-math");
      if (!math) return;
      box.style.fontSize = "";
      const room = formulaRoom(box);
      const need = math.getBoundingClientRect().width;
      if (need > room + 1 && room / need >= 0.8) {
        box.style.fontSize = Math.floor(1000 * room / need) / 10 - 0.5 + "%";
      }
    });
  }

  // TeX breaks an inline formula only at its top-level operators: a part longer than the line
  // (an argument in parentheses) would stick out of the column. Such a formula scrolls in its
  // own box instead (course.css: course-inline-scroll).
  function fitInlineFormulas() {
    document.querySelectorAll(".bd-article span.math > mjx-container").forEach(function (math) {
      math.classList.remove("course-inline-scroll");
      let block = math.parentElement;
      while (block.parentElement && getComputedStyle(block).display.startsWith("inline")) block = block.parentElement;
      const right = block.getBoundingClientRect().right - parseFloat(getComputedStyle(block).paddingRight);
      const out = Array.from(math.getClientRects()).some(function (r) { return r.right > right + 1; });
      math.classList.toggle("course-inline-scroll", out);
    });
  }

  // Chromium may break a line between an inline formula and the comma after it (the formula
  // is an atomic box to it), leaving the comma at the start of the next line. The formula and
  // the punctuation go into a box that does not break there (course.css: course-math-punct);
  // MathJax's own break points inside the formula stay.
  function keepPunctuation() {
    document.querySelectorAll(".bd-article span.math").forEach(function (math) {
      const next = math.nextSibling;
      if (!(next && next.nodeType === Node.TEXT_NODE)) return;
      const punct = /^[,.;:!?)\u2019\u201d]+/.exec(next.data);
      if (!punct || math.parentElement.classList.contains("course-math-punct")) return;
      const keep = document.createElement("span");
      keep.className = "course-math-punct";
      math.before(keep);
      next.splitText(punct[0].length);
      keep.append(math, next);
    });
  }

  function markAllScrolls() {
    fitTables();
    unbreakOverflowing();
    fitFormulas();
    fitInlineFormulas();
    document.querySelectorAll(SCROLL_BOXES).forEach(function (box) {
      markScroll(box);
      if (!box.dataset.courseScrollWatched) {
        box.dataset.courseScrollWatched = "1";
        box.addEventListener("scroll", function () { markScroll(box); }, {passive: true});
      }
    });
  }

  // Printed output wraps its long lines (course.css), except a printed table: columns that
  // wrap no longer line up. A row is a line with at least three columns (two gaps of 2+
  // spaces); two rows in what one cell printed (a loop's rows may arrive as separate outputs)
  // make a table, and each output holding a row keeps its lines and scrolls.
  function markTables() {
    const ROW = /\S {2,}\S.*\S {2,}\S/;
    const rows = function (pre) { return pre.textContent.split("\n").filter(function (line) { return ROW.test(line); }).length; };
    document.querySelectorAll(".bd-article .cell_output").forEach(function (output) {
      const pres = Array.from(output.querySelectorAll("pre"));
      const counts = pres.map(rows);
      if (counts.reduce(function (a, b) { return a + b; }, 0) < 2) return;
      pres.forEach(function (pre, i) { if (counts[i]) pre.classList.add("course-tabular"); });
    });
  }

  // A printed table a little wider than its box is set smaller until it fits, if 11 px or more
  // is enough; a wider one keeps its size and scrolls (smaller would only be harder to read).
  function fitTables() {
    document.querySelectorAll(".bd-article pre.course-tabular").forEach(function (pre) {
      pre.style.fontSize = "";
      const size = parseFloat(getComputedStyle(pre).fontSize);
      if (pre.scrollWidth > pre.clientWidth + 1) {
        const inner = pre.clientWidth - parseFloat(getComputedStyle(pre).paddingLeft)
          - parseFloat(getComputedStyle(pre).paddingRight);
        const text = pre.scrollWidth - parseFloat(getComputedStyle(pre).paddingLeft)
          - parseFloat(getComputedStyle(pre).paddingRight);
        const fitted = Math.floor(10 * size * inner / text) / 10;
        if (fitted >= 11) pre.style.fontSize = fitted + "px";
      }
    });
  }

  // MathJax breaks displayed formulas for the width it measured when it typeset them. When the
  // column's width changes (a phone turned sideways, a window resized) they are broken again
  // for the new width, from MathJax's measuring step on; the formulas unbreakOverflowing set
  // on one line get their line breaking back first.
  function rebreakFormulas() {
    const mj = window.MathJax;
    const doc = mj && mj.startup && mj.startup.document;
    const STATE = mj && mj._ && mj._.core && mj._.core.MathItem && mj._.core.MathItem.STATE;
    if (!(doc && doc.math && doc.rerenderPromise && STATE)) return Promise.resolve();
    Array.from(doc.math).forEach(function (item) {
      if (item.display && item.root && item.root.attributes.get("overflow") === "scroll") {
        item.root.attributes.unset("overflow");
      }
    });
    return doc.rerenderPromise(STATE.METRICS);
  }

  function setUpScrolls() {
    markTables();
    markAllScrolls();
    // Refit once the width has settled, and only if the column's width changed: a full-page
    // screenshot (Playwright) passes through a 1 px window and back within one burst of resizes.
    const column = function () {
      const article = document.querySelector(".bd-article");
      return article ? Math.round(article.getBoundingClientRect().width) : 0;
    };
    let width = column(), timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (column() === width) return;
        width = column();
        rebreakFormulas().then(markAllScrolls, markAllScrolls);
      }, 250);
    });
    // Formulas get their final width only once MathJax has typeset them and the browser has
    // the fonts MathJax asked for (its characters are text in those fonts).
    function typeset() {
      const mj = window.MathJax;
      const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
      if (!(mj && mj.startup && mj.startup.promise)) return fonts;
      return mj.startup.promise.then(function () { return fonts; });
    }
    window.addEventListener("load", function () { typeset().then(markAllScrolls); });
  }

  function start() { setUp(); keepPunctuation(); setUpScrolls(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

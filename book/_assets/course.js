// The course website's own behaviour (no library, nothing loaded from elsewhere):
// * every figure in a chapter opens at its natural size in an overlay when clicked
//   (Escape, a click or the close button closes it);
// * the chapter's download links save the notebook instead of showing its JSON.
(function () {
  "use strict";

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
    });
    document.querySelectorAll("a.course-download").forEach(function (link) {
      link.setAttribute("download", link.getAttribute("href").split("/").pop());
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

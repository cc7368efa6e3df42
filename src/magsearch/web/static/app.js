/* magsearch: copy buttons and permalinks whose anchor moved to another version.
   Everything works without this file; it only adds conveniences. */
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  var live = null;
  function announce(message) {
    if (!live) {
      live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 30);
  }

  function setupCopyButtons() {
    var buttons = document.querySelectorAll("button.copy[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        copy(button.getAttribute("data-copy")).then(function () {
          button.textContent = "Copied";
          button.classList.add("done");
          announce("Copied to the clipboard");
          window.setTimeout(function () {
            button.textContent = label;
            button.classList.remove("done");
          }, 1600);
        }, function () {
          announce("Could not copy: select the text and copy it by hand");
        });
      });
    });
  }

  /* A permalink's anchor (#para-41) that this page does not have: ask the server which version
     has it (the server never sees the fragment, so this takes a line of script). */
  function followMissingAnchor() {
    var base = document.body.getAttribute("data-anchor-base");
    if (!base || location.hash.length < 2) { return; }
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/.test(id)) { return; }
    if (document.getElementById(id)) { return; }
    location.replace(base + encodeURIComponent(id));
  }

  function start() {
    setupCopyButtons();
    followMissingAnchor();
    window.addEventListener("hashchange", followMissingAnchor);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

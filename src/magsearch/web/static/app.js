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

  /* Upload forms (data-progress="ID"): sent with XMLHttpRequest so that a large upload shows its
     progress; then on to the job's page. Without JavaScript the form posts as usual. */
  function setupUploadProgress() {
    var forms = document.querySelectorAll("form[data-progress]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.FormData || !window.XMLHttpRequest) { return; }
        event.preventDefault();
        var box = document.getElementById(form.getAttribute("data-progress"));
        var bar = box.querySelector("progress");
        var status = box.querySelector("[role=status]");
        var button = form.querySelector("button[type=submit]");
        box.hidden = false;
        button.disabled = true;
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) {
            var pct = Math.round(100 * e.loaded / e.total);
            bar.value = pct;
            status.textContent = pct + "% of " + Math.round(e.total / 1024) + " KB sent";
          }
        });
        xhr.addEventListener("load", function () {
          if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
            status.textContent = "Sent; opening the job…";
            location.assign(xhr.responseURL);
            return;
          }
          var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var msg = doc.querySelector("[role=alert]") || doc.querySelector(".error-page p");
          status.textContent = "Not accepted (" + xhr.status + "): " + (msg ? msg.textContent : xhr.statusText);
          button.disabled = false;
        });
        xhr.addEventListener("error", function () {
          status.textContent = "The upload failed: the connection was lost. Try again.";
          button.disabled = false;
        });
        xhr.send(new FormData(form));
      });
    });
  }

  /* The citation style of the result lines (Bluebook, OSCOLA, McGill), chosen by the reader and
     remembered in localStorage; without this script the lines are in Bluebook. */
  var STYLE_KEY = "magsearch.citeStyle";
  function showStyle(style) {
    var lines = document.querySelectorAll(".cite-in[data-style]");
    var known = Array.prototype.some.call(lines, function (p) {
      return p.getAttribute("data-style") === style;
    });
    if (!known) { return; }
    Array.prototype.forEach.call(lines, function (p) {
      p.hidden = p.getAttribute("data-style") !== style;
    });
  }
  function setupCiteStyle() {
    var choice = document.querySelector("[data-cite-style-choice]");
    var select = document.getElementById("cite-style");
    if (!choice || !select) { return; }
    var saved = null;
    try { saved = window.localStorage.getItem(STYLE_KEY); } catch (e) { saved = null; }
    if (saved && select.querySelector('option[value="' + saved + '"]')) { select.value = saved; }
    showStyle(select.value);
    choice.hidden = false;
    select.addEventListener("change", function () {
      try { window.localStorage.setItem(STYLE_KEY, select.value); } catch (e) { /* private mode */ }
      showStyle(select.value);
    });
  }

  function start() {
    setupUploadProgress();
    setupCiteStyle();
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

// Parley's small client-side layer: keyboard shortcuts, toasts, local times. Pages work without it.
(function () {
  "use strict";

  // "/" focuses the search box unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const hotkey = document.querySelector('[data-hotkey="' + CSS.escape(event.key) + '"]');
    if (hotkey) {
      event.preventDefault();
      hotkey.focus();
    }
  });

  function toast(level, message) {
    const region = document.getElementById("toasts");
    if (!region) return;
    const el = document.createElement("div");
    el.className = "toast toast-" + level;
    el.setAttribute("role", "status");
    el.textContent = message;
    region.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }

  // Server-rendered flashes fade after a while.
  document.querySelectorAll(".toast").forEach(function (el) {
    setTimeout(function () { el.remove(); }, 8000);
  });

  // htmx errors: the server puts a readable line in X-Parley-Error.
  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    toast("error", xhr.getResponseHeader("X-Parley-Error") || ("Request failed (" + xhr.status + ")"));
  });
  document.addEventListener("htmx:sendError", function () {
    toast("error", "Parley could not be reached. Check your connection and try again.");
  });
  document.addEventListener("parley:toast", function (event) {
    toast(event.detail.level || "success", event.detail.message || "");
  });

  // Times: show relative text, exact local time on hover.
  function relative(date) {
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const units = [["day", 86400], ["h", 3600], ["min", 60]];
    for (const [name, size] of units) {
      if (abs >= size) {
        const n = Math.floor(abs / size);
        const label = name === "day" ? (n === 1 ? "day" : "days") : name;
        return seconds >= 0 ? n + " " + label + " ago" : "in " + n + " " + label;
      }
    }
    return "just now";
  }
  function localiseTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date)) return;
      el.title = date.toLocaleString();
      el.textContent = relative(date);
    });
  }
  localiseTimes(document);
  document.addEventListener("htmx:afterSwap", function (event) { localiseTimes(event.target); });
})();

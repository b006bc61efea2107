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

  // ---- Inbox ----

  // j/k move through the conversation list; Enter opens (links do that natively).
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "j" && event.key !== "k") return;
    const links = Array.from(document.querySelectorAll("[data-list-nav] a"));
    if (!links.length) return;
    event.preventDefault();
    let i = links.indexOf(document.activeElement);
    if (i < 0) i = links.findIndex(function (a) { return a.getAttribute("aria-current") === "true"; });
    i = event.key === "j" ? Math.min(i + 1, links.length - 1) : Math.max(i - 1, 0);
    links[i].focus();
  });

  // Ctrl/Cmd+Enter sends; "/shortcut" followed by space or Tab expands a saved reply.
  document.addEventListener("keydown", function (event) {
    const t = event.target;
    if (!(t instanceof HTMLTextAreaElement)) return;
    if (!t.hasAttribute("data-submit-on-ctrl-enter") && !t.hasAttribute("data-saved-replies")) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && t.hasAttribute("data-submit-on-ctrl-enter")) {
      event.preventDefault();
      t.form.requestSubmit();
      return;
    }
    if (event.key === " " || event.key === "Tab") {
      const m = t.value.slice(0, t.selectionStart).match(/(^|\s)\/([a-z0-9_-]+)$/);
      if (!m) return;
      const list = document.querySelector(t.getAttribute("data-saved-replies"));
      const option = list && Array.from(list.options).find(function (o) { return o.value === "/" + m[2]; });
      if (!option) return;
      event.preventDefault();
      const start = t.selectionStart - m[2].length - 1;
      t.value = t.value.slice(0, start) + option.dataset.body + t.value.slice(t.selectionStart);
    }
  });
  document.addEventListener("click", function (event) {
    const b = event.target.closest && event.target.closest("[data-insert]");
    if (!b) return;
    const t = document.getElementById("reply-text");
    if (!t) return;
    t.value = (t.value ? t.value + "\n" : "") + b.dataset.insert;
    t.focus();
  });

  // ---- Comments ----

  // j/k move through the moderation queue; h, r, p, e and x act on the comment in focus.
  function queueRows() {
    return Array.from(document.querySelectorAll("[data-comment-queue] li.comment-row"));
  }
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const rows = queueRows();
    if (!rows.length || !"jkhrpex".includes(event.key) || event.key.length !== 1) return;
    let i = rows.indexOf(document.activeElement && document.activeElement.closest("li.comment-row"));
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      i = i < 0 ? 0 : (event.key === "j" ? Math.min(i + 1, rows.length - 1) : Math.max(i - 1, 0));
      rows[i].focus();
      rows[i].scrollIntoView({ block: "nearest" });
      return;
    }
    if (i < 0) return;
    const row = rows[i];
    const pick = {
      h: 'form[action$="/hide"] button, form[action$="/unhide"] button',
      r: 'a[href*="/reply?"]:not([href*="/private-reply"])',
      p: 'a[href*="/private-reply"]',
      e: 'form[action$="/reviewed"] button',
      x: 'input[type=checkbox][form=bulk-form]',
    }[event.key];
    const control = row.querySelector(pick);
    if (!control) return;
    event.preventDefault();
    control.click();
  });
  // The live refresh waits while comments are selected, and keeps the comment in focus.
  let focusedComment = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    const el = event.detail.elt;
    if (!el || el.id !== "comment-queue") return;
    if (el.querySelector("input[form=bulk-form]:checked")) event.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    const el = event.detail.target;
    if (!el || el.id !== "comment-queue") return;
    const row = document.activeElement && document.activeElement.closest && document.activeElement.closest("li.comment-row");
    focusedComment = row ? row.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedComment) return;
    const row = document.getElementById(focusedComment);
    focusedComment = null;
    if (row) row.focus({ preventScroll: true });
  });

  // Files over the limit are refused before uploading (the server checks again).
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) return;
    const f = input.files && input.files[0];
    if (f && f.size > Number(input.dataset.maxBytes)) {
      toast("error", f.name + " is larger than 25 MB, the most Meta accepts.");
      input.value = "";
    }
  });

  // Snooze times are typed in local time: send the zone offset with them.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-tz-offset")) return;
    const field = form.querySelector("input[name=tz_offset]");
    if (field) field.value = String(new Date().getTimezoneOffset());
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    const form = event.detail.elt;
    if (form && form.hasAttribute && form.hasAttribute("data-tz-offset")) {
      event.detail.parameters["tz_offset"] = String(new Date().getTimezoneOffset());
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (event.detail.successful && form && form.hasAttribute && form.hasAttribute("data-reset-on-success")) form.reset();
  });

  // The thread keeps the reader's place: it follows new messages only when already at the end,
  // otherwise a pill offers to jump down.
  function threadEl() { return document.getElementById("thread"); }
  function atEnd(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 40; }
  document.addEventListener("scroll", function (event) {
    const el = event.target;
    const pill = document.querySelector(".new-messages-pill");
    if (el && el.id === "thread" && pill && atEnd(el)) pill.hidden = true;
  }, true);
  let followThread = true;
  const thread = threadEl();
  if (thread) thread.scrollTop = thread.scrollHeight;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "thread") followThread = atEnd(event.detail.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    const el = event.detail.target;
    if (!el || el.id !== "thread") return;
    const pill = document.querySelector(".new-messages-pill");
    if (followThread) el.scrollTop = el.scrollHeight;
    if (pill) pill.hidden = followThread || atEnd(el);
  });
  document.addEventListener("click", function (event) {
    if (!event.target.classList || !event.target.classList.contains("new-messages-pill")) return;
    const el = threadEl();
    if (el) el.scrollTop = el.scrollHeight;
    event.target.hidden = true;
  });
})();

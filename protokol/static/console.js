// The live console, progressively enhanced: every control is a plain form that works
// without JavaScript. This script submits those forms in the background, one at a time
// and in order, swaps in the page the server answers with (the state as saved), keeps
// typed drafts in localStorage until they are saved, and adds keyboard shortcuts.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root || !window.fetch) return;

  var queue = [];
  var busy = false;

  function status(text, isError) {
    var box = document.getElementById("console-message");
    if (!box) return;
    box.textContent = text;
    box.className = isError ? "flash flash-error" : "sr-status";
    box.setAttribute("role", isError ? "alert" : "status");
  }

  // The interface's texts in the page's language (data-msg-* on #console), Danish without them.
  function message(name, fallback, values) {
    var el = document.getElementById("console");
    var text = (el && el.dataset[name]) || fallback;
    Object.keys(values || {}).forEach(function (key) {
      text = text.replace("{" + key + "}", values[key]);
    });
    return text;
  }

  function focusKey() {
    var el = document.activeElement;
    if (!el) return null;
    var row = el.closest && el.closest("[data-party-row]");
    if (row && row.dataset.keyPrefix) return { row: row.dataset.keyPrefix };
    return el.id ? { id: el.id } : null;
  }

  function restoreFocus(key) {
    if (!key) return;
    var el = key.row
      ? document.querySelector('[data-key-prefix="' + key.row + '"]')
      : document.getElementById(key.id);
    if (el) el.focus({ preventScroll: true });
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("console");
    if (!fresh) return false;
    var key = focusKey();
    var openDetails = Array.prototype.map.call(
      document.querySelectorAll("#console details[open]"), detailsKey);
    var current = document.getElementById("console");
    current.replaceWith(fresh);
    openDetails.forEach(function (k) {
      var d = document.querySelector('#console details[data-dkey="' + k + '"]');
      if (d) d.open = true;
    });
    markDetails();
    restoreDrafts();
    restoreFocus(key);
    return true;
  }

  function detailsKey(d) { return d.dataset.dkey; }

  function markDetails() {
    document.querySelectorAll("#console details").forEach(function (d, i) {
      var holder = d.closest("[data-motion]");
      d.dataset.dkey = (holder ? holder.dataset.motion : "x") + "-" + d.className + "-" + i;
    });
  }

  // Submit `form` (or the form found by its data-key when its turn comes, so that it
  // carries the vote version of the page as it is then).
  function enqueue(formKey, submitter) {
    queue.push({ key: formKey, submitter: submitter });
    pump();
  }

  function pump() {
    if (busy || !queue.length) return;
    var job = queue.shift();
    var form = document.querySelector('#console form[data-key="' + job.key + '"]');
    if (!form) { pump(); return; }
    var data = new FormData(form);
    if (job.submitter) {
      var btn = form.querySelector('[data-key="' + job.submitter + '"]');
      if (btn && btn.name) data.append(btn.name, btn.value);
    }
    busy = true;
    status(message("msgSaving", "Gemmer …"), false);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (response) {
      return response.text().then(function (html) {
        var ok = response.ok;
        if (!swap(html)) {
          status(message("msgUnexpected", "Serveren svarede uventet ({status}). Genindlæs siden.",
            { status: response.status }), true);
          return;
        }
        if (ok) {
          if (form.dataset.draft) clearDraft(form.dataset.draft);
          var locale = (document.getElementById("console") || root).dataset.locale || "da-DK";
          status(message("msgSaved", "Gemt {time}",
            { time: new Date().toLocaleTimeString(locale) }), false);
        } else {
          queue.length = 0;  // what follows was based on a state that did not happen
        }
      });
    }).catch(function () {
      queue.length = 0;
      status(message("msgOffline", "Ingen forbindelse til serveren. Prøv igen: det, der allerede er gemt, gemmes ikke to gange."), true);
    }).then(function () {
      busy = false;
      pump();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest("#console") || !form.hasAttribute("data-live")) return;
    event.preventDefault();
    var submitter = event.submitter;
    if (submitter && submitter.name && !submitter.dataset.key) {
      submitter.dataset.key = form.dataset.key + "-" + submitter.name + "-" + submitter.value;
    }
    enqueue(form.dataset.key, submitter ? submitter.dataset.key : null);
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      enqueue(el.form.dataset.key, null);
    }
  });

  // ---- drafts: text typed into a form is kept until the server has saved it
  function draftKey(name) { return "protokol-draft:" + name; }
  function clearDraft(name) { try { localStorage.removeItem(draftKey(name)); } catch (e) { /* */ } }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.dataset.draft) return;
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.name !== "csrf_token" && (el.tagName === "TEXTAREA" || el.type === "text")) {
        values[el.name] = el.value;
      }
    });
    try { localStorage.setItem(draftKey(form.dataset.draft), JSON.stringify(values)); } catch (e) { /* */ }
  });

  function restoreDrafts() {
    document.querySelectorAll("#console form[data-draft]").forEach(function (form) {
      var raw = null;
      try { raw = localStorage.getItem(draftKey(form.dataset.draft)); } catch (e) { /* */ }
      if (!raw) return;
      var values = JSON.parse(raw);
      Object.keys(values).forEach(function (name) {
        var el = form.elements[name];
        if (el && !el.value) el.value = values[name];
      });
    });
  }

  // ---- keyboard
  function rows() {
    var table = document.querySelector("#console table[data-open-vote]:last-of-type");
    var tables = document.querySelectorAll("#console table[data-open-vote]");
    table = tables.length ? tables[tables.length - 1] : null;
    var active = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("table[data-open-vote]");
    if (active) table = active;
    return table ? Array.prototype.slice.call(table.querySelectorAll("[data-party-row]")) : [];
  }

  function moveRow(step) {
    var list = rows();
    if (!list.length) return;
    var current = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("[data-party-row]");
    var index = list.indexOf(current);
    var next = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    list[next].focus();
  }

  function currentRow() {
    var row = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("[data-party-row]");
    return row || rows()[0] || null;
  }

  var POSITIONS = { f: "for", i: "against", u: "abstain", x: "clear" };

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "checkbox" && target.type !== "radio");
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    var lower = key.toLowerCase();
    if (key === "ArrowDown" || key === "j") { event.preventDefault(); moveRow(1); return; }
    if (key === "ArrowUp" || key === "k") { event.preventDefault(); moveRow(-1); return; }
    if (event.shiftKey && "FIU".indexOf(key) >= 0) {
      var table = rows()[0] && rows()[0].closest("table");
      if (!table) return;
      event.preventDefault();
      enqueue("v" + table.dataset.vote + "-rest", "v" + table.dataset.vote + "-rest-" + POSITIONS[lower]);
      return;
    }
    if (!event.shiftKey && POSITIONS[lower]) {
      var row = currentRow();
      if (!row || !row.dataset.keyPrefix) return;
      var formKey = row.dataset.keyPrefix + "-" + POSITIONS[lower];
      if (!document.querySelector('#console form[data-key="' + formKey + '"]')) return;
      event.preventDefault();
      row.focus();
      enqueue(formKey, null);
      if (lower !== "x") moveRow(1);
      return;
    }
    if (lower === "a") {
      var t = rows()[0] && rows()[0].closest("table");
      if (t) { event.preventDefault(); enqueue("v" + t.dataset.vote + "-close", null); }
      return;
    }
    if (lower === "n") {
      var proposer = document.getElementById("proposer");
      if (proposer) { event.preventDefault(); proposer.focus(); }
      return;
    }
    if (lower === "b") {
      var decision = document.getElementById("result_key");
      if (decision) { event.preventDefault(); decision.focus(); }
    }
  });

  markDetails();
  restoreDrafts();
})();

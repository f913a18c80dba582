// The live page, progressively enhanced: the page the server sends shows every item's
// current state and reloads itself without JavaScript. This script opens the meeting's
// event stream (Server-Sent Events) and replaces an item's block with the HTML in each
// event (rendered once on the server when the vote was saved), announcing the news in an
// aria-live region. The browser reconnects by itself and resumes from the last event.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !root.dataset.stream || !window.EventSource) return;

  var after = Number(root.dataset.after || 0);
  var seen = {};  // item id -> id of the newest event shown
  var connection = document.getElementById("live-connection");
  var announcer = document.getElementById("live-announcer");
  var texts = {
    da: { open: "Forbundet: siden opdateres, når der stemmes.",
          lost: "Forbindelsen er afbrudt. Prøver igen …" },
    en: { open: "Connected: the page updates as votes are recorded.",
          lost: "Connection lost. Retrying …" }
  }[document.documentElement.lang] || null;

  function say(key) {
    if (connection && texts) connection.textContent = texts[key];
  }

  function replace(data, id) {
    var items = root.querySelector(".live-items");
    if (!items) return;
    var template = document.createElement("template");
    template.innerHTML = data.html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh) return;
    var old = document.getElementById("live-item-" + data.item_id);
    if (old) {
      // Keep open the motion texts the reader opened.
      old.querySelectorAll("details[open]").forEach(function (d) {
        var motion = d.closest(".live-motion");
        var twin = motion && fresh.querySelector("#" + motion.id + " details");
        if (twin) twin.open = true;
      });
      old.replaceWith(fresh);
    } else {
      items.appendChild(fresh);
    }
    fresh.dataset.eventId = id;
    if (announcer && data.announce) announcer.textContent = data.announce;
  }

  var source = new EventSource(root.dataset.stream);
  source.onopen = function () { say("open"); };
  source.onerror = function () { say("lost"); };
  source.addEventListener("item", function (event) {
    var id = Number(event.lastEventId);
    var data = JSON.parse(event.data);
    if (id <= after || id <= (seen[data.item_id] || 0)) return;
    seen[data.item_id] = id;
    replace(data, id);
  });
  source.addEventListener("state", function (event) {
    var data = JSON.parse(event.data);
    if (data.state === root.dataset.state) return;
    source.close();
    // Spread the reloads of many viewers over a few seconds.
    window.setTimeout(function () { window.location.reload(); }, Math.random() * 3000);
  });
})();

// The ward's web chat: JSON frames over one WebSocket (bot/channels/web/channel.py).
// No build step, no library. Texts come from the server's catalogue (the "texts" block).
"use strict";
(function () {
  var TEXTS = JSON.parse(document.getElementById("texts").textContent);
  var KEY = "doithoai.web.";
  var ALLOWED = { B: "b", STRONG: "b", I: "i", EM: "i", U: "u", S: "s", CODE: "code", PRE: "pre", BR: "br", A: "a" };
  var log = document.getElementById("log");
  var input = document.getElementById("input");
  var form = document.getElementById("composer");
  var status = document.getElementById("status");
  var photo = document.getElementById("photo");
  var socket = null;
  var retry = 0;
  var pressed = false;
  // Frames sent and not yet answered ("done" or an error): a frame whose socket died before its
  // answer is sent again, with its own id, on the next connection (the server handles an id
  // once, so a frame it had already handled is only answered "done"). Only for a minute.
  var pending = [];
  var RESEND_WITHIN_MS = 60000;
  var params = new URLSearchParams(location.search);

  function stored(name) { try { return localStorage.getItem(KEY + name); } catch (e) { return null; } }
  function store(name, value) { try { localStorage.setItem(KEY + name, value); } catch (e) { /* private mode */ } }
  function lastSeq() { return parseInt(stored("seq") || "0", 10) || 0; }

  function setStatus(text) { status.textContent = text; }

  // Only the few tags the bot uses survive; everything else becomes its text.
  function sanitized(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var out = document.createDocumentFragment();
    (function copy(from, to) {
      from.childNodes.forEach(function (node) {
        if (node.nodeType === Node.TEXT_NODE) { to.appendChild(document.createTextNode(node.textContent)); return; }
        if (node.nodeType !== Node.ELEMENT_NODE) { return; }
        var tag = ALLOWED[node.tagName];
        if (!tag) { copy(node, to); return; }
        var element = document.createElement(tag);
        if (tag === "a") {
          var href = node.getAttribute("href") || "";
          if (/^https?:\/\//i.test(href)) { element.href = href; element.rel = "noopener noreferrer"; element.target = "_blank"; }
        }
        copy(node, element);
        to.appendChild(element);
      });
    })(template.content, out);
    return out;
  }

  function saveLog() {
    try { sessionStorage.setItem(KEY + "log", log.innerHTML); } catch (e) { /* too large: fine */ }
  }

  function addMine(text) {
    var item = document.createElement("div");
    item.className = "msg me";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = TEXTS.you + ": ";
    item.appendChild(who);
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    saveLog();
    item.scrollIntoView({ block: "end" });
  }

  function addMessage(frame) {
    var item = document.createElement("div");
    item.className = "msg bot";
    item.dataset.seq = String(frame.seq);
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = TEXTS.bot + ": ";
    item.appendChild(who);
    item.appendChild(sanitized(frame.text || ""));
    if (frame.image) {
      var image = document.createElement("img");
      image.src = "data:image/png;base64," + frame.image;
      image.alt = frame.alt || TEXTS.image;
      item.appendChild(image);
    }
    if (frame.document) {
      var link = document.createElement("a");
      link.href = "data:application/octet-stream;base64," + frame.document.data;
      link.download = frame.document.name;
      link.textContent = TEXTS.download + " " + frame.document.name;
      item.appendChild(document.createElement("br"));
      item.appendChild(link);
    }
    if (frame.ask_location && navigator.geolocation) {
      // "Where is the problem?": the browser's location, only when the resident presses this.
      var share = document.createElement("button");
      share.type = "button";
      share.className = "location";
      share.textContent = frame.ask_location;
      item.appendChild(share);
    }
    var rows = frame.buttons || [];
    if (rows.length) {
      var group = document.createElement("div");
      group.className = "buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", TEXTS.choices);
      rows.forEach(function (row) {
        row.forEach(function (b) {
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = b.label;
          button.dataset.data = b.data;
          group.appendChild(button);
        });
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    store("seq", String(Math.max(lastSeq(), frame.seq)));
    saveLog();
    item.scrollIntoView({ block: "end" });
  }

  function shareLocation() {
    navigator.geolocation.getCurrentPosition(function (position) {
      var frame = { type: "location", latitude: position.coords.latitude, longitude: position.coords.longitude };
      if (send(frame)) { pressed = true; addMine(TEXTS.location_sent); }
    }, function () {
      setStatus(TEXTS.location_failed);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { setStatus(TEXTS.offline); return false; }
    frame.id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    socket.send(JSON.stringify(frame));
    pending.push({ frame: frame, at: Date.now() });
    return true;
  }

  function sendPendingAgain() {
    var again = pending.filter(function (item) { return Date.now() - item.at < RESEND_WITHIN_MS; });
    pending = again;
    again.forEach(function (item) { socket.send(JSON.stringify(item.frame)); });
  }

  function afterReplies() {
    var items = log.querySelectorAll(".msg.bot");
    var last = items[items.length - 1];
    var first = last && last.querySelector(".buttons button");
    if (pressed && first) { first.focus(); } else { input.focus(); }
    pressed = false;
  }

  function connect() {
    var url = new URL("web/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url.href);
    socket.onopen = function () {
      retry = 0;
      var token = stored("token");
      socket.send(JSON.stringify({ type: "hello", token: token || undefined, after: token ? lastSeq() : 0 }));
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "session") {
        var fresh = frame.token !== stored("token");
        if (fresh) { store("token", frame.token); store("seq", "0"); pending = []; }
        if (lastSeq() > frame.last) { store("seq", String(frame.last)); }  // old messages were removed
        setStatus(TEXTS.connected);
        sendPendingAgain();
        var start = params.get("start");
        if (fresh || start) {
          params.delete("start");
          // A reload must not open the link again.
          try { history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : "")); } catch (e) { /* fine */ }
          send({ type: "text", text: "/start" + (start ? " " + start : "") });
        }
      } else if (frame.type === "message") {
        if (frame.seq > lastSeq() || !log.querySelector('[data-seq="' + frame.seq + '"]')) { addMessage(frame); }
      } else if (frame.type === "done") {
        pending = pending.filter(function (item) { return item.frame.id !== frame.id; });
        afterReplies();
      } else if (frame.type === "error") {
        pending = [];  // answered: the resident sees why and may send it again
        setStatus(frame.text);
      }
    };
    socket.onclose = function () {
      setStatus(TEXTS.reconnecting);
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry));
    };
  }

  log.addEventListener("click", function (event) {
    if (event.target.closest("button.location")) { shareLocation(); return; }
    var button = event.target.closest("button[data-data]");
    if (!button) { return; }
    if (send({ type: "button", data: button.dataset.data })) { pressed = true; addMine(button.textContent); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (send({ type: "text", text: text })) { addMine(text); input.value = ""; }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  photo.addEventListener("change", function () {
    var file = photo.files && photo.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var data = String(reader.result).split(",")[1] || "";
      if (send({ type: "photo", data: data })) { addMine(TEXTS.photo_sent + " " + file.name); }
      photo.value = "";
    };
    reader.readAsDataURL(file);
  });

  try {
    var saved = sessionStorage.getItem(KEY + "log");
    if (saved && stored("token")) {
      // Our own sanitized markup, saved by this page in this tab.
      log.innerHTML = saved;
    }
  } catch (e) { /* no storage */ }
  connect();
})();

// The reading page of an item that counts as study: reports how long it was on screen, every
// 30 s and when the page goes away, with a random key for this opening. The server credits
// what it can vouch for (docs/study.md); a 401 (the reading session ended) or a 404 stops it.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.fetch || !window.crypto || !window.crypto.getRandomValues) return;
  var url = me.getAttribute("data-report");
  function key() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var session = key(), visible = 0, last = Date.now(), stopped = false, closed = false, timer = null;
  function tally() {
    var now = Date.now();
    if (document.visibilityState === "visible") visible += (now - last) / 1000;
    last = now;
  }
  function send(close) {
    if (stopped || closed) return;
    tally();
    var seconds = Math.min(3600, Math.floor(visible));
    visible -= seconds;
    closed = close;
    fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store", keepalive: close,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session: session, visible_seconds: seconds, closed: close })
    }).then(function (r) {
      if (r.status === 401 || r.status === 404) stopped = true;
      else if (!r.ok) visible += seconds;
    }).catch(function () { visible += seconds; /* a bad connection: the next report carries it */ });
  }
  function start() {
    send(false);
    timer = setInterval(function () { send(false); }, 30000);
  }
  document.addEventListener("visibilitychange", tally);
  window.addEventListener("pagehide", function () { clearInterval(timer); send(true); });
  // Back from the browser's page cache: a new opening, with a key of its own.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted || stopped) return;
    session = key(); visible = 0; last = Date.now(); closed = false;
    start();
  });
  start();
})();

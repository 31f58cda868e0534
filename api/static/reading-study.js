// The reading page of an item that counts as study: reports how long it was on screen, every
// 30 s and when the page goes away, with a random key for this opening. The server credits
// what it can vouch for (docs/study.md); a 401 (the reading session ended) or a 404 stops it.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.fetch || !window.crypto || !window.crypto.getRandomValues) return;
  var url = me.getAttribute("data-report");
  var bytes = new Uint8Array(12);
  window.crypto.getRandomValues(bytes);
  var session = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  var visible = 0, last = Date.now(), stopped = false, closed = false;
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
    }).then(function (r) { if (r.status === 401 || r.status === 404) stopped = true; })
      .catch(function () { /* a bad connection: the next report carries the time */ });
  }
  document.addEventListener("visibilitychange", tally);
  send(false);
  var timer = setInterval(function () { send(false); }, 30000);
  window.addEventListener("pagehide", function () { clearInterval(timer); send(true); });
})();

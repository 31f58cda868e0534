// A broadcast's page: its counts follow the members' reading while the page is open.
(function () {
  "use strict";
  var box = document.getElementById("stats");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-stats");
  function set(id, v) { var e = document.getElementById(id); if (e) e.textContent = String(v); }
  function tick() {
    if (document.hidden) return setTimeout(tick, 5000);
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { set("s-pct", "—"); throw "ended"; }
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (s) {
          set("s-recipients", s.recipients); set("s-read", s.read); set("s-unread", s.unread);
          set("s-failed", s.failed); set("s-pct", s.read_pct);
          var bar = document.getElementById("s-bar"); if (bar) bar.value = s.read_pct;
        }
        setTimeout(tick, 5000);
      })
      .catch(function (e) { if (e !== "ended") setTimeout(tick, 10000); });
  }
  setTimeout(tick, 5000);
})();

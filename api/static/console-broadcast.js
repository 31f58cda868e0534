// A broadcast's page: its counts and its read curve follow the members' reading while the page
// is open.
(function () {
  "use strict";
  var box = document.getElementById("stats");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-stats");
  var ticks = 0;
  // The read count the curve last showed.
  var curveRead = text("s-read");
  function set(id, v) { var e = document.getElementById(id); if (e) e.textContent = String(v); }
  function text(id) { var e = document.getElementById(id); return e ? e.textContent : ""; }
  function tick() {
    if (document.hidden) return setTimeout(tick, 5000);
    // The counts every 5 s; the curve every 30 s, and at once after the count has moved.
    var withCurve = (++ticks % 6 === 0 || text("s-read") !== curveRead) && document.getElementById("curve");
    fetch(withCurve ? url + "?curve=1" : url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { set("s-pct", "—"); throw "ended"; }
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (s) {
          set("s-recipients", s.recipients); set("s-read", s.read); set("s-unread", s.unread);
          set("s-failed", s.failed); set("s-pct", s.read_pct);
          var bar = document.getElementById("s-bar"); if (bar) bar.value = s.read_pct;
          var curve = document.getElementById("curve");
          if (curve && s.curve) { curve.setAttribute("points", s.curve); curveRead = String(s.read); }
        }
        setTimeout(tick, 5000);
      })
      .catch(function (e) { if (e !== "ended") setTimeout(tick, 10000); });
  }
  setTimeout(tick, 5000);
})();

// The console's login page: waits for the mini-program to approve the QR code's ticket, then
// finishes the login (the same form a person without script submits by hand).
(function () {
  "use strict";
  var form = document.getElementById("qr-finish");
  var status = document.getElementById("qr-status");
  if (!form || !window.fetch) return;
  var ticket = form.querySelector("input[name=ticket]").value;
  var url = form.getAttribute("data-state");
  function say(text) { if (status) status.textContent = text; }
  function wait(delay) {
    setTimeout(function () {
      fetch(url + "?ticket=" + encodeURIComponent(ticket), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : { state: "retry" }; })
        .then(function (a) {
          if (a.state === "approved") { say("已确认，正在登录…"); form.submit(); }
          else if (a.state === "gone") { say("二维码已过期，请刷新页面。"); }
          else { wait(a.state === "retry" ? 3000 : 0); }
        })
        .catch(function () { wait(3000); });
    }, delay);
  }
  wait(0);
})();

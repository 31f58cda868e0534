// The composer: the preview, the audience's size and the schedule follow the form as it is
// filled in (the "预览" button does the same without this script), and a sent form is not
// sent twice.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  if (!form || !window.fetch || !window.FormData || !window.URLSearchParams) return;
  var url = form.getAttribute("data-preview");
  var timer = null, busy = false, again = false, ended = false;
  function el(id) { return document.getElementById(id); }
  function text(id, v) { var e = el(id); if (e) e.textContent = v; }
  function show(r) {
    el("preview").innerHTML = r.html || '<p class="muted">正文的样子会显示在这里。</p>';
    text("size", r.audience_size === null || r.audience_size === undefined ? "—" : String(r.audience_size));
    text("schedule", r.schedule || "—");
    var ol = el("occurrences");
    ol.textContent = "";
    (r.occurrences || []).forEach(function (o) {
      var li = document.createElement("li"); li.textContent = o; ol.appendChild(li);
    });
    var box = el("problems"), ul = box.querySelector("ul");
    ul.textContent = "";
    (r.problems || []).forEach(function (p) {
      var li = document.createElement("li"); li.textContent = p.label + "：" + p.message; ul.appendChild(li);
    });
    box.hidden = !(r.problems && r.problems.length);
  }
  function ask() {
    if (ended) return;
    if (busy) { again = true; return; }
    busy = true;
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString()
    })
      .then(function (r) {
        if (r.status === 401) { ended = true; text("schedule", "登录已过期，请刷新页面"); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (r) { if (r) show(r); })
      .catch(function () { /* a bad connection: the next change asks again */ })
      .then(function () { busy = false; if (again) { again = false; later(); } });
  }
  function later() { clearTimeout(timer); timer = setTimeout(ask, 500); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", function (ev) {
    var b = ev.submitter;
    if (b && b.value === "send") {
      if (form.getAttribute("data-sent")) { ev.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      b.textContent = "发送中…";
    }
  });
  ask();
})();

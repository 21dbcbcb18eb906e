// Live updates for pages marked data-live: poll a cheap version number and, when it changes,
// fetch the page again and swap <main> (or, with data-live="notice", only say so). The server
// renders (and escapes) everything; this script only moves our own HTML around. Pages work the
// same without it, just not live.
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main || !main.hasAttribute("data-live") || !window.fetch) return;
  var status = document.getElementById("live-status");
  var versionUrl = main.getAttribute("data-version") || "/api/version";
  var version = null;
  var busy = false;

  function typing() {
    var el = document.activeElement;
    return el && main.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function refresh() {
    return fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!next) return;
        main.replaceChildren.apply(main, Array.prototype.slice.call(next.childNodes).map(function (n) {
          return document.importNode(n, true);
        }));
        if (status) {
          status.classList.add("flash");
          setTimeout(function () { status.classList.remove("flash"); }, 1200);
        }
      });
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(versionUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var changed = version !== null && body.version !== version;
        if (changed && typing()) return; // keep the change pending until the user is done
        version = body.version;
        if (!changed) return;
        // The issue page only says so: swapping it would close what the reader opened.
        if (main.getAttribute("data-live") === "notice") {
          var notice = document.getElementById("live-notice");
          if (notice) notice.hidden = false;
          return;
        }
        return refresh();
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  if (status) status.hidden = false;
  poll();
  setInterval(poll, 2000);
})();

// The protocol PDF's progress page: while the job runs, the status is fetched again every few seconds and
// put in place (its region is aria-live="polite", so a screen reader hears the new step). Without scripts
// the page's "Uppdatera" link does the same; when the PDF is ready the whole page is loaded once, so the
// download link and the buttons below it are the current ones.
(function () {
  "use strict";
  var status = document.getElementById("protocol-file-status");
  if (!status || !status.hasAttribute("data-pending")) { return; }
  var INTERVAL_MS = 3000;

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("protocol-file-status");
        if (!fresh) { return; }
        if (!fresh.hasAttribute("data-pending")) {
          window.location.reload();
          return;
        }
        if (fresh.innerHTML !== status.innerHTML) { status.innerHTML = fresh.innerHTML; }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 3); });
  }
  window.setTimeout(poll, INTERVAL_MS);
})();

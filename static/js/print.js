// "Skriv ut" on the protocol page: shown only when scripts run (the PDF link works without).
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();

// "Kopiera länken" beside a read-only link: copies it with the Clipboard API, or (no API, or refused)
// selects the text so the user can copy it by hand; says which in a live status line. Without
// scripts the button stays hidden and the field can be selected as usual.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    if (!input) { return; }
    button.hidden = false;
    function say(text) { if (status) { status.textContent = text; } }
    function selectText() {
      input.focus();
      input.select();
      say(button.getAttribute("data-select"));
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(button.getAttribute("data-copied"));
        }, selectText);
      } else {
        selectText();
      }
    });
  });
})();

// The capture form's "Redan rapporterat här?" box: its code (nearby-box.js) is fetched only once the form has
// a category and a position and the phone is online, so the first load on a weak network stays small.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  var box = document.getElementById("nearby");
  if (!form || !box || !window.fetch) { return; }
  var loading = false;

  function maybeLoad(event) {
    var name = event && event.target && event.target.name;
    if (event && event.type !== "fieldwalk:position" && name !== "category" && name !== "lat" && name !== "lon") {
      return;
    }
    if (window.fieldwalkNearby || loading || navigator.onLine === false) { return; }  // loaded: it listens itself
    if (!form.querySelector('input[name="category"]:checked') || !form.elements.lat.value || !form.elements.lon.value) {
      return;
    }
    loading = true;
    var script = document.createElement("script");
    script.src = box.dataset.script;
    script.onerror = function () { loading = false; };  // offline after all: try again on the next change
    document.head.appendChild(script);
  }
  form.addEventListener("change", maybeLoad);
  form.addEventListener("input", maybeLoad);
  form.addEventListener("fieldwalk:position", maybeLoad);
  maybeLoad();  // a form shown again (an error, a back button) may have both already
})();

// Capture form enhancements: GPS position with accuracy, pick a point on the map, photo
// previews, and an upload with a progress bar that keeps everything on screen if it fails.
// Without JavaScript the form posts normally and the server keeps what was typed.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  if (!form) { return; }
  var msg = form.dataset;
  var $ = function (name) { return form.elements[name]; };

  // Each finding gets its uuid here, on the phone: a page opened from the offline cache must not
  // reuse the uuid of an earlier finding (the server would take it for a retry of that one).
  function newUuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  $("uuid").value = newUuid();
  var status = document.getElementById("position-status");
  var errorBox = document.getElementById("capture-error");
  var locate = document.getElementById("locate");
  var picked = false;
  var marker = null;
  var map = null;

  function showPosition(lat, lon, accuracy) {
    $("lat").value = lat.toFixed(6);
    $("lon").value = lon.toFixed(6);
    $("accuracy_m").value = accuracy != null ? Math.round(accuracy) : "";
    form.dispatchEvent(new CustomEvent("fieldwalk:position"));  // nearby.js looks for duplicates here
    if (map) {
      if (marker) { marker.setLatLng([lat, lon]); } else { marker = L.marker([lat, lon]).addTo(map); }
      map.setView([lat, lon], Math.max(map.getZoom(), 17));
    }
  }

  // --- map picker -------------------------------------------------------------------------
  var mapEl = document.getElementById("pick-map");
  var config = document.getElementById("map-config");
  function setupMap() {
    if (!mapEl || !config || !window.L) { return; }
    var c = JSON.parse(config.textContent);
    mapEl.hidden = false;
    map = L.map(mapEl).setView(c.center, 16);
    L.tileLayer(c.tiles, { maxZoom: 19, attribution: c.attribution }).addTo(map);
    map.on("click", function (e) {
      picked = true;
      $("position_source").value = "map";
      showPosition(e.latlng.lat, e.latlng.lng, null);
      status.textContent = msg.msgPicked;
    });
    if ($("lat").value && $("lon").value) {
      showPosition(parseFloat($("lat").value), parseFloat($("lon").value), parseFloat($("accuracy_m").value) || null);
    }
  }
  // Leaflet is loaded with defer before this file, so it is ready now.
  setupMap();

  // --- GPS -------------------------------------------------------------------------------
  function startGps() {
    if (!("geolocation" in navigator)) { return; }
    status.textContent = msg.msgLocating;
    navigator.geolocation.watchPosition(function (pos) {
      if (picked) { return; }
      $("position_source").value = "gps";
      showPosition(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy);
      status.textContent = msg.msgAccuracy.replace("{m}", Math.round(pos.coords.accuracy));
    }, function () {
      if (!picked) { status.textContent = msg.msgDenied; }
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  }
  if ("geolocation" in navigator && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () { picked = false; startGps(); });
    if (!$("lat").value) { startGps(); }
  }

  // --- photo previews --------------------------------------------------------------------
  var input = document.getElementById("photos");
  var previews = document.getElementById("photo-previews");
  input.addEventListener("change", function () {
    previews.textContent = "";
    Array.prototype.forEach.call(input.files, function (file, i) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      li.appendChild(img);
      previews.appendChild(li);
    });
  });

  // --- upload with progress ----------------------------------------------------------------
  var progressBox = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var submit = form.querySelector('button[type="submit"]');
  function fail(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    progressBox.hidden = true;
    submit.disabled = false;
    errorBox.scrollIntoView({ block: "center" });
  }
  // A refused photo (too many, too large, broken) is also named at the photo field, as the plain form does.
  function photoError(messages) {
    var field = input.closest(".field");
    var note = document.getElementById("photos-error");
    if (!messages || !messages.length) {
      if (note) { note.hidden = true; }
      field.classList.remove("has-error");
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = "photos-error";
      document.getElementById("photos-hint").insertAdjacentElement("afterend", note);
      input.setAttribute("aria-describedby", "photos-hint photos-error");
    }
    note.textContent = messages.join(" ");
    note.hidden = false;
    field.classList.add("has-error");
  }
  // --- no network: keep the finding in the outbox (outbox.js) --------------------------------
  function number(name) { var v = parseFloat($(name).value); return isNaN(v) ? null : v; }
  function saveOffline() {
    var category = form.querySelector('input[name="category"]:checked');
    if (!category) { fail(msg.msgCategory); return; }
    var finding = {
      uuid: $("uuid").value, category_id: parseInt(category.value, 10), description: $("description").value,
      severity: (form.querySelector('input[name="severity"]:checked') || { value: "medium" }).value,
      lat: number("lat"), lon: number("lon"), accuracy_m: number("accuracy_m"),
      position_source: $("position_source").value === "gps" ? "gps" : "map", place: $("place").value,
      device_created_at: $("device_created_at").value
    };
    if ((finding.lat === null) !== (finding.lon === null)) { finding.lat = finding.lon = null; }
    window.fieldwalkOutbox.save(msg.walk, finding, input.files).then(function () {
      // Ready for the next finding: same position and place, everything else fresh.
      $("description").value = "";
      category.checked = false;
      input.value = "";
      previews.textContent = "";
      $("uuid").value = newUuid();
      progressBox.hidden = true;
      submit.disabled = false;
      errorBox.hidden = true;
      saved.hidden = false;
      saved.focus();
      window.scrollTo(0, 0);
    }, function () { fail(msg.msgOffline); });
  }
  var saved = document.getElementById("saved-offline");

  form.addEventListener("submit", function (event) {
    if (!window.FormData || !window.XMLHttpRequest) { return; }  // plain post
    event.preventDefault();
    $("device_created_at").value = new Date().toISOString();
    saved.hidden = true;
    if (window.fieldwalkOutbox && navigator.onLine === false) { saveOffline(); return; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); bar.textContent = bar.value + " %"; }
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (ignore) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300 && body && body.url) {
        // replace(): Back must not return to a filled-in form that would save the finding twice.
        window.location.replace(body.url);
      } else if (body && body.error) {
        photoError((body.error.fields || {}).photos);
        fail(body.error.message);
      } else {
        fail(msg.msgError);
      }
    };
    xhr.onerror = function () { if (window.fieldwalkOutbox) { saveOffline(); } else { fail(msg.msgOffline); } };
    errorBox.hidden = true;
    progressBox.hidden = false;
    bar.value = 0;
    submit.disabled = true;
    xhr.send(new FormData(form));
  });
})();

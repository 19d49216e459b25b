// The capture and edit forms of a finding on a phone: GPS position with its accuracy, a map that picks a
// position only in its own mode ("Välj plats på kartan" → tap → Klar/Avbryt), photos added tap by tap with
// previews that can be removed, each prepared on the phone (static/js/photo-prep.js: position read, EXIF
// dropped, downscaled) while the rest is filled in, and an upload whose Save button says what is sent.
// Without JavaScript the form posts normally and the server keeps what was typed.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  if (!form) { return; }
  var msg = form.dataset;
  var isNew = msg.new === "1";
  var $ = function (name) { return form.elements[name]; };
  // A script or style the page needs only for some tasks (the map, photo preparation), loaded then.
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function fill(text, values) {
    return text.replace(/\{(\w)\}/g, function (all, key) { return values[key] != null ? values[key] : all; });
  }

  // Each finding gets its uuid here, on the phone: a page opened from the offline cache must not
  // reuse the uuid of an earlier finding (the server would take it for a retry of that one).
  function newUuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  if (isNew) { $("uuid").value = newUuid(); }
  var status = document.getElementById("position-status");
  var errorBox = document.getElementById("capture-error");
  var locate = document.getElementById("locate");
  var marker = null;
  var map = null;

  // The position fields are the one truth; the map and the status line only show them.
  function setPosition(lat, lon, accuracy, source, text) {
    $("lat").value = lat.toFixed(6);
    $("lon").value = lon.toFixed(6);
    $("accuracy_m").value = accuracy != null ? Math.round(accuracy) : "";
    $("position_source").value = source;
    status.textContent = text;
    form.dispatchEvent(new CustomEvent("fieldwalk:position"));  // nearby.js looks for duplicates here
  }
  function hasPosition() { return $("lat").value !== "" && $("lon").value !== ""; }

  // --- GPS -------------------------------------------------------------------------------
  // A live fix fills the position until the person chose one (on the map, or a photo's): never overwritten.
  var watching = null;
  function startGps() {
    if (!("geolocation" in navigator)) { return; }
    status.textContent = msg.msgLocating;
    if (watching !== null) { navigator.geolocation.clearWatch(watching); }
    watching = navigator.geolocation.watchPosition(function (pos) {
      if (hasPosition() && $("position_source").value !== "gps") { return; }
      setPosition(pos.coords.latitude, pos.coords.longitude, pos.coords.accuracy, "gps",
        fill(msg.msgAccuracy, { m: Math.round(pos.coords.accuracy) }));
    }, function () {
      if (!hasPosition()) { status.textContent = msg.msgDenied; }
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  }
  if ("geolocation" in navigator && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () { $("lat").value = $("lon").value = ""; startGps(); });
    if (isNew && !hasPosition()) { startGps(); }
  }

  // --- map mode --------------------------------------------------------------------------
  // The map is not on the form: it opens over it on request, and only a tap while it is open, confirmed
  // with Klar, changes the position. Avbryt (or Escape) leaves the position as it was.
  var mapMode = document.getElementById("map-mode");
  var mapOpen = document.getElementById("map-open");
  var config = document.getElementById("map-config");
  var tentative = null;
  function openMap() {
    mapMode.hidden = false;
    document.body.classList.add("map-mode-open");
    var here = hasPosition() ? [parseFloat($("lat").value), parseFloat($("lon").value)] : null;
    if (!map) {
      var c = JSON.parse(config.textContent);
      map = L.map(document.getElementById("pick-map")).setView(here || c.center, here ? 18 : 16);
      L.tileLayer(c.tiles, { maxZoom: 19, attribution: c.attribution }).addTo(map);
      map.on("click", function (e) {
        tentative = e.latlng;
        if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
      });
    } else {
      map.invalidateSize();
      if (here) { map.setView(here, Math.max(map.getZoom(), 17)); }
    }
    tentative = null;
    if (marker) {
      if (here) { marker.setLatLng(here); } else { map.removeLayer(marker); marker = null; }
    } else if (here) {
      marker = L.marker(here).addTo(map);
    }
    document.getElementById("map-mode-title").focus();
  }
  function closeMap(keep) {
    if (keep && tentative) {
      setPosition(tentative.lat, tentative.lng, null, "map", msg.msgPicked);
    }
    tentative = null;
    mapMode.hidden = true;
    document.body.classList.remove("map-mode-open");
    mapOpen.focus();
  }
  var leaflet = null;
  function loadLeaflet() {
    if (!leaflet) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = mapOpen.dataset.css;
      document.head.appendChild(css);
      leaflet = loadScript(mapOpen.dataset.js).catch(function (error) { leaflet = null; throw error; });
    }
    return leaflet;
  }
  if (mapMode && mapOpen && config) {
    mapOpen.hidden = false;
    mapOpen.addEventListener("click", function () {
      loadLeaflet().then(openMap, function () { status.textContent = mapOpen.dataset.msgFailed; });
    });
    document.getElementById("map-done").addEventListener("click", function () { closeMap(true); });
    document.getElementById("map-cancel").addEventListener("click", function () { closeMap(false); });
    mapMode.addEventListener("keydown", function (e) { if (e.key === "Escape") { closeMap(false); } });
  }

  // --- photos ----------------------------------------------------------------------------
  // Chosen photos are kept here, not in the file input: with capture="environment" every tap opens the
  // camera and the input would forget the earlier photos. Each is prepared as soon as it is chosen.
  var input = document.getElementById("photos");
  var previews = document.getElementById("photo-previews");
  var chosen = [];  // { file, url, ready: Promise<{blob, gps, prepared}> }
  var options = { maxSide: parseInt(msg.photoSide, 10) || undefined, quality: parseFloat(msg.photoQuality) || undefined };
  var maxPhotos = parseInt(msg.photoMax, 10) || 10;
  function storedKept() {
    return Array.prototype.filter.call(form.querySelectorAll(".remove-stored"), function (box) { return !box.checked; }).length;
  }
  function renderPreviews() {
    previews.textContent = "";
    chosen.forEach(function (item, i) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.alt = fill(msg.msgPhoto, { n: i + 1 });
      img.src = item.url;
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "button secondary small remove-photo";
      drop.setAttribute("aria-label", fill(msg.msgRemove, { n: i + 1 }));
      drop.textContent = "✕";
      drop.addEventListener("click", function () {
        URL.revokeObjectURL(item.url);
        chosen.splice(chosen.indexOf(item), 1);
        renderPreviews();
        input.focus();
      });
      li.appendChild(img);
      li.appendChild(drop);
      previews.appendChild(li);
    });
  }
  // exifr and photo-prep.js arrive when the person first goes for a photo (the service worker keeps them
  // for use without network); a script that cannot be loaded leaves the photo as it is, for the server.
  var tools = null;
  function photoTools() {
    if (!tools) {
      tools = (msg.photoScripts || "").split(" ").filter(Boolean).reduce(function (previous, src) {
        return previous.then(function () { return loadScript(src); });
      }, Promise.resolve()).catch(function () { /* prepare what can be prepared */ }).then(function () {
        return window.fieldwalkPhotos || null;
      });
    }
    return tools;
  }
  input.addEventListener("click", photoTools);
  function prepared(file) {
    return photoTools().then(function (lib) {
      return lib ? lib.prepare(file, options) : { blob: file, gps: null, prepared: false };
    });
  }
  function photoPosition(result) {
    if (result.gps && !hasPosition()) {
      setPosition(result.gps.lat, result.gps.lon, null, "photo", msg.msgPhotoPosition);
    }
    return result;
  }
  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files);
    var room = maxPhotos - storedKept() - chosen.length;
    photoError(files.length > room ? [msg.msgTooMany] : null);
    files.slice(0, Math.max(room, 0)).forEach(function (file) {
      var item = { file: file, url: URL.createObjectURL(file) };
      item.ready = prepared(file).then(photoPosition);
      chosen.push(item);
    });
    input.value = "";  // the next tap adds to these
    renderPreviews();
    if (previews.lastElementChild) { previews.lastElementChild.scrollIntoView({ block: "nearest" }); }
  });

  // --- sending ---------------------------------------------------------------------------
  var progressBox = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var submit = document.getElementById("save");
  var label = document.getElementById("upload-status");
  var busy = false;
  function sending(text) {
    busy = true;
    submit.disabled = true;
    submit.setAttribute("aria-disabled", "true");
    label.textContent = text;
  }
  function idle() {
    busy = false;
    submit.disabled = false;
    submit.removeAttribute("aria-disabled");
    label.textContent = submit.dataset.label;
    progressBox.hidden = true;
  }
  function fail(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    idle();
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
  function readyPhotos() {
    return Promise.all(chosen.map(function (item) { return item.ready; })).then(function (results) {
      return results.map(function (r, i) {
        var name = (chosen[i].file.name || "foto").replace(/\.[^.]*$/, "") + (r.prepared ? ".jpg" : "");
        return { blob: r.blob, name: r.prepared ? name : (chosen[i].file.name || "foto-" + (i + 1)) };
      });
    });
  }
  function resetForNext() {  // ready for the next finding: same position and place, everything else fresh
    var category = form.querySelector('input[name="category"]:checked');
    if (category) { category.checked = false; }
    $("description").value = "";
    chosen.forEach(function (item) { URL.revokeObjectURL(item.url); });
    chosen = [];
    renderPreviews();
    $("uuid").value = newUuid();
  }

  // --- no network: keep the finding in the outbox (outbox.js) --------------------------------
  var saved = document.getElementById("saved-offline");
  function number(name) { var v = parseFloat($(name).value); return isNaN(v) ? null : v; }
  function saveOffline(photos) {
    var category = form.querySelector('input[name="category"]:checked');
    if (!category) { fail(msg.msgCategory); return; }
    var source = $("position_source").value;
    var finding = {
      uuid: $("uuid").value, category_id: parseInt(category.value, 10), description: $("description").value,
      severity: (form.querySelector('input[name="severity"]:checked') || { value: "medium" }).value,
      lat: number("lat"), lon: number("lon"), accuracy_m: number("accuracy_m"),
      position_source: ["gps", "map", "photo"].indexOf(source) >= 0 ? source : "map", place: $("place").value,
      device_created_at: $("device_created_at").value
    };
    if ((finding.lat === null) !== (finding.lon === null)) { finding.lat = finding.lon = null; }
    window.fieldwalkOutbox.save(msg.walk, finding, photos.map(function (p) { return p.blob; })).then(function () {
      resetForNext();
      idle();
      errorBox.hidden = true;
      saved.hidden = false;
      saved.focus();
      window.scrollTo(0, 0);
    }, function () { fail(msg.msgOffline); });
  }

  function upload(photos) {
    var data = new FormData(form);
    data.delete("photos");
    photos.forEach(function (p) { data.append("photos", p.blob, p.name); });
    var sizes = photos.map(function (p) { return p.blob.size; });
    var photoBytes = sizes.reduce(function (a, b) { return a + b; }, 0);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      bar.textContent = percent + " %";
      // The text fields go first, then the photos in order: which one is on its way follows from the bytes.
      var offset = e.total - photoBytes, n = 0;
      while (n < sizes.length && e.loaded > offset + sizes[n]) { offset += sizes[n]; n += 1; }
      if (e.loaded >= e.total) { label.textContent = msg.msgFinishing; } else if (sizes.length) {
        label.textContent = fill(msg.msgPhotoProgress, { n: Math.min(n + 1, sizes.length), m: sizes.length, p: percent });
      } else { label.textContent = fill(msg.msgTextProgress, { p: percent }); }
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
    xhr.onerror = function () {
      if (isNew && window.fieldwalkOutbox) { saveOffline(photos); } else { fail(msg.msgOffline); }
    };
    progressBox.hidden = false;
    bar.value = 0;
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    if (!window.FormData || !window.XMLHttpRequest || !window.Promise) { return; }  // plain post
    event.preventDefault();
    if (busy) { return; }  // a second tap while sending
    if (isNew) { $("device_created_at").value = new Date().toISOString(); }
    if (saved) { saved.hidden = true; }
    errorBox.hidden = true;
    sending(chosen.length ? msg.msgPreparing : msg.msgSending);
    readyPhotos().then(function (photos) {
      if (isNew && window.fieldwalkOutbox && navigator.onLine === false) { saveOffline(photos); return; }
      upload(photos);
    }, function () { fail(msg.msgError); });
  });

  // After a save the page offers "Logga nästa" at the top; it leads to this form, fresh.
  var next = document.getElementById("log-next");
  if (next) {
    next.addEventListener("click", function (event) {
      event.preventDefault();
      document.getElementById("saved-next").hidden = true;
      var flashes = document.querySelector(".flashes");
      if (flashes) { flashes.hidden = true; }
      window.scrollTo(0, 0);
      var first = form.querySelector('input[name="category"]');
      if (first) { first.focus(); }
    });
  }
})();

// Walk page map: findings and suggested places on Leaflet; tapping the map fills the
// "suggest a place" form's coordinates. Without Leaflet or tiles the list below still works.
(function () {
  "use strict";
  var el = document.getElementById("walk-map");
  var dataEl = document.getElementById("map-data");
  if (!el || !dataEl || !window.L) { if (el) el.hidden = true; return; }
  var data = JSON.parse(dataEl.textContent);
  el.hidden = false;  // hidden in the page until a map can be drawn (the location partial's fallback is text)
  var map = L.map(el, { scrollWheelZoom: false }).setView(data.center, 15);
  var tiles = L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution }).addTo(map);
  var failed = 0;
  tiles.on("tileerror", function () {
    failed += 1;
    if (failed === 4) { el.setAttribute("data-tiles-failed", "1"); }
  });
  var bounds = [];
  function pin(text, cls) {
    return L.divIcon({ className: "map-pin " + (cls || ""), html: text, iconSize: [30, 30], iconAnchor: [15, 15] });
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  if (data.meeting) {
    L.marker(data.meeting, { icon: pin("🚩"), keyboard: false }).addTo(map);
    bounds.push(data.meeting);
  }
  data.findings.forEach(function (f) {
    L.marker([f.lat, f.lon], { icon: pin(esc(f.icon) || "●"), title: f.title })
      .bindPopup('<a href="' + esc(f.url) + '"><strong>' + esc(f.title) + "</strong></a><br>" + esc(f.text))
      .addTo(map);
    bounds.push([f.lat, f.lon]);
  });
  data.places.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], { radius: 10, color: p.checked ? "#1c6b35" : "#8a4b00", weight: 3, fillOpacity: 0.25 })
      .bindPopup(esc(p.text)).addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 17); }
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 }); }

  // Where am I? The user's own position (blue dot, with its accuracy) among the findings.
  if ("geolocation" in navigator && window.isSecureContext) {
    var me = null, ring = null;
    navigator.geolocation.watchPosition(function (pos) {
      var here = [pos.coords.latitude, pos.coords.longitude];
      if (!me) {
        ring = L.circle(here, { radius: pos.coords.accuracy, color: "#0a4fb3", weight: 1, fillOpacity: 0.1 }).addTo(map);
        me = L.circleMarker(here, { radius: 8, color: "#ffffff", weight: 3, fillColor: "#0a4fb3", fillOpacity: 1 })
          .bindTooltip(el.dataset.youAreHere || "").addTo(map);
      } else {
        me.setLatLng(here);
        ring.setLatLng(here).setRadius(pos.coords.accuracy);
      }
    }, function () { /* no position: the map shows the findings only */ }, { enableHighAccuracy: true, maximumAge: 15000 });
  }

  // Suggest-a-place form: a tap on the map fills its coordinates.
  var lat = document.querySelector('[data-pick-target="place"] input[name="lat"]');
  var lon = document.querySelector('[data-pick-target="place"] input[name="lon"]');
  if (lat && lon) {
    var chosen = null;
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      if (chosen) { chosen.setLatLng(e.latlng); } else { chosen = L.marker(e.latlng, { icon: pin("📌") }).addTo(map); }
    });
  }
})();

// Planning a walk: a click or tap on the map sets the meeting point's latitude/longitude fields, and a
// marker shows the point in them (also when typed). The fields stay for keyboard and no-script users;
// without Leaflet the map stays hidden.
(function () {
  "use strict";
  var el = document.getElementById("meeting-map");
  var latInput = document.getElementById("meeting_lat");
  var lonInput = document.getElementById("meeting_lon");
  if (!el || !latInput || !lonInput || !window.L) { return; }
  el.hidden = false;
  var hint = document.getElementById("meeting-map-hint");
  if (hint) { hint.hidden = false; }

  function read() {
    var lat = parseFloat(String(latInput.value).replace(",", "."));
    var lon = parseFloat(String(lonInput.value).replace(",", "."));
    return isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? [lat, lon] : null;
  }
  var start = read();
  var centre = start || el.getAttribute("data-center").split(",").map(parseFloat);
  var map = L.map(el, { scrollWheelZoom: false }).setView(centre, start ? 17 : 13);
  L.tileLayer(el.getAttribute("data-tiles"), { maxZoom: 19, attribution: el.getAttribute("data-attribution") })
    .addTo(map);
  var marker = null;
  function show(point) {
    if (!point) { if (marker) { map.removeLayer(marker); marker = null; } return; }
    if (!marker) {
      marker = L.marker(point, { keyboard: false, icon: L.divIcon({ className: "map-pin", html: "🚩",
        iconSize: [30, 30], iconAnchor: [15, 28] }) }).addTo(map);
    } else {
      marker.setLatLng(point);
    }
  }
  show(start);
  map.on("click", function (event) {
    latInput.value = event.latlng.lat.toFixed(6);
    lonInput.value = L.Util.wrapNum(event.latlng.lng, [-180, 180], true).toFixed(6);
    show(read());
  });
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var point = read();
      show(point);
      if (point) { map.panTo(point); }
    });
  });
})();

// A photo made ready on the phone before it is sent (capture form) or kept for later (outbox): the
// position is read from its EXIF with exifr (static/vendor/exifr), then it is redrawn upright, at most as
// large as the server keeps photos, as a JPEG of at least the server's quality.
// Redrawing leaves every EXIF field behind, so the photo's GPS position never leaves the phone inside
// the file; the form sends it as the finding's position instead, if it has none. The server still
// re-processes whatever arrives (it is the authority on orientation, size and metadata); a photo the
// browser cannot decode (HEIC in Chrome, a broken file) is sent as it is and the server answers for it.
(function () {
  "use strict";
  var DEFAULTS = { maxSide: 2048, quality: 0.85 };  // overridden by the page (the server's PhotoLimits)

  function exif(file) {
    var lib = window.exifr;
    if (!lib) { return Promise.resolve({ gps: null }); }
    return lib.gps(file).catch(function () { return null; }).then(function (gps) {
      var lat = gps && gps.latitude, lon = gps && gps.longitude;
      var usable = isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && (lat || lon);
      return { gps: usable ? { lat: lat, lon: lon } : null };
    });
  }

  // Upright: the browser applies the EXIF orientation while decoding ("from-image"). Not done by hand
  // from exifr's orientation: Chromium 156 turns the image even when asked for "none" while exifr's
  // rotation.canvas reports that it does not, so a second turn on the canvas would tip the photo over.
  // A browser that cannot decode with options sends the original, which the server turns upright.
  function redraw(file, options) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, options.maxSide / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) { if (blob) { resolve(blob); } else { reject(new Error("encode")); } },
          "image/jpeg", options.quality);
      });
    });
  }

  // prepare(file) → Promise of { blob, gps: {lat, lon} | null, prepared: bool }; never rejects.
  function prepare(file, options) {
    options = { maxSide: (options && options.maxSide) || DEFAULTS.maxSide,
                quality: (options && options.quality) || DEFAULTS.quality };
    return exif(file).then(function (meta) {
      if (!window.createImageBitmap) { return { blob: file, gps: meta.gps, prepared: false }; }
      return redraw(file, options).then(function (blob) { return { blob: blob, gps: meta.gps, prepared: true }; },
              function () { return { blob: file, gps: meta.gps, prepared: false }; });
    });
  }

  window.fieldwalkPhotos = { prepare: prepare, defaults: DEFAULTS };
})();

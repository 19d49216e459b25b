// fieldwalk service worker: the app shell from the cache, pages network-first with the last copy as
// fallback, so a capture page opened once opens again without network. API calls and photos are
// never cached here (the outbox in IndexedDB keeps unsent findings).
"use strict";
var VERSION = "fieldwalk-v1";
var SHELL = [
  "/static/css/app.css",
  "/static/js/capture.js",
  "/static/js/outbox.js",
  "/static/js/walk-map.js",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
  "/static/icons/icon-192.png",
  "/manifest.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(VERSION).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return cache.add(url).catch(function () { /* e.g. Leaflet not vendored */ });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== VERSION; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/api/") === 0 || url.pathname.indexOf("/photos/") === 0) { return; }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    // Static files: cache first (their names change with the app version via VERSION).
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) { var copy = response.clone(); caches.open(VERSION).then(function (c) { c.put(request, copy); }); }
        return response;
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    // Pages: the network when there is one (fresh data, fresh CSRF token), else the last copy.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) { var copy = response.clone(); caches.open(VERSION).then(function (c) { c.put(request, copy); }); }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) {
        return hit || new Response("<!doctype html><meta charset=utf-8><title>fieldwalk</title><p>Ingen uppkoppling och sidan finns inte sparad på telefonen.</p>",
          { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
      });
    }));
  }
});

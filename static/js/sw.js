// fieldwalk service worker. The app shell (CSS, JS, icons, Leaflet) comes from a cache named by the
// version of the static files, so a deploy (a new version) installs a new worker that drops the old
// shell. Pages are fetched from the network; only pages the server marks for offline use
// (X-Fieldwalk-Offline: 1 — the capture form, a participant's walk page) are kept, as the fallback
// without network, and never an answer marked no-store. A shared phone: logging out drops every kept
// page. API calls and photos are never cached here (the outbox in IndexedDB keeps unsent findings).
"use strict";
var VERSION = "__STATIC_VERSION__";  // replaced by the server (/sw.js) with the hash of the static files
var SHELL_CACHE = "fieldwalk-shell-" + VERSION;
var PAGE_CACHE = "fieldwalk-pages";
var OFFLINE_PAGE = "__OFFLINE_PAGE__";  // replaced by the server: "no network, page not kept" (sv and en)
var SHELL = [
  "css/app.css",
  "js/capture.js",
  "js/nearby.js",
  "js/photo-prep.js",
  "js/outbox.js",
  "js/walk-map.js",
  "vendor/leaflet/leaflet.js",
  "vendor/leaflet/leaflet.css",
  "vendor/exifr/lite.umd.js",
  "icons/icon-192.png"
].map(function (path) { return "/static/" + path + "?v=" + VERSION; }).concat(["/manifest.webmanifest"]);

function cacheControl(response) { return (response.headers.get("Cache-Control") || "").toLowerCase(); }

// Static files: anything the server lets a shared cache keep (not private, not no-store).
function shellMayKeep(response) {
  var cc = cacheControl(response);
  return response.ok && cc.indexOf("no-store") < 0 && cc.indexOf("private") < 0;
}

// Pages: only those the server opted in for offline use, and never one marked no-store.
function pageMayKeep(response) {
  return response.ok && response.headers.get("X-Fieldwalk-Offline") === "1" &&
    cacheControl(response).indexOf("no-store") < 0;
}

function dropPages() { return caches.delete(PAGE_CACHE); }

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return fetch(url).then(function (response) {
        if (shellMayKeep(response)) { return cache.put(url, response); }
      }).catch(function () { /* e.g. Leaflet not vendored */ });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Old versions' shells go; kept pages stay (a deploy mid-walk must not take the capture form away).
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL_CACHE && k !== PAGE_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    // Logging out: this person's pages leave the phone (the server's Clear-Site-Data also clears
    // everything where the browser supports it).
    event.waitUntil(dropPages());
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/api/") === 0 || url.pathname.indexOf("/photos/") === 0) { return; }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    // Static files: cache first (a versioned URL never changes). Without network, a page kept from an
    // older version gets today's file of the same name.
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        // Keep only this version's files (another version's worker keeps its own), and only while
        // this version's shell still exists: a newer worker may have deleted it meanwhile, and
        // opening it again would bring an old shell back.
        var version = url.searchParams.get("v");
        if (shellMayKeep(response) && (version === null || version === VERSION)) {
          var copy = response.clone();
          event.waitUntil(caches.has(SHELL_CACHE).then(function (exists) {
            if (exists) { return caches.open(SHELL_CACHE).then(function (c) { return c.put(request, copy); }); }
          }));
        }
        return response;
      }).catch(function (error) {
        return caches.open(SHELL_CACHE).then(function (c) { return c.match(request, { ignoreSearch: true }); })
          .then(function (old) { if (old) { return old; } throw error; });
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    // Pages: the network when there is one (fresh data, fresh CSRF token), else the kept copy.
    event.respondWith(fetch(request).then(function (response) {
      var copy = response.clone();
      event.waitUntil(caches.open(PAGE_CACHE).then(function (c) {
        if (pageMayKeep(copy)) { return c.put(request, copy); }
        return c.delete(request);  // no longer for offline use (another user, a closed walk …)
      }).then(function () {
        // The log-in page itself: nobody is logged in, so no kept page belongs to anyone here.
        if (url.pathname === "/login" && response.status === 200) { return dropPages(); }
      }));
      return response;
    }).catch(function () {
      return caches.open(PAGE_CACHE).then(function (c) { return c.match(request); }).then(function (hit) {
        return hit || new Response(OFFLINE_PAGE,
          { status: 503, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } });
      });
    }));
  }
});

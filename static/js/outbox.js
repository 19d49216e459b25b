// The outbox: findings saved on the phone while there is no network (IndexedDB; photos as the capture
// form prepared them with static/js/photo-prep.js, the same downscaled JPEGs it would have sent online),
// sent in order through the JSON API when the network returns, with retry and backoff. A finding
// leaves the outbox only after the server confirmed it and every photo; the server de-duplicates by
// the finding's uuid and each photo's bytes, so sending again after a dropped connection is safe.
// Each entry remembers who made it and is sent only in that person's session (a shared phone); an
// entry the server refuses for good waits for the user to copy its text or remove it.
(function () {
  "use strict";
  var DB_NAME = "fieldwalk", STORE = "outbox";
  var box = document.getElementById("outbox");
  var text = box ? box.dataset : {};

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* the app works without it */ });
  }
  if (!window.indexedDB || !box) { return; }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "uuid" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function entries() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (list) {
      return list.sort(function (a, b) { return a.queued - b.queued; });
    });
  }
  function put(entry) { return withStore("readwrite", function (s) { return s.put(entry); }); }
  function remove(uuid) { return withStore("readwrite", function (s) { return s.delete(uuid); }); }

  // --- sending ------------------------------------------------------------------------------
  var sending = false, delay = 2000, timer = null;

  function call(url, options) {
    options.credentials = "same-origin";
    options.headers = options.headers || {};
    options.headers.Accept = "application/json";
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { throw { status: response.status, body: body }; }
        return body;
      });
    });
  }
  function permanent(error) {  // the server refused this finding; trying again will not help
    return error && error.status >= 400 && error.status < 500 && [401, 408, 429].indexOf(error.status) < 0;
  }
  function sendOne(entry, token) {
    var headers = { "Content-Type": "application/json", "X-CSRFToken": token };
    return call("/api/v1/walks/" + entry.walk + "/findings",
      { method: "POST", headers: headers, body: JSON.stringify(entry.finding) }).then(function (finding) {
      return entry.photos.reduce(function (previous, blob, i) {
        return previous.then(function () {
          var data = new FormData();
          data.append("photo", blob, "foto-" + (i + 1) + ".jpg");
          return call("/api/v1/findings/" + finding.id + "/photos",
            { method: "POST", headers: { "X-CSRFToken": token }, body: data });
        });
      }, Promise.resolve());
    });
  }
  function flush() {
    if (sending) { return Promise.resolve(); }
    sending = true;
    clearTimeout(timer);
    return entries().then(function (list) {
      if (!list.length) { return; }
      return call("/api/v1/session", { method: "GET" }).then(function (session) {
        return list.reduce(function (previous, entry) {
          return previous.then(function () {
            if (entry.error || !mine(entry, session.user_id)) { return; }  // refused, or someone else's
            return sendOne(entry, session.csrf_token).then(function () { return remove(entry.uuid); }, function (error) {
              if (!permanent(error)) { throw error; }  // network gone: stop here, keep the order
              entry.error = (error.body && error.body.error && error.body.error.message) || String(error.status);
              return put(entry);
            });
          });
        }, Promise.resolve());
      });
    }).then(function () { delay = 2000; }, function () {
      timer = setTimeout(flush, delay);
      delay = Math.min(delay * 2, 60000);
    }).then(function () { sending = false; return render(); });
  }

  // --- whose entry ---------------------------------------------------------------------------
  // An entry saved before entries carried a user id belongs to whoever is logged in (as it always did).
  function mine(entry, userId) { return entry.user == null || String(entry.user) === String(userId); }

  // --- what the user sees -------------------------------------------------------------------
  var count = document.getElementById("outbox-count");
  var pending = document.getElementById("outbox-pending");
  var foreign = document.getElementById("outbox-foreign");
  var problems = document.getElementById("outbox-errors");
  var sendButton = document.getElementById("outbox-send");
  var unsent = 0, stored = 0;  // this user's entries still on the phone (for the log-out question); everyone's
  var fallbackShown = {};  // uuid → the copy box is open (kept open when the list is drawn again)

  function plural(n, one, many) { return (n === 1 ? one : many).replace("{n}", n); }
  function entryText(entry) {
    return [entry.finding.description, entry.finding.place].filter(function (t) { return t; }).join("\n");
  }
  function showFallback(entry, li) {  // no clipboard: the text in a box the user can select and copy
    fallbackShown[entry.uuid] = true;
    if (li.querySelector("textarea")) { return; }
    var label = document.createElement("label");
    label.htmlFor = "outbox-copy-" + entry.uuid;
    label.textContent = text.copyFallback;
    var area = document.createElement("textarea");
    area.id = "outbox-copy-" + entry.uuid;
    area.className = "outbox-copy";
    area.readOnly = true;
    area.rows = 3;
    area.value = entryText(entry);
    li.appendChild(label);
    li.appendChild(area);
    area.focus();
    area.select();
  }
  function refusedItem(entry) {
    var li = document.createElement("li");
    li.className = "outbox-refused";
    var what = document.createElement("p");
    what.textContent = (entry.finding.description || entry.finding.place || entry.uuid) + ": " + entry.error;
    var note = document.createElement("p");
    note.className = "meta";
    note.setAttribute("role", "status");
    var copy = document.createElement("button");
    copy.type = "button";
    copy.className = "button secondary";
    copy.textContent = text.copy;
    copy.addEventListener("click", function () {
      if (!navigator.clipboard || !navigator.clipboard.writeText) { showFallback(entry, li); return; }
      navigator.clipboard.writeText(entryText(entry)).then(function () { note.textContent = text.copied; },
        function () { showFallback(entry, li); });
    });
    var drop = document.createElement("button");
    drop.type = "button";
    drop.className = "button danger";
    drop.textContent = text.remove;
    drop.addEventListener("click", function () {
      if (!window.confirm(text.removeConfirm)) { return; }
      delete fallbackShown[entry.uuid];
      remove(entry.uuid).then(render);
    });
    li.appendChild(what);
    li.appendChild(copy);
    li.appendChild(drop);
    li.appendChild(note);
    if (fallbackShown[entry.uuid]) { showFallback(entry, li); }
    return li;
  }
  function render() {
    return entries().then(function (list) {
      var own = list.filter(function (e) { return mine(e, text.user); });
      var waiting = own.filter(function (e) { return !e.error; });
      var others = list.length - own.length;
      unsent = own.length;
      stored = list.length;
      box.hidden = list.length === 0;
      pending.hidden = sendButton.hidden = waiting.length === 0;
      count.textContent = plural(waiting.length, text.one, text.many);
      // Someone else's findings: only how many, never what they say.
      foreign.hidden = others === 0;
      foreign.textContent = plural(others, text.foreignOne, text.foreignMany);
      problems.textContent = "";
      own.filter(function (e) { return e.error; }).forEach(function (e) { problems.appendChild(refusedItem(e)); });
    });
  }
  document.getElementById("outbox-send").addEventListener("click", function () { delay = 2000; flush(); });
  window.addEventListener("online", function () { delay = 2000; flush(); });
  // Logging out with findings still on the phone: ask first. An account's findings wait for its next
  // log-in; a guest cannot log in again, so a guest who goes ahead has them removed. While the outbox
  // still holds findings (anyone's), the server is told to keep the device's storage (auth/views.py).
  var logout = document.getElementById("logout-form");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      if (unsent > 0 && !window.confirm(plural(unsent, text.logoutOne, text.logoutMany))) {
        event.preventDefault();
        return;
      }
      logout.elements.keep_outbox.value = stored > 0 ? "1" : "";
      if (unsent > 0 && text.guest) {
        event.preventDefault();
        entries().then(function (list) {
          var own = list.filter(function (e) { return mine(e, text.user); });
          logout.elements.keep_outbox.value = list.length > own.length ? "1" : "";
          return Promise.all(own.map(function (e) { return remove(e.uuid); }));
        }).then(function () { logout.submit(); }, function () { logout.submit(); });
      }
    });
  }

  window.fieldwalkOutbox = {
    // Keep a finding on the phone with its photos (Blobs, already prepared by the capture form).
    save: function (walk, finding, photos) {
      return put({ uuid: finding.uuid, walk: walk, finding: finding, photos: Array.prototype.slice.call(photos),
                   queued: Date.now(), user: text.user }).then(render);
    },
    flush: flush,
    count: function () { return entries().then(function (list) { return list.length; }); }
  };
  render().then(function () { if (navigator.onLine) { flush(); } });
})();

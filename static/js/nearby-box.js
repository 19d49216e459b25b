// "Redan rapporterat här?" (loaded by nearby.js once a category and a position are set): ask the server
// for findings and open action items of that category close by (GET /api/v1/walks/<id>/nearby) and offer
// "Jag håller med" on one of them instead of a new finding. Without network the box stays hidden and the
// form saves a new finding as usual; without JavaScript the box never shows.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  var box = document.getElementById("nearby");
  if (!form || !box || !window.fetch || window.fieldwalkNearby) { return; }
  var list = document.getElementById("nearby-list");
  var done = document.getElementById("nearby-done");
  var doneText = document.getElementById("nearby-done-text");
  var photoField = document.getElementById("agree-photo-field");
  var photoInput = document.getElementById("agree-photo");
  var photoStatus = document.getElementById("agree-photo-status");
  var agreedWith = null;  // the finding of the last agreement, for its optional photo
  var msg = box.dataset;
  var timer = null;
  var asked = "";  // the last query sent, so one position and category is asked once

  function field(name) { return form.elements[name]; }
  function chosenCategory() {
    var checked = form.querySelector('input[name="category"]:checked');
    return checked ? checked.value : "";
  }
  function hide() { box.hidden = true; list.textContent = ""; }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 300);  // GPS updates arrive in bursts
  }

  function lookUp() {
    var category = chosenCategory();
    var lat = parseFloat(field("lat").value), lon = parseFloat(field("lon").value);
    if (!category || isNaN(lat) || isNaN(lon) || navigator.onLine === false) { asked = ""; hide(); return; }
    var query = "category_id=" + encodeURIComponent(category) + "&lat=" + lat.toFixed(6) + "&lon=" + lon.toFixed(6);
    if (query === asked) { return; }
    asked = query;
    fetch(msg.url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (entries) { if (query === asked) { show(entries); } })
      .catch(function () { hide(); });  // offline or the server unreachable: quietly nothing
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function show(entries) {
    list.textContent = "";
    if (!entries.length) { box.hidden = true; return; }
    entries.forEach(function (entry) { list.appendChild(row(entry)); });
    box.hidden = false;
  }

  function row(entry) {
    var li = el("li", "nearby-item");
    if (entry.thumbnail_url) {
      var img = el("img", "thumb");
      img.src = entry.thumbnail_url;
      img.alt = msg.msgPhoto;
      img.width = 72; img.height = 72;
      li.appendChild(img);
    }
    var body = el("div", "nearby-body");
    var heading = el("h3", "", (entry.icon ? entry.icon + " " : "") + (entry.title || entry.category));
    body.appendChild(heading);
    var meta = el("p", "meta");
    meta.appendChild(el("span", "", entry.distance_label));
    meta.appendChild(document.createTextNode(" · " + entry.origin_label));
    if (entry.status_label) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", "badge status-" + entry.status, entry.status_label));
    }
    body.appendChild(meta);
    if (entry.place) { body.appendChild(el("p", "nearby-place", entry.place)); }
    if (entry.description) { body.appendChild(el("p", "nearby-text", entry.description)); }
    var count = el("p", "meta nearby-count", entry.agreements_label);
    body.appendChild(count);
    if (entry.own) {
      body.appendChild(el("p", "meta", msg.msgOwn));
    } else {
      var button = el("button", "button secondary agree", entry.agreed ? msg.msgAgreed : msg.msgAgree);
      button.type = "button";
      button.disabled = !!entry.agreed;
      button.setAttribute("aria-pressed", entry.agreed ? "true" : "false");
      button.addEventListener("click", function () { agree(entry, button, count); });
      body.appendChild(button);
    }
    li.appendChild(body);
    return li;
  }

  function agree(entry, button, count) {
    button.disabled = true;  // one tap is one request; the server also keeps one agreement per person
    fetch(msg.agreeUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": field("csrf_token") ? field("csrf_token").value : "" },
      body: JSON.stringify({ finding_id: entry.finding_id })
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (answer) {
      count.textContent = answer.agreements_label;
      agreedWith = entry.finding_id;
      readyForNext(answer.message);
    }).catch(function () {
      button.disabled = false;
      done.hidden = false;
      photoField.hidden = true;
      doneText.className = "flash flash-error";
      doneText.textContent = msg.msgFailed;
    });
  }

  // The agreement is the finding: the form is emptied for the next one (position and place stay, as after
  // saving offline), with a fresh id so the next save is a new finding.
  function readyForNext(message) {
    var checked = form.querySelector('input[name="category"]:checked');
    if (checked) { checked.checked = false; }
    if (field("description")) { field("description").value = ""; }
    var photos = document.getElementById("photos");
    if (photos && photos.value) { photos.value = ""; photos.dispatchEvent(new Event("change", { bubbles: true })); }
    if (field("uuid") && window.crypto && crypto.randomUUID) { field("uuid").value = crypto.randomUUID(); }
    asked = "";
    hide();
    doneText.className = "flash flash-success";
    doneText.textContent = message;
    photoField.hidden = false;
    photoStatus.textContent = "";
    photoInput.value = "";
    done.hidden = false;
    form.dispatchEvent(new CustomEvent("fieldwalk:agreed", { bubbles: true }));
    done.focus();
  }

  // The optional photo with the agreement: sent on its own, added to the agreed finding's photos.
  photoInput.addEventListener("change", function (event) {
    event.stopPropagation();  // not a change of the finding being logged
    var file = photoInput.files && photoInput.files[0];
    if (!file || agreedWith === null) { return; }
    var body = new FormData();
    body.append("photo", file, file.name || "photo.jpg");
    photoStatus.textContent = msg.msgPhotoSending;
    fetch(msg.photoUrl.replace(/\/0\/photo$/, "/" + agreedWith + "/photo"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { Accept: "application/json", "X-CSRFToken": field("csrf_token") ? field("csrf_token").value : "" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { throw { told: (answer.error && answer.error.message) || msg.msgFailed }; }
        photoField.hidden = true;
        photoStatus.textContent = "";
        doneText.textContent += " " + msg.msgPhotoSaved;
      });
    }).catch(function (error) {
      photoStatus.textContent = (error && error.told) || msg.msgFailed;  // the server's words, or ours
    });
  });

  form.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (name === "category" || name === "lat" || name === "lon") {
      if (name === "category") { done.hidden = true; }
      schedule();
    }
  });
  form.addEventListener("input", function (event) {
    var name = event.target && event.target.name;
    if (name === "lat" || name === "lon") { schedule(); }
  });
  form.addEventListener("fieldwalk:position", schedule);
  window.addEventListener("offline", hide);
  window.fieldwalkNearby = { schedule: schedule };
  schedule();  // loaded because the form has both now
})();

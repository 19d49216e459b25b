// The handläggare select offers only the people of the chosen responsible party (the server checks it too).
(function () {
  "use strict";
  // The action item form's fields, with or without a prefix (the meeting's triage step uses "item-").
  var party = document.querySelector("select[id$='responsible_party']");
  var person = document.querySelector("select[id$='assignee']");
  if (!party || !person) { return; }
  function update() {
    var chosen = party.value;
    Array.prototype.forEach.call(person.querySelectorAll("optgroup"), function (group) {
      var options = group.querySelectorAll("option[data-party]");
      var mine = options.length > 0 && options[0].getAttribute("data-party") === chosen;
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var selected = person.options[person.selectedIndex];
    if (selected && selected.getAttribute("data-party") && selected.getAttribute("data-party") !== chosen) {
      person.value = "0";
    }
  }
  party.addEventListener("change", update);
  update();
})();

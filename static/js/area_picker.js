// The level-by-level area picker of the account form: one select per level, filled from the server as the
// administrator goes down the tree; "添加所选区划" adds the deepest chosen area as a checked "areas" box.
// Only levels the chosen role may hold can be added (the server checks again); a role without areas hides
// the browsing selects.
(function () {
  "use strict";
  var picker = document.getElementById("area-picker");
  if (!picker) { return; }
  var text = JSON.parse(document.getElementById("area-picker-text").textContent);
  var levels = document.getElementById("picker-levels");
  var chosen = document.getElementById("chosen-areas");
  var none = document.getElementById("no-areas");
  var addButton = document.getElementById("area-add");
  var url = picker.getAttribute("data-children-url");
  var role = document.getElementById("id_role");
  var hint = document.getElementById("area-level-hint");

  function allowedLevels() {
    var levels = role && text.allowed[role.value];
    return levels || [];
  }

  function selects() { return levels.querySelectorAll("select"); }

  function deepest() {
    var all = selects();
    for (var i = all.length - 1; i >= 0; i--) {
      if (all[i].value) { return all[i]; }
    }
    return null;
  }

  function refreshButton() {
    var select = deepest();
    var allowed = allowedLevels();
    levels.hidden = role && role.value && allowed.length === 0;
    var fits = select !== null && allowed.indexOf(Number(select.getAttribute("data-level"))) >= 0;
    addButton.hidden = !fits;
    hint.hidden = select === null || fits || allowed.length === 0;
  }


  function addLevel(parentCode, depth) {
    var query = parentCode ? "?parent=" + encodeURIComponent(parentCode) : "";
    fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (!data.areas.length) { return; }
        var level = String(data.areas[0].level);
        var id = "area-pick-" + depth;
        var wrap = document.createElement("div");
        wrap.className = "field";
        var label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = text.levels[level] || level;
        var select = document.createElement("select");
        select.id = id;
        select.setAttribute("data-depth", String(depth));
        select.setAttribute("data-level", level);
        var blank = document.createElement("option");
        blank.value = "";
        blank.textContent = text.choose;
        select.appendChild(blank);
        data.areas.forEach(function (area) {
          var option = document.createElement("option");
          option.value = area.code;
          option.textContent = area.name + "（" + area.code + "）";
          select.appendChild(option);
        });
        select.addEventListener("change", function () {
          Array.prototype.forEach.call(selects(), function (other) {
            if (Number(other.getAttribute("data-depth")) > depth) { other.parentNode.remove(); }
          });
          if (select.value) { addLevel(select.value, depth + 1); }
          refreshButton();
        });
        wrap.appendChild(label);
        wrap.appendChild(select);
        levels.appendChild(wrap);
      });
  }

  addButton.addEventListener("click", function () {
    var select = deepest();
    if (!select) { return; }
    var code = select.value;
    if (chosen.querySelector('input[value="' + code + '"]')) { return; }
    var item = document.createElement("li");
    var label = document.createElement("label");
    label.className = "checkbox";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "areas";
    box.value = code;
    box.checked = true;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + select.options[select.selectedIndex].textContent));
    item.appendChild(label);
    chosen.appendChild(item);
    none.hidden = true;
  });

  if (role) { role.addEventListener("change", refreshButton); }
  hint.textContent = text.not_allowed;
  addLevel("", 1);
}());

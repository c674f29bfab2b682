/* The follow-up form, live (templates/followup/followup_form.html).
 *
 * - Shows the sections of the chosen outcome only, and disables the others so their inputs are not sent
 *   (a not-reached attempt carries no clinical fields). Dependent fields ("data-show-if") likewise.
 * - Repeats the suggestion of domain.md §7 and the next-date rule while the doctor fills the form, and
 *   prefills the next date until the doctor sets one. The numbers come from followup/rules.py through the
 *   page's JSON config; the server recomputes everything and its answer is the one stored.
 * - Asks for the self-harm confirmation when self-harm or a suicide attempt is recorded with a risk below 4.
 * - Medication rows: the dosing shape shows its own dose fields; rows can be added and removed.
 *
 * Without JavaScript the page still works: every field is shown and the server validates.
 */
(function () {
  "use strict";

  var form = document.getElementById("followup-form");
  var configNode = document.getElementById("followup-config");
  if (!form || !configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  config.reached = config.reached || [];
  var R = config.rules;
  var text = config.text;
  var REACHED = "REACHED";
  var SOCIAL = ["social_selfcare", "social_housework", "social_work", "social_learning", "social_contact"];

  // --- reading the form ---------------------------------------------------------------------------------

  function inputs(name) {
    return Array.prototype.slice.call(form.querySelectorAll('[name="' + name + '"]'));
  }

  /* The values a field currently has, as strings: radios and checkboxes their checked values. */
  function values(name) {
    return inputs(name)
      .filter(function (el) {
        return !el.disabled && ((el.type !== "radio" && el.type !== "checkbox") || el.checked);
      })
      .map(function (el) {
        return el.type === "checkbox" && el.value === "on" ? "on" : el.value;
      })
      .filter(function (value) {
        return value !== "";
      });
  }

  function first(name) {
    var found = values(name);
    return found.length ? found[0] : "";
  }

  function integer(name) {
    var parsed = parseInt(first(name), 10);
    return isNaN(parsed) ? 0 : parsed;
  }

  function flag(name) {
    return values(name).length > 0;
  }

  // --- calendar arithmetic (UTC dates, so no time zone can shift a day) --------------------------------

  function parseDate(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match) {
      return null;
    }
    var date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    return isNaN(date.getTime()) ? null : date;
  }

  function formatDate(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(date, days) {
    return new Date(date.getTime() + days * 86400000);
  }

  /* Calendar months, clamped to the month's end: Jan 31 + 1 month = Feb 28/29 (casemgmt.dates.add_months). */
  function addMonths(date, months) {
    var index = date.getUTCMonth() + months;
    var year = date.getUTCFullYear() + Math.floor(index / 12);
    var month = ((index % 12) + 12) % 12;
    var lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    return new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay)));
  }

  // --- the rules (followup/rules.py) -------------------------------------------------------------------

  /* rules.suggest_classification: unstable wins over basically stable, which wins over stable; a risk level or
     insight not assessed (a patient in hospital) proves nothing, and neither does a blank sleep, diet or social
     item, so the rules leave that call to the doctor and name the answers they still need. */
  function suggest(a) {
    var unstable = present([
      ["risk_3_5", a.risk !== null && a.risk >= R.unstableRiskFrom],
      ["psychotic_symptoms", a.psychotic],
      ["insight_absent", a.insight === R.insightAbsent],
      ["severe_adverse_reaction", a.severeAdverse],
      ["severe_physical_illness", a.severePhysical]
    ]);
    if (unstable.length) {
      return { classification: R.unstable, reasons: unstable, doctorDecides: false, needs: [] };
    }
    var basic = present([
      ["risk_1_2", a.risk !== null && a.risk >= 1],
      ["symptoms", a.symptoms.length > 0],
      ["social_poor", a.social.indexOf(R.poor) !== -1]
    ]);
    if (basic.length) {
      return { classification: R.basic, reasons: basic, doctorDecides: false, needs: [] };
    }
    var unanswered = a.unanswered || [];
    var undecided = present([
      ["risk_unknown", a.risk === null],
      ["insight_unknown", a.insight === null],
      ["insight_partial", a.insight === R.insightPartial],
      ["items_unanswered", unanswered.length > 0]
    ]);
    if (undecided.length) {
      return { classification: R.basic, reasons: undecided, doctorDecides: true, needs: unanswered.slice() };
    }
    return { classification: R.stable, reasons: [], doctorDecides: false, needs: [] };
  }

  function present(checks) {
    return checks.filter(function (pair) { return pair[1]; }).map(function (pair) { return pair[0]; });
  }

  /* rules.previous_reached_classification: the class of the latest reached follow-up on or before the visit. */
  function previousClassification(visit) {
    var found = null;
    config.reached.forEach(function (entry) {
      var day = parseDate(entry[0]);
      if (day && day.getTime() <= visit.getTime()) {
        found = entry[1];
      }
    });
    return found;
  }

  function nextDate(classification, visit, previous) {
    if (classification === R.unstable) {
      return addDays(visit, R.unstableDays);
    }
    if (classification === R.basic) {
      return previous === R.basic ? addMonths(visit, R.basicRepeatMonths) : addDays(visit, R.basicDays);
    }
    return addMonths(visit, R.stableMonths);
  }

  /* The rules, for the parity test that checks them against followup/rules.py case by case. */
  window.followupRules = {
    suggest: suggest,
    nextDate: function (classification, visitIso, previous) {
      return formatDate(nextDate(classification, parseDate(visitIso), previous));
    }
  };

  function needsSelfHarmConfirmation() {
    var risk = first("risk_level");
    var harmed = integer("self_harm") > 0 || integer("suicide_attempt") > 0;
    return harmed && (risk === "" || parseInt(risk, 10) < R.selfHarmRiskLevel);
  }

  function optionalInteger(name) {
    return first(name) === "" ? null : integer(name);
  }

  function assessment() {
    return {
      risk: optionalInteger("risk_level"),
      symptoms: values("symptoms"),
      psychotic: flag("obvious_psychotic_symptoms"),
      insight: optionalInteger("insight"),
      social: SOCIAL.map(function (name) { return integer(name); }).filter(function (v) { return v > 0; }),
      severeAdverse: flag("adverse_reaction_severe"),
      severePhysical: flag("severe_physical_illness"),
      unanswered: config.assessedItems.filter(function (name) { return first(name) === ""; })
    };
  }

  // --- showing and hiding --------------------------------------------------------------------------------

  /* Hidden parts are disabled too, so the browser does not send what the doctor cannot see. */
  function toggle(element, show) {
    element.hidden = !show;
    if (element.tagName === "FIELDSET") {
      element.disabled = !show;
    } else {
      Array.prototype.forEach.call(element.querySelectorAll("input, select, textarea"), function (el) {
        el.disabled = !show;
      });
    }
  }

  function showOutcome() {
    var outcome = first("outcome");
    Array.prototype.forEach.call(form.querySelectorAll("[data-outcome]"), function (section) {
      toggle(section, section.getAttribute("data-outcome") === outcome);
    });
    return outcome;
  }

  function showDependents() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-if]"), function (field) {
      var rule = field.getAttribute("data-show-if").split("=");
      toggle(field, values(rule[0]).indexOf(rule[1]) !== -1);
    });
    var confirm = form.querySelector("[data-confirm-self-harm]");
    if (confirm) {
      toggle(confirm, needsSelfHarmConfirmation());
    }
  }

  // --- the suggestion and the next date ----------------------------------------------------------------

  var nextInput = form.elements.next_date;
  var laterReason = form.querySelector("[data-later-reason]");
  var box = document.getElementById("suggestion");
  var nextDateSetByDoctor = false;

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content) {
      node.textContent = content;
    }
    return node;
  }

  var rendered = "";

  /* Redraw only when something shown changes: a redraw between the press and the release of a tap (a text
     field's change event fires on blur) would swallow the tap on 采用建议. */
  function renderSuggestion(suggestion, chosen, proposed, later) {
    var signature = JSON.stringify([suggestion, chosen, proposed ? formatDate(proposed) : "", later]);
    if (signature === rendered) {
      return;
    }
    rendered = signature;
    box.textContent = "";
    var title = element("p", "title");
    title.appendChild(document.createTextNode(text.suggested + "："));
    title.appendChild(element("span", "badge " + ["", "unstable", "basic", "stable"][suggestion.classification],
      config.classifications[String(suggestion.classification)]));
    box.appendChild(title);
    var reasons = suggestion.reasons.map(function (code) { return config.reasons[code] || code; });
    box.appendChild(element("p", "reasons", text.because + "：" + (reasons.length ? reasons.join("、") : text.noReason)));
    if (suggestion.needs && suggestion.needs.length) {
      var needs = suggestion.needs.map(function (name) { return config.itemLabels[name] || name; });
      box.appendChild(element("p", "needs", text.needs + "：" + needs.join("、")));
    }
    if (chosen !== suggestion.classification) {
      if (chosen) {
        box.appendChild(element("p", "differs", text.differs));
      }
      var adopt = element("button", "", text.adopt);
      adopt.type = "button";
      adopt.setAttribute("data-adopt", String(suggestion.classification));
      box.appendChild(adopt);
    }
    if (proposed) {
      box.appendChild(element("p", "next", text.nextDate + "：" + formatDate(proposed)));
    }
    if (later) {
      box.appendChild(element("p", "differs later", text.later));
    }
  }

  function refreshSchedule(outcome) {
    if (outcome !== REACHED || !box) {
      return;
    }
    var suggestion = suggest(assessment());
    var chosen = first("classification") === "" ? 0 : integer("classification");
    var visit = parseDate(first("date"));
    var proposed = visit ? nextDate(chosen || suggestion.classification, visit, previousClassification(visit)) : null;
    if (proposed && nextInput && !nextDateSetByDoctor) {
      nextInput.value = formatDate(proposed);
    }
    var entered = nextInput ? parseDate(nextInput.value) : null;
    var later = Boolean(proposed && entered && entered.getTime() > proposed.getTime());
    renderSuggestion(suggestion, chosen, proposed, later);
    if (laterReason) {
      toggle(laterReason, later || inputs("next_date_reason").some(function (el) { return el.value; }));
    }
  }

  function refresh() {
    var outcome = showOutcome();
    showDependents();
    refreshSchedule(outcome);
  }

  // --- medication rows ---------------------------------------------------------------------------------

  var rows = document.getElementById("med-rows");
  var template = document.getElementById("med-empty");
  var total = form.querySelector('input[name$="-TOTAL_FORMS"]');
  var maximum = form.querySelector('input[name$="-MAX_NUM_FORMS"]');
  var addButton = document.getElementById("add-med");

  function shapeOf(row) {
    var select = row.querySelector('select[name$="-shape"]');
    return select ? select.value : "";
  }

  function showShape(row) {
    var shape = shapeOf(row);
    Array.prototype.forEach.call(row.querySelectorAll("[data-shape]"), function (group) {
      toggle(group, group.getAttribute("data-shape") === shape);
    });
  }

  function dosesEmpty(row) {
    return Array.prototype.every.call(row.querySelectorAll("[data-shape] input"), function (el) {
      return el.value === "";
    });
  }

  function setUpRow(row) {
    showShape(row);
    var remove = row.querySelector("[data-remove-row]");
    if (remove) {
      remove.hidden = false;
    }
  }

  function onRowChange(event) {
    var row = event.target.closest("[data-med-row]");
    if (!row) {
      return;
    }
    if (/-drug$/.test(event.target.name) && config.longActing.indexOf(event.target.value.trim()) !== -1) {
      var select = row.querySelector('select[name$="-shape"]');
      if (select && select.value !== "depot" && dosesEmpty(row)) {
        select.value = "depot";
      }
    }
    showShape(row);
  }

  /* A removed row is emptied and hidden: the server skips blank rows, so the numbering stays intact. */
  function removeRow(row) {
    Array.prototype.forEach.call(row.querySelectorAll("input"), function (el) {
      el.value = "";
    });
    var select = row.querySelector('select[name$="-shape"]');
    if (select) {
      select.value = select.querySelector("option") ? select.querySelector("option").value : "";
    }
    row.hidden = true;
  }

  function rowBlank(row) {
    var drug = row.querySelector('input[name$="-drug"]');
    return (!drug || drug.value.trim() === "") && dosesEmpty(row) && !row.querySelector(".errorlist, .row-error, .has-error");
  }

  /* The spare blank rows the server renders (for adding a drug without JavaScript) wait behind "添加药物"
     while a regimen is already listed; "添加药物" shows a spare row before it makes a new one. */
  function foldSpareRows() {
    var all = Array.prototype.slice.call(rows.querySelectorAll("[data-med-row]"));
    var filled = all.filter(function (row) { return !rowBlank(row); });
    if (filled.length) {
      all.forEach(function (row) {
        if (rowBlank(row)) {
          row.hidden = true;
          row.setAttribute("data-spare", "");
        }
      });
    }
  }

  function addRow() {
    var spare = rows.querySelector("[data-med-row][data-spare]");
    if (spare) {
      spare.removeAttribute("data-spare");
      spare.hidden = false;
      var spareDrug = spare.querySelector('input[name$="-drug"]');
      if (spareDrug) {
        spareDrug.focus();
      }
      return;
    }
    var index = parseInt(total.value, 10);
    if (maximum && index >= parseInt(maximum.value, 10)) {
      return;
    }
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.querySelector("[data-med-row]");
    rows.appendChild(row);
    total.value = String(index + 1);
    setUpRow(row);
    var drug = row.querySelector('input[name$="-drug"]');
    if (drug) {
      drug.focus();
    }
  }

  if (rows && template && total) {
    Array.prototype.forEach.call(rows.querySelectorAll("[data-med-row]"), setUpRow);
    if (addButton) {
      foldSpareRows();
    }
    rows.addEventListener("change", onRowChange);
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (button) {
        removeRow(button.closest("[data-med-row]"));
      }
    });
    if (addButton) {
      addButton.hidden = false;
      addButton.addEventListener("click", addRow);
    }
  }

  // --- wiring ------------------------------------------------------------------------------------------

  if (nextInput && nextInput.value) {
    nextDateSetByDoctor = true; // a re-shown form keeps what was entered
  }
  form.addEventListener("input", function (event) {
    if (event.target === nextInput) {
      nextDateSetByDoctor = nextInput.value !== "";
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target === nextInput) {
      nextDateSetByDoctor = nextInput.value !== "";
    }
    refresh();
  });
  form.addEventListener("input", refresh);
  if (box) {
    box.addEventListener("click", function (event) {
      var adopt = event.target.closest("[data-adopt]");
      if (!adopt) {
        return;
      }
      inputs("classification").forEach(function (el) {
        el.checked = el.value === adopt.getAttribute("data-adopt");
      });
      refresh();
    });
  }
  // "各项正常": one tap answers the sleep, diet and social items 良好 and folds them into one line (the phone
  // form is long); "逐项修改" unfolds them, each still changeable. The folded radios are still sent.
  Array.prototype.forEach.call(form.querySelectorAll("[data-all-normal]"), function (button) {
    var group = button.parentNode;
    var items = group.querySelector(".assessed");
    var summary = group.querySelector("[data-all-normal-summary]");
    var edit = group.querySelector("[data-all-normal-edit]");
    function fold(folded) {
      button.hidden = folded;
      if (items && summary) {
        items.hidden = folded;
        summary.hidden = !folded;
      }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      config.assessedItems.forEach(function (name) {
        inputs(name).forEach(function (el) {
          el.checked = el.value === String(config.normalGrade);
        });
      });
      fold(true);
      refresh();
      form.dispatchEvent(new Event("change", { bubbles: true }));
    });
    if (edit) {
      edit.addEventListener("click", function () {
        fold(false);
        var firstInput = items ? items.querySelector("input") : null;
        if (firstInput) {
          firstInput.focus();
        }
      });
    }
  });

  form.addEventListener("submit", function () {
    var button = document.getElementById("save-followup");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0); // a second tap does nothing
    }
  });
  refresh();
})();

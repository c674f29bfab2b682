/* Answers typed into a form survive a failed submit (server error, dropped connection, expired session).
 *
 * A form marked data-draft="KEY" keeps its answers in sessionStorage under "draft:KEY" as the doctor types:
 * only that browser tab's session holds them (closing it forgets them), and only the form's own fields — the
 * follow-up form has no identity field, and inputs marked data-no-draft are never kept. When the page is
 * opened again with a different submission key, the answers and the earlier submission key come back, so a
 * retry of a submit that did reach the server is still saved once (the key is idempotent). The page the
 * server shows after a confirmed save carries data-clear-draft="KEY" on its message, and the draft is removed.
 */
(function () {
  "use strict";

  var PREFIX = "draft:";
  var store = null;
  try {
    store = window.sessionStorage;
    store.setItem(PREFIX + "probe", "1");
    store.removeItem(PREFIX + "probe");
  } catch (e) {
    return; // storage unavailable (private mode, disabled): the form still works, nothing is kept
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-clear-draft]"), function (node) {
    store.removeItem(PREFIX + node.getAttribute("data-clear-draft"));
  });

  var form = document.querySelector("form[data-draft]");
  if (!form) {
    return;
  }
  var key = PREFIX + form.getAttribute("data-draft");
  var submission = form.elements.submission_key;
  var SKIP = { csrfmiddlewaretoken: true, submission_key: true };

  function kept(el) {
    return el.name && !SKIP[el.name] && !el.hasAttribute("data-no-draft") && el.type !== "file" &&
      el.type !== "submit" && el.type !== "button";
  }

  function snapshot() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) {
        return;
      }
      if (el.type === "radio" || el.type === "checkbox") {
        fields.push([el.name, el.value, el.checked]);
      } else {
        fields.push([el.name, el.value, null]);
      }
    });
    return { submission: submission ? submission.value : "", fields: fields };
  }

  function save() {
    store.setItem(key, JSON.stringify(snapshot()));
  }

  function restore(draft) {
    var total = draft.fields.filter(function (f) { return /-TOTAL_FORMS$/.test(f[0]); })[0];
    if (total) {
      var adder = document.getElementById("add-med");
      var current = form.querySelector('input[name="' + total[0] + '"]');
      while (adder && current && parseInt(current.value, 10) < parseInt(total[1], 10)) {
        var before = current.value;
        adder.click();
        if (current.value === before) {
          break;
        }
      }
    }
    var seen = {};
    draft.fields.forEach(function (f) {
      var name = f[0];
      var matches = form.querySelectorAll('[name="' + name + '"]');
      if (f[2] === null) {
        var index = seen[name] || 0;
        seen[name] = index + 1;
        var el = matches[index];
        if (el && el.type !== "hidden") {
          el.value = f[1];
        }
      } else {
        Array.prototype.forEach.call(matches, function (el) {
          if (el.value === f[1]) {
            el.checked = f[2];
          }
        });
      }
    });
    if (submission && draft.submission) {
      submission.value = draft.submission; // a retry of a submit that did arrive is saved once
    }
    form.dispatchEvent(new Event("change", { bubbles: true }));
    var notice = document.getElementById("draft-restored");
    if (notice) {
      notice.hidden = false;
      var discard = notice.querySelector("[data-discard-draft]");
      if (discard) {
        discard.addEventListener("click", function () {
          store.removeItem(key);
          window.location.reload();
        });
      }
    }
  }

  var stored = store.getItem(key);
  if (stored) {
    var draft = null;
    try {
      draft = JSON.parse(stored);
    } catch (e) {
      store.removeItem(key);
    }
    // The same submission key means the server re-showed this very submission (with its errors): the answers
    // are already on the page.
    if (draft && draft.fields && (!submission || draft.submission !== submission.value)) {
      restore(draft);
    }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", save);
})();

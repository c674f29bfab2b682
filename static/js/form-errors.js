// A page re-shown with form errors (the case page, a plan, a password...): bring the first marked field into view
// and put the cursor there, or, for an error of the whole form, its summary. Without this a long page reloads at
// the top with the message far below. Every page loads it (base.html), the follow-up form included.
(function () {
  "use strict";
  var main = document.querySelector("main");
  if (!main) {
    return;
  }
  var first = main.querySelector(".has-error, .row-error") || main.querySelector(".errorbox");
  if (!first) {
    return;
  }
  first.scrollIntoView({ block: "center" });
  var target = first.querySelector("input:not([type=hidden]), select, textarea");
  if (!target) {
    first.setAttribute("tabindex", "-1");
    target = first;
  }
  target.focus({ preventScroll: true });
})();

/* Every page: a select marked data-submit-on-change submits its form when changed (the language switch).
 * Without JavaScript the form's own button (in <noscript>) submits. No inline handlers: the
 * Content-Security-Policy allows scripts from this site's files only. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("select[data-submit-on-change]"), function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
})();

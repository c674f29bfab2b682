/* The report page's pickers (templates/metrics/report.html).
 *
 * - Shows only the quarter select for a quarter, the month select for a month or year-to-date report.
 * - Choosing another area submits the form at once (moving one level up or down the tree).
 *
 * Without JavaScript every select is shown, the server ignores the ones the period kind does not use, and the
 * 查询 button submits.
 */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form) {
    return;
  }
  var kind = form.querySelector("[name=period_kind]");

  function showPeriodFields() {
    var fields = form.querySelectorAll("[data-period-kinds]");
    for (var i = 0; i < fields.length; i++) {
      var kinds = fields[i].getAttribute("data-period-kinds").split(" ");
      var shown = kinds.indexOf(kind.value) !== -1;
      fields[i].hidden = !shown;
      var select = fields[i].querySelector("select");
      if (select) {
        select.disabled = !shown;
      }
    }
  }

  if (kind) {
    kind.addEventListener("change", showPeriodFields);
    showPeriodFields();
  }
  var area = form.querySelector("[data-autosubmit]");
  if (area) {
    area.addEventListener("change", function () {
      form.submit();
    });
  }
})();

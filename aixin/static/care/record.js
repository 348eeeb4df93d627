// Care-record form: show the festival picker only while the festival rule is ticked.
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("[data-show-if-rule]").forEach(function (box) {
      var form = box.closest("form");
      var code = box.getAttribute("data-show-if-rule");
      if (!form || !code) { return; }
      var input = form.querySelector('input[name="rules"][value="' + code + '"]');
      if (!input) { box.hidden = true; return; }
      function sync() { box.hidden = !input.checked; }
      input.addEventListener("change", sync);
      form.addEventListener("change", sync);
      sync();
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();

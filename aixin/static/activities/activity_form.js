// Group-activity participants: search the list of a place's children, "全选" ticks every
// child currently shown, and a running count of the ticked ones. Event delegation, so the list
// keeps working after htmx replaces it when the place changes.
(function () {
  "use strict";

  function items(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[data-participant]"));
  }

  function shown(box) {
    return items(box).filter(function (li) { return !li.hidden; });
  }

  function refresh(box) {
    var boxes = items(box).map(function (li) { return li.querySelector('input[type="checkbox"]'); });
    var checked = boxes.filter(function (cb) { return cb && cb.checked; }).length;
    var count = box.querySelector("[data-selected-count]");
    if (count) { count.textContent = String(checked); }
    var all = box.querySelector("[data-select-all]");
    if (all) {
      var visible = shown(box).map(function (li) { return li.querySelector('input[type="checkbox"]'); });
      var ticked = visible.filter(function (cb) { return cb && cb.checked; }).length;
      all.checked = visible.length > 0 && ticked === visible.length;
      all.indeterminate = ticked > 0 && ticked < visible.length;
    }
  }

  document.addEventListener("input", function (event) {
    var search = event.target.closest && event.target.closest("[data-participant-search]");
    if (!search) { return; }
    var box = search.closest("[data-participants]");
    var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var any = false;
    items(box).forEach(function (li) {
      var text = (li.getAttribute("data-search") || "").toLowerCase();
      li.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
      any = any || !li.hidden;
    });
    var none = box.querySelector("[data-no-match]");
    if (none) { none.hidden = any; }
    refresh(box);
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    var box = target.closest && target.closest("[data-participants]");
    if (!box) { return; }
    if (target.hasAttribute("data-select-all")) {
      shown(box).forEach(function (li) {
        var cb = li.querySelector('input[type="checkbox"]');
        if (cb) { cb.checked = target.checked; }
      });
    }
    refresh(box);
  });

  // The place select may be submitted with Enter; keep the search box from submitting the form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-participant-search]")) {
      event.preventDefault();
    }
  });

  function init() {
    document.querySelectorAll("[data-participants]").forEach(refresh);
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSwap", init);
})();

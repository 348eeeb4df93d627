// Aixin front-end helpers. No inline scripts anywhere: pages mark elements with data-*
// attributes and this file wires them up.
(function () {
  "use strict";
  // htmx requests carry the CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });

  // Care-record drafts: a form with data-draft-key keeps what was typed in localStorage until
  // it is submitted, so an interrupted loving mother finds her record where she left it.
  function initDrafts() {
    document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
      var key = "aixin-draft:" + form.getAttribute("data-draft-key");
      var saved = null;
      try { saved = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
      if (saved) {
        Object.keys(saved).forEach(function (name) {
          var value = saved[name];
          form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
            if (el.type === "checkbox" || el.type === "radio") { el.checked = value.indexOf(el.value) !== -1; }
            else if (el.type !== "file" && el.type !== "hidden") { el.value = value[0] || ""; }
          });
        });
        var note = form.querySelector("[data-draft-note]");
        if (note) { note.hidden = false; }
      }
      function save() {
        var data = {};
        form.querySelectorAll("input, select, textarea").forEach(function (el) {
          if (!el.name || el.type === "file" || el.type === "hidden" || el.name === "csrfmiddlewaretoken") { return; }
          data[el.name] = data[el.name] || [];
          if ((el.type === "checkbox" || el.type === "radio")) { if (el.checked) { data[el.name].push(el.value); } }
          else { data[el.name].push(el.value); }
        });
        try { window.localStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full: keep going */ }
      }
      form.addEventListener("input", save);
      form.addEventListener("change", save);
      form.addEventListener("submit", function () { try { window.localStorage.removeItem(key); } catch (e) {} });
    });
    // A page that confirms a saved record clears that draft too.
    document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      try { window.localStorage.removeItem("aixin-draft:" + el.getAttribute("data-clear-draft")); } catch (e) {}
    });
  }

  // A bar chart whose CSS sets --chart-row (a height per bar) grows with its categories, so that
  // forty district names stay as readable as four towns. Set through the CSSOM, which the
  // Content-Security-Policy allows (it refuses style="" attributes).
  function fitRows(el, option) {
    var row = parseFloat(window.getComputedStyle(el).getPropertyValue("--chart-row"));
    var base = option.baseOption || option;
    var axis = base.yAxis;
    if (!row || !axis || axis.type !== "category" || !axis.data) { return; }
    var grid = base.grid || {};
    // Room for the bars, the grid's margins and the value axis' labels below them.
    el.style.height = Math.round(axis.data.length * row + (grid.top || 0) + (grid.bottom || 0) + 28) + "px";
  }

  // Charts: an element with data-chart holds the id of a JSON script element with an ECharts option.
  function initCharts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { return; }
      var option = JSON.parse(source.textContent);
      // Tooltips drawn on the canvas: the HTML ones carry style="" attributes, which the
      // Content-Security-Policy (style-src 'self') refuses.
      // (An option with media queries keeps its tooltip in baseOption.)
      var base = option.baseOption || option;
      if (base.tooltip) { base.tooltip.renderMode = "richText"; }
      fitRows(el, option);
      var chart = window.echarts.init(el);
      chart.setOption(option);
      window.addEventListener("resize", function () { fitRows(el, option); chart.resize(); });
    });
  }

  // The phone header's 账户 menu (a <details>, usable without this) also closes on a tap
  // elsewhere or on Escape, as a menu does.
  function closeMenus(except) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (menu !== except) { menu.open = false; }
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.account-menu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeMenus(null); }
  });

  document.addEventListener("DOMContentLoaded", function () { initDrafts(); initCharts(); });
})();

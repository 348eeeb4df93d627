// Dashboard drill-down: clicking a bar of a chart marked data-drill opens that sub-region's
// dashboard. The codes come from a json_script element (no inline scripts). Runs after app.js,
// which has already initialised the charts on DOMContentLoaded.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-drill]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      var source = document.getElementById(el.getAttribute("data-drill"));
      if (!chart || !source) { return; }
      var codes = JSON.parse(source.textContent);
      chart.on("click", function (params) {
        var code = codes[params.dataIndex];
        if (!code) { return; }
        var url = new URL(window.location.href);
        url.searchParams.set("region", code);
        window.location.assign(url.toString());
      });
    });
  });
})();

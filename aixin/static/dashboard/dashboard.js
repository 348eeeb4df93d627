// Dashboard drill-down: clicking a bar of a chart marked data-drill, or its name on the category
// axis, opens that sub-region's dashboard. The codes come from a json_script element (no inline
// scripts), in the order of the chart's bars. Runs after app.js, which has already initialised
// the charts on DOMContentLoaded.
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
        var index = params.dataIndex;
        if (params.componentType === "yAxis" || params.componentType === "xAxis") {
          var axis = chart.getOption()[params.componentType][params.componentIndex || 0];
          index = axis && axis.data ? axis.data.indexOf(params.value) : -1;
        }
        var code = codes[index];
        if (!code) { return; }
        var url = new URL(window.location.href);
        url.searchParams.set("region", code);
        window.location.assign(url.toString());
      });
    });
  });
})();

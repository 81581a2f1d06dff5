// Draws every chart of the page from its JSON spec. The specs sit in
// <script type="application/json"> elements (data, never executed); this file is the only
// script besides Plotly, both served by this server, so the Content-Security-Policy can
// forbid inline script entirely.
"use strict";
(function () {
  function draw() {
    var charts = document.querySelectorAll("div.chart[data-spec]");
    charts.forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-spec"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      var layout = Object.assign({ autosize: true, font: { size: 12 } }, spec.layout || {});
      window.Plotly.newPlot(el, spec.data || [], layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["sendDataToCloud"],
      }).then(function () {
        el.setAttribute("data-rendered", "1");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

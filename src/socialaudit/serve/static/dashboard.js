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
      // Titles start at the left and the toolbar stands upright in the right margin, so
      // the two never overlap, whatever the chart's width.
      layout.title = Object.assign({ x: 0, xref: "paper", xanchor: "left" }, layout.title || {});
      layout.modebar = Object.assign({ orientation: "v" }, layout.modebar || {});
      var margin = Object.assign({}, layout.margin || {});
      margin.r = Math.max(margin.r || 0, 40);
      layout.margin = margin;
      window.Plotly.newPlot(el, spec.data || [], layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["sendDataToCloud"],
      }).then(function () {
        el.setAttribute("data-rendered", "1");
      });
    });
  }
  // A page waiting for a background job (topics being fitted) reloads until it is done.
  function reloadWhenAsked() {
    var el = document.querySelector("[data-reload]");
    if (el) {
      var seconds = parseFloat(el.getAttribute("data-reload")) || 3;
      window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
    }
  }
  reloadWhenAsked();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

// Draws the dashboard's charts from the JSON data block (no inline script: CSP-friendly).
// The table under each chart holds the same figures, for screen readers and for copying.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("report-data");
    if (!block || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(block.textContent);
    // Right-to-left pages (Arabic, issue 15): the legend and tooltips read right to left, the category
    // axis runs from the right (first period on the right) and the value axis stands on the right.
    var rtl = document.documentElement.dir === "rtl";
    var direction = rtl ? "rtl" : "ltr";
    charts.forEach(function (spec) {
      var canvas = document.getElementById(spec.id);
      if (!canvas) { return; }
      new Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { display: spec.datasets.length > 1, rtl: rtl, textDirection: direction },
            tooltip: { rtl: rtl, textDirection: direction }
          },
          scales: {
            x: { type: "category", stacked: spec.stacked, reverse: rtl },
            y: { stacked: spec.stacked, beginAtZero: true, position: rtl ? "right" : "left" }
          }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

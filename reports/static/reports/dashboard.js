// Draws the dashboard's charts from the JSON data block (no inline script: CSP-friendly).
// The table under each chart holds the same figures, for screen readers and for copying.
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("report-data");
    if (!block || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(block.textContent);
    var rtl = document.documentElement.dir === "rtl";
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
          plugins: { legend: { display: spec.datasets.length > 1, rtl: rtl } },
          scales: {
            x: { stacked: spec.stacked, reverse: rtl },
            y: { stacked: spec.stacked, beginAtZero: true }
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

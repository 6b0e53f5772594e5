/* The plan and coverage on the map: routes by method, stations flagged for review, stations
   without LTE backup and the temporary cells (pollnet coverage plan-cells) covering them. */
"use strict";
(function () {
  const P = window.pollnet;
  const root = document.getElementById("plan");
  const T = JSON.parse(document.getElementById("texts").textContent);
  const CELL_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00"];
  const COLOURS = { open_trench: "#e31a1c", micro_trench: "#ff7f00", existing_duct: "#1f78b4", aerial: "#6a3d9a", existing_fiber: "#33a02c", drop: "#b15928" };
  const map = P.createMap("map", root.dataset.tileUrl);
  const renderer = L.canvas({ padding: 0.3 });
  function item(s, extra) {
    return P.el("li", { "data-code": s.code }, [P.el("a", { href: "/stations/" + encodeURIComponent(s.code) }, [P.bdi(s.code)]), " ", extra || ""]);
  }
  fetch("/api/plan", { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    const counts = {};
    const routes = L.geoJSON(data.trenches, {
      renderer: renderer,
      style: (f) => { counts[f.properties.method] = (counts[f.properties.method] || 0) + 1; return { color: COLOURS[f.properties.method] || "#555", weight: 3 }; },
    });
    // The view first: the canvas renderer draws nothing (and fails) on a map without one.
    const b = routes.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [20, 20] }); else map.setView([35.7, 51.4], 11);
    routes.addTo(map);
    document.getElementById("methods").replaceChildren(...Object.keys(counts).map((m) => {
      const dot = P.el("span", { class: "dot method-" + m });
      dot.style.background = COLOURS[m] || "#555";
      return P.el("li", {}, [dot, T[m] || m, " ", P.el("b", { text: P.digits(counts[m]) })]);
    }));
    for (const s of data.review) L.circleMarker([s.lat, s.lon], { renderer, radius: 6, color: "#000", fillColor: "#ffd92f", fillOpacity: 1, weight: 2 }).bindTooltip(s.code + " " + s.flags.join(", ")).addTo(map);
    for (const s of data.no_lte) L.circleMarker([s.lat, s.lon], { renderer, radius: 5, color: "#000", fillColor: "#999", fillOpacity: 1, weight: 1 }).bindTooltip(s.code).addTo(map);
    // Temporary cells: a square per chosen site, coloured by operator, with a line to each
    // station it covers.
    const operators = [...new Set(data.cells.map((c) => c.operator))];
    const perOperator = {};
    for (const c of data.cells) {
      const colour = CELL_COLOURS[operators.indexOf(c.operator) % CELL_COLOURS.length];
      perOperator[c.operator] = (perOperator[c.operator] || 0) + 1;
      for (const s of c.stations) L.polyline([[c.lat, c.lon], [s.lat, s.lon]], { renderer, color: colour, weight: 2, dashArray: "4 3" }).addTo(map);
      const size = 0.0004;
      L.rectangle([[c.lat - size, c.lon - size], [c.lat + size, c.lon + size]], { renderer, color: "#000", fillColor: colour, fillOpacity: 1, weight: 1 })
        .bindTooltip(c.operator + " " + c.code + " → " + c.stations.map((s) => s.code).join(" ")).addTo(map);
    }
    document.getElementById("count-cells").textContent = P.digits(data.cells.length);
    document.getElementById("cells").replaceChildren(...operators.map((o) => {
      const dot = P.el("span", { class: "dot" });
      dot.style.background = CELL_COLOURS[operators.indexOf(o) % CELL_COLOURS.length];
      return P.el("li", { "data-operator": o }, [dot, P.bdi(o), " ", P.el("b", { text: P.digits(perOperator[o]) })]);
    }));
    root.dataset.cells = String(data.cells.length);
    document.getElementById("count-review").textContent = P.digits(data.review.length);
    document.getElementById("count-no-lte").textContent = P.digits(data.no_lte.length);
    document.getElementById("review").replaceChildren(...data.review.slice(0, 300).map((s) => item(s, s.flags.join(", "))));
    document.getElementById("no-lte").replaceChildren(...data.no_lte.slice(0, 300).map((s) => item(s)));
    root.dataset.ready = "1";
    root.dataset.trenches = String(data.trenches.features.length);
  });
})();

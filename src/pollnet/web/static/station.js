/* A station's page: the station and its fiber route on the map. */
"use strict";
(function () {
  const P = window.pollnet;
  const root = document.getElementById("station");
  const data = JSON.parse(document.getElementById("station-data").textContent);
  const map = P.createMap("map", root.dataset.tileUrl);
  const at = data.station;
  const route = data.route && data.route.features.length ? L.geoJSON(data.route, { style: () => ({ color: "#6a3d9a", weight: 4 }) }) : null;
  const bounds = L.latLngBounds([at, at]);
  if (route) bounds.extend(route.getBounds());
  map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
  if (route) {
    route.addTo(map);
    root.dataset.routeSegments = String(data.route.features.length);
  }
  L.circleMarker(at, { radius: 7, color: "#222", weight: 2, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
  root.dataset.ready = "1";
})();

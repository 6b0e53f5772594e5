/* pollnet's pages: digits in the page's language, search keys, the map with pollnet's own
   basemap (or the office's tile server), drawn only from this server. */
"use strict";
window.pollnet = (function () {
  const lang = document.documentElement.lang;
  const FA = "۰۱۲۳۴۵۶۷۸۹";
  function digits(value) {
    const text = String(value);
    return lang === "fa" ? text.replace(/[0-9]/g, (d) => FA[d]) : text;
  }
  /* What a search compares: ASCII digits, Persian letters for Arabic ones, lower case. */
  function key(value) {
    return String(value || "")
      .replace(/[۰-۹]/g, (d) => String(FA.indexOf(d)))
      .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660))
      .replace(/ي/g, "ی").replace(/ك/g, "ک").replace(/\u200c/g, " ")
      .replace(/\s+/g, " ").trim().toLowerCase();
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }
  /* Latin codes inside Persian text keep their own direction. */
  function bdi(text) {
    return el("bdi", { text: text });
  }
  const STYLES = {
    street: { color: "#b9b9b9", weight: 1 },
    major: { color: "#8f8f8f", weight: 2 },
    county: { color: "#5b3a8c", weight: 2, dashArray: "6 4", fill: false },
    municipal_district: { color: "#7a7a7a", weight: 1, dashArray: "3 3", fill: false },
    education_district: { color: "#2a7f62", weight: 1, dashArray: "1 3", fill: false },
    municipality: { color: "#5b3a8c", weight: 1.5, fill: false },
  };
  /* The basemap: pollnet's streets, boundaries and school names as GeoJSON tiles. */
  function basemap(map, tileUrl) {
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
      return;
    }
    const pane = map.createPane("basemap");
    pane.style.zIndex = 250;
    const loaded = new Map();
    const renderer = L.canvas({ pane: "basemap", padding: 0.3 });
    function style(feature) {
      return STYLES[feature.properties.kind] || STYLES.street;
    }
    function load() {
      const z = Math.max(10, Math.min(17, Math.round(map.getZoom())));
      const b = map.getBounds();
      const n = 2 ** z;
      const tx = (lon) => Math.floor(((lon + 180) / 360) * n);
      const ty = (lat) => {
        const r = (lat * Math.PI) / 180;
        return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
      };
      for (const [k, layer] of loaded) {
        if (!k.startsWith(z + "/")) { map.removeLayer(layer); loaded.delete(k); }
      }
      const tiles = [];
      for (let x = tx(b.getWest()); x <= tx(b.getEast()); x++) {
        for (let y = ty(b.getNorth()); y <= ty(b.getSouth()); y++) tiles.push(z + "/" + x + "/" + y);
      }
      if (tiles.length > 64) return;
      for (const k of tiles) {
        if (loaded.has(k)) continue;
        const layer = L.layerGroup().addTo(map);
        loaded.set(k, layer);
        fetch("/api/basemap/" + k, { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : { type: "FeatureCollection", features: [] }))
          .then((data) => {
            L.geoJSON(data, {
              style: style,
              renderer: renderer,
              interactive: false,
              pointToLayer: (f, at) =>
                L.marker(at, {
                  pane: "basemap",
                  interactive: false,
                  icon: L.divIcon({ className: "school-name", html: "", iconSize: null }),
                }).bindTooltip(f.properties.name, { permanent: true, direction: "right", className: "school-label", interactive: false }),
            }).addTo(layer);
            map.getContainer().dataset.basemapTiles = String(loaded.size);
          });
      }
    }
    map.on("moveend", load);
    map.whenReady(load);
  }
  function createMap(id, tileUrl) {
    const map = L.map(id, { preferCanvas: true, attributionControl: false, zoomSnap: 0.5 });
    basemap(map, tileUrl);
    return map;
  }
  return { lang, digits, key, el, bdi, createMap };
})();

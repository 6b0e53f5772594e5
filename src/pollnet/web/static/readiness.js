/* The readiness page: every station on the map by class, search, the problem list and the
   summaries, kept live by the server's events. */
"use strict";
(function () {
  const P = window.pollnet;
  const root = document.getElementById("readiness");
  const T = JSON.parse(document.getElementById("texts").textContent);
  const CLASSES = ["ready", "lte", "silent", "offline", "not_installed"];
  const TROUBLE = ["offline", "silent", "lte"];
  const COLOURS = { ready: "#1a9850", lte: "#2c7bb6", silent: "#f28e2b", offline: "#d7191c", not_installed: "#9a9a9a" };
  const map = P.createMap("map", root.dataset.tileUrl);
  const tip = L.tooltip({ direction: "auto", className: "station-tip" });
  let stations = [];
  const byCode = new Map();
  const states = new Map();
  let pending = false;
  let drawnAt = 0;

  function stationUrl(code) { return "/stations/" + encodeURIComponent(code); }

  function label(s) {
    const st = states.get(s.code) || ["not_installed", 0, 0, 0, null];
    const box = P.el("div", { class: "tip" });
    box.append(P.el("b", {}, [P.bdi(s.code)]), " ", s.name, P.el("br"), s.site, P.el("br"));
    box.append(P.el("span", { class: "chip cls-" + st[0], text: T.classes[st[0]] }), " ");
    box.append(P.digits(st[1] + "/" + st[2]) + " " + T.devices);
    return box;
  }

  /* Every station as one dot on one canvas: thousands of Leaflet markers cost seconds to
     make; this draws 8,000 in milliseconds and finds the dot under the pointer itself. */
  const Dots = L.Layer.extend({
    onAdd(m) {
      this._canvas = L.DomUtil.create("canvas", "station-dots leaflet-zoom-hide");
      m.getPanes().overlayPane.appendChild(this._canvas);
      m.on("moveend zoomend resize viewreset", this.redraw, this);
      m.on("mousemove", this._hover, this);
      m.on("click", this._click, this);
      this.redraw();
    },
    onRemove(m) {
      L.DomUtil.remove(this._canvas);
      m.off("moveend zoomend resize viewreset", this.redraw, this);
      m.off("mousemove", this._hover, this);
      m.off("click", this._click, this);
    },
    redraw() {
      const m = this._map;
      if (!m) return;
      const size = m.getSize();
      const ratio = window.devicePixelRatio || 1;
      const canvas = this._canvas;
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      L.DomUtil.setPosition(canvas, m.containerPointToLayerPoint([0, 0]));
      const ctx = canvas.getContext("2d");
      ctx.scale(ratio, ratio);
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#333";
      this._points = [];
      for (const cls of CLASSES) {  // the worst drawn last, on top
        ctx.fillStyle = COLOURS[cls];
        ctx.beginPath();
        for (const s of stations) {
          if ((states.get(s.code) || ["not_installed"])[0] !== cls) continue;
          const p = m.latLngToContainerPoint([s.lat, s.lon]);
          if (p.x < -6 || p.y < -6 || p.x > size.x + 6 || p.y > size.y + 6) continue;
          ctx.moveTo(p.x + 5, p.y);
          ctx.arc(p.x, p.y, 5, 0, 2 * Math.PI);
          this._points.push([p.x, p.y, s]);
        }
        ctx.fill();
        ctx.stroke();
      }
    },
    _at(point) {
      let best = null;
      let bestDistance = 49;  // within 7 px
      for (const [x, y, s] of this._points || []) {
        const d = (x - point.x) ** 2 + (y - point.y) ** 2;
        if (d <= bestDistance) { best = s; bestDistance = d; }
      }
      return best;
    },
    _hover(e) {
      const s = this._at(e.containerPoint);
      this._map.getContainer().style.cursor = s ? "pointer" : "";
      if (s) this._map.openTooltip(tip.setContent(label(s)), [s.lat, s.lon]);
      else this._map.closeTooltip(tip);
    },
    _click(e) {
      const s = this._at(e.containerPoint);
      if (s) window.location.href = stationUrl(s.code);
    },
  });
  const dots = new Dots();
  // where a station is drawn, in the map's pixels (for the tests)
  window.pollnetReadiness = {
    pointOf(code) {
      const s = byCode.get(code);
      const p = map.latLngToContainerPoint([s.lat, s.lon]);
      return [p.x, p.y];
    },
  };

  function draw(data) {
    stations = data.stations;
    for (const [code, st] of Object.entries(data.states)) states.set(code, st);
    for (const s of stations) byCode.set(s.code, s);
    if (stations.length) {
      map.fitBounds(L.latLngBounds(stations.map((s) => [s.lat, s.lon])), { padding: [20, 20] });
    } else map.setView([35.7, 51.4], 11);
    dots.addTo(map);
    refresh();
    document.getElementById("map").dataset.drawnStations = String(stations.length);
    root.dataset.ready = "1";
    performance.mark("pollnet-ready");
  }

  function apply(changes) {
    for (const [code, st] of Object.entries(changes)) states.set(code, st);
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => { pending = false; dots.redraw(); refresh(); });
    }
  }

  function duration(since) {
    if (!since) return T.unknown;
    const minutes = Math.max(0, Math.round((Date.now() / 1000 - since) / 60));
    return minutes < 120 ? P.digits(minutes) + " " + T.minutes : P.digits(Math.round(minutes / 60)) + " " + T.hours;
  }

  function row(cells, cls) {
    const tr = P.el("tr", cls ? { class: cls } : {});
    for (const c of cells) tr.append(P.el("td", {}, [c]));
    return tr;
  }

  function summary(id, keyOf) {
    const groups = new Map();
    for (const s of stations) {
      const k = keyOf(s);
      if (!groups.has(k)) groups.set(k, Object.fromEntries(CLASSES.map((c) => [c, 0])));
      groups.get(k)[(states.get(s.code) || ["not_installed"])[0]] += 1;
    }
    const body = document.querySelector("#" + id + " tbody");
    const keys = [...groups.keys()].sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));
    body.replaceChildren(...keys.map((k) => row([P.digits(k === "" ? "-" : k), ...CLASSES.map((c) => P.digits(groups.get(k)[c]))])));
  }

  function problems() {
    const list = [];
    for (const s of stations) {
      const st = states.get(s.code);
      if (st && TROUBLE.includes(st[0])) list.push([st[4] || Infinity, TROUBLE.indexOf(st[0]), s, st]);
    }
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const items = list.slice(0, 200).map(([, , s, st]) =>
      P.el("li", { class: "cls-" + st[0], "data-code": s.code }, [
        P.el("a", { href: stationUrl(s.code) }, [P.bdi(s.code)]), " ", s.site, " ",
        P.el("span", { class: "chip cls-" + st[0], text: T.classes[st[0]] }), " ",
        P.el("span", { class: "since", text: T.since + " " + duration(st[4]) }),
      ]));
    document.getElementById("problems").replaceChildren(...items);
  }

  function refresh() {
    const counts = Object.fromEntries(CLASSES.map((c) => [c, 0]));
    for (const s of stations) counts[(states.get(s.code) || ["not_installed"])[0]] += 1;
    for (const c of CLASSES) document.getElementById("count-" + c).textContent = P.digits(counts[c]);
    problems();
    summary("districts", (s) => s.district);
    summary("counties", (s) => s.county);
    search();
    const now = new Date();
    document.getElementById("updated").textContent = P.digits(now.toTimeString().slice(0, 8));
    drawnAt += 1;
    root.dataset.updates = String(drawnAt);
  }

  function search() {
    const q = P.key(document.getElementById("search").value);
    const found = document.getElementById("found");
    if (q.length < 2) { found.replaceChildren(); return; }
    const hits = stations.filter((s) => P.key(s.code + " " + s.name + " " + s.site + " " + s.address).includes(q)).slice(0, 20);
    found.replaceChildren(...hits.map((s) => {
      const st = states.get(s.code) || ["not_installed"];
      const li = P.el("li", { class: "cls-" + st[0], "data-code": s.code }, [
        P.el("a", { href: stationUrl(s.code) }, [P.bdi(s.code)]), " ", s.site, " — ", s.address, " ",
        P.el("span", { class: "chip cls-" + st[0], text: T.classes[st[0]] }),
      ]);
      li.addEventListener("mouseenter", () => map.panTo([s.lat, s.lon]));
      return li;
    }));
  }
  document.getElementById("search").addEventListener("input", search);

  function listen() {
    const source = new EventSource("/api/readiness/events");
    source.addEventListener("change", (e) => {
      document.body.dataset.stale = "0";
      document.getElementById("stale").hidden = true;
      apply(JSON.parse(e.data));
    });
    source.onerror = () => {
      document.body.dataset.stale = "1";
      document.getElementById("stale").hidden = false;
    };
  }

  fetch("/api/readiness", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => { draw(data); listen(); });
})();

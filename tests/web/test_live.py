"""The live readiness: five classes from the heartbeats, the hub's changes, the JSON and the
event stream a page reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pollnet.web.live import classify
from tests.web.world import client, copy, heartbeats, sign_in

NOW = dt.datetime(2028, 2, 25, 9, 0, tzinfo=dt.UTC)
FRESH = NOW - dt.timedelta(seconds=10)
OLD = NOW - dt.timedelta(minutes=5)


def test_five_classes() -> None:
    assert classify([], 2, NOW, 30).cls == "not_installed"
    assert classify([("fiber", FRESH), ("fiber", FRESH)], 2, NOW, 30).cls == "ready"
    lte = classify([("lte", FRESH), ("fiber", FRESH)], 2, NOW, 30)
    assert (lte.cls, lte.on_lte, lte.since) == ("lte", 1, None)
    silent = classify([("fiber", FRESH), ("fiber", OLD)], 2, NOW, 30)
    assert (silent.cls, silent.online) == ("silent", 1)
    assert silent.since == OLD + dt.timedelta(seconds=90)  # three missed intervals
    assert classify([("fiber", FRESH)], 2, NOW, 30).cls == "silent"  # one never reported
    offline = classify([("fiber", OLD), ("lte", OLD - dt.timedelta(minutes=1))], 2, NOW, 30)
    assert (offline.cls, offline.since) == ("offline", OLD + dt.timedelta(seconds=90))


def test_readiness_json_and_events(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    heartbeats(url, dt.datetime.now(dt.UTC))
    browser = client(url, tmp_path)
    sign_in(browser, "observer")
    data = browser.get("/api/readiness").json()
    counts = data["counts"]
    assert counts["not_installed"] == 3 and counts["offline"] > 0 and counts["lte"] > 0
    assert sum(counts.values()) == len(data["stations"]) == 60
    first = data["stations"][0]
    assert {"code", "site", "address", "district", "county", "lat", "lon"} <= set(first)
    assert first["county"] == "Central"
    offline = [c for c, s in data["states"].items() if s[0] == "offline"]
    assert all(data["states"][c][4] is not None for c in offline)  # in trouble since
    with browser.stream("GET", "/api/readiness/events?seconds=0") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    event = text.split("event: change\ndata: ")[1].split("\n")[0]
    assert json.loads(event) == data["states"]

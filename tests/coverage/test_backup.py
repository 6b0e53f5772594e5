"""Each station's LTE backup from towers placed at known distances."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.coverage import RadioSettings, by_district, lte_backup, read_towers
from pollnet.coverage.pathloss import uma_nlos_db
from pollnet.datasets import generate, load_into
from pollnet.errors import ConfigError
from pollnet.model import RadioType, Station, Tower
from pollnet.store import open_store

LAT, LON = 35.70, 51.40  # central Tehran
M_PER_DEG_LAT = 111_195.0


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) ``east_m`` east and ``north_m`` north of the reference point."""
    lat = LAT + north_m / M_PER_DEG_LAT
    lon = LON + east_m / (M_PER_DEG_LAT * math.cos(math.radians(LAT)))
    return lat, lon


def station(code: str, east_m: float, *, district: int = 1, critical: bool = False) -> Station:
    lat, lon = at(east_m, 0.0)
    return Station(code, code, code, "", district, lat, lon, 500, 2, critical)


def tower(code: str, operator: str, east_m: float, north_m: float, radio: str = "lte") -> Tower:
    lat, lon = at(east_m, north_m)
    return Tower(code, operator, RadioType(radio), lat, lon, 30.0)


def expected_rsrp(distance_m: float, radio: RadioSettings) -> float:
    loss = float(uma_nlos_db(distance_m, 30.0, radio.device_height_m, 1.8))
    return radio.eirp_per_re_dbm - loss - radio.indoor_loss_db


def test_power_per_resource_element() -> None:
    # 46 dBm over 1,200 subcarriers (100 resource blocks at 20 MHz), +17 dBi, -2 dB feeder.
    assert RadioSettings().eirp_per_re_dbm == pytest.approx(46 - 30.792 + 17 - 2, abs=1e-3)


def test_classes_operators_and_what_is_ignored() -> None:
    radio = RadioSettings()
    towers = [
        tower("MCI-1", "MCI", 0.0, 150.0),  # 150 m north of A
        tower("MCI-2", "MCI", 0.0, 400.0),  # the same operator, farther: not A's best
        tower("IRC-1", "Irancell", 0.0, -450.0),
        tower("RTL-G", "Rightel", 0.0, 60.0, radio="gsm"),  # not LTE: ignored
        tower("RTL-F", "Rightel", 6000.0, 0.0),  # beyond the 5 km range: ignored
    ]
    a = station("A", 0.0, critical=True)
    b = station("B", 1200.0, district=2)  # 1.2 km from everything
    c = station("C", 20_000.0, district=2, critical=True)  # nothing near
    backups = lte_backup([a, b, c], towers, radio)
    assert [x.station for x in backups] == ["A", "B", "C"]
    first, second, third = backups

    assert [s.operator for s in first.operators] == ["MCI", "Irancell"]
    assert first.best is not None and first.best.tower == "MCI-1"
    assert first.best.distance_m == pytest.approx(150.0, abs=1.0)
    assert first.best.rsrp_dbm == pytest.approx(expected_rsrp(150.0, radio), abs=0.2)
    assert first.status == "good" and first.best.rsrp_dbm >= radio.good_dbm
    irancell = first.operators[1]
    assert irancell.rsrp_dbm == pytest.approx(expected_rsrp(450.0, radio), abs=0.2)
    assert radio.usable_dbm <= irancell.rsrp_dbm < radio.good_dbm
    assert first.usable_operators(radio) == 2

    assert second.status == "none"  # towers within range, but too weak indoors
    assert second.best is not None and second.best.rsrp_dbm < radio.usable_dbm
    assert third.status == "none" and third.operators == ()

    districts = {d.district: d for d in by_district(backups, radio)}
    assert (districts[1].good, districts[1].usable, districts[1].none) == (1, 0, 0)
    assert (districts[2].stations, districts[2].none, districts[2].critical_none) == (2, 2, 1)

    # Thresholds and the indoor loss are settings: a lenient usable class saves station B.
    lenient = RadioSettings(usable_dbm=-125.0, indoor_loss_db=10.0)
    assert lte_backup([b], towers, lenient)[0].status == "usable"


def test_no_towers_and_no_stations() -> None:
    assert lte_backup([], [tower("MCI-1", "MCI", 0.0, 0.0)]) == ()
    (alone,) = lte_backup([station("A", 0.0)], [])
    assert alone.status == "none" and alone.operators == ()


def test_settings_are_checked() -> None:
    assert RadioSettings.from_mapping({"indoor_loss_db": 20}).indoor_loss_db == 20.0
    with pytest.raises(ConfigError, match="unknown"):
        RadioSettings.from_mapping({"indoor_loss": 20})
    with pytest.raises(ConfigError):
        RadioSettings.from_mapping({"good_dbm": -120, "usable_dbm": -110})
    with pytest.raises(ConfigError):
        RadioSettings.from_mapping({"frequency_mhz": "very high"})
    with pytest.raises(ConfigError):
        RadioSettings.from_mapping({"device_height_m": 0.5})


def test_city_towers_round_trip_the_store(db_url: str) -> None:
    city = generate(150, 5)
    engine = open_store(db_url)
    load_into(engine, city)
    stored = read_towers(engine)
    assert sorted(stored, key=lambda t: t.code) == sorted(city.towers, key=lambda t: t.code)
    backups = lte_backup(city.stations, stored)
    assert backups == lte_backup(city.stations, city.towers)
    assert {b.status for b in backups} <= {"good", "usable", "none"}
    # The plane the estimate measures in agrees with great-circle distances.
    for b in backups[:20]:
        if b.best is None:
            continue
        s = next(x for x in city.stations if x.code == b.station)
        t = next(x for x in city.towers if x.code == b.best.tower)
        assert b.best.distance_m == pytest.approx(_haversine(s, t), rel=2e-3, abs=0.2)


def _haversine(s: Station, t: Tower) -> float:
    p1, p2 = math.radians(s.lat), math.radians(t.lat)
    dp, dl = p2 - p1, math.radians(t.lon - s.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_cli_prints_writes_and_answers_json(tmp_path: Path) -> None:
    runner = CliRunner()
    demo = tmp_path / "demo"
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(demo), "--stations", "80"])
    assert made.exit_code == 0, made.output
    url = f"sqlite:///{demo / 'pollnet.db'}"
    out = tmp_path / "coverage.csv"
    result = runner.invoke(cli, ["--db", url, "--lang", "en", "coverage", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "LTE backup by district" in result.output and str(out) in result.output
    rows = out.read_text("utf-8-sig").splitlines()
    assert rows[0].startswith("station,district,critical,status") and len(rows) == 81

    as_json = runner.invoke(cli, ["--db", url, "coverage", "--json"])
    assert as_json.exit_code == 0, as_json.output
    summary = json.loads(as_json.output)
    assert summary["stations"] == 80
    assert summary["good"] + summary["usable"] + summary["none"] == 80
    assert sum(d["stations"] for d in summary["districts"]) == 80
    assert len(summary["without_backup"]) == summary["none"]

    persian = runner.invoke(cli, ["--db", url, "--lang", "fa", "coverage", "--district", "1"])
    assert persian.exit_code == 0, persian.output
    assert "پشتیبان LTE به تفکیک منطقه" in persian.output

    fa = tmp_path / "coverage-fa.csv"
    runner.invoke(cli, ["--db", url, "--lang", "fa", "coverage", "--out", str(fa)])
    with fa.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["شعبه", "منطقه", "حساس", "پشتیبان LTE"]
    assert all(re.search("[\u0600-\u06ff]", h) for h in table[0])  # every header in Persian
    english = {r[0]: r for r in csv.reader(rows)}
    assert {r[3] for r in table[1:]} <= {"خوب", "قابل استفاده", "بدون پشتیبان LTE"}
    classes = {"good": "خوب", "usable": "قابل استفاده", "none": "بدون پشتیبان LTE"}
    assert all(classes[english[r[0]][3]] == r[3] for r in table[1:])
    assert all(r[2] in ("بله", "خیر") and r[1].isascii() for r in table[1:])

    config = tmp_path / "pollnet.toml"
    config.write_text("[coverage]\nindoor_loss = 12\n", "utf-8")
    bad = runner.invoke(cli, ["--config", str(config), "--db", url, "coverage"])
    assert isinstance(bad.exception, ConfigError) and "indoor_loss" in str(bad.exception)

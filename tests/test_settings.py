"""Settings come from defaults, a TOML file and POLLNET_* variables, in that order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pollnet.errors import ConfigError
from pollnet.settings import TEHRAN_BBOX, load


def test_defaults_without_file_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load(env={})
    assert settings.lang == "fa"
    assert settings.bbox == TEHRAN_BBOX
    assert settings.db_url.startswith("sqlite:///")


def test_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "pollnet.toml"
    config.write_text(
        '[pollnet]\nlang = "en"\nelection_date = "1406/12/05"\ndb = "sqlite:///x.db"\n'
        "bbox = [35.0, 51.0, 36.0, 52.0]\n[plan]\nmargin_db = 4\n",
        encoding="utf-8",
    )
    settings = load(config, env={})
    assert settings.lang == "en"
    assert settings.election_date == dt.date(2028, 2, 24)
    assert settings.bbox.contains(35.5, 51.5) and not settings.bbox.contains(36.5, 51.5)
    assert settings.section("plan") == {"margin_db": 4}
    assert settings.section("rollout") == {}
    overridden = load(config, env={"POLLNET_LANG": "fa", "POLLNET_DB": "sqlite:///y.db"})
    assert (overridden.lang, overridden.db_url) == ("fa", "sqlite:///y.db")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pollnet]\nlang = 'de'\n", "language must be fa or en"),
        ("[pollnet]\ncolour = 'red'\n", r"unknown settings in \[pollnet\]: colour \(valid: bbox"),
        ("[pollnet]\nbbox = [1, 2]\n", "bbox must be"),
        ("[pollnet]\nbbox = [35.8, 51.6, 35.5, 51.2]\n", r"bbox \[35.8, 51.6, 35.5, 51.2\] is not"),
        ("[pollnet]\nbbox = [35.5, 51.6, 35.8, 51.2]\n", "each minimum below its maximum"),
        ("[pollnet]\nbbox = [35.5, 151.6, 95.8, 251.2]\n", "is not a box"),
        ("[pollnet]\nelection_date = '1402/13/01'\n", "no such day"),
        ("[pollnet\n", "not a valid TOML file"),
    ],
)
def test_bad_settings_file(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load(config, env={})


def test_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        load(tmp_path / "absent.toml", env={})


def test_default_bbox_covers_the_five_counties() -> None:
    import json

    path = Path(__file__).parents[2] / "shared/data/tehran-electoral-district/counties.geojson"
    if not path.exists():
        pytest.skip(f"real data not present at {path}")
    counties = json.loads(path.read_text(encoding="utf-8"))

    def points(geometry: dict) -> list:  # type: ignore[type-arg]
        return [pt for polygon in geometry["coordinates"] for ring in polygon for pt in ring]

    all_points = [pt for f in counties["features"] for pt in points(f["geometry"])]
    assert len(counties["features"]) == 5
    assert all(TEHRAN_BBOX.contains(lat, lon) for lon, lat in all_points)


def test_an_unknown_key_names_the_file_and_the_valid_keys(tmp_path: Path) -> None:
    from pollnet.plan.params import PlanParameters

    config = tmp_path / "pollnet.toml"
    config.write_text("[plan]\nsplitt = 16\n[plan.optics]\nconectors = 2\n", encoding="utf-8")
    settings = load(config, env={})
    with pytest.raises(ConfigError) as raised:
        PlanParameters.from_mapping(settings.section("plan"), settings.source)
    (line,) = raised.value.render("en")
    assert line.startswith(f"{config}: unknown settings in [plan.optics]: conectors (valid: ")
    assert "connectors" in line
    del settings.sections["plan"]["optics"]  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as raised:
        PlanParameters.from_mapping(settings.section("plan"), settings.source)
    (line,) = raised.value.render("en")
    assert line.startswith(f"{config}: unknown settings in [plan]: splitt (valid: ")
    assert "split, splitter_placement" in line

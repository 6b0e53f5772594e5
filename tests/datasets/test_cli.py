"""``pollnet synth``: writes readable files, prints a summary, and reports bad input cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pollnet.cli import main
from pollnet.datasets import generate, read


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_synth_writes_the_files_and_a_json_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "city"
    code, out, _ = _run(
        ["synth", "--stations", "60", "--seed", "3", "--out", str(out_dir), "--json"], capsys
    )
    assert code == 0
    result = json.loads(out)
    assert result["stations"] == 60 and result["districts"] == 22
    assert sorted(p.name for p in out_dir.iterdir()) == result["files"]
    assert read(out_dir).equals(generate(60, 3))
    lines = (out_dir / "stations.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 61


def test_synth_prints_a_table_in_english_and_persian(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        ["--lang", "en", "synth", "--stations", "5", "--out", str(tmp_path)], capsys
    )
    assert code == 0
    assert "Stations" in out and "Street nodes" in out and "Wrote 7 files" in err
    code, out, err = _run(
        ["--lang", "fa", "synth", "--stations", "5", "--out", str(tmp_path)], capsys
    )
    assert code == 0
    assert "شعبه‌ها" in out and "۲۲" in out and str(tmp_path) in err


def test_a_city_too_big_for_the_box_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "pollnet.toml"
    config.write_text("[pollnet]\nbbox = [35.69, 51.39, 35.71, 51.41]\n", encoding="utf-8")
    code, _, err = _run(
        [
            "--lang",
            "en",
            "--config",
            str(config),
            "synth",
            "--stations",
            "50",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 1
    assert err.strip() == "error: a city of 50 stations does not fit inside the bounding box"
    assert "Traceback" not in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["synth", "--stations", "0", "--out", str(tmp_path)], capsys)
    assert code == 2 and "--stations" in err

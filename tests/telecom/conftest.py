"""Running ``pollnet`` in-process on a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollnet.cli import main


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``run(*args)`` -> (exit code, out, err); no run may print a traceback."""
    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("POLLNET_LANG", raising=False)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return int(done.value.code or 0), out, err

    return invoke

"""The operations web's world, built once per test session (the demo city with areas,
work orders and accounts); tests work on copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.world import build


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("web") / "world")

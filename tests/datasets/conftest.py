"""One small synthetic city shared by the tests of this package (generating is pure)."""

from __future__ import annotations

import pytest

from pollnet.datasets import SyntheticCity, generate


@pytest.fixture(scope="session")
def city() -> SyntheticCity:
    """A city of 400 stations (about 12,000 street nodes)."""
    return generate(400, 11)

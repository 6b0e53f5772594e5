"""Headless Chromium for the browser tests: where it is and how to start it on this machine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("POLLNET_CHROMIUM", "/usr/bin/chromium")
# No sandbox (tests run as root), and nothing that reaches out to the closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip the test when playwright or Chromium is missing (CI installs both)."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set POLLNET_CHROMIUM)")

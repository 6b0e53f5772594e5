"""One local Patroni + etcd cluster for the whole test session (it takes ~20 s to start).

Brought up and taken down with the real commands (``pollnet cluster up`` / ``down``), in a
folder of the session's temporary folder that the ``postgres`` user can reach; stopped by the
PIDs it recorded even when a test fails. Skipped where etcd, Patroni or the PostgreSQL server
are missing, unless ``POLLNET_REQUIRE_POSTGRES=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollnet.cluster.local import ClusterLayout, free_base_port


def pollnet_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``pollnet ARGS`` in a child process, in English."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLLNET_")}
    return subprocess.run(
        [sys.executable, "-m", "pollnet", "--lang", "en", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _missing() -> str | None:
    if shutil.which("etcd") is None:
        return "etcd is not installed (scripts/system-packages.sh)"
    if importlib.util.find_spec("patroni") is None:
        return "Patroni is not installed (pip install -e '.[cluster]')"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) and not shutil.which("pg_ctl"):
        return "the PostgreSQL server is not installed"
    return None


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterLayout]:
    """A running local cluster (primary + two quorum standbys); its layout."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("POLLNET_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{missing}, but the cluster tests are required")
        pytest.skip(missing)
    folder = Path(tempfile.mkdtemp(prefix="pollnet-cluster-"))
    base = free_base_port()
    try:
        started = pollnet_cli("cluster", "up", "--dir", str(folder), "--base-port", str(base))
        assert started.returncode == 0, started.stderr
        layout = ClusterLayout.read(folder)
        assert started.stdout.splitlines()[-1] == f"database URL: {layout.database_url}"
        yield layout
    finally:
        stopped = pollnet_cli("cluster", "down", "--dir", str(folder))
        shutil.rmtree(folder, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stderr

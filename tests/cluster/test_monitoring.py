"""Monitoring of the replicated ledger: ``/metrics``, ``/v1/health`` and ``pollnet status``."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg

from pollnet.cluster.local import ClusterLayout
from pollnet.cluster.replication import ReplicationWatch
from pollnet.link import pki
from pollnet.link.service import start_in_thread
from pollnet.store import create_engine, open_store
from tests.clusterfixture import pollnet_cli
from tests.link.service_helpers import make_pki, policy
from tests.pgserver import PostgresServer


def test_a_service_on_the_cluster_shows_the_primary_the_lag_and_the_quorum(
    cluster: ClusterLayout, tmp_path: Path
) -> None:
    pki_dir = make_pki(tmp_path / "pki", {"M-1": "ST-1"})
    engine = open_store(cluster.database_url)
    service = start_in_thread(engine, pki_dir, policy())
    bundle = pki_dir / "bundles" / "M-1"
    try:
        with httpx.Client(
            verify=pki.device_ssl_context(bundle), base_url=service.url, timeout=10
        ) as c:
            health = c.get("/v1/health")
            metrics = c.get("/metrics").text
    finally:
        service.stop()
        engine.dispose()
    assert health.status_code == 200, health.text
    ledger = health.json()["ledger"]
    assert ledger["writer_connected"] and ledger["quorum_met"] and ledger["quorum_required"] == 1
    primary_port = int(ledger["primary"].rsplit(":", 1)[1])
    assert primary_port in {m.pg_port for m in cluster.members}
    assert f'pollnet_ledger_primary{{node="{ledger["primary"]}"}} 1.0' in metrics
    assert "pollnet_ledger_quorum_met 1.0" in metrics
    assert "pollnet_ledger_standbys_confirming 2.0" in metrics
    assert metrics.count('pollnet_ledger_standby_lag_bytes{standby="node') == 2

    status = pollnet_cli("--db", cluster.database_url, "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert f"primary: {ledger['primary']}" in lines
    assert lines[-1].endswith(": met (2 of 1 standbys confirm)")


def test_a_service_that_reaches_no_primary_says_so_on_health(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    dead = create_engine("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    watch = ReplicationWatch(dead)
    watch.check()
    assert (watch.reachable, watch.problem) == (False, "no_primary")

    pki_dir = make_pki(tmp_path / "pki", {"M-2": "ST-1"})
    engine = open_store(pg_url)
    service = start_in_thread(engine, pki_dir, policy())
    database = engine.url.database
    admin = psycopg.connect(pg_server.url("postgres").replace("+psycopg", ""), autocommit=True)
    try:
        with httpx.Client(
            verify=pki.device_ssl_context(pki_dir / "bundles" / "M-2"),
            base_url=service.url,
            timeout=10,
        ) as c:
            assert c.get("/v1/health").status_code == 200
            # The database stops taking connections (a primary gone, nothing promoted yet).
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )
            deadline = time.monotonic() + 15
            while (health := c.get("/v1/health")).status_code == 200:
                assert time.monotonic() < deadline, "health never said the primary is gone"
                time.sleep(0.2)
            metrics = c.get("/metrics").text
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
            while c.get("/v1/health").status_code != 200:
                assert time.monotonic() < deadline + 15, "health never came back"
                time.sleep(0.2)
    finally:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        admin.close()
        service.stop()
        engine.dispose()
    assert health.status_code == 503
    assert health.json()["reason"] == "no_primary"
    assert "pollnet_ledger_primary_reachable 0.0" in metrics


def test_a_lone_primary_has_no_quorum_to_wait_for(pg_url: str) -> None:
    watch = ReplicationWatch(create_engine(pg_url))
    watch.check()
    assert watch.reachable and watch.problem is None
    assert watch.status is not None and watch.status.required == 0
    assert not watch.status.quorum_met and watch.status.standbys == ()

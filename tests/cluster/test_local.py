"""``pollnet cluster``: a local Patroni cluster of one primary and two quorum standbys."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from pollnet.cluster.local import ClusterLayout, cluster_status, down, up
from pollnet.errors import UserError
from pollnet.store.engine import create_engine
from tests.clusterfixture import pollnet_cli


def test_status_shows_the_primary_the_standbys_their_lag_and_the_quorum(
    cluster: ClusterLayout,
) -> None:
    text = pollnet_cli("cluster", "status", "--dir", str(cluster.folder))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    roles = {line.split(":")[0]: line for line in lines[:3]}
    assert sorted(roles) == ["node1", "node2", "node3"]
    assert sum(": leader, running," in line for line in lines[:3]) == 1
    assert sum(": quorum_standby, streaming," in line for line in lines[:3]) == 2
    assert lines[3].startswith("primary: 127.0.0.1:")
    assert sum(line.startswith("standby node") and ", quorum, " in line for line in lines) == 2
    assert lines[-1].startswith("quorum ANY 1 (node")
    assert lines[-1].endswith(": met (2 of 1 standbys confirm)")

    data = json.loads(
        pollnet_cli("cluster", "status", "--dir", str(cluster.folder), "--json").stdout
    )
    primary = next(m for m in cluster.members if m.name == data["primary"])
    assert data["replication"]["node"] == f"127.0.0.1:{primary.pg_port}"
    assert data["replication"]["quorum_required"] == 1 and data["replication"]["quorum_met"]
    for standby in data["replication"]["standbys"]:
        assert standby["state"] == "streaming" and standby["lag_bytes"] >= 0


def test_the_multi_host_url_reaches_the_primary_and_a_commit_reaches_a_standby(
    cluster: ClusterLayout,
) -> None:
    engine = create_engine(cluster.database_url)
    try:
        with engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT pg_is_in_recovery()")) is False
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS probe (n int)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (42)"))
            lsn = conn.scalar(sa.text("SELECT pg_current_wal_lsn()::text"))
    finally:
        engine.dispose()
    # synchronous_commit = on with ANY 1: one standby at least has flushed the commit's WAL
    status = cluster_status(cluster)
    assert status.replication is not None
    flushed = []
    for member in cluster.members:
        if member.name == status.primary:
            continue
        standby = create_engine(cluster.node_url(member))
        try:
            with standby.connect() as conn:
                flushed.append(
                    conn.scalar(
                        sa.text("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), :lsn) >= 0"),
                        {"lsn": lsn},
                    )
                )
        finally:
            standby.dispose()
    assert any(flushed)


def test_a_second_cluster_on_the_same_folder_or_ports_is_refused(cluster: ClusterLayout) -> None:
    with pytest.raises(UserError, match="already runs"):
        up(cluster.folder, cluster.base_port)
    other = cluster.folder.parent / (cluster.folder.name + "-other")
    try:
        with pytest.raises(UserError, match=f"port {cluster.base_port} on 127.0.0.1 is taken"):
            up(other, cluster.base_port)
    finally:
        assert down(other) == []
        assert not other.exists() or not any(other.iterdir())
        other.rmdir() if other.exists() else None


def test_status_of_a_folder_without_a_cluster_is_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = pollnet_cli("cluster", "status", "--dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no local cluster in {tmp_path / 'none'}"

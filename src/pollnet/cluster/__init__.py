"""The replicated ledger database: a local Patroni + etcd cluster for tests and rehearsals, and
what a PostgreSQL primary tells about its standbys and its synchronous quorum."""

from pollnet.cluster.local import ClusterLayout, Member, cluster_status, down, up
from pollnet.cluster.replication import (
    ReplicationStatus,
    ReplicationWatch,
    Standby,
    quorum_size,
    replication_status,
)

__all__ = [
    "ClusterLayout",
    "Member",
    "ReplicationStatus",
    "ReplicationWatch",
    "Standby",
    "cluster_status",
    "down",
    "quorum_size",
    "replication_status",
    "up",
]

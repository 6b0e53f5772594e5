"""The quorum of ``synchronous_standby_names`` as PostgreSQL reads it."""

from __future__ import annotations

import pytest

from pollnet.cluster.replication import ReplicationStatus, Standby, quorum_size


@pytest.mark.parametrize(
    ("names", "size"),
    [
        ("", 0),
        ("  ", 0),
        ("ANY 1 (node2,node3)", 1),
        ('any 2 ("a", b, c)', 2),
        ("FIRST 2 (a, b, c)", 2),
        ("2 (a, b)", 2),
        ("node2", 1),
        ("a, b", 1),
        ("*", 1),
    ],
)
def test_quorum_size(names: str, size: int) -> None:
    assert quorum_size(names) == size


def _standby(name: str, state: str = "streaming", sync: str = "quorum") -> Standby:
    return Standby(name, "127.0.0.1", state, sync, 0, None)


def test_the_quorum_is_met_by_streaming_synchronous_standbys_only() -> None:
    names = "ANY 1 (a,b)"
    met = ReplicationStatus("p", True, names, 1, (_standby("a"), _standby("b", "catchup")))
    assert met.quorum_met and met.acknowledging == 1
    lost = ReplicationStatus("p", True, names, 1, (_standby("a", sync="async"),))
    assert not lost.quorum_met
    asynchronous = ReplicationStatus("p", True, "", 0, (_standby("a", sync="async"),))
    assert not asynchronous.quorum_met
    standby_view = ReplicationStatus("s", False, names, 1, ())
    assert not standby_view.quorum_met

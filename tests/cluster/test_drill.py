"""The fault drill on the session's cluster: two services, devices with repeat voters, and a
machine lost during the run (the primary's PostgreSQL, the replication link, one service).

Each drill ends with every acknowledged check-in in the ledger, no voter accepted twice, the
audit passing, and the cluster healed; the write outage is printed in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pollnet.cluster.drill import DrillConfig, DrillReport, drill
from pollnet.cluster.local import ClusterLayout


def _run(
    cluster: ClusterLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str], **config: object
) -> DrillReport:
    report = drill(cluster, DrillConfig(**config), tmp_path)  # type: ignore[arg-type]
    with capsys.disabled():
        print(
            f"\n[drill {report.fault}] write outage {report.outage_s:.1f} s;"
            f" {report.acknowledged} acknowledged, {report.lost} lost,"
            f" {report.accepted_twice} accepted twice; {report.fault_detail}; {report.outcomes}"
        )
    assert report.lost == 0
    assert report.accepted_twice == 0 and report.ledger_voters_twice == 0
    assert report.audit_problems == 0
    # Traffic flowed through the fault (how much is bench_failover's business: on a loaded
    # 2-core machine a 6 s stall drill acknowledges 46-72, on a quiet one several hundred).
    assert report.acknowledged > 20
    return report


def test_the_primary_killed_loses_nothing_acknowledged(
    cluster: ClusterLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(cluster, tmp_path, capsys, fault="primary", duration_s=9.0, fault_at_s=2.0)
    assert 0.5 < report.outage_s < 15.0  # writes stopped, and came back within the target
    assert report.outcomes.get("duplicate", 0) > 0  # repeat voters were refused online


def test_a_stalled_replication_link_stops_commits_and_loses_nothing(
    cluster: ClusterLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(
        cluster, tmp_path, capsys, fault="replication-stall", duration_s=6.0, fault_at_s=1.5,
        stall_s=2.5,
    )  # fmt: skip
    assert report.outage_s >= 2.0  # no commit without a standby's confirmation


def test_a_service_killed_sends_its_devices_to_the_other(
    cluster: ClusterLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(cluster, tmp_path, capsys, fault="service", duration_s=4.0, fault_at_s=1.5)
    assert report.outage_s < 3.0  # the other service went on answering

"""``pollnet cluster``: a local replicated ledger database (Patroni + etcd) for tests and
rehearsals."""

from __future__ import annotations

from pathlib import Path

import click

from pollnet.cli._common import Verbatim, busy, echo_json, stdout
from pollnet.cluster import local
from pollnet.cluster.replication import ReplicationStatus
from pollnet.i18n import format_number, gettext, tr

_DIR = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pollnet-cluster"),
    show_default=True,
    help="The cluster's folder (data, logs, PIDs).",
)


@click.group()
def cluster() -> None:
    """A local replicated database: three PostgreSQL nodes under Patroni, three etcd members."""


@cluster.command("up")
@_DIR
@click.option(
    "--base-port",
    type=int,
    default=local.DEFAULT_BASE_PORT,
    show_default=True,
    help="First of the 12 ports on 127.0.0.1 the cluster uses.",
)
def up(folder: Path, base_port: int) -> None:
    """Start the cluster and wait until its synchronous quorum is met."""
    with busy(gettext("Starting etcd, Patroni and PostgreSQL")):
        layout = local.up(folder, base_port)
    console = stdout()
    console.print(tr("cluster up in {folder}", folder=Verbatim(layout.folder)))
    console.print(tr("database URL: {url}", url=Verbatim(layout.database_url)))


@cluster.command("down")
@_DIR
def down(folder: Path) -> None:
    """Stop the cluster's processes (its data stays in the folder)."""
    stopped = local.down(folder)
    click.echo(tr("stopped: {names}", names=Verbatim(", ".join(stopped) or "-")))


@cluster.command("status")
@_DIR
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(folder: Path, as_json: bool) -> None:
    """Show the primary, the standbys and their lag, and whether the quorum is met."""
    state = local.cluster_status(local.ClusterLayout.read(folder))
    if as_json:
        echo_json(state.as_json())
        return
    console = stdout()
    for member in state.members:
        lag = "-" if member.lag_bytes is None else format_number(member.lag_bytes)
        console.print(
            tr(
                "{name}: {role}, {state}, port {port}, lag {lag} bytes",
                name=Verbatim(member.name),
                role=Verbatim(member.role),
                state=Verbatim(member.state),
                port=Verbatim(member.port),
                lag=lag,
            )
        )
    print_replication(state.replication)


def print_replication(replication: ReplicationStatus | None) -> None:
    """The primary's view: its standbys' lag and the quorum (shared with ``pollnet status``)."""
    console = stdout()
    if replication is None:
        console.print(tr("no primary answers: writes are stopped"))
        return
    console.print(tr("primary: {node}", node=Verbatim(replication.node)))
    for standby in replication.standbys:
        console.print(
            tr(
                "standby {name}: {state}, {sync}, {lag} bytes behind",
                name=Verbatim(standby.name),
                state=Verbatim(standby.state),
                sync=Verbatim(standby.sync_state),
                lag=format_number(standby.lag_bytes),
            )
        )
    if replication.required == 0:
        console.print(tr("quorum: none (asynchronous replication)"))
        return
    message = (
        "quorum {names}: met ({have} of {need} standbys confirm)"
        if replication.quorum_met
        else "quorum {names}: NOT met ({have} of {need} standbys confirm): commits wait"
    )
    console.print(
        tr(
            message,
            names=Verbatim(replication.synchronous_standby_names),
            have=format_number(replication.acknowledging),
            need=format_number(replication.required),
        )
    )


COMMANDS = [cluster]

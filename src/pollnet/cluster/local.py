"""A local replicated ledger database for tests and rehearsals, in one folder on 127.0.0.1.

Three etcd members and three PostgreSQL 15 nodes, each node managed by Patroni (>= 4, for
``synchronous_mode: quorum``): one primary and two standbys, a commit acknowledged once one of the
two standbys has flushed it (``synchronous_standby_names = 'ANY 1 (…)'``). It is the shape of the
election-day deployment (``docs/deployment.md``), squeezed onto one machine: the same software,
the same failover, with ports in place of machines.

Every process is started in its own process group, recorded by PID in the folder, and stopped by
that PID (:func:`down`). Run as root, everything runs as the unprivileged ``postgres`` user
(PostgreSQL refuses to run as root), and the folder is handed to that user.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pollnet.cluster.replication import ReplicationStatus, replication_status
from pollnet.errors import UserError

MEMBERS = 3
PORTS_PER_CLUSTER = 4 * MEMBERS
DEFAULT_BASE_PORT = 25400
LAYOUT_FILE = "cluster.json"
OS_USER = "postgres"
# Patroni's timing (seconds). The leader key lives ``ttl`` (Patroni's minimum, 20) and every
# member looks every ``loop_wait`` (Patroni needs loop_wait + 2 retry_timeout <= ttl). A primary
# whose PostgreSQL crashed hands over at once (``primary_start_timeout`` 0: with a synchronous
# quorum nothing acknowledged is lost), within a loop or two; a primary machine that vanished
# (Patroni gone too) is replaced only when its key expires, about ``ttl`` seconds later.
TTL_S = 20
LOOP_WAIT_S = 1
RETRY_TIMEOUT_S = 5


@dataclass(frozen=True)
class Member:
    """One PostgreSQL node under Patroni: its name, its PostgreSQL port, its Patroni REST port."""

    name: str
    pg_port: int
    api_port: int


@dataclass(frozen=True)
class ClusterLayout:
    """Where a local cluster lives: its folder and its ports (``base_port`` and the 11 after it).

    etcd clients listen on ``base_port`` … +2, etcd peers on +3 … +5, PostgreSQL on +6 … +8 and
    Patroni's REST API on +9 … +11.
    """

    folder: Path
    base_port: int = DEFAULT_BASE_PORT
    scope: str = "pollnet"
    database: str = "pollnet"

    @property
    def etcd_client_ports(self) -> tuple[int, ...]:
        return tuple(self.base_port + i for i in range(MEMBERS))

    @property
    def etcd_peer_ports(self) -> tuple[int, ...]:
        return tuple(self.base_port + MEMBERS + i for i in range(MEMBERS))

    @property
    def members(self) -> tuple[Member, ...]:
        return tuple(
            Member(
                f"node{i + 1}", self.base_port + 2 * MEMBERS + i, self.base_port + 3 * MEMBERS + i
            )
            for i in range(MEMBERS)
        )

    @property
    def database_url(self) -> str:
        """The multi-host URL a service connects with: it reaches whichever node is primary."""
        hosts = ",".join(f"127.0.0.1:{m.pg_port}" for m in self.members)
        return (
            f"postgresql://{OS_USER}@{hosts}/{self.database}"
            "?target_session_attrs=read-write&connect_timeout=2"
        )

    def node_url(self, member: Member, database: str | None = None) -> str:
        """A URL of one node alone (``database`` defaults to the cluster's)."""
        return f"postgresql://{OS_USER}@127.0.0.1:{member.pg_port}/{database or self.database}"

    def pid_file(self, process: str) -> Path:
        return self.folder / f"{process}.pid"

    def as_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "base_port": self.base_port,
            "scope": self.scope,
            "database": self.database,
            "database_url": self.database_url,
            "etcd": [f"http://127.0.0.1:{p}" for p in self.etcd_client_ports],
            "members": [
                {"name": m.name, "postgres": m.pg_port, "patroni": m.api_port} for m in self.members
            ],
        }

    @classmethod
    def read(cls, folder: Path) -> ClusterLayout:
        """The layout recorded in ``folder`` by :func:`up`."""
        path = Path(folder) / LAYOUT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(Path(folder), int(data["base_port"]), data["scope"], data["database"])
        except FileNotFoundError:
            raise UserError.of("no local cluster in {folder}", folder=str(folder)) from None
        except (ValueError, KeyError, TypeError):
            raise UserError.of("not a cluster layout file", file=str(path)) from None


@dataclass(frozen=True)
class MemberState:
    """A member as Patroni reports it: role (leader, quorum_standby, …), state, lag in bytes."""

    name: str
    role: str
    state: str
    port: int
    timeline: int | None
    lag_bytes: int | None


@dataclass(frozen=True)
class ClusterStatus:
    """Patroni's view of the members and the primary's view of its standbys and quorum."""

    members: tuple[MemberState, ...]
    replication: ReplicationStatus | None

    @property
    def primary(self) -> str | None:
        return next((m.name for m in self.members if m.role in ("leader", "primary")), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "members": [
                {
                    "name": m.name,
                    "role": m.role,
                    "state": m.state,
                    "port": m.port,
                    "timeline": m.timeline,
                    "lag_bytes": m.lag_bytes,
                }
                for m in self.members
            ],
            "replication": None if self.replication is None else self.replication.as_json(),
        }


def postgres_bin() -> Path:
    """The folder holding PostgreSQL's server programs (newest version first)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "pg_isready")):
            return folder
    raise UserError.of(
        "{program} is not installed (scripts/system-packages.sh installs it)", program="postgresql"
    )


def up(folder: Path, base_port: int = DEFAULT_BASE_PORT, timeout_s: float = 90.0) -> ClusterLayout:
    """Start a local cluster in ``folder`` and wait until its quorum is met; returns its layout.

    A folder that held a stopped cluster starts it again with its data. Raises
    :class:`UserError` when a program is missing, a port is taken or a cluster already runs
    there; whatever was started is stopped again when the cluster does not come up in time.
    """
    folder = Path(folder).absolute()
    layout = ClusterLayout(folder, base_port)
    etcd = shutil.which("etcd")
    if etcd is None:
        raise UserError.of(
            "{program} is not installed (scripts/system-packages.sh installs it)", program="etcd"
        )
    pg_bin = postgres_bin()
    if _running(layout):
        raise UserError.of("a local cluster already runs in {folder}", folder=str(folder))
    for port in range(base_port, base_port + PORTS_PER_CLUSTER):
        if not _port_free(port):
            raise UserError.of("port {port} on 127.0.0.1 is taken", port=str(port))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAYOUT_FILE).write_text(json.dumps(layout.as_json(), indent=2) + "\n", "utf-8")
    _hand_over(folder)
    try:
        _start_etcd(layout, etcd)
        _wait(lambda: all(_etcd_healthy(p) for p in layout.etcd_client_ports), timeout_s, "etcd")
        for member in layout.members:
            config = folder / f"{member.name}.yml"
            config.write_text(
                json.dumps(_patroni_config(layout, member, pg_bin), indent=2), "utf-8"
            )
            _hand_over(config)
            _spawn(layout, member.name, [*_python(), "-m", "patroni", str(config)])
        _wait(lambda: _alive_or_fail(layout) and _quorum_met(layout), timeout_s, "the quorum")
        _create_database(layout)
    except BaseException:
        down(folder)
        raise
    return layout


def down(folder: Path, timeout_s: float = 30.0) -> list[str]:
    """Stop the local cluster in ``folder`` by the PIDs it recorded; returns what was stopped.

    Patroni stops its PostgreSQL on SIGTERM; a member or etcd that does not end within
    ``timeout_s`` gets SIGKILL (and so does a PostgreSQL its killed Patroni left running).
    """
    layout = ClusterLayout(Path(folder).absolute())
    stopped: list[str] = []
    stopped += _stop(layout, [m.name for m in layout.members], timeout_s)
    # etcd is crash-safe (every write is in its fsynced log): a member that is still busy
    # handing over its leadership to peers that are leaving too is not waited for long.
    stopped += _stop(layout, [f"etcd{i + 1}" for i in range(MEMBERS)], min(timeout_s, 2.0))
    for member in layout.members:  # a postmaster whose Patroni was killed keeps running
        postmaster = postmaster_pid(layout, member)
        if postmaster is not None and _alive(postmaster):
            _signal(postmaster, signal.SIGKILL)
    return stopped


def _stop(layout: ClusterLayout, names: Sequence[str], timeout_s: float) -> list[str]:
    """SIGTERM the processes ``names`` and wait for them; SIGKILL what is left after the wait."""
    stopped = []
    pids = {name: pid for name in names if (pid := _read_pid(layout.pid_file(name)))}
    for name, pid in pids.items():
        if _alive(pid):
            _signal(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + timeout_s
    while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for name, pid in pids.items():
        if _alive(pid):
            _signal(pid, signal.SIGKILL, group=True)
        layout.pid_file(name).unlink(missing_ok=True)
    return stopped


def member_pids(layout: ClusterLayout, member: Member) -> list[int]:
    """The live PIDs of ``member``'s machine stand-in: its Patroni and its PostgreSQL."""
    pids = [_read_pid(layout.pid_file(member.name)), postmaster_pid(layout, member)]
    return [p for p in pids if p is not None and _alive(p)]


def postmaster_pid(layout: ClusterLayout, member: Member) -> int | None:
    """The PID of ``member``'s PostgreSQL server (from its ``postmaster.pid``), or None."""
    return _read_pid(layout.folder / member.name / "data" / "postmaster.pid")


def cluster_status(layout: ClusterLayout, timeout_s: float = 5.0) -> ClusterStatus:
    """The members as Patroni sees them and the replication as the primary sees it."""
    members: tuple[MemberState, ...] = ()
    for member in layout.members:
        try:
            data = httpx.get(f"http://127.0.0.1:{member.api_port}/cluster", timeout=timeout_s)
            members = tuple(_member_state(m) for m in data.json().get("members", []))
            break
        except (httpx.HTTPError, ValueError):
            continue
    if not members:
        raise UserError.of(
            "no member of the cluster in {folder} answers", folder=str(layout.folder)
        )
    return ClusterStatus(members, _replication(layout))


def _member_state(data: dict[str, Any]) -> MemberState:
    lag = data.get("lag")
    return MemberState(
        str(data.get("name")),
        str(data.get("role")),
        str(data.get("state")),
        int(data.get("port", 0)),
        int(data["timeline"]) if data.get("timeline") is not None else None,
        int(lag) if isinstance(lag, int) else None,
    )


def _replication(layout: ClusterLayout) -> ReplicationStatus | None:
    from pollnet.store.engine import create_engine

    engine = create_engine(layout.database_url.replace(f"/{layout.database}?", "/postgres?"))
    try:
        with engine.connect() as conn:
            return replication_status(conn)
    except Exception:  # no primary right now (a failover): Patroni's view says the rest
        return None
    finally:
        engine.dispose()


def _alive_or_fail(layout: ClusterLayout) -> bool:
    """True while every member runs; a member that died raises with its log's last line."""
    for member in layout.members:
        pid = _read_pid(layout.pid_file(member.name))
        if pid is None or not _alive(pid):
            lines = (
                (layout.folder / f"{member.name}.log").read_text("utf-8", "replace").splitlines()
            )
            raise UserError.of(
                "{member} stopped: {reason}",
                member=member.name,
                reason=lines[-1] if lines else "?",
            )
    return True


def _quorum_met(layout: ClusterLayout) -> bool:
    replication = _replication(layout)
    return (
        replication is not None
        and replication.quorum_met
        and replication.acknowledging == MEMBERS - 1
    )


def _create_database(layout: ClusterLayout) -> None:
    import psycopg

    url = layout.database_url.replace(f"/{layout.database}?", "/postgres?")
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (layout.database,)
        ).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{layout.database}"')


def _patroni_config(layout: ClusterLayout, member: Member, pg_bin: Path) -> dict[str, Any]:
    node = layout.folder / member.name
    local = ["local all all trust", "host all all 127.0.0.1/32 trust"]
    return {
        "scope": layout.scope,
        "namespace": "/pollnet/",
        "name": member.name,
        "log": {"level": "WARNING"},
        "restapi": {
            "listen": f"127.0.0.1:{member.api_port}",
            "connect_address": f"127.0.0.1:{member.api_port}",
        },
        "etcd3": {"hosts": [f"127.0.0.1:{p}" for p in layout.etcd_client_ports]},
        "bootstrap": {
            "dcs": {
                "ttl": TTL_S,
                "loop_wait": LOOP_WAIT_S,
                "retry_timeout": RETRY_TIMEOUT_S,
                "maximum_lag_on_failover": 16 * 1024 * 1024,
                "synchronous_mode": "quorum",
                # With both standbys gone, commits wait rather than go on unconfirmed.
                "synchronous_mode_strict": True,
                "synchronous_node_count": 1,
                "primary_start_timeout": 0,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "synchronous_commit": "on",
                        "max_connections": 200,
                        "wal_log_hints": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "wal_keep_size": "256MB",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{member.pg_port}",
            "connect_address": f"127.0.0.1:{member.pg_port}",
            "data_dir": str(node / "data"),
            "bin_dir": str(pg_bin),
            "pgpass": str(node / "pgpass"),
            "authentication": {
                "superuser": {"username": OS_USER},
                "replication": {"username": "replicator"},
                "rewind": {"username": OS_USER},
            },
            "parameters": {"unix_socket_directories": str(node)},
            # Loopback only: the local cluster trusts 127.0.0.1 like the test servers do; the
            # deployment on machines uses scram-sha-256 and TLS (docs/deployment.md).
            "pg_hba": [*local, "host replication all 127.0.0.1/32 trust"],
        },
        "tags": {"nofailover": False, "noloadbalance": False},
    }


def _start_etcd(layout: ClusterLayout, etcd: str) -> None:
    peers = ",".join(
        f"etcd{i + 1}=http://127.0.0.1:{p}" for i, p in enumerate(layout.etcd_peer_ports)
    )
    fresh = not any((layout.folder / f"etcd{i + 1}").exists() for i in range(MEMBERS))
    token = f"pollnet-{secrets.token_hex(4)}"
    for i, (client, peer) in enumerate(
        zip(layout.etcd_client_ports, layout.etcd_peer_ports, strict=True)
    ):
        name = f"etcd{i + 1}"
        _spawn(
            layout,
            name,
            [
                etcd,
                f"--name={name}",
                f"--data-dir={layout.folder / name}",
                f"--listen-client-urls=http://127.0.0.1:{client}",
                f"--advertise-client-urls=http://127.0.0.1:{client}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster={peers}",
                f"--initial-cluster-state={'new' if fresh else 'existing'}",
                f"--initial-cluster-token={token}",
                "--log-level=warn",
            ],
        )


def _python() -> list[str]:
    """The Python that runs Patroni (installed with pollnet) as the ``postgres`` user.

    As root, this interpreter may live where ``postgres`` cannot go (a home folder): the
    system's interpreter of the same version then runs it, with this one's packages on its path.
    """
    if os.geteuid() != 0:
        return [sys.executable]
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    # -S: the system's own packages stay out (they do not match this interpreter's).
    return [str(system), "-S"] if system.exists() else [sys.executable]


def _spawn(layout: ClusterLayout, name: str, command: Sequence[str]) -> None:
    """Start ``command`` in its own process group, as ``postgres`` when root; record its PID."""
    log = open(layout.folder / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
    try:
        as_postgres = os.geteuid() == 0
        env = {**os.environ, "HOME": str(layout.folder), "PYTHONNOUSERSITE": "1"}
        if as_postgres:
            env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=layout.folder,
            env=env,
            user=OS_USER if as_postgres else None,
            group=OS_USER if as_postgres else None,
            extra_groups=[] if as_postgres else None,
            process_group=0,
        )
    finally:
        log.close()
    layout.pid_file(name).write_text(f"{process.pid}\n", "utf-8")


def _hand_over(path: Path) -> None:
    """Give ``path`` to the ``postgres`` user when running as root (its processes write there)."""
    if os.geteuid() == 0:
        shutil.chown(path, OS_USER, OS_USER)


def _running(layout: ClusterLayout) -> bool:
    names = [m.name for m in layout.members] + [f"etcd{i + 1}" for i in range(MEMBERS)]
    return any(
        (pid := _read_pid(layout.pid_file(name))) is not None and _alive(pid) for name in names
    )


def _read_pid(path: Path) -> int | None:
    try:
        first = path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
        return int(first) if first else None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie child of ours is reaped and counts as gone)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(pid: int, sig: signal.Signals, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        os.kill(pid, sig)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _etcd_healthy(port: int) -> bool:
    try:
        return bool(
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["health"] == "true"
        )
    except (httpx.HTTPError, ValueError, KeyError):
        return False


def _wait(ready: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise UserError.of(
                "{what} did not come up in {seconds} s", what=what, seconds=str(int(timeout_s))
            )
        time.sleep(0.2)


def free_base_port(start: int = 20000, stop: int = 40000) -> int:
    """A base port whose whole block of ports is free on 127.0.0.1 now (for tests)."""
    for _ in range(200):
        base = secrets.randbelow((stop - start) // PORTS_PER_CLUSTER) * PORTS_PER_CLUSTER + start
        if all(_port_free(p) for p in range(base, base + PORTS_PER_CLUSTER)):
            return base
    raise RuntimeError("no free block of ports")


def start_member(layout: ClusterLayout, member: Member) -> bool:
    """Start ``member``'s Patroni again when it is not running (a machine back after a loss);
    a PostgreSQL its killed Patroni left behind is stopped first. True when it was started."""
    pid = _read_pid(layout.pid_file(member.name))
    if pid is not None and _alive(pid):
        return False
    stale = postmaster_pid(layout, member)
    if stale is not None and _alive(stale):
        _signal(stale, signal.SIGKILL)
    config = layout.folder / f"{member.name}.yml"
    _spawn(layout, member.name, [*_python(), "-m", "patroni", str(config)])
    return True


def wait_for_quorum(layout: ClusterLayout, timeout_s: float = 90.0) -> None:
    """Wait until the primary has every standby streaming and confirming commits."""
    _wait(lambda: _quorum_met(layout), timeout_s, "the quorum")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs."""
    return _alive(pid)

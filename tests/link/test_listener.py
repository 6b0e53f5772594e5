"""The listener cannot be exhausted without a certificate: bounded handshakes, requests, idle
connections and connection counts, a clear refusal when full, the open-file limit checked.

Real sockets against the real service on 127.0.0.1 (flooding addresses 127.0.0.2 and up, which
Linux routes to the loopback like 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import resource
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollnet.errors import ConfigError
from pollnet.link import pki
from pollnet.link.listener import FILES_RESERVED, Gatekeeper, ListenerLimits, resolve_limits
from pollnet.link.service import RunningService, start_in_thread
from pollnet.store import open_store
from tests.link.service_helpers import checkin_body, client, make_pki, national_code, policy

DEVICES = {"F-1": "ST-F", "F-2": "ST-F", "F-3": "ST-G"}


@pytest.fixture(scope="module")
def flood_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("flood-pki") / "pki", DEVICES)


@contextlib.contextmanager
def serving(pki_dir: Path, folder: Path, **limits: object) -> Iterator[RunningService]:
    engine = open_store(f"sqlite:///{folder / 'link.db'}")
    running = start_in_thread(
        engine,
        pki_dir,
        policy(),
        heartbeat_seconds=1.0,
        limits=ListenerLimits(**limits),  # type: ignore[arg-type]
    )
    try:
        yield running
    finally:
        running.stop()
        engine.dispose()


def raw(service: RunningService, source: str = "127.0.0.2") -> socket.socket:
    """A stalled connection to the service from ``source``: the first byte of a TLS record,
    then nothing (a silent one never reaches the service: see the test of silent ones)."""
    sock = silent(service, source)
    sock.sendall(b"\x16")
    time.sleep(0.001)
    return sock


def silent(service: RunningService, source: str = "127.0.0.2") -> socket.socket:
    """A TCP connection to the service from ``source`` that sends nothing."""
    sock = socket.create_connection(("127.0.0.1", service.port), source_address=(source, 0))
    sock.settimeout(5)
    return sock


def test_silent_connections_are_held_by_the_kernel_and_dropped_on_arrival(
    flood_pki: Path, tmp_path: Path
) -> None:
    """300 connections that send nothing take no place in the service's pools (more than the
    handshake pool holds), and are dropped as soon as the kernel hands them over."""
    with serving(flood_pki, tmp_path, handshake_timeout_s=1.0, max_handshakes=50) as service:
        quiet = [silent(service, f"127.0.0.{2 + n % 10}") for n in range(300)]
        time.sleep(0.3)
        metrics = _metrics(flood_pki, service)
        assert 'pollnet_listener_connections{state="handshake"} 0.0' in metrics
        assert 'reason="evicted_handshake"' not in metrics
        assert served(flood_pki, service) == 200
        assert all(closed_by_peer(s, 8.0) for s in quiet)
        assert 'pollnet_listener_refused_total{reason="silent"} 300.0' in _metrics(
            flood_pki, service
        )
        for s in quiet:
            s.close()


def closed_by_peer(sock: socket.socket, within_s: float) -> bool:
    """Whether the service closed (or reset) ``sock`` within ``within_s`` seconds."""
    sock.settimeout(within_s)
    try:
        return sock.recv(65536) == b""
    except (ConnectionResetError, ssl.SSLError, OSError) as exc:
        return not isinstance(exc, TimeoutError)


def served(pki_dir: Path, service: RunningService, serial: str = "F-1") -> int:
    with client(pki_dir, serial, service) as device:
        return device.get("/v1/health").status_code


def test_idle_connections_without_a_certificate_are_dropped(
    flood_pki: Path, tmp_path: Path
) -> None:
    with serving(flood_pki, tmp_path, handshake_timeout_s=0.5) as service:
        idle = [raw(service) for _ in range(30)]
        time.sleep(1.5)
        assert all(closed_by_peer(s, 2.0) for s in idle)
        assert served(flood_pki, service) == 200
        for s in idle:
            s.close()


def test_connections_per_address_are_capped(flood_pki: Path, tmp_path: Path) -> None:
    with serving(flood_pki, tmp_path, max_connections_per_address=5) as service:
        held = [raw(service) for _ in range(5)]
        extra = raw(service)
        assert closed_by_peer(extra, 2.0), "a sixth connection from one address is refused"
        assert not any(closed_by_peer(s, 0.05) for s in held)
        assert served(flood_pki, service) == 200  # from 127.0.0.1: its own count
        metrics = _metrics(flood_pki, service)
        assert 'pollnet_listener_refused_total{reason="per_address"} 1.0' in metrics
        for s in [*held, extra]:
            s.close()


def test_a_full_handshake_pool_evicts_the_oldest(flood_pki: Path, tmp_path: Path) -> None:
    with serving(flood_pki, tmp_path, max_handshakes=8) as service:
        idle = [raw(service, f"127.0.0.{2 + n}") for n in range(8)]
        time.sleep(0.2)
        assert served(flood_pki, service) == 200  # took the place of the oldest idle one
        assert closed_by_peer(idle[0], 2.0)
        assert not closed_by_peer(idle[-1], 0.05)
        for s in idle:
            s.close()
        time.sleep(0.2)
        # The evicted connection is not counted as established (only /metrics' own is).
        assert 'pollnet_listener_connections{state="established"} 1.0' in _metrics(
            flood_pki, service
        )


def test_beyond_max_connections_devices_are_refused_clearly(
    flood_pki: Path, tmp_path: Path
) -> None:
    with serving(flood_pki, tmp_path, max_connections=2) as service:
        with client(flood_pki, "F-1", service) as one, client(flood_pki, "F-2", service) as two:
            assert one.get("/v1/health").status_code == 200  # keep-alive: both stay open
            assert two.get("/v1/health").status_code == 200
            with client(flood_pki, "F-3", service) as three:
                shed = three.post("/v1/checkins", json=checkin_body(national_code(1)))
            assert shed.status_code == 503
            assert shed.json()["reason"] == "overloaded"
            assert shed.headers["retry-after"] == "2"
        assert served(flood_pki, service, "F-3") == 200  # room again
        count = service.service.ledger.batches
    assert count == 0  # the shed check-in never reached the ledger


def test_slow_heads_and_bodies_are_dropped(flood_pki: Path, tmp_path: Path) -> None:
    """A device certificate does not buy an open connection for ever (slowloris)."""
    with serving(flood_pki, tmp_path, request_timeout_s=0.5) as service:
        context = pki.device_ssl_context(flood_pki / "bundles" / "F-1")
        for partial in (
            b"POST /v1/checkins HTTP/1.1\r\nhost: x\r\n",
            b"POST /v1/checkins HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n{",
            b"",  # nothing at all after the handshake
        ):
            sock = socket.create_connection(("127.0.0.1", service.port))
            tls = context.wrap_socket(sock, server_hostname="127.0.0.1")
            tls.sendall(partial)
            time.sleep(1.2)
            assert closed_by_peer(tls, 2.0), partial
            tls.close()
        assert served(flood_pki, service) == 200
        assert 'reason="slow_request"} 3.0' in _metrics(flood_pki, service)


def test_a_flood_of_idle_connections_leaves_devices_served(flood_pki: Path, tmp_path: Path) -> None:
    """Fault test: 600 idle connections from 12 addresses (more than the handshake pool
    holds), refilled as they are dropped, while a device checks 20 voters in: all recorded."""
    limits = {"handshake_timeout_s": 1.0, "max_handshakes": 200}
    with serving(flood_pki, tmp_path, **limits) as service:
        flood: list[socket.socket] = []
        deadline = time.monotonic() + 60
        with client(flood_pki, "F-1", service) as device:
            for n in range(20):
                while len(flood) < 600:
                    flood.append(raw(service, f"127.0.0.{2 + len(flood) % 12}"))
                body = checkin_body(national_code(200 + n))
                answer = device.post("/v1/checkins", json=body)
                assert answer.status_code == 201, answer.text
                flood = [s for s in flood if not closed_by_peer(s, 0.0001) or s.close()]
                assert time.monotonic() < deadline
        for s in flood:
            s.close()
        assert 'reason="evicted_handshake"}' in _metrics(flood_pki, service)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_of_aborted_handshakes_is_given_back(flood_pki: Path, tmp_path: Path) -> None:
    """1,500 connections that send half a ClientHello and reset: each left 256 KB of TLS
    buffer until its handshake time was up, and the heap kept the memory afterwards (the
    service grew by about 50 KB per aborted handshake, for ever). Once the burst is over it
    is given back."""
    hello = bytes.fromhex("16030100c8010000c40303") + bytes(32)
    reset = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close with a reset
    with serving(flood_pki, tmp_path, handshake_timeout_s=1.0) as service:
        assert served(flood_pki, service) == 200
        before = _rss_mb()
        for n in range(1500):
            sock = socket.create_connection(
                ("127.0.0.1", service.port), source_address=(f"127.0.0.{2 + n % 40}", 0)
            )
            sock.sendall(hello)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
            sock.close()
        deadline = time.monotonic() + 60
        while "pollnet_listener_memory_trims_total 1.0" not in _metrics(flood_pki, service):
            assert time.monotonic() < deadline, "the memory was never given back"
            time.sleep(0.5)
        grown = _rss_mb() - before
        assert grown < 25, f"{grown:.0f} MB kept after 1,500 aborted handshakes"
        assert served(flood_pki, service) == 200


def test_the_open_file_limit_is_raised_and_checked() -> None:
    script = (
        "import resource\n"
        "from pollnet.link.listener import raise_open_file_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "print(raise_open_file_limit() == hard)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    fitted = resolve_limits(ListenerLimits(max_handshakes=100))
    assert fitted.max_connections == min(50_000, files - FILES_RESERVED - 100)
    with pytest.raises(ConfigError, match="open-file limit"):
        resolve_limits(ListenerLimits(max_connections=files * 2))
    with pytest.raises(ConfigError, match="open-file limit"):  # the service checks it too
        Gatekeeper(ListenerLimits(max_connections=files * 2))


def _metrics(pki_dir: Path, service: RunningService) -> str:
    with client(pki_dir, "F-1", service) as device:
        return device.get("/metrics").text

"""A device bundle with several services per link: the device moves to the next one."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from pollnet.link import pki
from pollnet.link.client import Bundle, DeviceClient, Voter
from pollnet.link.service import start_in_thread
from pollnet.store import open_store
from tests.link.service_helpers import make_pki, national_code, policy


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it now


def test_a_bundle_keeps_several_services_per_link_in_order(tmp_path: Path) -> None:
    pki_dir = make_pki(tmp_path / "pki", {})
    urls = ["https://10.0.0.1:8443", "https://10.0.0.2:8443"]
    folder = pki.enroll_device(
        pki_dir, "ST-E", "E-1", tmp_path / "b", endpoints={"fiber": urls, "lte": "https://x:1"}
    )
    bundle = Bundle.load(folder)
    assert bundle.endpoints == {"fiber": tuple(urls), "lte": "https://x:1"}
    assert 'fiber = ["https://10.0.0.1:8443", "https://10.0.0.2:8443"]' in (
        folder / "bundle.toml"
    ).read_text(encoding="utf-8")


def test_a_device_moves_to_the_next_service_when_one_does_not_answer(tmp_path: Path) -> None:
    pki_dir = make_pki(tmp_path / "pki", {})
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    service = start_in_thread(engine, pki_dir, policy())
    dead = f"https://127.0.0.1:{_closed_port()}"
    folder = pki.enroll_device(
        pki_dir, "ST-E", "E-2", tmp_path / "b", endpoints={"fiber": [dead, service.url]}
    )

    async def run() -> list[str]:
        async with DeviceClient(folder, policy="refuse", retry_s=60) as client:
            outcomes = []
            for n in range(3):
                result = await client.check_in(Voter(national_code(n), "1360/01/01", True, 0.9))
                outcomes.append(f"{result.outcome}/{result.link}")
            return outcomes

    try:
        # The first service refuses the connection: the same request goes to the second at
        # once, and the dead one is not tried again before retry_s.
        assert asyncio.run(run()) == ["accepted/fiber"] * 3
    finally:
        service.stop()

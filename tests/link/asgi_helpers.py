"""Calling the service's ASGI app in-process, as uvicorn does after the TLS handshake."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pollnet.link.service import LinkService


def device_pem(pki_dir: Path, serial: str) -> str:
    """The PEM certificate of device ``serial`` (what the TLS layer hands the app)."""
    return (pki_dir / "bundles" / serial / "device.crt").read_text()


async def call(
    app: LinkService,
    pem: str,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: bytes = b"application/json",
) -> tuple[int, bytes]:
    """One request to ``app`` from the device of ``pem``: its status code and body."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body))],
        "extensions": {"tls": {"client_cert_chain": [pem]}},
    }
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.sleep(3600)
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

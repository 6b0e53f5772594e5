"""kill -9 of ``pollnet serve`` under load loses no acknowledged check-in (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from pollnet.link import pki
from pollnet.link.anchor import read_head
from pollnet.link.audit import verify_audit
from pollnet.link.checkin import CheckinPolicy, parse_checkin
from pollnet.link.ledger import Ledger
from pollnet.link.pki import DeviceIdentity
from pollnet.link.service import link_settings
from pollnet.settings import load
from pollnet.store import open_store
from pollnet.store.schema.link import checkins
from tests.link.service_helpers import checkin_body, make_pki, national_code

LOAD_SECONDS = 1.5
THREADS = 6


def env_of(db_url: str) -> dict[str, str]:
    return {**os.environ, "POLLNET_DB": db_url, "POLLNET_LANG": "en"}


def _start(pki_dir: Path, db_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = env_of(db_url)
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pollnet.cli import main; main()",
                "serve",
                "--pki",
                str(pki_dir),
                "--port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=log.parent,  # its signed ledger head goes to pollnet-data/ there
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.findall(r"https://127\.0\.0\.1:\d+", log.read_text())
        if found and _up(pki_dir, found[-1]):
            return proc, found[-1]
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the service did not start: " + log.read_text())


def _up(pki_dir: Path, url: str) -> bool:
    try:
        with httpx.Client(
            verify=pki.device_ssl_context(pki_dir / "bundles" / "D-0"), base_url=url
        ) as c:
            return c.get("/v1/health").status_code == 200
    except httpx.TransportError:
        return False


def test_kill_9_under_load_loses_no_acknowledged_checkin(db_url: str, tmp_path: Path) -> None:
    devices = {f"D-{n}": f"ST-{n}" for n in range(THREADS)}
    pki_dir = make_pki(tmp_path / "pki", devices)
    open_store(db_url).dispose()  # migrate before the service starts
    log = tmp_path / "serve.log"
    proc, url = _start(pki_dir, db_url, log)

    acknowledged: dict[int, tuple[str, dict[str, object]]] = {}
    unexpected: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def device(n: int) -> None:
        ctx = pki.device_ssl_context(pki_dir / "bundles" / f"D-{n}")
        with httpx.Client(verify=ctx, base_url=url, timeout=10) as c:
            i = 0
            while not stop.is_set():
                body = checkin_body(national_code(n * 1_000_000 + i))
                i += 1
                try:
                    answer = c.post("/v1/checkins", json=body)
                except httpx.TransportError:
                    return  # the service is gone: whatever was not answered was not promised
                with lock:
                    if answer.status_code == 201:
                        acknowledged[answer.json()["checkin_id"]] = (f"D-{n}", body)
                    else:
                        unexpected.append(answer.text)

    threads = [threading.Thread(target=device, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert unexpected == []
    assert len(acknowledged) > 50, "too little load to prove anything"

    engine = open_store(db_url)
    policy: CheckinPolicy = link_settings(load(env=env_of(db_url))).policy
    election = policy.election
    with engine.connect() as conn:
        rows = {r.id: r.device for r in conn.execute(sa.select(checkins.c.id, checkins.c.device))}
    missing = [i for i in acknowledged if i not in rows]
    assert missing == []
    # The head the killed services signed (about once a second) is a prefix of the chain.
    head = read_head(tmp_path / "pollnet-data" / "ledger-head.txt", pki.head_public_key(pki_dir))
    audit = verify_audit(engine, [head])
    assert audit.ok, audit.problems
    assert audit.checkins == len(rows) and 0 < audit.anchored <= audit.batches
    assert all(rows[i] == device for i, (device, _body) in acknowledged.items())

    # A retry of an acknowledged check-in still gets its answer back, not a duplicate.
    hmac_key = pki.read_ledger_key(pki_dir)
    sample = list(acknowledged.items())[:: max(1, len(acknowledged) // 50)]
    with Ledger(engine, election) as ledger:
        for checkin_id, (serial, body) in sample:
            who = DeviceIdentity(serial, devices[serial], 0, dt.datetime.max.replace(tzinfo=dt.UTC))
            item = parse_checkin(body, who, policy, hmac_key, dt.datetime.now(dt.UTC))
            answer = ledger.record(item)
            assert answer.status_code == 201 and answer.json()["checkin_id"] == checkin_id

    logged = log.read_bytes()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("*.db*"))
    for _serial, body in acknowledged.values():
        code = str(body["national_code"]).encode()
        assert code not in logged
        assert code not in stored

"""A device killed with kill -9 mid-stream: on restart it replays what it took, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from pollnet.link import pki
from pollnet.link.ledger import checkin_count, recorded_ids
from pollnet.link.queue import DurableQueue
from pollnet.link.service import start_in_thread
from pollnet.store import open_store
from tests.link.service_helpers import ELECTION, make_pki, national_code, policy


def device_command(bundle: Path, queue: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pollnet",
        "--lang",
        "en",
        "device",
        "run",
        "--bundle",
        str(bundle),
        "--queue",
        str(queue),
        "--json",
    ]


def test_a_device_killed_mid_stream_loses_nothing(tmp_path: Path) -> None:
    pki_dir = make_pki(tmp_path / "pki", {})
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    service = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    bundle = pki.enroll_device(
        pki_dir, "ST-K", "K-1", tmp_path / "bundle", endpoints={"fiber": service.url}
    )
    queue = tmp_path / "queue.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLLNET_")}
    lines = "".join(
        json.dumps(
            {
                "national_code": national_code(500 + n),
                "birth_date": "1360/02/02",
                "card_read": True,
                "fingerprint_score": 0.9,
            }
        )
        + "\n"
        for n in range(400)
    )
    try:
        proc = subprocess.Popen(
            device_command(bundle, queue),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(lines)
        proc.stdin.flush()
        printed = []
        for line in proc.stdout:
            printed.append(json.loads(line))
            if len(printed) == 60:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()
        acknowledged = {a["answer"]["checkin_id"] for a in printed if a["outcome"] == "accepted"}
        assert len(acknowledged) == 60
        with DurableQueue(queue, pki.queue_key(bundle)) as taken:
            before = {i.idempotency_key: i for i in taken.items()}
        assert len(before) >= 60  # every answer printed was on disk first

        # Restart with no new voters: the device sends what was still queued, then stops.
        again = subprocess.run(
            device_command(bundle, queue), input="", capture_output=True, text=True, env=env
        )
        assert again.returncode == 0, again.stderr
        with DurableQueue(queue, pki.queue_key(bundle)) as taken:
            after = taken.items()
            assert taken.depth() == 0
    finally:
        service.stop()
    assert {i.idempotency_key for i in after} == set(before)
    # The one in flight at the kill was asked about: recorded (accepted) or never (not_recorded).
    accepted = [i for i in after if i.outcome == "accepted"]
    assert len(after) - len(accepted) <= 1
    assert all(i.outcome == "not_recorded" for i in after if i.outcome != "accepted")
    ids = {int(i.answer["checkin_id"]) for i in accepted if i.answer}
    assert acknowledged <= ids and recorded_ids(engine, ids) == ids
    assert checkin_count(engine, ELECTION) == len(accepted)  # each voter once, none twice
    engine.dispose()

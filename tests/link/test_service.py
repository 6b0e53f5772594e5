"""The service over real mutual TLS on 127.0.0.1: every bad input refused with a clear reason."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollnet.link import pki
from pollnet.link.checkin import is_clean_text
from pollnet.link.national_code import is_valid_national_code
from pollnet.link.service import RunningService, start_in_thread
from pollnet.store import open_store
from tests.link.service_helpers import (
    DEVICES,
    checkin_body,
    client,
    make_pki,
    national_code,
    policy,
    sqlite_service,
)

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki", DEVICES)


@pytest.fixture
def service(pki_dir: Path, tmp_path: Path) -> Iterator[RunningService]:
    """The service on SQLite, on a free port of 127.0.0.1."""
    with sqlite_service(pki_dir, tmp_path) as running:
        yield running


def test_accepted_then_refused_as_duplicate_at_another_station(
    pki_dir: Path, service: RunningService
) -> None:
    with client(pki_dir, "D-1", service) as one, client(pki_dir, "D-3", service) as other:
        first = one.post("/v1/checkins", json=checkin_body("0499370899"))
        assert first.status_code == 201
        body = first.json()
        assert (
            body["status"] == "accepted" and body["station"] == "ST-1" and body["device"] == "D-1"
        )
        again = other.post("/v1/checkins", json=checkin_body("۰۴۹۹۳۷۰۸۹۹"))
    assert again.status_code == 409
    assert again.json() == {
        "status": "refused",
        "reason": "duplicate",
        "first": {"station": "ST-1", "at": body["recorded_at"]},
    }


def test_a_replay_gets_the_original_answer_verbatim(pki_dir: Path, service: RunningService) -> None:
    body = checkin_body(national_code(1))
    refused_body = checkin_body(national_code(2), card_read=False)
    with client(pki_dir, "D-1", service) as c:
        first = c.post("/v1/checkins", json=body)
        second = c.post("/v1/checkins", json=body)
        refused = c.post("/v1/checkins", json=refused_body)
        refused_again = c.post("/v1/checkins", json=refused_body)
        # The same key with another body (the card read this time) is not the same request.
        changed = c.post("/v1/checkins", json={**refused_body, "card_read": True})
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert refused.status_code == 422 and refused.json()["reason"] == "verification_failed"
    assert (refused_again.status_code, refused_again.content) == (422, refused.content)
    assert changed.status_code == 409
    assert changed.json()["reason"] == "idempotency_key_reused"


def test_the_station_comes_from_the_certificate_not_the_body(
    pki_dir: Path, service: RunningService
) -> None:
    with client(pki_dir, "D-4", service) as c:
        answer = c.post(
            "/v1/checkins", json=checkin_body(national_code(3), station="ST-1", device="D-1")
        )
        health = c.get("/v1/health").json()
    assert answer.status_code == 201
    assert (answer.json()["station"], answer.json()["device"]) == ("ST-3", "D-4")
    assert (health["station"], health["device"]) == ("ST-3", "D-4")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"birth_date": (dt.date.today() - dt.timedelta(days=17 * 365)).isoformat()}, "under_age"),
        ({"fingerprint_score": 0.2}, "verification_failed"),
        ({"card_read": False}, "verification_failed"),
        ({"national_code": "1111111111"}, "invalid_national_code"),
        ({"national_code": "0499370898"}, "invalid_national_code"),
        (
            {"device_time": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()},
            "clock_skew",
        ),
    ],
)
def test_refusals_with_a_reason(
    pki_dir: Path, service: RunningService, changes: dict[str, object], reason: str
) -> None:
    with client(pki_dir, "D-2", service) as c:
        answer = c.post("/v1/checkins", json=checkin_body(national_code(4), **changes))
    assert answer.status_code == 422
    assert answer.json()["status"] == "refused" and answer.json()["reason"] == reason
    assert answer.json()["message"]


def test_a_skewed_clock_is_accepted_on_a_replay_of_an_offline_checkin(
    pki_dir: Path, service: RunningService
) -> None:
    hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    with client(pki_dir, "D-2", service) as c:
        answer = c.post(
            "/v1/checkins",
            json=checkin_body(national_code(5), device_time=hour_ago, provisional_at=hour_ago),
        )
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{not json", JSON, 400),
        (b"[1, 2]", JSON, 400),
        (b"\xff\xfe", JSON, 400),
        (json.dumps({"national_code": "0499370899"}).encode(), JSON, 400),
        (json.dumps(checkin_body("0499370899")).encode(), {"content-type": "text/plain"}, 415),
        (json.dumps(checkin_body("0499370899")).encode(), {}, 415),
        (b"{" + b" " * 20_000 + b"}", JSON, 413),
        (json.dumps(checkin_body("0499370899", fingerprint_score="high")).encode(), JSON, 400),
        (json.dumps(checkin_body("0499370899", device_time="noon")).encode(), JSON, 400),
        (json.dumps(checkin_body("0499370899", birth_date="yesterday")).encode(), JSON, 400),
        (json.dumps(checkin_body("0499370899", idempotency_key="")).encode(), JSON, 400),
    ],
)
def test_malformed_requests(
    pki_dir: Path, service: RunningService, content: bytes, headers: dict[str, str], status: int
) -> None:
    with client(pki_dir, "D-1", service) as c:
        answer = c.post("/v1/checkins", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json()["status"] == "refused"


def test_an_oversized_body_without_a_length_is_refused(
    pki_dir: Path, service: RunningService
) -> None:
    def chunks() -> object:
        for _ in range(40):
            yield b" " * 1024

    with client(pki_dir, "D-1", service) as c:
        answer = c.post("/v1/checkins", content=chunks(), headers=JSON)  # type: ignore[arg-type]
    assert answer.status_code == 413


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(code=st.one_of(st.text(max_size=12), st.text(alphabet="0123456789۰۱۲۳۴۵۶۷۸۹", max_size=11)))
def test_generated_invalid_national_codes_are_refused(
    refusing_client: httpx.Client, code: str
) -> None:
    if is_valid_national_code(code):
        return
    answer = refusing_client.post("/v1/checkins", json=checkin_body(code))
    if not is_clean_text(code):  # a control character is no national code at all
        assert answer.status_code == 400
        assert answer.json()["reason"] == "malformed"
        return
    assert answer.status_code == 422
    assert answer.json()["reason"] == "invalid_national_code"


@pytest.fixture
def refusing_client(pki_dir: Path, service: RunningService) -> object:
    with client(pki_dir, "D-2", service) as c:
        yield c


def test_heartbeats_make_station_states(pki_dir: Path, service: RunningService) -> None:
    beat = {
        "link": "fiber",
        "queue_depth": 0,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "software_version": "1.0",
        "battery": 80,
    }
    with client(pki_dir, "D-1", service) as one, client(pki_dir, "D-2", service) as two:
        assert one.post("/v1/heartbeats", json=beat).json()["state"] == "ready"
        assert (
            two.post("/v1/heartbeats", json={**beat, "link": "lte"}).json()["state"] == "degraded"
        )
        assert two.post("/v1/heartbeats", json=beat).json()["state"] == "ready"
        bad = one.post("/v1/heartbeats", json={**beat, "battery": 101})
        assert bad.status_code == 400
        metrics = one.get("/metrics").text
    assert 'pollnet_stations{state="ready"} 1.0' in metrics
    assert 'pollnet_heartbeats_total{link="lte"} 1.0' in metrics
    assert "pollnet_checkin_latency_seconds_bucket" in metrics
    # Three heartbeat intervals (1 s in this fixture) without a word: offline.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3.5)
    assert service.service.board.state_of("ST-1", later) == "offline"


def test_metrics_count_refusals_by_reason(pki_dir: Path, service: RunningService) -> None:
    with client(pki_dir, "D-1", service) as c:
        c.post("/v1/checkins", json=checkin_body("0000000000"))
        c.post("/v1/checkins", json=checkin_body(national_code(7)))
        c.post("/v1/checkins", json=checkin_body(national_code(7)))
        text = c.get("/metrics").text
    assert 'pollnet_checkin_refusals_total{reason="invalid_national_code"} 1.0' in text
    assert 'pollnet_checkin_refusals_total{reason="duplicate"} 1.0' in text
    assert 'pollnet_checkins_total{outcome="accepted"} 1.0' in text


def test_a_certificate_revoked_while_the_service_runs_is_refused(
    tmp_path: Path, service: RunningService, pki_dir: Path
) -> None:
    pki.enroll_device(pki_dir, "ST-5", "D-revoked")
    with client(pki_dir, "D-revoked", service) as c:
        assert c.get("/v1/health").status_code == 200
        pki.revoke(pki_dir, "D-revoked")
        time.sleep(1.1)  # the service re-reads the CRL at most once a second
        answer = c.post("/v1/checkins", json=checkin_body(national_code(8)))
    assert answer.status_code == 403 and answer.json()["reason"] == "revoked"
    # A new connection is refused in the TLS handshake once the service restarts with the CRL;
    # while it runs, the app-level check refuses it.
    with client(pki_dir, "D-revoked", service) as c:
        assert c.get("/v1/health").status_code == 403


def test_expired_and_foreign_certificates_fail_the_handshake(
    tmp_path: Path, service: RunningService, pki_dir: Path
) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    pki.enroll_device(
        pki_dir, "ST-6", "D-expired", valid_from=past, valid_until=past + dt.timedelta(days=7)
    )
    foreign = make_pki(tmp_path / "foreign", {"D-1": "ST-1"})
    expired_ctx = pki.device_ssl_context(pki_dir / "bundles" / "D-expired")
    # The foreign device trusts our server's CA, so only its own certificate is in question.
    foreign_ctx = ssl.create_default_context(cafile=str(pki_dir / "ca.pem"))
    foreign_ctx.load_cert_chain(
        foreign / "bundles" / "D-1" / "device.crt", foreign / "bundles" / "D-1" / "device.key"
    )
    no_cert_ctx = ssl.create_default_context(cafile=str(pki_dir / "ca.pem"))
    for ctx in (expired_ctx, foreign_ctx, no_cert_ctx):
        with (
            httpx.Client(verify=ctx, base_url=service.url) as c,
            pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)),
        ):
            c.get("/v1/health")


def test_unknown_routes_and_methods(pki_dir: Path, service: RunningService) -> None:
    with client(pki_dir, "D-1", service) as c:
        assert c.get("/v1/nothing").status_code == 404
        assert c.get("/v1/checkins").status_code == 405


def test_a_service_started_after_a_revocation_refuses_it_in_the_handshake(
    tmp_path: Path,
) -> None:
    folder = make_pki(tmp_path / "pki", {"D-1": "ST-1", "D-2": "ST-1"})
    pki.revoke(folder, "D-2")
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    running = start_in_thread(engine, folder, policy())
    try:
        with client(folder, "D-1", running) as c:
            assert c.get("/v1/health").status_code == 200
        with (
            client(folder, "D-2", running) as c,
            pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)),
        ):
            c.get("/v1/health")
    finally:
        running.stop()


def test_conflicts_are_counted_per_device_with_an_alert_threshold(
    pki_dir: Path, tmp_path: Path
) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    running = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0, conflict_alert=2)
    offline_at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
    try:
        with client(pki_dir, "D-1", running) as one, client(pki_dir, "D-3", running) as other:
            replays = []
            for n in range(3):
                assert one.post("/v1/checkins", json=checkin_body(national_code(n))).is_success
                replay = checkin_body(
                    national_code(n), device_time=offline_at, provisional_at=offline_at
                )
                replays.append(replay)
                assert other.post("/v1/checkins", json=replay).status_code == 200
            # A resend of the same conflict gets its answer again, and is not counted again.
            assert other.post("/v1/checkins", json=replays[0]).status_code == 200
            metrics = one.get("/metrics").text
    finally:
        running.stop()
        engine.dispose()
    assert 'pollnet_checkin_conflicts_total{device="D-3"} 3.0' in metrics
    assert 'device="D-1"' not in metrics
    assert "pollnet_conflict_alert_threshold 2.0" in metrics
    assert "pollnet_devices_over_conflict_alert 1.0" in metrics


def test_an_offline_acceptance_before_the_devices_last_online_check_in_is_refused(
    pki_dir: Path, service: RunningService
) -> None:
    earlier = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    replay = checkin_body(national_code(50), device_time=earlier, provisional_at=earlier)
    with client(pki_dir, "D-2", service) as c:
        assert c.post("/v1/checkins", json=checkin_body(national_code(51))).status_code == 201
        answer = c.post("/v1/checkins", json=replay)
        year_2099 = checkin_body(
            national_code(52),
            device_time="2099-01-01T08:00:00+03:30",
            provisional_at="2099-01-01T08:00:00+03:30",
        )
        far = c.post("/v1/checkins", json=year_2099)
        metrics = c.get("/metrics").text
    assert answer.status_code == 422
    assert answer.json()["reason"] == "provisional_out_of_bounds"
    assert far.status_code == 422
    assert far.json()["reason"] == "provisional_out_of_bounds"
    assert 'pollnet_checkin_refusals_total{reason="provisional_out_of_bounds"} 2.0' in metrics


def test_a_reused_key_for_another_voter_is_409_over_the_wire(
    pki_dir: Path, service: RunningService
) -> None:
    with client(pki_dir, "D-1", service) as c:
        first = c.post("/v1/checkins", json=checkin_body(national_code(60), idempotency_key="k"))
        second = c.post("/v1/checkins", json=checkin_body(national_code(61), idempotency_key="k"))
        metrics = c.get("/metrics").text
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["reason"] == "idempotency_key_reused"
    assert 'pollnet_checkin_refusals_total{reason="idempotency_key_reused"} 1.0' in metrics
    assert 'pollnet_checkins_total{outcome="duplicate"}' not in metrics


def test_health_and_metrics_show_the_heartbeat_writer(
    pki_dir: Path, service: RunningService
) -> None:
    beat = {
        "link": "fiber",
        "queue_depth": 0,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "software_version": "1.0.0",
        "battery": 90,
    }
    with client(pki_dir, "D-1", service) as c:
        assert c.post("/v1/heartbeats", json=beat).status_code == 200
        refused = c.post("/v1/heartbeats", json={**beat, "queue_depth": 2**31})
        deadline = time.monotonic() + 20
        while service.service.board.health().last_written is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        health = c.get("/v1/health").json()
        metrics = c.get("/metrics").text
    assert refused.status_code == 400
    writer = health["heartbeat_writer"]
    assert writer["state"] == "ok" and writer["pending"] == 0 and writer["failures"] == 0
    assert dt.datetime.fromisoformat(writer["last_written"]) <= dt.datetime.now(dt.UTC)
    assert "pollnet_heartbeat_writer_up 1.0" in metrics
    assert 'pollnet_heartbeat_writer_state{state="ok"} 1.0' in metrics
    assert "pollnet_heartbeats_pending 0.0" in metrics
    assert "pollnet_heartbeat_write_failures_total 0.0" in metrics


def test_the_offline_window_and_the_conflict_alert_come_from_the_link_settings() -> None:
    from pollnet.errors import UserError
    from pollnet.link.service import link_settings
    from pollnet.settings import Settings

    config = link_settings(
        Settings(
            sections={
                "link": {
                    "election_opens": "2028-02-25T08:00:00+03:30",
                    "election_closes": dt.datetime(2028, 2, 25, 22, 0, tzinfo=dt.UTC),
                    "conflict_alert_per_device": 3,
                }
            }
        )
    )
    assert config.policy.window() == (
        dt.datetime(2028, 2, 25, 4, 30, tzinfo=dt.UTC),
        dt.datetime(2028, 2, 25, 22, 0, tzinfo=dt.UTC),
    )
    assert config.conflict_alert == 3
    default = link_settings(Settings(sections={"link": {}}))
    opens, closes = default.policy.window()
    day = dt.datetime.combine(default.policy.election_date, dt.time(), dt.UTC)
    assert (day - opens, closes - day) == (dt.timedelta(hours=14), dt.timedelta(hours=36))
    assert default.conflict_alert == 10
    with pytest.raises(UserError):
        link_settings(Settings(sections={"link": {"conflict_alert_per_device": "many"}}))

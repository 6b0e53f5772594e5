"""Parsing a check-in: every field's type, range and characters checked before the ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from pollnet.link.checkin import Checkin, MalformedRequest, parse_checkin
from pollnet.link.pki import DeviceIdentity
from tests.link.service_helpers import checkin_body, policy

IDENTITY = DeviceIdentity("D-1", "ST-1", 1, dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
KEY = b"k" * 32


def _parse(**changes: Any) -> Checkin:
    return parse_checkin(
        checkin_body("0499370899", **changes), IDENTITY, policy(), KEY, dt.datetime.now(dt.UTC)
    )


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        # Valid ISO times that have no UTC equivalent: they failed the writer's transaction.
        ("device_time", "0001-01-01T00:00:00+14:00", "device_time must be an ISO 8601 time"),
        ("device_time", "9999-12-31T23:59:59-14:00", "device_time must be an ISO 8601 time"),
        ("provisional_at", "0001-01-01T00:00:00+14:00", "provisional_at must be an ISO 8601"),
        ("device_time", "2026-01-01T00:00:00" + "0" * 100, "device_time must be an ISO 8601"),
        # Characters PostgreSQL cannot store in text, or that no key is made of.
        ("idempotency_key", "nul\x00key", "idempotency_key must be 1 to 64 printable ASCII"),
        ("idempotency_key", "with space", "idempotency_key must be 1 to 64 printable ASCII"),
        ("idempotency_key", "کلید", "idempotency_key must be 1 to 64 printable ASCII"),
        ("national_code", "0499370899\x00", "national_code must be at most 32 characters"),
        ("national_code", "1" * 33, "national_code must be at most 32 characters"),
        ("birth_date", "1370/01/15\x00", "birth_date must be at most 32 characters"),
        ("birth_date", "\ud800", "birth_date must be at most 32 characters"),
        # A birth date in year 1 (Gregorian or Jalali) or before 1900: no voter's.
        ("birth_date", "0001-01-01", "birth_date must be a date from 1900"),
        ("birth_date", "0001/01/01", "birth_date must be a date from 1900"),
        ("birth_date", "1899-12-31", "birth_date must be a date from 1900"),
        # Numbers float() cannot take, or that are no score.
        ("fingerprint_score", 10**400, "fingerprint_score must be a number from 0 to 1"),
        ("fingerprint_score", float("nan"), "fingerprint_score must be a number from 0 to 1"),
        ("fingerprint_score", True, "fingerprint_score must be a number from 0 to 1"),
    ],
)
def test_a_field_out_of_range_or_with_bad_characters_is_malformed(
    field: str, value: object, says: str
) -> None:
    with pytest.raises(MalformedRequest, match=says):
        _parse(**{field: value})


def test_times_are_kept_in_utc() -> None:
    checkin = _parse(
        device_time=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=3, minutes=30))
        .astimezone(dt.timezone(dt.timedelta(hours=3, minutes=30)))
        .isoformat()
    )
    assert checkin.device_time.utcoffset() == dt.timedelta(0)
    assert checkin.refusal is not None and checkin.refusal.reason == "clock_skew"


def test_persian_digits_and_bidi_marks_are_not_control_characters() -> None:
    checkin = _parse(national_code="\u200f۰۴۹۹۳۷۰۸۹۹", birth_date="۱۳۷۰/۰۱/۱۵")
    assert checkin.refusal is None


def _replay(
    provisional_at: dt.datetime, *, taken: dt.datetime | None = None, **kwargs: Any
) -> Checkin:
    now = dt.datetime.now(dt.UTC)
    body = checkin_body(
        "0499370899",
        device_time=(taken or provisional_at).isoformat(),
        provisional_at=provisional_at.isoformat(),
    )
    return parse_checkin(body, IDENTITY, policy(), KEY, now, **kwargs)


def _reason(checkin: Checkin) -> str | None:
    return checkin.refusal.reason if checkin.refusal is not None else None


def test_an_offline_acceptance_within_election_day_and_the_offline_period_is_taken() -> None:
    now = dt.datetime.now(dt.UTC)
    an_hour_ago = now - dt.timedelta(hours=1)
    assert _reason(_replay(an_hour_ago)) is None
    assert _reason(_replay(an_hour_ago, last_online=an_hour_ago - dt.timedelta(minutes=5))) is None
    # Taken a minute before the device gave up sending it online.
    assert _reason(_replay(an_hour_ago, taken=an_hour_ago - dt.timedelta(minutes=1))) is None


@pytest.mark.parametrize(
    ("provisional_at", "taken", "last_online"),
    [
        (dt.datetime(2099, 1, 1, tzinfo=dt.UTC), None, None),  # outside the election
        (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), None, None),
        # In the future of the service's clock.
        (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), dt.datetime.now(dt.UTC), None),
        # Accepted offline an hour before the device even took the voter.
        (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2), dt.datetime.now(dt.UTC), None),
        # Before the device's last check-in that reached the service online.
        (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), None, dt.datetime.now(dt.UTC)),
        # The year 1 (valid in UTC) and the year 9999 do not overflow the checks.
        (dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, tzinfo=dt.UTC), None),
        (dt.datetime(9999, 12, 31, tzinfo=dt.UTC), dt.datetime(1, 1, 1, tzinfo=dt.UTC), None),
    ],
)
def test_an_offline_acceptance_out_of_bounds_is_refused(
    provisional_at: dt.datetime, taken: dt.datetime | None, last_online: dt.datetime | None
) -> None:
    checkin = _replay(provisional_at, taken=taken, last_online=last_online)
    assert checkin.refusal is not None
    assert checkin.refusal.reason == "provisional_out_of_bounds"
    assert "election day" in checkin.refusal.message


def test_the_window_can_be_set() -> None:
    opens = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    narrow = dataclasses.replace(policy(), opens=opens, closes=opens + dt.timedelta(hours=1))
    now = dt.datetime.now(dt.UTC)
    for at, reason in ((now - dt.timedelta(hours=1), "provisional_out_of_bounds"), (now, None)):
        body = checkin_body("0499370899", device_time=at.isoformat(), provisional_at=at.isoformat())
        assert _reason(parse_checkin(body, IDENTITY, narrow, KEY, now)) == reason


def test_a_resend_has_the_same_request_digest_and_another_voter_another() -> None:
    first_time = "2026-01-01T03:30:00+03:30"
    first = _parse(idempotency_key="k-1", device_time=first_time)
    resent = _parse(
        idempotency_key="k-1",
        device_time="2026-01-01T03:30:00+03:30",
        provisional_at=dt.datetime.now(dt.UTC).isoformat(),  # added when accepted offline
        national_code="۰۴۹۹۳۷۰۸۹۹",  # the same voter
    )
    assert first.request_digest == resent.request_digest
    for change in (
        {"national_code": "1234567891"},
        {"birth_date": "1370/01/16"},
        {"card_read": False},
        {"fingerprint_score": 0.5},
        {"device_time": "2026-01-01T03:30:01+03:30"},
    ):
        other = _parse(**{"idempotency_key": "k-1", "device_time": first_time, **change})
        assert other.request_digest != first.request_digest, change
    assert "0499370899" not in first.request_digest

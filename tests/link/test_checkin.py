"""Parsing a check-in: every field's type, range and characters checked before the ledger."""

from __future__ import annotations

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

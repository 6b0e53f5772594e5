"""A check-in as the API receives it: parsing and the checks that need no database.

:func:`parse_checkin` turns the JSON body of ``POST /v1/checkins`` into a :class:`Checkin`, tied
to the device and station of the client certificate (never to what the body claims). A body that
is not the documented shape raises :class:`MalformedRequest` (HTTP 400); a well-formed check-in
that must be refused (bad national code, under age, failed verification, clock skew) carries a
:class:`Refusal` and still goes to the ledger, so that a retry with the same idempotency key gets
the same answer back.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pollnet.errors import UserError
from pollnet.link.national_code import age_on, normalise_national_code
from pollnet.link.pki import DeviceIdentity
from pollnet.values import parse_date

REFUSAL_REASONS = (
    "invalid_national_code",
    "under_age",
    "not_on_roll",
    "verification_failed",
    "clock_skew",
    "provisional_out_of_bounds",
)
MAX_KEY_LENGTH = 64
OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)
"""No voter is born before this: an earlier birth date is a typing or reading error."""
MAX_TEXT_LENGTH = 32
"""The longest ``national_code`` and ``birth_date`` read (a real one has at most 12 characters)."""
MAX_TIME_LENGTH = 64
KEY_CHARACTERS = frozenset(map(chr, range(0x21, 0x7F)))
"""What an idempotency key is made of: printable ASCII without spaces (a UUID is fine)."""


class MalformedRequest(ValueError):
    """A request body that is not the documented shape (HTTP 400); the message says why."""


@dataclass(frozen=True)
class CheckinPolicy:
    """The rules a check-in is held to; built from settings ``[link]``.

    ``min_fingerprint_score`` is the lowest match score (0..1) that verifies a voter;
    ``max_clock_skew_s`` the largest gap in seconds between a device's clock and the service's.
    ``opens``/``closes`` bound the time a device may say it accepted a voter offline (see
    :meth:`window`).
    """

    election: str
    election_date: dt.date
    min_age: int = 18
    min_fingerprint_score: float = 0.6
    max_clock_skew_s: float = 300.0
    opens: dt.datetime | None = None
    closes: dt.datetime | None = None

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """When offline acceptances may happen: ``opens .. closes``, by default election day.

        The default is the election date in any time zone: from its midnight at UTC+14 to its
        end at UTC-12.
        """
        day = dt.datetime.combine(self.election_date, dt.time(), dt.UTC)
        opens = self.opens or day - dt.timedelta(hours=14)
        closes = self.closes or day + dt.timedelta(days=1, hours=12)
        return opens, closes


@dataclass(frozen=True)
class Refusal:
    """Why a check-in is refused before the ledger: one of :data:`REFUSAL_REASONS`."""

    reason: str
    message: str


@dataclass(frozen=True)
class Checkin:
    """One parsed check-in; ``voter_hash`` is ``None`` only when the code itself is invalid."""

    device: str
    station: str
    idempotency_key: str
    voter_hash: str | None
    device_time: dt.datetime
    provisional_at: dt.datetime | None
    card_read: bool
    fingerprint_score: float
    refusal: Refusal | None = None
    request_digest: str = ""
    """What identifies the request behind the idempotency key (see :func:`request_digest`)."""


def voter_hash(key: bytes, national_code: str) -> str:
    """The keyed HMAC-SHA256 (hex) that stands in for a valid, normalised national code."""
    return hmac.digest(key, national_code.encode("ascii"), "sha256").hex()


def parse_checkin(
    body: Mapping[str, Any],
    identity: DeviceIdentity,
    policy: CheckinPolicy,
    hmac_key: bytes,
    now: dt.datetime,
    last_online: dt.datetime | None = None,
) -> Checkin:
    """The check-in in ``body`` from the device of ``identity``, checked against ``policy``.

    ``now`` is the service's clock (UTC); ``last_online`` when the device's last check-in sent
    online reached the service (the device's offline period began after it). Raises
    :class:`MalformedRequest` for a body that cannot be read; returns a :class:`Checkin` with a
    :class:`Refusal` for one that must be refused.
    """
    code_text = _text(body, "national_code")
    birth_text = _text(body, "birth_date")
    card_read = _field(body, "card_read", bool)
    score = _field(body, "fingerprint_score", (int, float))
    # Compared before float(): a huge integer would overflow it, NaN fails every comparison.
    if isinstance(score, bool) or not 0 <= score <= 1:
        raise MalformedRequest("fingerprint_score must be a number from 0 to 1")
    device_text = _field(body, "device_time", str)
    device_time = timestamp(device_text, "device_time")
    key = _field(body, "idempotency_key", str)
    if not 0 < len(key) <= MAX_KEY_LENGTH or not KEY_CHARACTERS.issuperset(key):
        raise MalformedRequest(
            f"idempotency_key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
            " without spaces"
        )
    provisional_text = body.get("provisional_at")
    if provisional_text is not None and not isinstance(provisional_text, str):
        raise MalformedRequest("provisional_at must be an ISO 8601 time or null")
    provisional_at = (
        timestamp(provisional_text, "provisional_at") if provisional_text is not None else None
    )
    birth_date = _birth_date(birth_text)

    code = normalise_national_code(code_text)
    refusal = _refusal(code, birth_date, card_read, float(score), policy) or _offline_refusal(
        device_time, provisional_at, policy, now, last_online
    )
    voter = voter_hash(hmac_key, code) if code is not None else None
    # The voter part of the digest is keyed (a ten-digit code must not be open to a
    # dictionary): the voter hash, or for an invalid code a keyed hash of its text.
    keyed_code = (
        voter or hmac.digest(hmac_key, code_text.encode("utf-8", "surrogatepass"), "sha256").hex()
    )
    digest = request_digest(keyed_code, birth_text, card_read, float(score), device_text)
    return Checkin(
        device=identity.serial,
        station=identity.station,
        idempotency_key=key,
        voter_hash=voter,
        device_time=device_time,
        provisional_at=provisional_at,
        card_read=card_read,
        fingerprint_score=float(score),
        refusal=refusal,
        request_digest=digest,
    )


def request_digest(
    keyed_code: str, birth_date: str, card_read: bool, score: float, device_time: str
) -> str:
    """The SHA-256 (hex) of what a check-in says about its voter and its taking.

    ``keyed_code`` is the voter hash (a keyed hash of the national code, never the code); the
    other fields as sent (a device resends its stored body). A resend of the same check-in has
    the same digest; ``provisional_at`` is left out, since a device adds it when it resends a
    check-in it then accepted offline.
    """
    text = f"{keyed_code}|{birth_date}|{card_read}|{score!r}|{device_time}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _refusal(
    code: str | None,
    birth_date: dt.date,
    card_read: bool,
    score: float,
    policy: CheckinPolicy,
) -> Refusal | None:
    """The refusal of a check-in for its voter (code, age, verification)."""
    if code is None:
        return Refusal("invalid_national_code", "the national code is not valid")
    if age_on(birth_date, policy.election_date) < policy.min_age:
        return Refusal("under_age", "the voter is under the minimum age on election day")
    if not card_read or score < policy.min_fingerprint_score:
        return Refusal("verification_failed", "the card or the fingerprint did not verify")
    return None


def _offline_refusal(
    device_time: dt.datetime,
    provisional_at: dt.datetime | None,
    policy: CheckinPolicy,
    now: dt.datetime,
    last_online: dt.datetime | None,
) -> Refusal | None:
    """The refusal of a check-in: clock skew when sent online, bounds when accepted offline.

    A replay of a check-in the device accepted offline is judged on its own time, not on the
    skew; that time must lie within the election's window and the device's offline period:
    not before the device took the voter (``device_time``), not before its last check-in
    that reached the service online, not after now (each up to ``max_clock_skew_s``). Times
    from the device are only subtracted (a difference cannot overflow), never shifted.
    """
    skew = policy.max_clock_skew_s
    if provisional_at is None:
        if abs((device_time - now).total_seconds()) > skew:
            return Refusal("clock_skew", "the device clock is too far from the service clock")
        return None
    opens, closes = policy.window()
    if (
        not opens <= provisional_at <= closes
        or (provisional_at - now).total_seconds() > skew
        or (device_time - provisional_at).total_seconds() > skew
        or (last_online is not None and (last_online - provisional_at).total_seconds() > skew)
    ):
        return Refusal(
            "provisional_out_of_bounds",
            "the offline acceptance time is outside the election day or the device's offline"
            " period",
        )
    return None


@functools.lru_cache(maxsize=65_536)
def _birth_date(text: str) -> dt.date:
    """A birth date, Jalali or Gregorian; cached, since a day has many voters of each date."""
    try:
        day = parse_date(text)
    except UserError:
        raise MalformedRequest("birth_date must be a date (1370/01/15 or 1991-04-04)") from None
    if day < OLDEST_BIRTH_DATE:  # year 1 (Jalali 1 is 622) made a voter 1,400 years old
        raise MalformedRequest("birth_date must be a date from 1900 (1279/10/11) on")
    return day


def _field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in body:
        raise MalformedRequest(f"missing field: {name}")
    value = body[name]
    if not isinstance(value, kind):
        raise MalformedRequest(f"wrong type of field: {name}")
    return value


def _text(body: Mapping[str, Any], name: str) -> str:
    """A short text field: at most :data:`MAX_TEXT_LENGTH` characters, no control characters."""
    value: str = _field(body, name, str)
    if len(value) > MAX_TEXT_LENGTH or not is_clean_text(value):
        raise MalformedRequest(
            f"{name} must be at most {MAX_TEXT_LENGTH} characters, without control characters"
        )
    return value


def is_clean_text(value: str) -> bool:
    """Whether ``value`` holds no control character (NUL...) and no lone surrogate.

    Neither can be stored as text on PostgreSQL; format characters (bidi marks) are allowed.
    """
    if value.isascii():
        return value.isprintable()
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def timestamp(text: str, name: str) -> dt.datetime:
    """An ISO 8601 time with an offset, as UTC; :class:`MalformedRequest` for anything else.

    A time that is valid but cannot be expressed in UTC (``0001-01-01T00:00:00+14:00``) is
    refused here: it would otherwise fail only when the ledger's transaction converts it.
    """
    problem = f"{name} must be an ISO 8601 time with an offset, between the years 1 and 9999 UTC"
    if len(text) > MAX_TIME_LENGTH:
        raise MalformedRequest(problem)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedRequest(problem) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise MalformedRequest(problem)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise MalformedRequest(problem) from None

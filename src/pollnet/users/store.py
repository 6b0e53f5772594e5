"""Accounts in the database: add, list, disable, reset a password, and sign in with lockout.

Passwords are kept only as Argon2id hashes (argon2-cffi's defaults: RFC 9106's second
recommended parameters); a second factor is an optional TOTP secret (RFC 6238, via pyotp).
Every change is written to the audit (:mod:`pollnet.users.audit`) in the same call.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from pollnet.areas.model import AreaKind
from pollnet.areas.store import load_areas, resolve
from pollnet.errors import NotFoundError, UserError
from pollnet.store.schema.users import users
from pollnet.users.audit import AuditEntry, record
from pollnet.users.roles import ROLES, Account, Role

MIN_PASSWORD = 12
"""The shortest password accepted (characters)."""
MAX_FAILURES = 5
"""Wrong passwords in a row that lock an account."""
LOCKOUT = dt.timedelta(minutes=15)
"""How long a locked account stays locked."""

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_HASHER = PasswordHasher()
# A hash of nothing, verified against when the name is unknown, so that a wrong name costs as
# long as a wrong password (no timing oracle for which names exist).
_DUMMY = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class Actor:
    """Who makes a change and from where (a signed-in name and an IP; or ``cli``)."""

    who: str
    address: str


@dataclass(frozen=True)
class SignIn:
    """The result of a sign-in: the account, or why not (``reason``: ``unknown``, ``password``,
    ``locked``, ``disabled``, ``code``)."""

    account: Account | None
    reason: str = ""


def _account(row: sa.Row[tuple[object, ...]] | sa.RowMapping) -> Account:
    r = dict(row._mapping if isinstance(row, sa.Row) else row)
    return Account(
        str(r["name"]),
        Role(str(r["role"])),
        str(r["scope"]),
        bool(r["active"]),
        bool(r["totp_secret"]),
    )


def check_password(password: str) -> None:
    """Refuse a password too short to keep (a user error naming the rule)."""
    if len(password) < MIN_PASSWORD:
        raise UserError.of(
            "a password needs at least {count} characters", column="password", count=MIN_PASSWORD
        )


def _scope(engine: Engine, role: Role, scope: str | None) -> str:
    """The area code a scoped role acts in, resolved from a code or a name; '' otherwise."""
    if not role.scoped:
        if scope:
            raise UserError.of("the role {role} has no area", column="--scope", role=role.value)
        return ""
    if not scope:
        raise UserError.of(
            "the role {role} needs its area (--scope)", column="--scope", role=role.value
        )
    kind = AreaKind.MUNICIPALITY if role == Role.MUNICIPALITY else AreaKind.EDUCATION_DISTRICT
    return resolve(load_areas(engine, kind), kind, scope)


def add_user(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    actor: Actor,
    *,
    scope: str | None = None,
    totp: bool = False,
    now: dt.datetime,
) -> tuple[Account, str | None]:
    """Add an account; returns it and, with ``totp``, its TOTP secret (base32) to enrol."""
    if not _NAME.fullmatch(name):
        raise UserError.of(
            "a user name is 2 to 64 lower-case letters, digits, '.', '_' or '-': {value}",
            column="name",
            value=name,
        )
    if role not in ROLES:
        raise UserError.of(
            "no role {value} (roles: {roles})", column="--role", value=role, roles=", ".join(ROLES)
        )
    area = _scope(engine, Role(role), scope)
    check_password(password)
    secret = pyotp.random_base32() if totp else None
    with engine.begin() as conn:
        if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
            raise UserError.of("user {name} exists already", column="name", name=name)
        conn.execute(
            users.insert().values(
                name=name,
                role=role,
                scope=area,
                password_hash=_HASHER.hash(password),
                totp_secret=secret,
                active=True,
                failed_logins=0,
                created_at=now,
                updated_at=now,
            )
        )
    detail = f"role={role}" + (f" scope={area}" if area else "") + (" totp" if totp else "")
    record(engine, AuditEntry(now, actor.who, "user.add", name, "ok", actor.address, detail))
    return Account(name, Role(role), area, True, totp), secret


def list_users(engine: Engine) -> list[Account]:
    """Every account, by name."""
    with engine.connect() as conn:
        return [_account(r) for r in conn.execute(sa.select(users).order_by(users.c.name))]


def get_account(engine: Engine, name: str) -> Account | None:
    """The account called ``name``, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return _account(row) if row else None


def _change(engine: Engine, name: str, now: dt.datetime, **values: object) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            users.update().where(users.c.name == name).values(updated_at=now, **values)
        )
    if not done.rowcount:
        raise NotFoundError.of("no user {name}", name=name)


def disable_user(engine: Engine, name: str, actor: Actor, *, now: dt.datetime) -> None:
    """Disable an account: it can no longer sign in, and its open sessions stop working."""
    _change(engine, name, now, active=False)
    record(engine, AuditEntry(now, actor.who, "user.disable", name, "ok", actor.address))


def reset_password(
    engine: Engine, name: str, password: str, actor: Actor, *, now: dt.datetime
) -> None:
    """Give an account a new password, and unlock it."""
    check_password(password)
    _change(
        engine, name, now, password_hash=_HASHER.hash(password), failed_logins=0, locked_until=None
    )
    record(engine, AuditEntry(now, actor.who, "user.reset-password", name, "ok", actor.address))


def sign_in(
    engine: Engine, name: str, password: str, code: str, address: str, *, now: dt.datetime
) -> SignIn:
    """Check a name, password and (when enrolled) TOTP code; audit the attempt either way.

    :data:`MAX_FAILURES` wrong passwords in a row lock the account for :data:`LOCKOUT`; a
    locked account is refused without its password being checked.
    """
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    result = _verify(engine, row, password, code, now)
    outcome = "ok" if result.account else "denied"
    shown = name[:64] if row is not None else ""
    detail = result.reason if row is not None else f"unknown name: {name[:64]!r}"
    record(engine, AuditEntry(now, shown, "sign-in", "", outcome, address, detail))
    return result


def _verify(
    engine: Engine, row: sa.RowMapping | None, password: str, code: str, now: dt.datetime
) -> SignIn:
    if row is None:
        _matches(_DUMMY, password)
        return SignIn(None, "unknown")
    locked = row["locked_until"]
    if locked is not None and _utc(locked) > now:
        return SignIn(None, "locked")
    if not _matches(str(row["password_hash"]), password):
        failures = int(row["failed_logins"]) + 1
        until = now + LOCKOUT if failures >= MAX_FAILURES else None
        _change(engine, str(row["name"]), now, failed_logins=failures, locked_until=until)
        return SignIn(None, "password")
    if not row["active"]:
        return SignIn(None, "disabled")
    secret = row["totp_secret"]
    if secret and not pyotp.TOTP(str(secret)).verify(code.strip(), for_time=now, valid_window=1):
        return SignIn(None, "code")
    if row["failed_logins"] or row["locked_until"] is not None:
        _change(engine, str(row["name"]), now, failed_logins=0, locked_until=None)
    return SignIn(_account(row))


def _matches(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

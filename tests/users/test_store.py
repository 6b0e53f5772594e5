"""Accounts on both backends: Argon2id hashes, lockout, disable, reset, TOTP, and their audit."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
import sqlalchemy as sa

from pollnet.errors import NotFoundError, UserError
from pollnet.store import open_store
from pollnet.store.schema.users import users
from pollnet.users import (
    LOCKOUT,
    MAX_FAILURES,
    Actor,
    Role,
    add_user,
    disable_user,
    list_users,
    read_audit,
    reset_password,
    sign_in,
)

NOW = dt.datetime(2028, 2, 1, 8, 0, tzinfo=dt.UTC)
OFFICE = Actor("office", "cli")
PASSWORD = "a long enough password"


def test_add_sign_in_and_the_audit(db_url: str) -> None:
    engine = open_store(db_url)
    account, secret = add_user(engine, "ali", "operator", PASSWORD, OFFICE, now=NOW)
    assert account.role == Role.OPERATOR and secret is None
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(engine, "ali", PASSWORD, "", "10.0.0.5", now=NOW).account == account
    assert sign_in(engine, "ali", "wrong password!", "", "10.0.0.6", now=NOW).reason == "password"
    assert sign_in(engine, "nobody", PASSWORD, "", "10.0.0.7", now=NOW).reason == "unknown"
    entries = read_audit(engine)
    assert [(e.action, e.who, e.outcome, e.address) for e in entries] == [
        ("sign-in", "", "denied", "10.0.0.7"),
        ("sign-in", "ali", "denied", "10.0.0.6"),
        ("sign-in", "ali", "ok", "10.0.0.5"),
        ("user.add", "office", "ok", "cli"),
    ]
    assert entries[0].detail == "unknown name: 'nobody'"


def test_lockout_after_wrong_passwords_and_reset(db_url: str) -> None:
    engine = open_store(db_url)
    add_user(engine, "sara", "telecom", PASSWORD, OFFICE, now=NOW)
    for _ in range(MAX_FAILURES):
        assert sign_in(engine, "sara", "not the password", "", "a", now=NOW).account is None
    # locked: even the right password is refused, until the lockout ends
    assert sign_in(engine, "sara", PASSWORD, "", "a", now=NOW).reason == "locked"
    later = NOW + LOCKOUT + dt.timedelta(seconds=1)
    assert sign_in(engine, "sara", PASSWORD, "", "a", now=later).account is not None
    for _ in range(MAX_FAILURES):
        sign_in(engine, "sara", "not the password", "", "a", now=later)
    reset_password(engine, "sara", "another long password", OFFICE, now=later)
    assert sign_in(engine, "sara", "another long password", "", "a", now=later).account


def test_disable_and_bad_input(db_url: str) -> None:
    engine = open_store(db_url)
    add_user(engine, "reza", "observer", PASSWORD, OFFICE, now=NOW)
    disable_user(engine, "reza", OFFICE, now=NOW)
    assert sign_in(engine, "reza", PASSWORD, "", "a", now=NOW).reason == "disabled"
    assert [a.active for a in list_users(engine)] == [False]
    with pytest.raises(NotFoundError, match="no user ghost"):
        disable_user(engine, "ghost", OFFICE, now=NOW)
    cases = [
        (("reza", "observer", PASSWORD), "exists already"),
        (("R Z", "observer", PASSWORD), "a user name is 2 to 64"),
        (("new", "boss", PASSWORD), "no role boss"),
        (("new", "observer", "short"), "at least 12 characters"),
        (("new", "municipality", PASSWORD), "needs its area"),
        (("new", "telecom", PASSWORD, "west"), "has no area"),
    ]
    for args, message in cases:
        name, role, password, *scope = args
        with pytest.raises(UserError, match=message):
            add_user(
                engine, name, role, password, OFFICE, scope=scope[0] if scope else None, now=NOW
            )
    assert len(list_users(engine)) == 1


def test_a_scope_must_name_a_known_municipality(db_url: str) -> None:
    engine = open_store(db_url)
    with pytest.raises(NotFoundError, match="no municipality named Karaj"):
        add_user(engine, "mm", "municipality", PASSWORD, OFFICE, scope="Karaj", now=NOW)
    # an education district is known by its number
    account, _ = add_user(engine, "ed", "education", PASSWORD, OFFICE, scope="۱۲", now=NOW)
    assert account.scope == "12"


def test_second_factor(db_url: str) -> None:
    engine = open_store(db_url)
    account, secret = add_user(engine, "leila", "admin", PASSWORD, OFFICE, totp=True, now=NOW)
    assert secret and account.totp
    code = pyotp.TOTP(secret).at(NOW)
    assert sign_in(engine, "leila", PASSWORD, "", "a", now=NOW).reason == "code"
    assert sign_in(engine, "leila", PASSWORD, "000000" if code != "000000" else "111111", "a",
                   now=NOW).reason == "code"  # fmt: skip
    assert sign_in(engine, "leila", PASSWORD, code, "a", now=NOW).account == account

"""Sessions: the sign-in rate limit per address, a session's expiry, a disabled account's
session, and where a sign-in may send the browser next."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from starlette.testclient import TestClient

from pollnet.store import open_store
from pollnet.users import Actor, disable_user, read_audit
from pollnet.web.app import create_app
from pollnet.web.config import WebSettings
from pollnet.web.security import LoginLimiter
from tests.web.world import PASSWORD, SECRET, client, copy, csrf, sign_in


def test_the_rate_limit_per_address(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    browser = client(url, tmp_path, login_attempts=3)
    token = csrf(browser.get("/login").text)
    for _ in range(3):
        wrong = {"csrf": token, "name": "admin", "password": "not the password at all"}
        assert browser.post("/login", data=wrong).status_code == 401
    right = {"csrf": token, "name": "admin", "password": PASSWORD}
    answer = browser.post("/login", data=right)
    assert answer.status_code == 429 and "Too many attempts" in answer.text
    assert read_audit(open_store(url), 1)[0].detail == "too many attempts from this address"
    limiter = LoginLimiter(2, 10.0)
    assert limiter.allow("a", 0) and limiter.allow("a", 1) and not limiter.allow("a", 2)
    assert limiter.allow("b", 2) and limiter.allow("a", 10.5)  # the window moved on


def test_a_session_expires_and_a_disabled_account_is_out(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    now = [dt.datetime.now(dt.UTC)]
    settings = WebSettings(secret_file=tmp_path / "k", pki_dir=tmp_path / "pki",
                           session_minutes=30)  # fmt: skip
    app = create_app(open_store(url), settings, SECRET, lang="en", clock=lambda: now[0])
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(browser, "telecom")
    assert browser.get("/work").status_code == 200
    now[0] += dt.timedelta(minutes=31)
    assert browser.get("/work").headers["location"] == "/login?next=/work"
    sign_in(browser, "telecom")
    disable_user(open_store(url), "telecom", Actor("admin", "cli"), now=now[0])
    assert browser.get("/work").status_code == 303  # its open session stops at once


def test_sign_in_goes_on_to_this_site_only(world: Path, tmp_path: Path) -> None:
    browser = client(copy(world, tmp_path), tmp_path)
    for given, expected in (("/work", "/work"), ("//evil.example/", "/readiness"),
                            ("https://evil.example/", "/readiness")):  # fmt: skip
        token = csrf(browser.get("/login").text)
        form = {"csrf": token, "name": "observer", "password": PASSWORD, "next": given}
        assert browser.post("/login", data=form).headers["location"] == expected
        browser.cookies.clear()

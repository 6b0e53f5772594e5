"""The web over real TLS with the project's server certificate: the cookie's flags, the headers;
plain HTTP refused off the loopback; no certificate, one clear error."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import httpx
import pytest

from pollnet.errors import UserError
from pollnet.link import pki
from pollnet.store import open_store
from pollnet.web.app import create_app
from pollnet.web.config import WebSettings, session_secret
from pollnet.web.serve import certificate, loopback, serve
from tests.web.world import PASSWORD, SECRET, copy, csrf, serving


def test_https_with_the_project_certificate(world: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    pki.init_pki(folder, election_date=dt.date.today())
    pki.issue_server_cert(folder)
    crt, key = certificate(folder)
    settings = WebSettings(pki_dir=folder, secret_file=tmp_path / "key")
    app = create_app(open_store(copy(world, tmp_path)), settings, SECRET, lang="en")
    with serving(app, ssl_certfile=str(crt), ssl_keyfile=str(key)) as port:
        base = f"https://127.0.0.1:{port}"
        trusted = ssl.create_default_context(cafile=folder / "ca.pem")
        with httpx.Client(base_url=base, verify=trusted) as browser:
            form = browser.get("/login")
            assert form.status_code == 200
            assert form.headers["strict-transport-security"].startswith("max-age=")
            assert "script-src 'self'" in form.headers["content-security-policy"]
            answer = browser.post(
                "/login",
                data={"csrf": csrf(form.text), "name": "admin", "password": PASSWORD},
            )
            assert answer.status_code == 303
            cookie = answer.headers["set-cookie"].lower()
            for flag in ("secure", "httponly", "samesite=strict", "max-age=28800"):
                assert flag in cookie
            assert browser.get("/api/readiness").status_code == 200
        with pytest.raises(httpx.ConnectError):  # not a certificate this client trusts
            httpx.get(base + "/login")


def test_plain_http_only_on_the_loopback(tmp_path: Path) -> None:
    assert loopback("127.0.0.1") and loopback("::1") and loopback("localhost")
    assert not loopback("0.0.0.0") and not loopback("10.1.2.3")
    engine = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    settings = WebSettings(host="0.0.0.0", pki_dir=tmp_path / "pki", secret_file=tmp_path / "k")
    with pytest.raises(UserError, match=r"plain HTTP is only for 127\.0\.0\.1"):
        serve(engine, settings, lang="en", http=True)
    with pytest.raises(UserError, match="no server certificate in"):
        serve(engine, settings, lang="en")


def test_the_session_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "web" / "session.key"
    key = session_secret(path)
    assert len(key) >= 48 and session_secret(path) == key
    assert path.stat().st_mode & 0o077 == 0

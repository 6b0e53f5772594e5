"""``pollnet users``: add, list, disable, reset-password from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_users_commands(run: Any, tmp_path: Path) -> None:
    secret = tmp_path / "password.txt"
    secret.write_text("a long enough password\n", "utf-8")
    code, out, err = run("--lang", "en", "users", "add", "ali", "--role", "operator",
                         "--password-file", str(secret), "--by", "office")  # fmt: skip
    assert (code, err) == (0, "") and "user ali added: election office (operator)" in out
    code, out, _ = run("users", "add", "sara", "--role", "admin", "--totp",
                       "--password-file", str(secret), "--lang", "en")  # fmt: skip
    assert code == 0 and "otpauth://totp/pollnet:sara?secret=" in out
    code, out, _ = run("users", "list", "--json")
    assert [(u["name"], u["role"], u["totp"]) for u in json.loads(out)] == [
        ("ali", "operator", False),
        ("sara", "admin", True),
    ]
    assert run("--lang", "en", "users", "disable", "ali")[1].strip() == "user ali disabled"
    assert run("--lang", "en", "users", "reset-password", "sara", "--password-file",
               str(secret))[0] == 0  # fmt: skip
    short = tmp_path / "short.txt"
    short.write_text("short\n", "utf-8")
    code, out, err = run("--lang", "en", "users", "add", "x", "--role", "observer",
                         "--password-file", str(short))  # fmt: skip
    assert (
        code == 1
        and err.strip() == "error: column password: a password needs at least 12 characters"
    )
    code, _, err = run("--lang", "en", "users", "disable", "ghost")
    assert code == 1 and err.strip() == "error: no user ghost"
    code, out, _ = run("users", "list")  # Persian by default
    assert "غیرفعال" in out

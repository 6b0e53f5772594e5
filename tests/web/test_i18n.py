"""Every message of the web's templates has a Persian translation, and the pages are in Persian
(right to left) unless English is chosen."""

from __future__ import annotations

import re
from pathlib import Path

import pollnet.web
from pollnet.i18n import catalog
from pollnet.users import ROLE_LABELS
from pollnet.web.readiness import CLASS_LABELS
from pollnet.web.render import MENU
from tests.web.world import client, copy, sign_in

TEMPLATES = Path(pollnet.web.__file__).parent / "templates"


def test_every_template_message_is_translated() -> None:
    messages: set[str] = set()
    for path in TEMPLATES.glob("*.j2"):
        messages |= set(re.findall(r"""_\(["']([^"']+)["']\)""", path.read_text("utf-8")))
    messages |= {label for _, label, _ in MENU} | set(ROLE_LABELS.values())
    messages |= set(CLASS_LABELS.values())
    assert messages and not messages - set(catalog("fa"))


def test_pages_in_persian_or_english(world: Path, tmp_path: Path) -> None:
    browser = client(copy(world, tmp_path), tmp_path)
    sign_in(browser, "admin")
    browser.get("/readiness?lang=fa")
    page = browser.get("/admin/audit").text  # the choice stays with the session
    assert '<html lang="fa" dir="rtl">' in page and "<title>ممیزی</title>" in page
    assert "۱۴۰" in page  # Jalali dates in Persian digits
    page = browser.get("/admin/audit?lang=en").text
    assert '<html lang="en" dir="ltr">' in page and "<title>Audit</title>" in page

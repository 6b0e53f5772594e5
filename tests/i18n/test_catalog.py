"""Every message the code shows has a Persian translation, with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from babel.messages.pofile import read_po

import pollnet
from pollnet.errors import UserError
from pollnet.i18n import catalog, format_number, gettext, tr, use_language

SRC = Path(pollnet.__file__).parent
# Calls whose first argument is a message id for the translation layer.
MESSAGE_CALLS = {"tr", "gettext", "of", "Problem", "Flag", "_"}


def messages_in_source() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in MESSAGE_CALLS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.strip()
            ):
                found[first.value] = f"{path.relative_to(SRC)}:{node.lineno}"
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_persian_translation() -> None:
    fa = catalog("fa")
    missing = {msg: where for msg, where in messages_in_source().items() if msg not in fa}
    assert not missing, "messages without a Persian translation:\n" + "\n".join(
        f"{where}: {msg!r}" for msg, where in sorted(missing.items(), key=lambda kv: kv[1])
    )


def test_translations_keep_their_placeholders() -> None:
    wrong = {
        msgid: text
        for msgid, text in catalog("fa").items()
        if placeholders(msgid) != placeholders(text)
    }
    assert not wrong


def test_each_message_is_translated_in_one_catalog_only() -> None:
    """The catalogs are merged into one table, so a message in two of them keeps whichever
    is read last; two different translations of it would silently lose one."""
    where: dict[str, list[str]] = {}
    folder = SRC / "i18n" / "locale" / "fa" / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    where.setdefault(key, []).append(path.name)
    twice = {msgid: files for msgid, files in where.items() if len(files) > 1}
    assert not twice, "\n".join(f"{msgid!r}: {', '.join(f)}" for msgid, f in twice.items())


def test_source_scan_finds_known_messages() -> None:
    assert "row {row}" in messages_in_source()


def test_persian_rendering_uses_persian_digits() -> None:
    error = UserError.of(
        "no such day: {value}", file="a.csv", row=12, column="date", value="1402/13/01"
    )
    (line,) = error.render("fa")
    assert "ردیف ۱۲" in line
    # The user's own value stays as written, so it can be found in the file.
    assert "1402/13/01" in line
    assert not re.search(r"[0-9]", line.replace("a.csv", "").replace("1402/13/01", ""))
    assert error.render("en") == ["a.csv, row 12, column date: no such day: 1402/13/01"]


def test_active_language_and_numbers() -> None:
    with use_language("en"):
        assert tr("row {row}", row=3) == "row 3"
        assert format_number(1234567) == "1,234,567"
    with use_language("fa"):
        assert gettext("yes") == "بله"
        assert format_number(1234567) == "۱٬۲۳۴٬۵۶۷"
        # a float parameter keeps its digits and takes the Persian decimal separator
        assert tr("latitude and longitude look swapped: ({lat}, {lon})", lat=51.4, lon=35.7) == (
            "به نظر می‌رسد عرض و طول جغرافیایی جابه‌جا شده‌اند: (۵۱٫۴، ۳۵٫۷)"
        )


def test_street_classes_have_persian_labels() -> None:
    from pollnet.streets.classes import HIGHWAY_CLASSES, STREET_CLASS_LABELS, street_class_label

    assert set(STREET_CLASS_LABELS) == set(HIGHWAY_CLASSES)
    fa = catalog("fa")
    assert all(label in fa for label in STREET_CLASS_LABELS.values())
    assert street_class_label("primary", "en") == "primary"
    assert street_class_label("primary", "fa") == fa["primary road"]
    assert street_class_label("busway", "fa") == "busway"  # unknown classes stay as written

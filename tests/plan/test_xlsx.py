"""The streaming XLSX writer: values, styles and sheet views read back by openpyxl; valid XML."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import load_workbook

from pollnet._cells import safe_cell
from pollnet.plan._xlsx import Style, XlsxBook

XML_CHARS = st.characters(blacklist_categories=("Cs",))


def test_values_styles_and_views_read_back(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = XlsxBook(path)
    header = book.style(Style(bold=True, fill="DDE5F0", wrap=True))
    money = book.style(Style("#,##0"))
    length = book.style(Style("#,##0.0"))
    total = book.style(Style("#,##0.0", bold=True, fill="F2F2F2"))
    assert book.style(Style("#,##0")) == money  # made once
    first = book.add_sheet("خیابان‌ها", [10, 24.5], right_to_left=True, freeze_first_row=True)
    first.row(["طول", "هزینه"], [header, header])
    first.row([12.5, 1_234_567], [length, money])
    first.row([None, ""], [0, 0])
    first.row(["", 3], [total, total])
    second = book.add_sheet("Totals & more", [30])
    second.row(
        [
            "a < b & c > d",
        ],
        [0],
    )
    second.row(
        [
            " padded\tand\r\nnew line ",
        ],
        [0],
    )
    second.row([True], [0])
    assert book.close() == path

    wb = load_workbook(path)
    assert wb.sheetnames == ["خیابان‌ها", "Totals & more"]
    ws = wb["خیابان‌ها"]
    assert ws.sheet_view.rightToLeft and ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 10 and ws.column_dimensions["B"].width == 24.5
    rows = list(ws.iter_rows(values_only=True))
    assert rows == [("طول", "هزینه"), (12.5, 1234567), (None, None), (None, 3)]
    h = ws["A1"]
    assert h.font.b and h.fill.fgColor.rgb == "FFDDE5F0" and h.alignment.wrap_text
    assert ws["A2"].number_format == "#,##0.0" and ws["B2"].number_format == "#,##0"
    assert not ws["A2"].font.b
    t = ws["B4"]
    assert t.font.b and t.fill.fgColor.rgb == "FFF2F2F2" and t.number_format == "#,##0.0"
    assert ws["A4"].font.b  # an empty totals cell keeps its style
    other = wb["Totals & more"]
    assert not other.sheet_view.rightToLeft and other.freeze_panes is None
    assert [r[0] for r in other.iter_rows(values_only=True)] == [
        "a < b & c > d",
        " padded\tand\r\nnew line ",
        True,
    ]


def test_every_part_is_well_formed_xml(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    book = XlsxBook(path)
    book.add_sheet('a "quoted" name', [8]).row(["x\x00\x1fy"], [book.style(Style("0.000"))])
    book.close()
    with zipfile.ZipFile(path) as z:
        assert "[Content_Types].xml" in z.namelist()
        for name in z.namelist():
            etree.fromstring(z.read(name))  # raises on malformed XML
    assert load_workbook(path).active["A1"].value == "xy"  # control characters dropped


@pytest.mark.parametrize("title", ["x" * 32, "a/b", "a[1]", "what?"])
def test_unusable_sheet_titles_are_refused(tmp_path: Path, title: str) -> None:
    book = XlsxBook(tmp_path / "book.xlsx")
    with pytest.raises(ValueError):
        book.add_sheet(title)
    book.close()


def test_a_title_twice_is_refused(tmp_path: Path) -> None:
    book = XlsxBook(tmp_path / "book.xlsx")
    book.add_sheet("same")
    with pytest.raises(ValueError):
        book.add_sheet("same")
    book.close()


def test_a_row_must_have_one_style_per_value(tmp_path: Path) -> None:
    book = XlsxBook(tmp_path / "book.xlsx")
    sheet = book.add_sheet("s", [8, 8])
    with pytest.raises(ValueError):
        sheet.row([1, 2], [0])
    book.close()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.none(),
                st.integers(min_value=-(2**53), max_value=2**53),
                st.floats(allow_nan=False, allow_infinity=False, width=64),
                st.text(XML_CHARS, max_size=30),
            ),
            min_size=3,
            max_size=3,
        ),
        max_size=8,
    )
)
def test_values_round_trip(rows: list[list[object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        book = XlsxBook(path)
        sheet = book.add_sheet("data", [10, 10, 10])
        for r in rows:
            sheet.row(r, [0, 0, 0])
        sheet.row(["end"] * 3, [0, 0, 0])  # a full last row: every column is in the sheet
        book.close()
        back = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(back) == len(rows) + 1
    for written, read in zip(rows, back, strict=False):
        for w, r in zip(written, read, strict=True):
            if w is None or w == "":
                assert r is None
            elif isinstance(w, str):
                expected = "".join(
                    c for c in w if c in "\t\n\r" or (ord(c) >= 32 and c not in "\ufffe\uffff")
                )
                assert r == (safe_cell(expected) or None)  # formulas kept as text
            else:
                assert r == w

"""Station files for the tests: a few good rows, and writers for every format and encoding."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

EN = ["code", "name", "site", "address", "district", "lat", "lon", "voters", "devices", "critical"]
FA = [
    "کد شعبه", "نام شعبه", "محل استقرار", "نشانی", "منطقه", "عرض جغرافیایی", "طول جغرافیایی",
    "تعداد واجدین", "تعداد دستگاه", "حساس",
]  # fmt: skip

FERDOWSI = ["دبستان فردوسی", "خیابان انقلاب، پلاک ۱۰"]
GOOD = [
    ["T-001", "شعبه یک", *FERDOWSI, "6", "35.7010", "51.3890", "1200", "2", "yes"],
    ["T-002", "شعبه دو", *FERDOWSI, "6", "35.7011", "51.3891", "950", "1", "no"],
    ["T-003", "شعبه سه", "دبیرستان البرز", "خیابان کارگر شمالی", "6", "35.7102", "51.3912", "2100",
     "3", "no"],
]  # fmt: skip


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]] = GOOD,
    header: Sequence[str] = EN,
    encoding: str = "utf-8",
) -> Path:
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = EN) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_geojson(path: Path, features: Sequence[object]) -> Path:
    document = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path

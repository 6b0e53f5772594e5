"""Work orders in the browser: an update through the status sheet's own reading and
validation (the same message next to the field, nothing changed on a bad value), the history,
and each agency kept to its own work."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pollnet.rollout.sheets import read_updates
from pollnet.rollout.store import load_work_orders, read_history, update_status
from pollnet.store import open_store
from pollnet.users import read_audit
from tests.web.world import client, copy, sign_in


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<span class="field-error" data-field="([^"]+)">([^<]+)</span>', html))


def test_update_a_work_order_as_the_sheet_import_would(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    engine = open_store(url)
    orders, _ = load_work_orders(engine)
    permit = next(o for o in orders if o.kind == "permit" and o.municipality == "west")
    before = read_history(engine, permit.id)
    browser = client(url, tmp_path)
    token = sign_in(browser, "west")
    listing = browser.get("/work").text
    assert f'id="order-{permit.id}"' in listing
    assert all(f'id="order-{o.id}"' not in listing for o in orders if o.agency != "municipality")

    # A bad date: the sheet import's message, next to the date, and nothing changed.
    bad = {"csrf": token, "status": "done", "date": "1405/13/40", "note": "", "next": "/work"}
    answer = browser.post(f"/work/{permit.id}", data=bad)
    assert answer.status_code == 422
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"id,status,date\n{permit.id},done,1405/13/40\n", "utf-8")
    _, problems = read_updates(sheet)
    message = problems[0].render("en").split(": ", 1)[1]
    assert field_errors(answer.text) == {"date": message}
    assert load_work_orders(engine)[1][permit.id].status == "planned"
    assert read_history(engine, permit.id) == before

    # A rule of the validation (a restoration before its trench): the same message as
    # the import gives, next to the status.
    restoration = next(o for o in orders if o.kind == "restoration" and o.municipality == "west")
    answer = browser.post(f"/work/{restoration.id}", data={"csrf": token, "status": "done"})
    assert answer.status_code == 422
    errors = field_errors(answer.text)
    assert list(errors) == ["status"] and "cannot be done before" in errors["status"]

    # A good update: applied, in the history with who and from where, audited.
    good = {"csrf": token, "status": "in_progress", "date": "", "note": "crew on site"}
    answer = browser.post(f"/work/{permit.id}", data={**good, "next": "/work"})
    assert answer.status_code == 303 and answer.headers["location"] == "/work"
    assert load_work_orders(engine)[1][permit.id].status == "in_progress"
    entries = read_history(engine, permit.id)
    assert [(e.field, e.new, e.changed_by, e.source) for e in entries[len(before) :]] == [
        ("status", "in_progress", "west", "web"),
        ("started_on", entries[-2].new, "west", "web"),
        ("note", "crew on site", "west", "web"),
    ]
    page = browser.get(f"/work/{permit.id}").text
    assert "crew on site" in page and 'id="history"' in page
    audit = read_audit(engine, 5, who="west")
    assert [(e.action, e.outcome) for e in audit[:2]] == [
        ("work-order.update", "ok"),
        ("work-order.update", "failed"),
    ]


def test_each_agency_only_its_own_work(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    engine = open_store(url)
    orders, _ = load_work_orders(engine)
    east = next(o for o in orders if o.kind == "permit" and o.municipality == "east")
    telecom = next(o for o in orders if o.agency == "telecom")
    for who, order in (("west", east), ("west", telecom), ("telecom", east), ("edu1", east)):
        browser = client(url, tmp_path)
        token = sign_in(browser, who)
        answer = browser.post(f"/work/{order.id}", data={"csrf": token, "status": "in_progress"})
        assert answer.status_code == 403, (who, order.id)
        assert answer.text.strip() == "You may not do this."
        assert read_audit(engine, 1, who=who)[0].outcome == "denied"
    # read: another municipality's work order is not shown either
    browser = client(url, tmp_path)
    sign_in(browser, "west")
    assert browser.get(f"/work/{east.id}").status_code == 403
    # the observer reads every agency's work, changes none
    browser = client(url, tmp_path)
    token = sign_in(browser, "observer")
    assert browser.get(f"/work/{east.id}").status_code == 200
    assert '<form method="post" action="/work/' not in browser.get("/work").text
    assert all(s.status == "planned" for s in load_work_orders(engine)[1].values())
    # the sheet import is still there, on the same validation
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"id,status\n{east.id},in_progress\n", "utf-8")
    updates, problems = read_updates(sheet)
    outcome = update_status(
        engine, updates, by="t", agency="municipality", source=str(sheet),
        today=dt.date.today(), now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    assert outcome.applied == 1 and not problems

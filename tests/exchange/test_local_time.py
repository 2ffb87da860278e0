"""Times are stored in UTC and shown in Beijing time; "today" is the date in Asia/Shanghai,
whatever the server's zone: tested just before and after midnight UTC."""
from datetime import UTC, date, datetime

import time_machine

from portal.letters import numerals
from portal.letters.models import Letter
from tests.conftest import login
from tests.exchange.conftest import A, B, pdf_text, rows


def _submit(api, world):
    member = world.member()
    r = api("a_clerk").post(f"/t/{A}/transfers", {"member": member.id, "to_org": world.code("b_branch")})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_times_show_in_beijing_time_on_pages_api_and_audit(api, world, client, make):
    with time_machine.travel(datetime(2026, 6, 10, 5, 31, tzinfo=UTC), tick=False):
        tid = _submit(api, world)
    body = api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()
    assert body["submitted_at"] == "2026-06-10T13:31:00+08:00"
    assert body["history"][0]["at"] == "2026-06-10T13:31:00+08:00"
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/exchange/transfers/{tid}").get_data(as_text=True)
    assert "2026-06-10 13:31" in page and "05:31" not in page
    listing = client.get(f"/t/{A}/exchange/transfers?box=outgoing").get_data(as_text=True)
    assert "2026-06-10 13:31" in listing
    client.post("/logout")
    login(client, "b-clerk")
    inbox = client.get(f"/t/{B}/notifications").get_data(as_text=True)
    assert "2026-06-10 13:31" in inbox and "05:31" not in inbox
    client.post("/logout")
    admin = make.user(A, "tenant_admin", username="a-admin")
    login(client, admin.username)
    audit = client.get(f"/t/{A}/audit/").get_data(as_text=True)
    assert "2026-06-10 13:31" in audit


def test_a_letter_issued_at_23_30_utc_is_dated_the_next_day_in_beijing(api, world):
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        tid = _submit(api, world)
        body = api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").get_json()
    # 07:30 on 1 January in Beijing: the new year's sequence, the new year's date.
    assert body["reply_due_on"] == "2027-01-16"
    letter = rows(Letter, kind="introduction")[0]
    assert letter.issued_on == date(2027, 1, 1) and letter.year == 2027
    assert letter.valid_until == date(2027, 1, 31)
    text = pdf_text(api("a_clerk").get(f"/t/{A}/transfers/{tid}/letter.pdf").data)
    assert numerals.date_lower(date(2027, 1, 1)) in text.replace(" ", "")


def test_a_letter_issued_at_00_30_utc_keeps_the_same_date(api, world):
    with time_machine.travel(datetime(2027, 3, 1, 0, 30, tzinfo=UTC), tick=False):
        tid = _submit(api, world)
        api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    letter = rows(Letter, kind="introduction")[0]
    assert letter.issued_on == date(2027, 3, 1)


def test_a_deadline_counts_from_the_beijing_date(api, world):
    # 17:00 UTC on 9 June is 01:00 on 10 June in Beijing: 15 days from the 10th.
    with time_machine.travel(datetime(2026, 6, 9, 17, 0, tzinfo=UTC), tick=False):
        tid = _submit(api, world)
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()["reply_due_on"] == "2026-06-25"

"""The work desk (工作台) counts every waiting transfer, on the side that waits and on the side that
must act, and the transfers page opens on the tab that has work."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import login
from tests.exchange.conftest import A, B, C

DAY = datetime(2027, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ZERO = {"awaiting_reply": 0, "due": 0, "reply_overdue": 0, "returned": 0, "returned_repeatedly": 0,
        "awaiting_arrival": 0, "letter_overdue": 0}


def submit(api, world, name="张三"):
    m = world.member(name=name)
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def desk(api, who, code):
    body = api(who).get(f"/t/{code}/exchange/dashboard").get_json()
    return body["incoming"], body["outgoing"]


def cell(page: str, box: str, bucket: str) -> int:
    found = re.search(rf'data-box="{box}" data-bucket="{bucket}">\s*<div[^>]*>(\d+)<', page)
    assert found, (box, bucket)
    return int(found.group(1))


@time_machine.travel(DAY, tick=False)
def test_a_new_transfer_waiting_for_a_reply_counts_on_both_desks(client, api, world):
    submit(api, world)
    incoming, outgoing = desk(api, "b_clerk", B)
    assert incoming == {**ZERO, "awaiting_reply": 1} and outgoing == ZERO
    incoming, outgoing = desk(api, "a_clerk", A)
    assert outgoing == {**ZERO, "awaiting_reply": 1} and incoming == ZERO
    assert desk(api, "c_clerk", C) == (ZERO, ZERO)
    login(client, "b-clerk")
    page = client.get(f"/t/{B}/exchange/dashboard").get_data(as_text=True)
    assert cell(page, "incoming", "awaiting_reply") == 1
    section = page.split('data-list="incoming-awaiting_reply"', 1)[1].split("</table>", 1)[0]
    assert "待本方接收或退回" in section and "张三" in section
    assert "没有等待办理的转接" not in page


@time_machine.travel(DAY, tick=False)
def test_a_returned_transfer_waiting_on_the_sender_counts(client, api, world):
    tid = submit(api, world)
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete"}).status_code == 200
    assert desk(api, "a_clerk", A)[1] == {**ZERO, "returned": 1}
    assert desk(api, "b_clerk", B)[0] == {**ZERO, "returned": 1}
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/exchange/dashboard").get_data(as_text=True)
    assert cell(page, "outgoing", "returned") == 1
    section = page.split('data-list="outgoing-returned"', 1)[1].split("</table>", 1)[0]
    assert "被退回待本方修改" in section and "张三" in section


def test_every_open_transfer_counts_once_in_the_waiting_buckets(api, world):
    with time_machine.travel(DAY, tick=False):
        waiting = submit(api, world, "甲")
        returned = submit(api, world, "乙")
        accepted = submit(api, world, "丙")
        completed = submit(api, world, "丁")
        cancelled = submit(api, world, "戊")
        b, a = api("b_clerk"), api("a_clerk")
        assert b.post(f"/t/{B}/transfers/{returned}/return", {"reason": "incomplete"}).status_code == 200
        for tid in (accepted, completed):
            assert b.post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
        assert b.post(f"/t/{B}/transfers/{completed}/arrive", {}).status_code == 200
        assert a.post(f"/t/{A}/transfers/{cancelled}/cancel").status_code == 200
        assert waiting
    with time_machine.travel(DAY + timedelta(days=13), tick=False):
        incoming = desk(api, "b_clerk", B)[0]
        assert incoming["awaiting_reply"] == 1 and incoming["due"] == 1
    # Past the letter's validity (30 days) the accepted one is overdue; 甲 is long past its reply date.
    with time_machine.travel(DAY + timedelta(days=40), tick=False):
        for counts in (desk(api, "b_clerk", B)[0], desk(api, "a_clerk", A)[1]):
            assert sum(counts[k] for k in ("awaiting_reply", "returned", "awaiting_arrival", "letter_overdue")) == 3
            assert counts["awaiting_reply"] == 1 and counts["reply_overdue"] == 1
            assert counts["returned"] == 1 and counts["letter_overdue"] == 1 and counts["awaiting_arrival"] == 0


@time_machine.travel(DAY, tick=False)
def test_the_transfers_page_opens_on_the_tab_with_work(client, api, world):
    login(client, "b-clerk")
    page = client.get(f"/t/{B}/exchange/transfers").get_data(as_text=True)
    assert "这里还没有转接" in page  # nothing anywhere: the first tab
    tid = submit(api, world)
    page = client.get(f"/t/{B}/exchange/transfers").get_data(as_text=True)
    assert "这里还没有转接" not in page and "张三" in page
    assert re.search(r'class="nav-link active"[^>]*href="[^"]*box=incoming', page)
    # Asked for explicitly, the other tab still opens (and is empty).
    page = client.get(f"/t/{B}/exchange/transfers?box=outgoing").get_data(as_text=True)
    assert "这里还没有转接" in page
    # The sender: its transfer waits on the receiver, so the outgoing tab (nothing on incoming).
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/exchange/transfers").get_data(as_text=True)
    assert "张三" in page and re.search(r'class="nav-link active"[^>]*href="[^"]*box=outgoing', page)
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete"}).status_code == 200
    page = client.get(f"/t/{A}/exchange/transfers").get_data(as_text=True)
    assert "张三" in page and re.search(r'class="nav-link active"[^>]*href="[^"]*box=outgoing', page)


def test_opening_box_prefers_this_sides_own_next_step():
    from portal.exchange.dashboard import opening_box

    def counts(**states):
        return {**{s: 0 for s in ("submitted", "returned", "accepted", "overdue", "completed", "cancelled")},
                **states, "all": sum(states.values())}
    # The sender waits on B (submitted) while a transfer received needs arrival: incoming.
    assert opening_box({"outgoing": counts(submitted=2), "incoming": counts(accepted=1)}) == "incoming"
    # Work on both tabs: the first one.
    assert opening_box({"outgoing": counts(returned=1), "incoming": counts(submitted=1)}) == "outgoing"
    assert opening_box({"outgoing": counts(completed=3), "incoming": counts(submitted=1)}) == "incoming"
    assert opening_box({"outgoing": counts(), "incoming": counts(completed=1)}) == "incoming"
    assert opening_box({"outgoing": counts(), "incoming": counts()}) == "outgoing"

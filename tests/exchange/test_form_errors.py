"""Every exchange form on the pages, posted with a bad value: the page comes back with the service's
Chinese message (beside what was typed) and nothing changed: no transfer, step, agreement,
attendance row, notice or notification more, no state moved."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.exchange.models import Agreement, Attendance, Notice, Notification, Transfer, TransferEvent
from tests.conftest import login
from tests.exchange.conftest import A, B, count, rows
from tests.factories import id_number

DAY = datetime(2027, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(DAY, tick=False):
        yield


def html(resp) -> str:
    return resp.get_data(as_text=True)


def state() -> dict:
    """What a refused form must leave as it was."""
    return {
        "transfers": [(t.id, t.state, t.to_org_id, t.note, t.version) for t in rows(Transfer)],
        "events": count(TransferEvent),
        "agreements": [(a.id, a.state, a.version, a.origin_contact_phone, a.host_contact_phone) for a in rows(Agreement)],
        "attendance": count(Attendance), "notices": count(Notice), "notifications": count(Notification),
    }


def refused(resp, message: str, before: dict, status: int = 400, typed: str = "") -> str:
    page = html(resp)
    assert resp.status_code == status, page[:800]
    assert message in page, page[:2000]
    assert typed in page
    assert state() == before
    return page


def test_transfer_forms_refuse_bad_input_and_change_nothing(client, api, world):
    m = world.member()
    host = world.code("b_branch")
    login(client, "a-clerk")
    before = state()
    resp = client.post(f"/t/{A}/exchange/transfers/new", data={"member": m.id, "to_org": "X-nosuch", "note": "务工满一年"})
    refused(resp, "联合名录中没有此组织，请从联合名录中选择接收组织", before, typed="务工满一年")

    tid = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": host}).get_json()["id"]
    login(client, "b-clerk")
    before = state()
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/return", data={"reason": "", "note": "缺材料"})
    refused(resp, "请选择退回原因", before, typed="缺材料")
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/return", data={"reason": "other", "note": ""})
    refused(resp, "退回原因为“其他”时须说明具体原因", before, typed='<option selected value="other">')

    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete"}).status_code == 200
    login(client, "a-clerk")
    before = state()
    resp = client.post(f"/t/{A}/exchange/transfers/{tid}/resubmit", data={"to_org": "X-nosuch", "note": "已补齐"})
    refused(resp, "联合名录中没有此组织", before, typed="已补齐")
    resp = client.post(f"/t/{A}/exchange/transfers/{tid}/cancel", data={"note": "长" * 1001})
    refused(resp, "不超过1000个字符", before)

    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {}).status_code == 200
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    login(client, "b-clerk")
    before = state()
    resp = client.post(f"/t/{B}/exchange/transfers/{tid}/arrive", data={"arrived_on": "2027-13-45"})
    refused(resp, "日期格式应为YYYY-MM-DD", before, typed='value="2027-13-45"')


def test_agreement_forms_refuse_bad_input_and_change_nothing(client, api, world):
    m = world.member()
    host = world.code("b_branch")
    login(client, "a-clerk")
    before = state()
    resp = client.post(f"/t/{A}/exchange/agreements/new", data={
        "host_org": host, "scope": "members", "members": [m.id], "ends_on": "2028-03-01",
        "contact_phone": "abc", "note": "每季度通报"})
    refused(resp, "联系电话应为11位手机号或带区号的固定电话", before, typed="每季度通报")

    aid = api("a_clerk").post(f"/t/{A}/agreements", {
        "host_org": host, "members": [m.id], "ends_on": "2028-03-01"}).get_json()["id"]
    before = state()
    resp = client.post(f"/t/{A}/exchange/agreements/{aid}/terminate", data={"reason": ""})
    refused(resp, "请说明终止的理由", before)
    login(client, "b-clerk")
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/countersign", data={"contact_phone": "abc"})
    refused(resp, "联系电话应为11位手机号或带区号的固定电话", before)
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/decline", data={"reason": "  "})
    refused(resp, "请说明拒绝的理由", before)

    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
    before = state()
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/attendance",
                       data={"member": m.id, "on": "2027-03-01", "activity": "", "present": "1"})
    refused(resp, "请填写活动内容", before)
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/attendance",
                       data={"member": m.id, "on": "2027-04-01", "activity": "主题党日"})
    page = refused(resp, "活动日期不能晚于今天", before, typed="主题党日")
    assert 'id="att_present"' in page and "checked" not in page.split('id="att_present"')[0].rsplit("<input", 1)[1]
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/notices", data={"kind": "accident", "body": ""})
    refused(resp, "请填写通报内容", before, typed='<option selected value="accident">')


def test_held_elsewhere_offers_refuse_a_number_held_nowhere(client, world):
    login(client, "b-clerk")
    number = id_number(A)  # valid, but on no register
    before = state()
    for action in ("request", "propose"):
        resp = client.post(f"/t/{B}/exchange/held-elsewhere/{action}", follow_redirects=True,
                           data={"id_number": number, "to_org": world.code("b_branch"),
                                 "host_org": world.code("b_branch")})
        refused(resp, "该身份证号的组织关系未在任何县区登记", before, status=200)

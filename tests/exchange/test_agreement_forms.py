"""The agreement forms: the member picker lists only the origin's own members living in the host
organization's area (its region decides), and it can be searched without losing the members ticked;
the notice form lists the routine report first."""
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import login
from tests.exchange.conftest import A, B
from tests.factories import id_number

DAY = datetime(2027, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def choices(page: str) -> dict[str, bool]:
    """{member name: ticked} of the picker's checkboxes."""
    box = page.split('id="member-choices"', 1)[1].split("</div>\n      </div></div>", 1)[0]
    found = re.findall(r'<input class="form-check-input" type="checkbox" name="members" value="\d+" id="m\d+" ?'
                       r'(checked)?>\s*<label[^>]*>(\S+)', box)
    return {name: bool(ticked) for ticked, name in found}


def new_page(client, host_code, **args):
    query = "&".join([f"host_org={host_code}"] + [f"{k}={v}" for k, v in args.items()])
    resp = client.get(f"/t/{A}/exchange/agreements/new?{query}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_the_picker_lists_only_members_in_the_hosts_area(client, world):
    world.member(name="张三", region="江苏省南京市江宁区秣陵街道")
    world.member(name="王五", region="南京市江宁区东山街道")
    world.member(name="李四", region="广东省深圳市南山区")
    world.member(name="赵六", region="吉林省长春市朝阳区")
    world.member(name="钱七", region="江苏省南京市")  # the city only: not known to be in the county
    world.member(name="孙八", region="江苏省南京市江宁区", holds_relationship=False, direction="流入")
    # Another county's member living in 江宁区 is not the origin's to name.
    world.make.member("410804", world.orgs["c_branch"], name="周九", id_number=id_number("410804"),
                      region="江苏省南京市江宁区")
    login(client, "a-clerk")
    page = new_page(client, world.code("b_branch"))
    assert choices(page) == {"王五": False, "张三": False}
    assert "江苏省南京市江宁区" in page.split('id="area-note"', 1)[1].split("</div>", 1)[0]


def test_the_host_organizations_region_decides(client, api, world):
    station = world.make.org(B, name="江宁区驻鼓楼流动党员服务站", kind="流动党员服务站", role="host",
                             parent=world.orgs["b_committee"], region="320106")
    world.member(name="张三", region="江苏省南京市江宁区")
    gulou = world.member(name="孙七", region="南京市鼓楼区中山路")
    world.member(name="吴十", region="江苏省徐州市鼓楼区")  # the other 鼓楼区 of the province
    login(client, "a-clerk")
    assert choices(new_page(client, station.code)) == {"孙七": False}
    assert choices(new_page(client, world.code("b_branch"))) == {"张三": False}
    # "All our members in your area" follows the same rule.
    with time_machine.travel(DAY, tick=False):
        resp = api("a_clerk").post(f"/t/{A}/agreements", {
            "host_org": station.code, "scope": "all_in_area", "origin_org": world.code("a_branch"),
            "ends_on": (DAY.date() + timedelta(days=365)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    assert [m["id"] for m in resp.get_json()["members"]] == [gulou.id]


def test_the_picker_is_searchable_and_keeps_the_members_ticked(client, world):
    zhang = world.member(name="张三", region="江苏省南京市江宁区", employer="江宁建工集团")
    world.member(name="王五", region="江苏省南京市江宁区", employer="开发区物流公司")
    world.member(name="李四", region="广东省深圳市")
    number = id_number(A, date(1988, 2, 3))
    world.member(name="赵六", region="江苏省南京市江宁区", id_number=number)
    login(client, "a-clerk")
    host = world.code("b_branch")
    page = new_page(client, host)
    assert 'name="mq"' in page and 'form="member-search"' in page
    assert choices(page) == {"王五": False, "张三": False, "赵六": False}
    assert choices(new_page(client, host, mq="张")) == {"张三": False}
    assert choices(new_page(client, host, mq="物流")) == {"王五": False}          # by employer
    assert choices(new_page(client, host, mq=number)) == {"赵六": False}         # by exact ID number
    assert choices(new_page(client, host, mq="李四")) == {}                      # not in the area
    assert "没有找到符合条件的党员" in new_page(client, host, mq="李四")
    # Looking up 王五 with 张三 already ticked: 张三 stays, ticked, and the form proposes both.
    page = new_page(client, host, mq="王", member=zhang.id)
    assert choices(page) == {"张三": True, "王五": False}
    # A search that is too long is a clear message, not an error page.
    page = new_page(client, host, mq="长" * 500)
    assert "搜索词不超过100个字符" in page and choices(page) == {}


def test_the_picker_submits_what_was_ticked(client, world):
    zhang = world.member(name="张三", region="江苏省南京市江宁区")
    login(client, "a-clerk")
    with time_machine.travel(DAY, tick=False):
        resp = client.post(f"/t/{A}/exchange/agreements/new", data={
            "host_org": world.code("b_branch"), "scope": "members", "members": [str(zhang.id)],
            "ends_on": "2028-03-01", "report_every": "quarter"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "张三" in page


def test_notice_kinds_list_the_routine_report_first(client, api, world):
    m = world.member()
    with time_machine.travel(DAY, tick=False):
        aid = api("a_clerk").post(f"/t/{A}/agreements", {
            "host_org": world.code("b_branch"), "members": [m.id], "ends_on": "2028-03-01"}).get_json()["id"]
        assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
        login(client, "b-clerk")
        page = client.get(f"/t/{B}/exchange/agreements/{aid}").get_data(as_text=True)
    select = page.split('name="kind"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option (?:selected )?value="(\w*)"', select)  # WTForms orders attributes
    assert values == ["report", "accident", "violation", "misconduct"]
    assert re.search(r'<option selected value="report">', select)
    bad = api("b_clerk").post(f"/t/{B}/agreements/{aid}/notices", {"kind": "x", "body": "…"})
    assert bad.status_code == 400 and bad.get_json()["error"]["fields"]["kind"].index("情况通报") < \
        bad.get_json()["error"]["fields"]["kind"].index("违反")

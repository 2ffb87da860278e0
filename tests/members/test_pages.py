"""The register's pages: lists with tabs and filters, the member page, the forms, roles."""
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import template_rendered

from portal.core import clock
from portal.core import crypto
from portal.extensions import db
from portal.members import idnumber, services
from portal.members.models import Contact, Member, RelationshipHold
from portal.tenancy.context import cross_tenant
from tests.conftest import login, scope
from tests.factories import id_number, last_month
from tests.members.conftest import count_members


@contextmanager
def captured(app):
    """The templates rendered during a request and their context."""
    recorded = []

    def remember(sender, template, context, **extra):
        recorded.append((template.name, context))
    template_rendered.connect(remember, app)
    try:
        yield recorded
    finally:
        template_rendered.disconnect(remember, app)


def text(resp):
    return resp.get_data(as_text=True)


def rows(resp):
    """Member ids of the list's rows, in order."""
    return [int(x) for x in re.findall(r'<tr data-member="(\d+)"', text(resp))]


def form_data(org, **extra):
    data = {"name": "赵六", "sex": "男", "ethnicity": "汉族", "id_number": id_number("110105", date(1991, 8, 8)),
            "birth_date": "", "education": "大专", "joined_on": "2016-07-01", "category": "正式党员",
            "org": org.code, "direction": "流出", "moved_on": "2023-03-01", "move_reason": "务工",
            "region": "江苏省苏州市", "industry": "制造业", "employer": "苏州某电子厂", "address": "苏州工业园区星湖街1号",
            "phone": "13700001111", "dues_paid_through": "2026-09", "last_contact_on": "2026-10-08",
            "certificate_no": "LD2023-001"}
    data.update(extra)
    return data


@pytest.fixture
def clerk(make, client):
    user = make.user("110105", "clerk")
    login(client, user.username)
    return user


# ---- lists ----

def test_tabs_with_counts_and_masked_ids(make, client, chaoyang, clerk, new_member):
    out1 = new_member("110105", chaoyang["first"], name="流出甲")
    new_member("110105", chaoyang["first"], name="流出乙")
    inc = new_member("110105", chaoyang["other"], name="流入丙", direction="流入")
    resp = client.get("/t/110105/members/")
    assert resp.status_code == 200
    body = text(resp)
    assert re.search(r'data-count="outgoing">2<', body) and re.search(r'data-count="incoming">1<', body)
    assert "流出甲" in body and "流出乙" in body and "流入丙" not in body
    with scope("110105"):
        number = services.id_number_of(out1)
    assert number not in body and idnumber.mask(number) in body
    resp = client.get("/t/110105/members/?direction=incoming")
    assert rows(resp) == [inc.id]
    assert client.get("/t/110105/members/?direction=流入").status_code == 200
    assert rows(client.get("/t/110105/members/?direction=流入")) == [inc.id]


# The factory's members paid dues through 2026-10: on time in November 2026, whatever today is.
NOVEMBER_2026 = datetime(2026, 11, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@time_machine.travel(NOVEMBER_2026, tick=False)
def test_filters_on_the_list(make, client, chaoyang, clerk, new_member):
    a = new_member("110105", chaoyang["sub"], name="下级", dues_paid_through="2020-01",
                    last_contact_on=clock.today().isoformat())
    b = new_member("110105", chaoyang["first"], name="本级", employer="南京长江大桥工程处")
    c = new_member("110105", chaoyang["other"], name="别处")
    assert set(rows(client.get(f"/t/110105/members/?org={chaoyang['first'].code}"))) == {a.id, b.id}
    assert rows(client.get(f"/t/110105/members/?org={chaoyang['sub'].code}")) == [a.id]
    assert rows(client.get("/t/110105/members/?dues=gt5y")) == [a.id]
    assert set(rows(client.get("/t/110105/members/?dues=on_time"))) == {b.id, c.id}
    assert rows(client.get("/t/110105/members/?contact=in_contact")) == [a.id]
    assert set(rows(client.get("/t/110105/members/?contact=lost"))) == {b.id, c.id}
    assert rows(client.get("/t/110105/members/?q=长江")) == [b.id]
    with scope("110105"):
        number = services.id_number_of(c)
    assert rows(client.get(f"/t/110105/members/?q={number}")) == [c.id]
    # Tab counts follow the filters, so a search shows in which list a match is.
    body = text(client.get("/t/110105/members/?q=长江"))
    assert re.search(r'data-count="outgoing">1<', body) and re.search(r'data-count="incoming">0<', body)


@time_machine.travel(NOVEMBER_2026, tick=False)
def test_pagination_keeps_the_filters(make, client, chaoyang, clerk, new_member):
    for i in range(23):
        new_member("110105", chaoyang["first"], name=f"成员{i:02d}", employer="同一单位")
    new_member("110105", chaoyang["other"], name="不相干", employer="别的单位")
    resp = client.get("/t/110105/members/?q=同一&dues=on_time")
    assert len(rows(resp)) == 20
    links = re.findall(r'href="([^"]*page=2[^"]*)"', text(resp))
    assert links, "a link to page 2"
    link = links[0].replace("&amp;", "&")
    assert "q=%E5%90%8C%E4%B8%80" in link and "dues=on_time" in link
    page2 = client.get(link)
    assert page2.status_code == 200
    assert len(rows(page2)) == 3
    assert "第 2 / 2 页，共 23 条" in text(page2)
    assert not set(rows(resp)) & set(rows(page2))


def test_empty_states(make, client, chaoyang, clerk, new_member):
    body = text(client.get("/t/110105/members/"))
    assert "尚未登记流出党员" in body and "登记第一位党员" in body
    assert "尚未登记流入党员" in text(client.get("/t/110105/members/?direction=incoming"))
    new_member("110105", chaoyang["first"], name="有人")
    assert "没有符合条件的党员" in text(client.get("/t/110105/members/?q=无此人"))


@pytest.mark.parametrize("query", [
    "page=-1", "page=abc", "page=" + "9" * 40, "per_page=100000", "per_page=-5", "q=" + "长" * 5000, "q=%00",
    "org=110105-9999", "org=%00", "dues=late", "contact=%FF", "direction=sideways", "page=999",
])
def test_list_never_fails_on_odd_parameters(make, client, chaoyang, clerk, query, new_member):
    new_member("110105", chaoyang["first"], name="唯一")
    resp = client.get(f"/t/110105/members/?{query}")
    assert resp.status_code == 200


# ---- the member page ----

def test_member_page_shows_all_fields_and_contacts(make, client, chaoyang, clerk, clean_app):
    data = form_data(chaoyang["first"])
    resp = client.post("/t/110105/members/new", data=data)
    assert resp.status_code == 302
    with scope("110105"):
        member = db.session.execute(db.select(Member).filter_by(name="赵六")).scalar_one()
    with captured(clean_app) as seen:
        body = text(client.get(f"/t/110105/members/{member.id}"))
    # 大专 was typed; the register keeps the level's canonical name (statistics.md).
    for value in ("赵六", "汉族", "1991-08-08", "专科", "2016-07-01", "正式党员", "第一党支部", "流出", "2023-03-01",
                  "务工", "江苏省苏州市", "制造业", "苏州某电子厂", "苏州工业园区星湖街1号", "13700001111", "2026-09",
                  "2026-10-08", "LD2023-001"):
        assert value in body, value
    assert f'id="id-number">{data["id_number"]}<' in body  # a clerk sees the whole number
    assert "还没有联系记录" in body
    names = [name for name, _ctx in seen]
    assert "members/show.html" in names
    ctx = dict(seen[0][1])
    assert ctx["member"].id == member.id  # the panels of other features receive `member`


def test_contact_history_pages_with_its_length_and_recorders_in_one_statement(make, client, chaoyang, clerk,
                                                                             new_member):
    """The page of contacts, the history's length (for the pager) and who recorded each row come
    from one statement; a row whose recorder is gone shows a dash."""
    member = new_member("110105", chaoyang["first"])
    other = new_member("110105", chaoyang["first"], name="旁人", id_number=id_number("110105", serial=7))
    named = make.user("110105", "clerk", username="c-named")
    with scope("110105"):
        for i in range(25):
            db.session.add(Contact(member_id=member.id, on=date(2026, 1, 1) + timedelta(days=i), channel="电话",
                                   note=f"第{i}次", recorded_by=None if i == 24 else named.id if i % 2 else clerk.id))
        db.session.add(Contact(member_id=other.id, on=date(2026, 1, 1), channel="电话", note="旁人的", recorded_by=clerk.id))
        db.session.commit()
    first = text(client.get(f"/t/110105/members/{member.id}"))
    assert "第 1 / 2 页，共 25 条" in first and "第24次" in first and "第4次" not in first and "旁人的" not in first
    assert first.count("<tr data-contact=") == 20
    assert "<td>—</td>" in first and "<td>c-named</td>" in first and f"<td>{clerk.username}</td>" in first
    assert f"/members/{member.id}?page=2#contacts" in first
    second = text(client.get(f"/t/110105/members/{member.id}?page=2"))
    assert "第 2 / 2 页，共 25 条" in second and second.count("<tr data-contact=") == 5 and "第0次" in second
    assert f"/members/{member.id}?page=1#contacts" in second and "?page=3" not in second
    assert "还没有联系记录" in text(client.get(f"/t/110105/members/{member.id}?page=3"))
    from tests.sqlcount import counting
    with counting() as seen:
        client.get(f"/t/110105/members/{member.id}")
    assert len([s for s in seen if "FROM contacts" in s]) == 1 and not [s for s in seen if "FROM users WHERE" in s]


def test_viewer_sees_the_masked_number_and_no_edit_controls(make, client, chaoyang, new_member):
    member = new_member("110105", chaoyang["first"])
    viewer = make.user("110105", "viewer")
    login(client, viewer.username)
    body = text(client.get(f"/t/110105/members/{member.id}"))
    assert f'id="id-number">{member.id_masked}<' in body
    with scope("110105"):
        assert services.id_number_of(member) not in body
    assert "edit-member" not in body and "contact-form" not in body
    listing = text(client.get("/t/110105/members/"))
    assert "register-member" not in listing and f"/members/{member.id}/edit" not in listing


def test_viewer_posts_are_forbidden_and_change_nothing(make, client, chaoyang, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    viewer = make.user("110105", "viewer")
    login(client, viewer.username)
    assert client.get("/t/110105/members/new").status_code == 403
    assert client.post("/t/110105/members/new", data=form_data(chaoyang["first"])).status_code == 403
    assert client.get(f"/t/110105/members/{member.id}/edit").status_code == 403
    resp = client.post(f"/t/110105/members/{member.id}/edit", data=form_data(chaoyang["first"], version="1"))
    assert resp.status_code == 403
    resp = client.post(f"/t/110105/members/{member.id}/contacts", data={"on": "2026-01-01", "channel": "电话"})
    assert resp.status_code == 403
    assert count_members() == 1
    with scope("110105"):
        assert db.session.get(Member, member.id).name == "原名"
        assert db.session.execute(db.select(db.func.count()).select_from(Contact)).scalar_one() == 0


def test_record_a_contact_on_the_member_page(make, client, chaoyang, clerk, new_member):
    member = new_member("110105", chaoyang["first"])
    resp = client.post(f"/t/110105/members/{member.id}/contacts",
                       data={"on": "2026-10-20", "channel": "微信", "note": "已在苏州落脚"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/members/{member.id}#contacts")
    body = text(client.get(f"/t/110105/members/{member.id}"))
    assert "已在苏州落脚" in body and "2026-10-20" in body
    with scope("110105"):
        assert db.session.get(Member, member.id).last_contact_on == date(2026, 10, 20)


def test_bad_contact_shows_errors_and_writes_nothing(make, client, chaoyang, clerk, new_member):
    member = new_member("110105", chaoyang["first"])
    future = (clock.today() + timedelta(days=3)).isoformat()
    resp = client.post(f"/t/110105/members/{member.id}/contacts", data={"on": future, "channel": "飞鸽"})
    assert resp.status_code == 400
    body = text(resp)
    assert "不能晚于今天" in body and "联系方式应为" in body
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count()).select_from(Contact)).scalar_one() == 0


def test_other_tenants_member_is_not_found(make, client, chaoyang, clerk, new_member, new_org):
    jiangning = new_org("320115", name="江宁支部")
    foreign = new_member("320115", jiangning)
    assert client.get(f"/t/110105/members/{foreign.id}").status_code == 404
    assert client.get(f"/t/110105/members/{foreign.id}/edit").status_code == 404
    assert client.post(f"/t/110105/members/{foreign.id}/contacts",
                       data={"on": "2026-01-01", "channel": "电话"}).status_code == 404
    # A tenant where the user has no role looks exactly like one that does not exist.
    assert client.get("/t/320115/members/").status_code == 404
    assert client.get("/t/999999/members/").status_code == 404
    assert client.get("/t/110105/members/99999").status_code == 404


# ---- registering ----

def test_register_a_member(make, client, chaoyang, clerk):
    resp = client.get("/t/110105/members/new?direction=incoming")
    body = text(resp)
    assert resp.status_code == 200
    for label in ("姓名", "性别", "民族", "身份证号", "出生日期", "学历", "入党日期", "党员类别", "所在支部", "流动方向",
                  "流动日期", "流动原因", "流向地区", "从事行业", "工作单位", "暂住地址", "联系电话", "党费交至",
                  "最后联系日期", "活动证编号"):
        assert f">{label}</label>" in body, label
    assert '<option selected value="流入">' in body or 'value="流入" selected' in body
    assert "组织关系不转入（由流出地党组织保留，双向共管）" in body
    # The organization select shows the tree, the sub-branch indented under its branch.
    assert "\u3000\u3000第一支部临时党支部" in body
    resp = client.post("/t/110105/members/new", data=form_data(chaoyang["first"]))
    assert resp.status_code == 302
    with scope("110105"):
        member = db.session.execute(db.select(Member).filter_by(name="赵六")).scalar_one()
        assert resp.headers["Location"].endswith(f"/t/110105/members/{member.id}")
        assert member.birth_date == date(1991, 8, 8) and member.holds_relationship
        assert member.dues_paid_through == "2026-09" and member.org_id == chaoyang["first"].id


def test_form_errors_are_shown_next_to_fields_and_nothing_is_written(make, client, chaoyang, clerk):
    number = form_data(chaoyang["first"])["id_number"]
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    resp = client.post("/t/110105/members/new", data=form_data(
        chaoyang["first"], id_number=bad, joined_on="2999-01-01", phone="123", name=""))
    assert resp.status_code == 400
    body = text(resp)
    for message in ("身份证号校验位错误", "不能晚于今天", "应为11位手机号或带区号的固定电话", "必填"):
        assert message in body, message
    assert body.count("invalid-feedback") == 4
    assert 'value="苏州某电子厂"' in body  # what was typed stays
    assert count_members() == 0


def test_register_a_number_held_in_another_tenant(make, client, chaoyang, clerk, clean_app, new_member, new_org):
    number = id_number("620802", date(1980, 2, 2), 77)
    kongtong = new_org("620802", name="崆峒区某村党支部", contact_name="马书记", contact_phone="0933-8212345")
    new_member("620802", kongtong, id_number=number)
    with captured(clean_app) as seen:
        resp = client.post("/t/110105/members/new", data=form_data(chaoyang["first"], id_number=number,
                                                                  direction="流入"))
    assert resp.status_code == 409
    body = text(resp)
    assert "崆峒区某村党支部" in body and "马书记" in body
    ctx = dict(seen[-1][1])
    held = ctx["held_elsewhere"]
    assert held["org"].name == "崆峒区某村党支部" and held["tenant"].code == "620802"
    assert held["id_number"] == number and held["direction"] == "流入"
    assert count_members("110105") == 0
    # Registered as co-managed, the origin keeps the relationship and nothing conflicts.
    resp = client.post("/t/110105/members/new", data=form_data(chaoyang["first"], id_number=number,
                                                              direction="流入", not_transferred="y"))
    assert resp.status_code == 302
    assert count_members("110105") == 1
    with cross_tenant():
        hold = db.session.get(RelationshipHold, crypto.keyed_hash(number))
        assert hold.org_id == kongtong.id


def test_not_transferred_only_for_incoming(make, client, chaoyang, clerk):
    resp = client.post("/t/110105/members/new", data=form_data(chaoyang["first"], not_transferred="y"))
    assert resp.status_code == 400
    assert "只有流入党员可以选择组织关系不转入" in text(resp)
    assert count_members() == 0


# ---- editing ----

def test_edit_a_member(make, client, chaoyang, clerk, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    body = text(client.get(f"/t/110105/members/{member.id}/edit"))
    assert 'name="version" type="hidden" value="1"' in body
    with scope("110105"):
        number = services.id_number_of(member)
    assert f'value="{number}"' in body  # editors work with the whole number
    data = form_data(chaoyang["other"], id_number=number, name="新名", version="1", dues_paid_through=last_month())
    resp = client.post(f"/t/110105/members/{member.id}/edit", data=data)
    assert resp.status_code == 302
    with scope("110105"):
        row = db.session.get(Member, member.id)
        assert (row.name, row.org_id, row.version) == ("新名", chaoyang["other"].id, 2)


def test_stale_edit_answers_409_and_changes_nothing(make, client, chaoyang, clerk, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    with scope("110105"):
        number = services.id_number_of(member)
    first = client.post(f"/t/110105/members/{member.id}/edit",
                        data=form_data(chaoyang["first"], id_number=number, name="甲改", version="1",
                                       dues_paid_through=last_month()))
    assert first.status_code == 302
    second = client.post(f"/t/110105/members/{member.id}/edit",
                         data=form_data(chaoyang["first"], id_number=number, name="乙改", version="1",
                                        dues_paid_through=last_month()))
    assert second.status_code == 409
    assert "该党员信息已被他人修改，本次修改没有保存" in text(second)
    with scope("110105"):
        assert db.session.get(Member, member.id).name == "甲改"


def test_edit_without_version_is_refused(make, client, chaoyang, clerk, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    with scope("110105"):
        number = services.id_number_of(member)
    resp = client.post(f"/t/110105/members/{member.id}/edit",
                       data=form_data(chaoyang["first"], id_number=number, name="改", version="x"))
    assert resp.status_code == 400
    with scope("110105"):
        assert db.session.get(Member, member.id).name == "原名"


# ---- the branch secretary ----

def test_secretary_works_in_their_subtree_only(make, client, chaoyang, new_member):
    inside = new_member("110105", chaoyang["sub"], name="下级党员")
    outside = new_member("110105", chaoyang["other"], name="外支部党员")
    secretary = make.user("110105", "secretary", org=chaoyang["first"])
    login(client, secretary.username)
    listing = client.get("/t/110105/members/")
    assert rows(listing) == [inside.id]
    assert client.get(f"/t/110105/members/{outside.id}").status_code == 404
    assert client.get(f"/t/110105/members/{outside.id}/edit").status_code == 404
    assert client.get(f"/t/110105/members/{inside.id}").status_code == 200
    form = text(client.get("/t/110105/members/new"))
    assert "第一党支部" in form and "第二党支部" not in form and "流动人员党委" not in form
    resp = client.post("/t/110105/members/new", data=form_data(chaoyang["other"]))
    assert resp.status_code == 400 and "只能登记本组织及下级组织的党员" in text(resp)
    assert client.post("/t/110105/members/new", data=form_data(chaoyang["sub"])).status_code == 302
    assert count_members() == 3


def test_anonymous_is_sent_to_login(client, make, chaoyang):
    resp = client.get("/t/110105/members/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_education_offers_each_level_once_in_both_languages(client, chaoyang, clerk):
    page = client.get("/t/110105/members/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="education".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option[^>]*value="([^"]*)"', select) == ["", "研究生", "本科", "专科", "中专", "高中", "初中",
                                                                    "小学"]
    english = client.get("/t/110105/members/new?lang=en").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="education".*?</select>', english, re.S).group(0)
    assert ">Postgraduate<" in select and ">研究生<" not in select
    sexes = re.search(r'<select[^>]*name="sex".*?</select>', english, re.S).group(0)
    assert ">Male<" in sexes and 'value="男"' in sexes  # the stored value stays Chinese

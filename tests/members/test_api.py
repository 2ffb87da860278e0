"""The register through the JSON API (api.md): routes, error shapes, roles, tenants, garbage."""
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.members import idnumber, services
from portal.members.models import Contact, Member
from tests.conftest import scope
from tests.factories import id_number
from tests.members.conftest import bearer, count_members

BASE = "/api/v1/t/110105/members"


def body(org_, **extra):
    data = {"name": "钱七", "sex": "女", "ethnicity": "回族", "id_number": id_number("110105", date(1993, 12, 1)),
            "education": "硕士", "joined_on": "2016-05-04", "category": "预备党员", "org": org_.code,
            "direction": "outgoing", "moved_on": "2024-02-01", "move_reason": "求学", "region": "320115",
            "industry": "教育", "employer": "南京某大学", "address": "南京市江宁区",
            "phone": "025-52100000", "dues_paid_through": "2026年10月", "last_contact_on": "2026-11-01",
            "certificate_no": "HD-7"}
    data.update(extra)
    return data


@pytest.fixture
def clerk_token(make, chaoyang):
    return make.token(make.user("110105", "clerk"))


@pytest.fixture
def viewer_token(make, chaoyang):
    return make.token(make.user("110105", "viewer"))


def error(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    data = resp.get_json()
    assert data["error"]["code"] == code and data["error"]["message"]
    return data["error"]


# ---- the routes ----

def test_create_then_read(client, chaoyang, clerk_token):
    data = body(chaoyang["first"])
    resp = client.post(BASE, json=data, headers=bearer(clerk_token))
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    expected = dict(data, direction="流出", dues_paid_through="2026-10", birth_date="1993-12-01",
                    education="研究生")  # 硕士 is accepted and stored as its statistics.md level
    for key in services.FIELDS:
        assert made[key] == expected[key], key
    assert made["holds_relationship"] is True and made["version"] == 1
    assert client.get(f"{BASE}/{made['id']}", headers=bearer(clerk_token)).get_json() == made
    assert count_members() == 1


def test_list_with_filters_and_paging(make, client, chaoyang, clerk_token, new_member):
    for i in range(5):
        new_member("110105", chaoyang["first"], name=f"甲{i}")
    new_member("110105", chaoyang["other"], name="乙", direction="流入", dues_paid_through="2019-01")
    h = bearer(clerk_token)
    page = client.get(f"{BASE}?per_page=2&page=2", headers=h).get_json()
    assert page["total"] == 6 and page["page"] == 2 and len(page["items"]) == 2
    assert set(page["items"][0]) >= set(services.FIELDS) | {"id"}
    assert client.get(f"{BASE}?direction=incoming", headers=h).get_json()["total"] == 1
    assert client.get(f"{BASE}?direction=流出", headers=h).get_json()["total"] == 5
    assert client.get(f"{BASE}?org={chaoyang['first'].code}", headers=h).get_json()["total"] == 5
    assert client.get(f"{BASE}?org={chaoyang['top'].code}", headers=h).get_json()["total"] == 6
    assert client.get(f"{BASE}?dues=gt5y&as_of=2026-11-15", headers=h).get_json()["total"] == 1
    assert client.get(f"{BASE}?contact=lost", headers=h).get_json()["total"] == 6
    assert client.get(f"{BASE}?q=甲3", headers=h).get_json()["items"][0]["name"] == "甲3"
    assert client.get(f"{BASE}?page=9", headers=h).get_json() == {"items": [], "total": 6, "page": 9}


def test_id_number_masked_for_viewer_whole_for_clerk(make, client, chaoyang, clerk_token, viewer_token, new_member):
    member = new_member("110105", chaoyang["first"])
    with scope("110105"):
        number = services.id_number_of(member)
    assert client.get(f"{BASE}/{member.id}", headers=bearer(clerk_token)).get_json()["id_number"] == number
    seen = client.get(f"{BASE}/{member.id}", headers=bearer(viewer_token)).get_json()
    assert seen["id_number"] == idnumber.mask(number) == member.id_masked
    listed = client.get(BASE, headers=bearer(viewer_token)).get_data(as_text=True)
    assert number not in listed and member.id_masked in listed


def test_patch_is_partial_and_versioned(make, client, chaoyang, clerk_token, new_member):
    member = new_member("110105", chaoyang["first"], name="原名", employer="旧单位")
    h = bearer(clerk_token)
    resp = client.patch(f"{BASE}/{member.id}", json={"employer": "新单位", "version": 1}, headers=h)
    assert resp.status_code == 200
    assert resp.get_json()["employer"] == "新单位" and resp.get_json()["name"] == "原名"
    assert resp.get_json()["version"] == 2
    err = error(client.patch(f"{BASE}/{member.id}", json={"name": "再改", "version": 1}, headers=h), 409, "conflict")
    assert "已被他人修改" in err["message"]
    # Without a version the change applies to what is there (last writer wins, as documented).
    assert client.patch(f"{BASE}/{member.id}", json={"name": "三改"}, headers=h).status_code == 200
    with scope("110105"):
        row = db.session.get(Member, member.id)
        assert (row.name, row.employer, row.version) == ("三改", "新单位", 3)
    # What a GET returned can be sent back unchanged.
    current = client.get(f"{BASE}/{member.id}", headers=h).get_json()
    assert client.patch(f"{BASE}/{member.id}", json=current, headers=h).status_code == 200


@pytest.mark.parametrize("patch,field", [
    ({"version": "1"}, "version"), ({"version": True}, "version"), ({"id": 12345}, "id"),
    ({"holds_relationship": False}, "holds_relationship"), ({"nickname": "x"}, "nickname"),
    ({"joined_on": ""}, "joined_on"), ({"id_number": "110105********123X"}, "id_number"),
    ({"org": "320115-0001"}, "org"),
])
def test_bad_patches_change_nothing(make, client, chaoyang, clerk_token, patch, field, new_member):
    member = new_member("110105", chaoyang["first"], name="原名")
    err = error(client.patch(f"{BASE}/{member.id}", json=dict(patch, name="不该保存"), headers=bearer(clerk_token)),
                400, "validation")
    assert field in err["fields"]
    with scope("110105"):
        assert db.session.get(Member, member.id).name == "原名"


def test_contacts(make, client, chaoyang, clerk_token, viewer_token, new_member):
    member = new_member("110105", chaoyang["first"])
    url = f"{BASE}/{member.id}/contacts"
    resp = client.post(url, json={"on": "2026-11-02", "channel": "电话", "note": "在南京"}, headers=bearer(clerk_token))
    assert resp.status_code == 201
    made = resp.get_json()
    assert made["on"] == "2026-11-02" and made["channel"] == "电话" and made["note"] == "在南京"
    client.post(url, json={"on": "2026-10-01", "channel": "微信"}, headers=bearer(clerk_token))
    listed = client.get(url, headers=bearer(viewer_token)).get_json()
    assert listed["total"] == 2 and [c["on"] for c in listed["items"]] == ["2026-11-02", "2026-10-01"]
    assert client.get(f"{BASE}/{member.id}", headers=bearer(viewer_token)).get_json()["last_contact_on"] == "2026-11-02"
    err = error(client.post(url, json={"on": "2026-13-01", "channel": "信鸽"}, headers=bearer(clerk_token)),
                400, "validation")
    assert set(err["fields"]) == {"on", "channel"}
    error(client.post(url, json={"on": "2026-11-01", "channel": "电话", "x": 1}, headers=bearer(clerk_token)),
          400, "validation")


# ---- errors ----

def test_validation_error_shape(client, chaoyang, clerk_token):
    number = id_number("110105", date(1990, 1, 1), 9)
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    resp = client.post(BASE, json=body(chaoyang["first"], id_number=bad, sex="男性"), headers=bearer(clerk_token))
    err = error(resp, 400, "validation")
    assert err["fields"] == {"id_number": "身份证号校验位错误", "sex": "应为男或女"}
    assert count_members() == 0


def test_held_elsewhere_is_409_naming_the_holder(make, client, chaoyang, clerk_token, new_member, new_org):
    number = id_number("653225", date(1979, 9, 9), 3)
    cele = new_org("653225", name="策勒县某乡党委", kind="基层党委")
    new_member("653225", cele, id_number=number)
    err = error(client.post(BASE, json=body(chaoyang["first"], id_number=number, direction="流入"),
                            headers=bearer(clerk_token)), 409, "conflict")
    assert "策勒县某乡党委" in err["message"] and "持有" in err["message"]
    assert "策勒县某乡党委" in err["fields"]["id_number"]
    assert count_members("110105") == 0
    resp = client.post(BASE, json=body(chaoyang["first"], id_number=number, direction="流入",
                                       holds_relationship=False), headers=bearer(clerk_token))
    assert resp.status_code == 201 and resp.get_json()["holds_relationship"] is False


def test_authentication_and_roles(make, client, chaoyang, clerk_token, viewer_token, new_member):
    member = new_member("110105", chaoyang["first"])
    error(client.get(BASE), 401, "unauthenticated")
    error(client.get(BASE, headers={"Authorization": "Bearer nonsense"}), 401, "unauthenticated")
    error(client.get(BASE, headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    v = bearer(viewer_token)
    assert client.get(BASE, headers=v).status_code == 200
    error(client.post(BASE, json=body(chaoyang["first"]), headers=v), 403, "forbidden")
    error(client.patch(f"{BASE}/{member.id}", json={"name": "x"}, headers=v), 403, "forbidden")
    error(client.post(f"{BASE}/{member.id}/contacts", json={"on": "2026-01-01", "channel": "电话"}, headers=v),
          403, "forbidden")
    assert count_members() == 1


@pytest.mark.parametrize("code", ["%00", "1101050", "abc", "%F0%9F%98%80", "x" * 300])
def test_odd_tenant_codes_are_404(client, chaoyang, clerk_token, code):
    error(client.get(f"/api/v1/t/{code}/members", headers=bearer(clerk_token)), 404, "not_found")


def test_foreign_tenants_and_members_are_404(make, client, chaoyang, clerk_token, new_member, new_org):
    jiangning = new_org("320115", name="江宁支部")
    foreign = new_member("320115", jiangning)
    h = bearer(clerk_token)
    error(client.get("/api/v1/t/320115/members", headers=h), 404, "not_found")
    error(client.post("/api/v1/t/320115/members", json=body(jiangning), headers=h), 404, "not_found")
    error(client.get("/api/v1/t/999999/members", headers=h), 404, "not_found")
    error(client.get(f"{BASE}/{foreign.id}", headers=h), 404, "not_found")
    error(client.patch(f"{BASE}/{foreign.id}", json={"name": "x"}, headers=h), 404, "not_found")
    error(client.get(f"{BASE}/{foreign.id}/contacts", headers=h), 404, "not_found")
    error(client.post(f"{BASE}/{foreign.id}/contacts", json={"on": "2026-01-01", "channel": "电话"}, headers=h),
          404, "not_found")
    for odd in ("abc", "-1", "0", "9" * 30, "1.5"):
        error(client.get(f"{BASE}/{odd}", headers=h), 404, "not_found")
    with scope("320115"):
        assert db.session.get(Member, foreign.id).name == "张三"


def test_secretary_sees_only_the_subtree(make, client, chaoyang, new_member):
    inside = new_member("110105", chaoyang["sub"])
    outside = new_member("110105", chaoyang["other"])
    h = bearer(make.token(make.user("110105", "secretary", org=chaoyang["first"])))
    assert [m["id"] for m in client.get(BASE, headers=h).get_json()["items"]] == [inside.id]
    error(client.get(f"{BASE}/{outside.id}", headers=h), 404, "not_found")
    err = error(client.post(BASE, json=body(chaoyang["other"]), headers=h), 400, "validation")
    assert err["fields"] == {"org": "只能登记本组织及下级组织的党员"}


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=-1", "page=0", "page=x", "per_page=1.5",
                                   "page=" + "9" * 30, "direction=up", "org=nowhere", "contact=x", "dues=x",
                                   "q=" + "x" * 101, "q=%00", "as_of=2026-02-30", "as_of=%00", "org=%00",
                                   "as_of=0001-01-15&contact=lost&dues=1_5m"])
def test_bad_list_parameters_are_400(client, chaoyang, clerk_token, query):
    error(client.get(f"{BASE}?{query}", headers=bearer(clerk_token)), 400, "validation")


@pytest.mark.parametrize("raw,ctype", [
    (b"not json", "application/json"), (b"[1, 2]", "application/json"), (b'"text"', "application/json"),
    (b"null", "application/json"), (b"", "application/json"), (b'{"name": "x"}', "text/plain"),
    (b"\xff\xfe\x00", "application/json"), (b'{"name": "\\ud800"}', "application/json"),
])
def test_garbage_bodies_are_400(client, chaoyang, clerk_token, raw, ctype):
    for method, url in (("post", BASE),):
        resp = getattr(client, method)(url, data=raw, content_type=ctype, headers=bearer(clerk_token))
        error(resp, 400, "validation")
    assert count_members() == 0


@pytest.mark.parametrize("field,value", [
    ("name", 12), ("name", None), ("name", ["a"]), ("name", {"x": 1}), ("name", "名" * 100000), ("sex", 1),
    ("id_number", 110105199001011234), ("id_number", "1" * 100000), ("joined_on", 20150701), ("joined_on", "0000-00-00"),
    ("joined_on", "9999-12-31"), ("birth_date", "1949-02-30"), ("org", 5), ("org", None), ("direction", True),
    ("dues_paid_through", "2026-00"), ("dues_paid_through", ["2026-01"]), ("phone", 1.5), ("employer", "a\x00b"),
    ("region", "\ud83d"), ("holds_relationship", "no"), ("holds_relationship", 0),
])
def test_wrong_types_are_400_with_the_field_named(client, chaoyang, clerk_token, field, value):
    resp = client.post(BASE, data=json.dumps(body(chaoyang["first"], **{field: value})),
                       content_type="application/json", headers=bearer(clerk_token))
    if field == "name" and value == 12:
        assert resp.status_code == 201  # a number is a name's text "12": accepted as typed
        return
    err = error(resp, 400, "validation")
    assert field in err["fields"], err
    assert count_members() == 0


def test_too_large_body_is_413(client, chaoyang, clerk_token, clean_app):
    big = b'{"name": "' + b"x" * (clean_app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    resp = client.post(BASE, data=big, content_type="application/json", headers=bearer(clerk_token))
    error(resp, 413, "too_large")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(services.FIELDS + ("holds_relationship", "version", "x")), json_values,
                            max_size=8))
def test_fuzzed_bodies_never_fail(client, chaoyang, clerk_token, make, data):
    """Whatever JSON object arrives, the answer is a clean 2xx/4xx, never a 500."""
    h = bearer(clerk_token)
    resp = client.post(BASE, json=data, headers=h)
    assert resp.status_code in (201, 400, 409), resp.get_data(as_text=True)[:300]
    resp = client.patch(f"{BASE}/1", json=data, headers=h)
    assert resp.status_code in (200, 400, 404, 409)
    resp = client.post(f"{BASE}/1/contacts", json=data, headers=h)
    assert resp.status_code in (201, 400, 404)
    db.session.rollback()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["q", "direction", "org", "contact", "dues", "page", "per_page",
                                               "as_of"]), st.text(max_size=25), max_size=5))
def test_fuzzed_list_parameters_never_fail(client, chaoyang, clerk_token, params):
    resp = client.get(BASE, query_string=params, headers=bearer(clerk_token))
    assert resp.status_code in (200, 400)
    page = client.get("/t/110105/members/", query_string=params)
    assert page.status_code in (200, 302)


def test_contact_rows_only_for_existing_members(make, client, chaoyang, clerk_token):
    error(client.post(f"{BASE}/424242/contacts", json={"on": "2026-01-01", "channel": "电话"},
                      headers=bearer(clerk_token)), 404, "not_found")
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count()).select_from(Contact)).scalar_one() == 0

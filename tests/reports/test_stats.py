from datetime import date

from portal.auth.access import Principal
from portal.extensions import db
from portal.reports import services
from tests.conftest import login, scope, tenant
from tests.factories import id_number


def _principal(code):
    t = tenant(code)
    return Principal(user=None, tenant=t, grant=None)


def test_buckets_follow_statistics_md(make):
    org = make.org("110105")
    as_of = date(2017, 10, 31)
    # age 35 exactly (born 1981-11-01 → 35 full years on 2017-10-31), age 36 (born 1981-10-31)
    make.member("110105", org, id_number=id_number("110105", date(1981, 11, 1)), joined_on="2012-11-01",
                dues_paid_through="2017-09", last_contact_on="2017-05-01", education="硕士", sex="女")
    make.member("110105", org, id_number=id_number("110105", date(1981, 10, 31)), joined_on="2012-10-31",
                dues_paid_through="2017-08", last_contact_on="2017-04-30", education="大学")
    make.member("110105", org, id_number=id_number("110105", date(1957, 1, 1)), joined_on="1990-01-01",
                dues_paid_through="", last_contact_on=None, education="中专")
    with scope("110105"):
        r = services.tenant_stats(_principal("110105"), as_of=as_of)
    assert r["total"] == 3
    assert r["gender"] == {"male": 2, "female": 1}
    assert r["age"] == {"le35": 1, "36_54": 1, "55_60": 1, "gt60": 0}
    assert r["education"] == {"postgraduate": 1, "bachelor": 1, "junior_college": 0, "below_college": 1}
    # party age: joined 2012-11-01 → 4 full years; 2012-10-31 → 5; 1990 → 27
    assert r["party_age"] == {"le5": 2, "6_10": 0, "11_20": 0, "gt20": 1}
    assert r["dues"] == {"on_time": 1, "1_5m": 1, "6_12m": 0, "1_5y": 0, "gt5y": 0, "unknown": 1}
    # lost: no contact on or after 2017-04-30
    assert r["contact"] == {"in_contact": 2, "lost": 1}
    assert r["transfers"]["2017"] == {"in": 0, "out": 0}


def test_stats_api_and_page(client, make):
    org = make.org("110105")
    make.member("110105", org, direction="流入")
    make.member("110105", org, direction="流出")
    user = make.user("110105", "viewer")
    token = make.token(user)
    resp = client.get("/api/v1/t/110105/stats?as_of=2026-11-01&direction=incoming",
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["tenant"] == "110105" and body["total"] == 1
    for key in ("gender", "age", "education", "party_age", "dues", "contact", "transfers"):
        assert key in body
    bad = client.get("/api/v1/t/110105/stats?as_of=2026-13-01", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.get_json()["error"]["fields"]["as_of"]
    login(client, user.username)
    page = client.get("/t/110105/reports/stats?as_of=2026-11-01")
    assert page.status_code == 200 and "35岁及以下" in page.get_data(as_text=True)
    xlsx = client.get("/t/110105/reports/stats?as_of=2026-11-01&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_upper_reader_sees_region_sum_and_nothing_else(client, make):
    a = make.org("320115")
    make.member("320115", a)
    make.member("320115", a)
    make.member("110105", make.org("110105"))
    reader = make.user(None, "upper_reader", region="320000")
    token = make.token(reader)
    h = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/regions/320000/stats", headers=h).get_json()
    assert body["total"] == 2 and [c["tenant"] for c in body["counties"]] == ["320115"]
    assert client.get("/api/v1/regions/110000/stats", headers=h).status_code == 404
    assert client.get("/api/v1/t/320115/members", headers=h).status_code == 404
    assert client.get("/api/v1/t/320115/stats", headers=h).status_code == 404
    login(client, reader.username)
    r = client.get("/region/320100/stats")
    assert r.status_code == 200
    assert client.get("/t/320115/reports/stats").status_code == 404
    db.session.remove()


def test_as_of_is_read_by_cores_date_parser_with_the_statistics_answers(client, make):
    """as_of takes the forms offices type elsewhere (core.parsing); what is not a date, or outside
    the statistics' range, keeps its own answer on the API and the page."""
    user = make.user("110105", "viewer")
    api = {"Authorization": f"Bearer {make.token(user)}"}
    for typed in ("2026-11-01", "2026/11/1", "2026年11月1日"):
        body = client.get(f"/api/v1/t/110105/stats?as_of={typed}", headers=api).get_json()
        assert body["as_of"] == "2026-11-01", typed
    for typed, message in (("2026-02-30", "日期格式应为YYYY-MM-DD"), ("yesterday", "日期格式应为YYYY-MM-DD"),
                           ("1900-01-01", "统计日期应在1921-07-01至2100-12-31之间")):
        bad = client.get(f"/api/v1/t/110105/stats?as_of={typed}", headers=api)
        assert bad.status_code == 400 and bad.get_json()["error"]["fields"] == {"as_of": message}, typed
    login(client, user.username)
    page = client.get("/t/110105/reports/stats?as_of=2026-02-30")
    assert page.status_code == 400 and "日期格式应为YYYY-MM-DD" in page.get_data(as_text=True)


def test_the_cell_expressions_are_kept_per_day_and_threshold():
    """Built once per (day, 失联 threshold): another day or threshold gets its own, with its own dates."""
    from portal.reports.stats import _expressions
    day = date(2026, 12, 1)
    assert _expressions(day, 6) is _expressions(day, 6)
    assert _expressions(day, 6) is not _expressions(day, 3)
    assert _expressions(date(2026, 12, 2), 6) is not _expressions(day, 6)
    lost = lambda exprs: str(exprs[("contact", "lost")].compile(compile_kwargs={"literal_binds": True}))  # noqa: E731
    assert lost(_expressions(day, 6)) != lost(_expressions(day, 3))

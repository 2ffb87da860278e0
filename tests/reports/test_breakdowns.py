"""The breakdowns offices report, their SVG charts, the xlsx of all tables and the PDF report;
region pages titled with the region's name."""
import io
import re
from datetime import date

from openpyxl import load_workbook

from portal.reports.places import province_city
from tests.conftest import login
from tests.factories import id_number
from tests.letters.support import flat, pdf_text

AS_OF = "2026-11-01"


def _register(make):
    one = make.org("320115", name="江宁第一支部")
    two = make.org("320115", name="江宁第二支部")
    people = [
        (one, dict(move_reason="务工", region="广东省深圳市南山区", industry="制造业", last_contact_on="2026-10-01")),
        (one, dict(move_reason="务工", region="440305", industry="制造业", last_contact_on=None)),
        (one, dict(move_reason="经商", region="浙江杭州西湖区", industry="批发和零售业", last_contact_on="2026-09-01")),
        (two, dict(move_reason="", region="国外：新加坡", industry="", last_contact_on="2025-01-01")),
    ]
    for i, (org, extra) in enumerate(people, start=1):
        make.member("320115", org, id_number=id_number("320115", date(1980, 1, i), i), joined_on="2010-07-01", **extra)
    return one, two


def test_place_names_come_from_the_division_data():
    assert province_city("江苏省南京市江宁区") == ("320100", "江苏省", "南京市")
    assert province_city("440305") == ("440300", "广东省", "深圳市")
    assert province_city("深圳市南山区某工业园") == ("440300", "广东省", "深圳市")
    assert province_city("北京市朝阳区") == ("110000", "北京市", "")
    assert province_city("国外：新加坡") == ("", "", "")


def test_breakdowns_in_the_api_keep_the_statistics_shape(client, make):
    _register(make)
    token = make.token(make.user("320115", "viewer"))
    body = client.get(f"/api/v1/t/320115/stats?as_of={AS_OF}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["total"] == 4 and body["gender"]["male"] == 4
    assert body["move_reason"] == {"work": 2, "business": 1, "study": 0, "family": 0, "other": 0, "unknown": 1}
    places = {(d["province"], d["city"]): d["count"] for d in body["destination"]}
    assert places == {("广东省", "深圳市"): 2, ("浙江省", "杭州市"): 1, ("", ""): 1}
    assert {d["industry"]: d["count"] for d in body["industry"]} == {"制造业": 2, "批发和零售业": 1, "": 1}
    branches = {b["name"]: (b["total"], b["lost"]) for b in body["branches"]}
    assert branches == {"江宁第一支部": (3, 1), "江宁第二支部": (1, 1)}
    assert body["contact"] == {"in_contact": 2, "lost": 2}


def test_page_has_svg_charts_and_the_downloads(client, make):
    _register(make)
    user = make.user("320115", "viewer")
    login(client, user.username)
    page = client.get(f"/t/320115/reports/stats?as_of={AS_OF}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count("<svg") >= 11 and "<script" not in text.split("</main>")[0].split("<main")[-1]
    assert "流动原因" in text and "深圳市" in text and "江宁第二支部" in text and "组织关系转接" in text
    assert "polyline" in text or "<circle" in text  # the yearly transfers' line chart

    xlsx = client.get(f"/t/320115/reports/stats?as_of={AS_OF}&format=xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert {"性别", "年龄", "流动原因", "流向地区", "从事行业", "组织关系转接"} <= set(book.sheetnames)
    reasons = {r[0].value: (r[1].value, r[2].value) for r in book["流动原因"].iter_rows(min_row=2)}
    assert reasons["务工"] == (2, 0.5) and isinstance(reasons["务工"][0], int)
    branches = [r for r in book.worksheets if r.title.startswith("所在支部")][0]
    rows = {r[0].value: (r[1].value, r[3].value) for r in branches.iter_rows(min_row=2)}
    assert rows["江宁第一支部"] == (3, 1)

    pdf = client.get(f"/t/320115/reports/stats?as_of={AS_OF}&format=pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    words = flat(pdf_text(pdf.data))
    assert "江宁区" in words and AS_OF in words and "流动原因" in words and "流向地区" in words
    assert "广东省深圳市" in words and "组织关系转接" in words
    bad = client.get("/t/320115/reports/stats?as_of=x&format=pdf")
    assert bad.status_code == 400


def test_region_page_is_titled_with_its_name_and_lists_its_counties(client, make):
    _register(make)
    reader = make.user(None, "upper_reader", region="320000")
    login(client, reader.username)
    page = client.get(f"/region/320100/stats?as_of={AS_OF}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    title = re.search(r'<h5 id="stats-title">(.*?)<small', text, re.S).group(1)
    assert "南京市" in title and "320100" not in title
    assert 'id="region-counties"' in text and "320115" in text
    pdf = client.get(f"/region/320100/stats?as_of={AS_OF}&format=pdf")
    assert pdf.status_code == 200 and "南京市" in flat(pdf_text(pdf.data))
    token = make.token(reader)
    body = client.get(f"/api/v1/regions/320100/stats?as_of={AS_OF}", headers={"Authorization": f"Bearer {token}"}) \
        .get_json()
    assert body["region_name"] == "南京市" and body["move_reason"]["work"] == 2
    assert [b["org"] for b in body["branches"]] == ["320115"]

"""statistics.md: a roster with the marginals of seed 001 (Beijing Chaoyang, 2017-10, 4,215
members), imported, gives back exactly the field's numbers."""
import io
from datetime import date, timedelta

from openpyxl import Workbook

from portal.reports import services as reports
from portal.roster import services
from tests.conftest import scope, tenant
from tests.roster.test_import import finished
from tests.factories import id_number

AS_OF = date(2017, 10, 31)
EXPECTED = {
    "total": 4215,
    "gender": {"male": 2539, "female": 1676},
    "age": {"le35": 1446, "36_54": 2190, "55_60": 414, "gt60": 165},
    "education": {"postgraduate": 1347, "bachelor": 1704, "junior_college": 671, "below_college": 493},
    "party_age": {"le5": 266, "6_10": 1425, "11_20": 1746, "gt20": 778},
    "dues": {"on_time": 909, "1_5m": 1171, "6_12m": 647, "1_5y": 686, "gt5y": 802, "unknown": 0},
}
# Age and party age paired so every member joined after 18: (age, party age, count).
AGE_PARTY = [(30, 3, 266), (33, 8, 1180), (40, 8, 245), (45, 15, 1746), (50, 25, 199), (58, 30, 414),
             (65, 35, 165)]
EDUCATION = ["硕士"] * 1347 + ["本科"] * 1704 + ["大专"] * 671 + ["高中"] * 493
DUES = ["2017-10"] * 909 + ["2017-06"] * 1171 + ["2017-01"] * 647 + ["2015-01"] * 686 + ["2010-01"] * 802
SEX = ["男"] * 2539 + ["女"] * 1676


def roster(org_name: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向", "党费交至", "最后联系日期"])
    i = 0
    for age, party, count in AGE_PARTY:
        for _ in range(count):
            born = date(2017 - age, 1, 1) + timedelta(days=i % 200)
            joined = date(2017 - party, 3, 1) + timedelta(days=i % 100)
            ws.append([f"党员{i}", SEX[(i * 7919) % 4215], id_number("110105", born, (i // 200) % 1000),
                       EDUCATION[(i * 104729) % 4215], joined, org_name, "流出", DUES[(i * 1299709) % 4215],
                       "2017-09-01"])
            i += 1
    assert i == 4215
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_seed_001_roster_gives_back_the_field_numbers(make):
    # The multipliers are coprime with 4215, so each column is a permutation of its marginal.
    org = make.org("110105", name="朝阳区人才服务中心流动人员党委", kind="基层党委")
    principal = make.principal("110105", "clerk")
    with scope("110105"):
        run_id = services.start(principal, "seed001.xlsx", roster(org.name)).id
    run = finished(run_id, "110105")
    assert run.state == "done", (run.errors or [])[:5]
    assert run.written == 4215
    with scope("110105"):
        result = reports.tenant_stats(principal, as_of=AS_OF)
    for key, value in EXPECTED.items():
        assert result[key] == value, key
    assert result["contact"] == {"in_contact": 4215, "lost": 0}
    assert tenant("110105").code == result["tenant"]

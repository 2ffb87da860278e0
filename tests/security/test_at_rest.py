"""Issue 8, "personal numbers at rest and in logs": uploads were kept in clear (rejected ones too),
stored PDFs print the whole ID number, the access log recorded ?q= and ?id_number=."""
import logging
import threading
import urllib.request
from datetime import date
from urllib.parse import quote

from sqlalchemy import text

from portal.extensions import db
from portal.jobs.queue import wait
from portal.roster import services as roster
from portal.roster.models import RosterImport
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.conftest import login, scope, tenant
from tests.factories import id_number
from tests.letters.support import admin_principal, issue_intro, pdf_text

A = "110105"
HEADERS = "姓名,性别,身份证号,学历,入党日期,所在支部,流动方向"


def _raw(sql: str, **params):
    with cross_tenant(acting_for=tenant(A).id):  # uploads are personal rows: read in their tenant
        value = db.session.execute(text(sql), params).scalar_one()
    db.session.rollback()
    return None if value is None else bytes(value)


def _import(make, content: bytes):
    principal = make.principal(A, "clerk")
    with scope(A):
        run_id = roster.start(principal, "名册.csv", content).id
        job_id = roster.get(run_id).job_id
    wait(job_id, tenant(A).id, timeout=300)
    with scope(A):
        db.session.expire_all()
        state = roster.get(run_id).state
        db.session.rollback()
    return run_id, state


def test_uploads_are_dropped_once_processed_accepted_or_rejected(make):
    org = make.org(A, name="朝阳区导入党支部")
    good_number, bad_number = id_number(A, date(1984, 2, 2), 71), id_number(A, date(1985, 3, 3), 72)
    good = f"{HEADERS}\n王导入,男,{good_number},本科,2010-07-01,{org.name},流出\n".encode()
    bad = f"{HEADERS}\n李拒绝,男,{bad_number},本科,2010-07-01,不存在的支部,流出\n".encode()
    for content, expected in ((good, "done"), (bad, "rejected")):
        run_id, state = _import(make, content)
        assert state == expected
        assert _raw("SELECT content FROM roster_imports WHERE id = :i", i=run_id) is None


def test_a_waiting_upload_is_sealed(make):
    number = id_number(A, date(1984, 2, 2), 73)
    content = f"{HEADERS}\n张等待,男,{number},本科,2010-07-01,某支部,流出\n".encode()
    with scope(A):
        run = RosterImport(filename="名册.csv", content=content, state="queued")
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    raw = _raw("SELECT content FROM roster_imports WHERE id = :i", i=run_id)
    assert number.encode() not in raw and "张等待".encode() not in raw
    with scope(A):
        db.session.expire_all()
        assert db.session.get(RosterImport, run_id).content == content


def test_stored_documents_are_sealed_and_still_served_whole(make, client):
    principal = admin_principal(make)
    letter_id, username = issue_intro(principal, render="now").id, principal.user.username
    raw = _raw("SELECT pdf FROM letters WHERE id = :i", i=letter_id)
    assert raw and not raw.startswith(b"%PDF") and b"110105199005170011" not in raw
    login(client, username)
    resp = client.get(f"/t/{A}/letters/{letter_id}.pdf")
    assert resp.status_code == 200
    assert "110105199005170011" in pdf_text(resp.data).replace(" ", "")  # the form requires it


def test_a_document_sealed_with_another_key_renders_again(make, client):
    principal = admin_principal(make)
    letter_id, username = issue_intro(principal, render="now").id, principal.user.username
    with tenant_scope(tenant(A).id):
        db.session.execute(text("UPDATE letters SET pdf = :v WHERE id = :i"), {"v": b"gAAAAAnot-ours", "i": letter_id})
        db.session.commit()
    login(client, username)
    resp = client.get(f"/t/{A}/letters/{letter_id}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")


def test_no_id_number_phone_or_search_term_reaches_a_log_line(make, clean_app, caplog):
    from werkzeug.serving import make_server
    org = make.org(A, name="朝阳区日志党支部")
    number = id_number(A, date(1979, 9, 19), 74)
    make.member(A, org, name="赵日志", id_number=number, phone="13712345678")
    user = make.user(A, "clerk", username="a-log-clerk")
    token = make.token(user)
    # One thread: each request line is logged before the next request is served and before shutdown.
    srv = make_server("127.0.0.1", 0, clean_app, threaded=False)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{srv.server_port}"
    paths = [f"/api/v1/registry/lookup?id_number={number}", f"/api/v1/t/{A}/members?q={quote('赵日志')}",
             f"/api/v1/t/{A}/members?q=13712345678", f"/registry?q={quote('秘密搜索词')}"]
    try:
        with caplog.at_level(logging.INFO):
            for path in paths:
                req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
                try:
                    urllib.request.urlopen(req, timeout=60).read()
                except urllib.error.HTTPError:
                    pass
            # gunicorn's access logger formats the request line the same way
            logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', {
                "h": "10.0.0.1", "r": f"GET /api/v1/t/{A}/members?q=13712345678 HTTP/1.1", "s": "200"})
            logging.getLogger("portal.test").warning("member %s phone %s tel %s", number, "13712345678",
                                                     "025-52345678")
            link = "Q3k9xVbT0pLmN2aZ7rYw1sUe4hGdFcBj"  # the shape of a self-service link's token
            logging.getLogger("gunicorn.access").info('"%s"', f"GET /m/{link} HTTP/1.1")
            logging.getLogger("gunicorn.access").info('"%s"', f"POST /api/v1/self/{link}/session HTTP/1.1")
            try:
                raise ValueError(f"row with {number}")
            except ValueError:
                logging.getLogger("portal.test").exception("failed")
    finally:
        srv.shutdown()
        thread.join(timeout=10)
    lines = caplog.text + "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "/api/v1/registry/lookup?" in lines and "GET /api/v1/t/110105/members?" in lines  # it did log
    assert "GET /m/[已隐去]" in lines and "/api/v1/self/[已隐去]/session" in lines
    for secret in (number, "13712345678", "52345678", "赵日志", quote("赵日志"), "秘密搜索词", quote("秘密搜索词"), link):
        assert secret not in lines, secret

"""Batches: the open letter to all outgoing members (one job, one combined PDF, one PDF per member)
and all the letters of a day in one printable PDF."""
import io
import zipfile

import pytest

from portal.core import clock
from portal.extensions import db
from portal.jobs.models import Job
from portal.jobs.queue import wait
from portal.letters.models import Letter, LetterBatch
from tests.conftest import login, scope, tenant
from tests.letters.support import admin_principal, flat, issue_intro, pdf_text

BODY = ("{{姓名}}同志在{{流向地区}}工作，{{支部}}惦记着您。\n\n"
        "请按时交纳党费。这段文字原样打印：{{ 7*7 }} {% if 1 %}x{% endif %} {{未知}}")


@pytest.fixture
def outgoing(make):
    branch = make.org("110105", name="望京第一党支部")
    other = make.org("110105", name="酒仙桥党支部")
    people = [make.member("110105", branch, name="赵一", region="江苏省南京市"),
              make.member("110105", branch, name="钱二", region="广东省深圳市"),
              make.member("110105", other, name="孙三", region="浙江省杭州市")]
    make.member("110105", branch, name="李流入", direction="流入", region="河南省焦作市")
    return branch, other, people


def _api(client, make, role="tenant_admin"):
    token = make.token(make.user("110105", role))
    return {"Authorization": f"Bearer {token}"}


def _batch(batch_id):
    with scope("110105"):
        db.session.expire_all()
        from sqlalchemy.orm import undefer
        return db.session.execute(db.select(LetterBatch).filter_by(id=batch_id)
                                  .options(undefer(LetterBatch.pdf))).scalar_one()


def test_the_open_letter_is_one_job_with_a_combined_pdf_and_one_pdf_per_member(make, client, outgoing):
    headers = _api(client, make)
    resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": BODY}, headers=headers)
    assert resp.status_code == 202, resp.get_json()
    answer = resp.get_json()
    assert answer["count"] == 3
    job = wait(answer["job"], tenant("110105").id, timeout=120)
    assert (job.state, job.progress, job.done_count, job.total) == ("done", 100, 3, 3)

    status = client.get(f"/api/v1/t/110105/jobs/{answer['job']}", headers=headers).get_json()
    assert status["state"] == "done" and status["progress"] == 100 and status["result"]["count"] == 3

    batch = _batch(answer["batch"])
    assert batch.count == 3 and batch.rendered_at is not None
    combined = flat(pdf_text(batch.pdf))
    for name, region in (("赵一", "江苏省南京市"), ("钱二", "广东省深圳市"), ("孙三", "浙江省杭州市")):
        assert f"{name}同志在{region}工作" in combined
    assert "李流入" not in combined
    assert "望京第一党支部惦记着您" in combined and "酒仙桥党支部惦记着您" in combined
    # The user's text is printed as written in every letter. Not "49 not in the PDF": a random
    # verification code may hold those digits.
    assert combined.count("这段文字原样打印：{{7*7}}{%if1%}x{%endif%}{{未知}}") == 3
    assert combined.count("致流动党员的一封信") >= 3

    with scope("110105"):
        letters = db.session.execute(
            db.select(Letter).filter_by(kind="open_letter").order_by(Letter.seq)).scalars().all()
        assert [x.seq for x in letters] == [1, 2, 3]
        assert all(x.render_count == 1 and x.job_id == answer["job"] for x in letters)

    archive = client.get(f"/api/v1/t/110105/letters/batches/{answer['batch']}.zip", headers=headers)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        names = z.namelist()
        assert len(names) == 3
        texts = [flat(pdf_text(z.read(n))) for n in names]
    assert sorted(n for t in texts for n in ("赵一", "钱二", "孙三") if f"{n}同志在" in t) == ["孙三", "赵一", "钱二"]
    assert all(sum(f"{n}同志在" in t for n in ("赵一", "钱二", "孙三")) == 1 for t in texts)
    # the zip came from the stored PDFs: nothing rendered twice
    with scope("110105"):
        db.session.expire_all()
        assert {x.render_count for x in db.session.execute(db.select(Letter)).scalars()} == {1}

    pdf = client.get(f"/api/v1/t/110105/letters/batches/{answer['batch']}.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == batch.pdf
    info = client.get(f"/api/v1/t/110105/letters/batches/{answer['batch']}", headers=headers).get_json()
    assert info["rendered"] is True and info["job"]["progress"] == 100


def test_the_open_letter_to_one_organization(make, client, outgoing):
    branch, other, _people = outgoing
    headers = _api(client, make)
    resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": BODY, "org": other.code},
                       headers=headers)
    assert resp.status_code == 202 and resp.get_json()["count"] == 1
    job = wait(resp.get_json()["job"], tenant("110105").id, timeout=120)
    assert job.state == "done"
    text = flat(pdf_text(_batch(resp.get_json()["batch"]).pdf))
    assert "孙三" in text and "赵一" not in text


@pytest.mark.parametrize("body, status, field", [
    ({"body": ""}, 400, "body"),
    ({"body": "   "}, 400, "body"),
    ({"body": "x" * 5001}, 400, "body"),
    ({"body": "信", "org": "110105-9999"}, 400, "org"),
    ({"body": 12}, 400, "body"),
    ({"body": "信", "org": ["x"]}, 400, "org"),
])
def test_open_letter_input_errors_start_nothing(make, client, outgoing, body, status, field):
    headers = _api(client, make)
    resp = client.post("/api/v1/t/110105/letters/open-letter", json=body, headers=headers)
    assert resp.status_code == status
    assert field in resp.get_json()["error"]["fields"]
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count(Letter.id))).scalar_one() == 0
        assert db.session.execute(db.select(db.func.count(Job.id))).scalar_one() == 0


def test_an_open_letter_with_nobody_to_write_to_is_refused(make, client):
    make.org("110105", name="空支部")
    resp = client.post("/api/v1/t/110105/letters/open-letter", json={"body": "信"}, headers=_api(client, make))
    assert resp.status_code == 400 and "没有符合条件的流出党员" in resp.get_json()["error"]["message"]


def test_the_open_letter_pages_preview_confirm_and_progress(make, client, outgoing):
    user = make.user("110105", "clerk")
    login(client, user.username)
    page = client.get("/t/110105/letters/open-letter")
    assert page.status_code == 200 and "{{姓名}}" in page.get_data(as_text=True)
    preview = client.post("/t/110105/letters/open-letter",
                          data={"body": BODY, "org": "", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "共 3 名流出党员" in html and "data-confirm" in html
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count(Letter.id))).scalar_one() == 0
    issued = client.post("/t/110105/letters/open-letter", data={"body": BODY, "org": "", "action": "issue"})
    assert issued.status_code == 302
    batch_url = issued.headers["Location"]
    with scope("110105"):
        batch = db.session.execute(db.select(LetterBatch)).scalar_one()
    wait(batch.job_id, batch.tenant_id, timeout=120)
    html = client.get(batch_url).get_data(as_text=True)
    assert 'role="progressbar"' in html and "100%" in html
    assert "下载合订PDF" in html and "下载每人一份（ZIP）" in html
    assert "赵一" in html and "孙三" in html
    pdf = client.get(f"/t/110105/letters/batches/{batch.id}.pdf")
    assert pdf.status_code == 200 and "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    empty = client.post("/t/110105/letters/open-letter", data={"body": "", "action": "preview"})
    assert empty.status_code == 400 and "请填写信的正文" in empty.get_data(as_text=True)


def test_all_letters_of_a_day_in_one_pdf(make, client):
    p = admin_principal(make)
    first = issue_intro(p, name="周五")
    second = issue_intro(p, name="吴六")
    void = issue_intro(p, name="郑七")
    numbers = [first.number.replace(" ", ""), second.number.replace(" ", "")]
    with scope("110105"):
        from portal.letters import services
        services.void(p.user, void, "作废测试")
        db.session.commit()
    headers = {"Authorization": f"Bearer {make.token(p.user)}"}
    today = clock.today().isoformat()
    resp = client.post("/api/v1/t/110105/letters/day-batch", json={"date": today}, headers=headers)
    assert resp.status_code == 202 and resp.get_json()["count"] == 2
    job = wait(resp.get_json()["job"], tenant("110105").id, timeout=120)
    assert job.state == "done" and job.progress == 100
    text = flat(pdf_text(_batch(resp.get_json()["batch"]).pdf))
    assert "周五" in text and "吴六" in text and "郑七" not in text
    assert numbers[0] in text and numbers[1] in text

    none = client.post("/api/v1/t/110105/letters/day-batch", json={"date": "2001-01-01"}, headers=headers)
    assert none.status_code == 400 and "没有签发" in none.get_json()["error"]["message"]
    bad = client.post("/api/v1/t/110105/letters/day-batch", json={"date": "2026-13-45"}, headers=headers)
    assert bad.status_code == 400 and "date" in bad.get_json()["error"]["fields"]


def test_the_day_batch_from_the_letters_page(make, client):
    p = admin_principal(make)
    issue_intro(p, name="周五")
    login(client, p.user.username)
    index = client.get("/t/110105/letters/")
    assert index.status_code == 200 and "当日文书合订打印" in index.get_data(as_text=True)
    resp = client.post("/t/110105/letters/day", data={"date": clock.today().isoformat(), "kind": ""})
    assert resp.status_code == 302 and "/letters/batches/" in resp.headers["Location"]
    refused = client.post("/t/110105/letters/day", data={"date": "2001-01-01"}, follow_redirects=True)
    assert "没有签发" in refused.get_data(as_text=True)

"""The documents as products: issued, stored with their checksum, downloaded without rendering
again, re-rendered on request, voided with the mark; their PDF text read back with pdftotext."""
import hashlib
import shutil
from types import SimpleNamespace
from datetime import timedelta

import pytest

from portal.core import clock
from portal.extensions import db
from portal.letters.models import Letter
from portal.members.models import Member
from tests.conftest import login, scope
from tests.letters.support import (admin_principal, dark_fraction, first_page_png, flat, issue_intro,
                                   pdf_text, reload)


@pytest.fixture
def branch(make):
    committee = make.org("110105", name="朝阳区望京街道党工委", kind="基层党委", address="北京市朝阳区望京街1号",
                         contact_phone="010-64700000")
    return make.org("110105", name="望京第一党支部", kind="党支部", parent=committee)


def _member(make, branch, **fields):
    data = {"name": "王小明", "region": "江苏省南京市江宁区", "dues_paid_through": "2026-10"}
    data.update(fields)
    return make.member("110105", branch, **data)


def _clerk(make, client):
    user = make.user("110105", "clerk")
    login(client, user.username)
    return user



def _plain(letter) -> SimpleNamespace:
    """The letter's columns as plain values, read in its tenant's scope (on PostgreSQL a row of a
    tenant cannot be refreshed outside it)."""
    return SimpleNamespace(verify_code=letter.verify_code,
                           **{c.key: getattr(letter, c.key) for c in Letter.__table__.columns if c.key != "pdf"})

def test_the_introduction_pdf_reads_back_name_number_orgs_and_formal_numerals(make):
    letter = issue_intro(admin_principal(make), name="李四", from_org="朝阳区望京街道党工委",
                         to_org="江宁区秣陵街道流动党员党支部", render="now")
    stored = reload(letter)
    pdf = stored.pdf
    assert stored.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    # the context is encrypted at rest: no name, no ID number in the row
    assert "110105199005170011" not in stored.context_enc and "李四" not in stored.context_enc
    text = flat(pdf_text(pdf))
    assert "李四" in text
    assert "（朝组）字第1号" in text
    assert "朝阳区望京街道党工委" in text and "江宁区秣陵街道流动党员党支部" in text
    assert "叁拾" in text                     # validity: 叁拾天
    assert "贰零贰陆年拾壹月" in text           # dues paid through 2026-11
    assert "110105199005170011" in text       # the national form prints the whole ID number
    assert letter.verify_code.replace("-", "") in text.replace("-", "")


def test_a_page_turned_into_png_is_not_blank(make):
    letter = issue_intro(admin_principal(make), render="now")
    png = first_page_png(reload(letter).pdf)
    assert png.startswith(b"\x89PNG")
    assert dark_fraction(png) > 0.005


def test_download_serves_the_stored_pdf_without_rendering_again(make, client):
    p = admin_principal(make)
    letter = issue_intro(p, render="job")  # inline without Redis, a worker with it
    if letter.job_id:
        from portal.jobs.queue import wait
        wait(letter.job_id, letter.tenant_id)
    stored = reload(letter)
    assert stored.render_count == 1 and stored.pdf_sha256 == hashlib.sha256(stored.pdf).hexdigest()
    login(client, p.user.username)
    first = client.get(f"/t/110105/letters/{letter.id}.pdf")
    second = client.get(f"/t/110105/letters/{letter.id}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data == stored.pdf
    disposition = first.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert "%E4%BB%8B%E7%BB%8D%E4%BF%A1" in disposition  # 介绍信
    assert reload(letter).render_count == 1


def test_a_letter_not_rendered_yet_downloads_without_writing(make, client):
    """Its rendering job has not run: the download renders in memory and stores nothing."""
    p = admin_principal(make)
    letter = issue_intro(p, render="none")
    assert reload(letter).rendered_at is None
    login(client, p.user.username)
    first = client.get(f"/t/110105/letters/{letter.id}.pdf")
    assert first.status_code == 200 and "李四" in flat(pdf_text(first.data))
    assert client.get(f"/t/110105/letters/{letter.id}.pdf").status_code == 200
    stored = reload(letter)
    assert stored.rendered_at is None and stored.render_count == 0 and stored.pdf is None


def test_rerender_on_request_and_void_marks_the_pdf(make, client):
    p = admin_principal(make)
    letter = issue_intro(p, render="now")
    with scope("110105"):
        letter = _plain(letter)
    login(client, p.user.username)
    resp = client.post(f"/t/110105/letters/{letter.id}/render")
    assert resp.status_code == 302
    if reload(letter).job_id:
        from portal.jobs.queue import wait
        wait(reload(letter).job_id, letter.tenant_id)
    assert reload(letter).render_count == 2
    assert "废" not in pdf_text(reload(letter).pdf)

    page = client.get(f"/t/110105/letters/{letter.id}").get_data(as_text=True)
    assert "data-confirm" in page and letter.verify_code in page

    refused = client.post(f"/t/110105/letters/{letter.id}/void", data={"reason": "  "}, follow_redirects=True)
    assert "请填写作废原因" in refused.get_data(as_text=True)
    assert reload(letter).state == "valid"

    job_before = reload(letter).job_id
    client.post(f"/t/110105/letters/{letter.id}/void", data={"reason": "地址写错"})
    if reload(letter).job_id not in (None, job_before):  # with a worker the void mark is rendered by a job
        from portal.jobs.queue import wait
        wait(reload(letter).job_id, letter.tenant_id)
    voided = reload(letter)
    assert (voided.state, voided.void_reason, voided.number) == ("void", "地址写错", "（朝组）字第 1 号")
    pdf = client.get(f"/t/110105/letters/{letter.id}.pdf").data
    text = pdf_text(pdf)
    assert "废" in text and "作" in text  # the diagonal 作废 mark comes out one character per line
    assert reload(letter).render_count == 3
    with scope("110105"):
        from portal.audit.models import AuditEntry
        actions = [e.action for e in db.session.execute(db.select(AuditEntry).filter_by(
            object_type="letter", object_id=str(letter.id)).order_by(AuditEntry.id)).scalars()]
    assert actions == ["issue", "render", "void"]


def test_certificate_letter_from_the_member_page(make, client, branch):
    member = _member(make, branch)
    _clerk(make, client)
    form = client.get(f"/t/110105/letters/member/{member.id}/certificate-letter")
    assert form.status_code == 200 and "王小明" in form.get_data(as_text=True)
    until = clock.today() + timedelta(days=90)
    resp = client.post(f"/t/110105/letters/member/{member.id}/certificate-letter",
                       data={"to_place": "广东省深圳市南山区", "reason": "务工", "valid_until": until.isoformat()})
    assert resp.status_code == 302
    with scope("110105"):
        letter = db.session.execute(db.select(Letter).filter_by(kind="certificate_letter")).scalar_one()
    assert (letter.subject_type, letter.subject_id, letter.valid_until) == ("member", member.id, until)
    assert letter.issuer_name == "朝阳区望京街道党工委"
    text = flat(pdf_text(client.get(f"/t/110105/letters/{letter.id}.pdf").data))
    assert "党员证明信" in text and "王小明" in text and "（朝组）证字第1号" in text
    assert "望京第一党支部" in text and "广东省深圳市南山区" in text and "务工" in text
    assert "贰零贰陆年拾月" in text  # dues paid through, formal numerals


@pytest.mark.parametrize("data, field, message", [
    ({"to_place": "", "reason": "务工", "valid_until": "+30"}, "to_place", "请填写前往地点"),
    ({"to_place": "深圳", "reason": "", "valid_until": "+30"}, "reason", "请填写外出事由"),
    ({"to_place": "深圳", "reason": "务工", "valid_until": ""}, "valid_until", "请填写有效期至"),
    ({"to_place": "深圳", "reason": "务工", "valid_until": "2026-02-30"}, "valid_until", "日期格式应为YYYY-MM-DD"),
    ({"to_place": "深圳", "reason": "务工", "valid_until": "+0"}, "valid_until", "有效期应晚于今天"),
    ({"to_place": "深圳", "reason": "务工", "valid_until": "+200"}, "valid_until", "证明信用于外出6个月以内"),
    ({"to_place": "深" * 101, "reason": "务工", "valid_until": "+30"}, "to_place", "不超过100个字符"),
])
def test_certificate_letter_input_errors_write_nothing(make, client, branch, data, field, message):
    member = _member(make, branch)
    _clerk(make, client)
    if data["valid_until"].startswith("+"):
        days = int(data["valid_until"][1:])
        data = {**data, "valid_until": (clock.today() + timedelta(days=days)).isoformat()}
    resp = client.post(f"/t/110105/letters/member/{member.id}/certificate-letter", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count(Letter.id))).scalar_one() == 0


def test_activity_card_number_goes_on_the_member_and_comes_off_when_voided(make, client, branch):
    member = _member(make, branch)
    _clerk(make, client)
    resp = client.post(f"/t/110105/letters/member/{member.id}/activity-card")
    assert resp.status_code == 302
    year = clock.today().year
    card_no = f"110105-{year}-0001"
    with scope("110105"):
        letter = db.session.execute(db.select(Letter).filter_by(kind="activity_card")).scalar_one()
        assert letter.number == card_no
        assert db.session.get(Member, member.id).certificate_no == card_no
        letter = _plain(letter)  # a row of the tenant is not refreshed outside its scope
    text = flat(pdf_text(client.get(f"/t/110105/letters/{letter.id}.pdf").data))
    assert "流动党员活动证" in text and card_no in text and "王小明" in text
    assert "江苏省南京市江宁区" in text and str(year + 1) in text

    again = client.post(f"/t/110105/letters/member/{member.id}/activity-card", follow_redirects=True)
    assert "已有有效的流动党员活动证" in again.get_data(as_text=True)
    client.post(f"/t/110105/letters/{letter.id}/void", data={"reason": "证件遗失"})
    with scope("110105"):
        db.session.expire_all()
        assert db.session.get(Member, member.id).certificate_no == ""
    client.post(f"/t/110105/letters/member/{member.id}/activity-card")
    with scope("110105"):
        db.session.expire_all()
        assert db.session.get(Member, member.id).certificate_no == f"110105-{year}-0002"


def test_no_documents_for_a_member_whose_relationship_is_held_elsewhere(make, client, branch):
    member = _member(make, branch, direction="流入", holds_relationship=False)
    _clerk(make, client)
    resp = client.post(f"/t/110105/letters/member/{member.id}/activity-card", follow_redirects=True)
    assert "组织关系不在本县区" in resp.get_data(as_text=True)
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count(Letter.id))).scalar_one() == 0


def test_the_member_page_shows_the_letters_panel(make, client, branch):
    member = _member(make, branch)
    _clerk(make, client)
    client.post(f"/t/110105/letters/member/{member.id}/activity-card")
    page = client.get(f"/t/110105/members/{member.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="member-letters"' in html and "开具党员证明信" in html
    assert f"110105-{clock.today().year}-0001" in html


def test_a_tenant_template_override_is_used(make, app, tmp_path):
    tenants = tmp_path / "tenants"
    shutil.copytree(app.config["TENANTS_DIR"], tenants)
    override = tenants / "110105" / "letters"
    override.mkdir(parents=True, exist_ok=True)
    (override / "introduction.html").write_text(
        '{% extends "letters/_base.html" %}{% block body %}<h1>朝阳区专用介绍信样式</h1>'
        '<p>{{ member.name }} {{ doc.number }}</p>{% endblock %}', encoding="utf-8")
    old = app.config["TENANTS_DIR"]
    app.config["TENANTS_DIR"] = str(tenants)
    try:
        p = admin_principal(make)
        mine = issue_intro(p, render="now")
        other = issue_intro(admin_principal(make, "320115"), code="320115", render="now")
    finally:
        app.config["TENANTS_DIR"] = old
    text = flat(pdf_text(reload(mine).pdf))
    assert "朝阳区专用介绍信样式" in text and "李四" in text and "（朝组）字第1号" in text
    assert "朝阳区专用介绍信样式" not in flat(pdf_text(reload(other, "320115").pdf))


def test_a_secretary_sees_only_the_letters_of_their_subtree(make, client, branch):
    other_branch = make.org("110105", name="望京第二党支部", kind="党支部")
    mine = _member(make, branch, name="甲")
    theirs = _member(make, other_branch, name="乙")
    p = admin_principal(make)
    with scope("110105"):
        from portal.letters import documents
        m1, m2 = db.session.get(Member, mine.id), db.session.get(Member, theirs.id)
        l1 = documents.issue_activity_card(p, m1)
        l2 = documents.issue_activity_card(p, m2)
        db.session.commit()
        l1, l2 = _plain(l1), _plain(l2)
    secretary = make.user("110105", "secretary", org=branch)
    login(client, secretary.username)
    assert client.get(f"/t/110105/letters/{l1.id}").status_code == 200
    assert client.get(f"/t/110105/letters/{l2.id}").status_code == 404
    assert client.get(f"/t/110105/letters/{l2.id}.pdf").status_code == 404
    listing = client.get("/t/110105/letters/").get_data(as_text=True)
    assert l1.number in listing and l2.number not in listing

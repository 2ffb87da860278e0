"""The letters API: shapes, errors in api.md form, permissions, and tenant isolation."""
from datetime import timedelta

import pytest

from portal.core import clock
from portal.extensions import db
from portal.letters.models import Letter
from tests.conftest import scope
from tests.letters.support import admin_principal, flat, issue_intro, pdf_text


@pytest.fixture
def setup(make):
    branch = make.org("110105", name="望京第一党支部")
    member = make.member("110105", branch, name="王小明", region="江苏省南京市")
    p = admin_principal(make)
    headers = {"Authorization": f"Bearer {make.token(p.user)}"}
    return p, member, headers


def test_list_and_get_shapes(make, client, setup):
    p, _member, headers = setup
    a, b = issue_intro(p, name="李四"), issue_intro(p, name="张三")
    resp = client.get("/api/v1/t/110105/letters", headers=headers)
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"items", "total", "page"} and body["total"] == 2 and body["page"] == 1
    item = body["items"][0]
    assert item["id"] == b.id and item["number"] == "（朝组）字第 2 号" and item["member"] == "张三"
    assert item["kind"] == "introduction" and item["state"] == "valid"
    assert item["subject"] == {"type": "transfer", "id": 1}
    assert item["valid_until"] == (clock.today() + timedelta(days=30)).isoformat()
    assert item["verify_url"].endswith(f"/verify/{b.token}") and len(item["verify_code"]) == 9
    one = client.get(f"/api/v1/t/110105/letters/{a.id}", headers=headers).get_json()
    assert one["number"] == "（朝组）字第 1 号" and one["rendered"] is False

    assert client.get("/api/v1/t/110105/letters?q=李四", headers=headers).get_json()["total"] == 1
    def total(query):
        return client.get(f"/api/v1/t/110105/letters?{query}", headers=headers).get_json()["total"]
    assert total(f"q={a.verify_code.lower()}") == 1
    assert total("kind=receipt") == 0
    assert total("state=valid") == 2
    assert total(f"date={clock.today()}") == 2
    assert client.get("/api/v1/t/110105/letters?subject=transfer:1", headers=headers).get_json()["total"] == 2


@pytest.mark.parametrize("query, field", [
    ("state=lost", "state"), ("kind=poem", "kind"), ("date=yesterday", "date"), ("subject=member", "subject"),
    ("per_page=500", "per_page"), ("page=x", "page"),
])
def test_bad_filters_are_400(client, setup, query, field):
    resp = client.get(f"/api/v1/t/110105/letters?{query}", headers=setup[2])
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "validation" and field in error["fields"]


def test_pdf_download_with_a_chinese_filename(client, setup):
    p, _member, headers = setup
    letter = issue_intro(p, name="李四")
    resp = client.get(f"/api/v1/t/110105/letters/{letter.id}.pdf", headers=headers)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert "李四" in flat(pdf_text(resp.data))
    # Reads never write: the download rendered in memory; storing the PDF is the rendering job's.
    again = client.get(f"/api/v1/t/110105/letters/{letter.id}", headers=headers).get_json()
    assert again["rendered"] is False and again["render_count"] == 0


def test_void_needs_a_reason_and_happens_once(client, setup):
    p, _member, headers = setup
    letter = issue_intro(p)
    url = f"/api/v1/t/110105/letters/{letter.id}/void"
    assert client.post(url, json={}, headers=headers).status_code == 400
    assert client.post(url, json={"reason": 5}, headers=headers).status_code == 400
    assert client.post(url, data="reason", headers=headers).status_code == 400
    assert client.post(url, json={"reason": "x" * 201}, headers=headers).status_code == 400
    ok = client.post(url, json={"reason": "重复开具"}, headers=headers)
    assert ok.status_code == 200
    assert ok.get_json()["state"] == "void" and ok.get_json()["void_reason"] == "重复开具"
    again = client.post(url, json={"reason": "再次"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_member_documents_through_the_api(client, setup):
    _p, member, headers = setup
    member_id = member.id  # objects of this session expire when a request rolls back
    until = (clock.today() + timedelta(days=60)).isoformat()
    resp = client.post(f"/api/v1/t/110105/members/{member_id}/certificate-letter",
                       json={"to_place": "深圳", "reason": "务工", "valid_until": until}, headers=headers)
    assert resp.status_code == 201
    assert resp.get_json()["kind"] == "certificate_letter" and resp.get_json()["valid_until"] == until
    bad = client.post(f"/api/v1/t/110105/members/{member_id}/certificate-letter",
                      json={"to_place": "深圳", "reason": "", "valid_until": "soon"}, headers=headers)
    assert bad.status_code == 400 and set(bad.get_json()["error"]["fields"]) == {"reason", "valid_until"}
    card = client.post(f"/api/v1/t/110105/members/{member_id}/activity-card", headers=headers)
    assert card.status_code == 201
    assert card.get_json()["card_no"] == f"110105-{clock.today().year}-0001"
    twice = client.post(f"/api/v1/t/110105/members/{member_id}/activity-card", json={}, headers=headers)
    assert twice.status_code == 409
    assert client.post("/api/v1/t/110105/members/999999/activity-card", headers=headers).status_code == 404
    assert client.post("/api/v1/t/110105/members/99999999999999999999/activity-card",
                       headers=headers).status_code == 404


def test_rerender_through_the_api(client, setup):
    p, _member, headers = setup
    letter = issue_intro(p, render="now")
    letter_id, tenant_id = letter.id, letter.tenant_id
    resp = client.post(f"/api/v1/t/110105/letters/{letter_id}/render", headers=headers)
    assert resp.status_code in (200, 202)
    if resp.status_code == 202:
        from portal.jobs.queue import wait
        assert wait(resp.get_json()["job"]["id"], tenant_id).state == "done"
    info = client.get(f"/api/v1/t/110105/letters/{letter_id}", headers=headers).get_json()
    assert info["render_count"] == 2


def test_another_tenant_cannot_reach_the_letters(make, client, setup):
    p, member, _headers = setup
    letter = issue_intro(p)
    letter_id, member_id = letter.id, member.id  # objects of this session expire when a request rolls back
    stranger = make.user("320115", "tenant_admin")
    headers = {"Authorization": f"Bearer {make.token(stranger)}"}
    for url in (f"/api/v1/t/110105/letters/{letter_id}", f"/api/v1/t/110105/letters/{letter_id}.pdf",
                "/api/v1/t/110105/letters"):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert client.post(f"/api/v1/t/110105/letters/{letter_id}/void", json={"reason": "x"},
                       headers=headers).status_code == 404
    # through their own tenant the id finds nothing either
    assert client.get(f"/api/v1/t/320115/letters/{letter_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/t/320115/letters/{letter_id}.pdf", headers=headers).status_code == 404
    card = client.post(f"/api/v1/t/320115/members/{member_id}/activity-card", headers=headers)
    assert card.status_code == 404
    with scope("110105"):
        assert db.session.get(Letter, letter_id).state == "valid"


def test_roles_and_authentication(make, client, setup):
    p, _member, _headers = setup
    letter_id = issue_intro(p).id
    viewer = {"Authorization": f"Bearer {make.token(make.user('110105', 'viewer'))}"}
    assert client.get("/api/v1/t/110105/letters", headers=viewer).status_code == 403
    assert client.post(f"/api/v1/t/110105/letters/{letter_id}/void", json={"reason": "x"},
                       headers=viewer).status_code == 403
    assert client.get("/api/v1/t/110105/letters").status_code == 401
    assert client.get("/api/v1/t/110105/letters", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/t/110105/letters/99999999999999", headers=_headers).status_code == 404
    assert client.get("/api/v1/t/110105/jobs/no-such-job", headers=_headers).status_code == 404

"""Whatever a user or client sends, the letters pages and API answer clearly, never with a 500,
and nothing changes on bad input."""
import pytest

from portal.extensions import db
from portal.letters.models import Letter, LetterBatch
from tests.conftest import login, scope
from tests.letters.support import admin_principal, issue_intro

ODD = ["", " ", "0", "-1", "abc", "9" * 30, "2026-02-30", "%", "_", "'; drop table letters; --", "<script>",
       "\u0000", "姓名" * 40, "{{ 7*7 }}"]


@pytest.fixture
def signed_in(make, client):
    p = admin_principal(make)
    letter = issue_intro(p)
    login(client, p.user.username)
    return client, letter.id, {"Authorization": f"Bearer {make.token(p.user)}"}


@pytest.mark.parametrize("value", ODD)
def test_list_filters_and_paging(signed_in, value):
    client, _letter_id, headers = signed_in
    for name in ("kind", "state", "date", "q", "page"):
        page = client.get("/t/110105/letters/", query_string={name: value})
        assert page.status_code == 200, (name, value)
        api = client.get("/api/v1/t/110105/letters", query_string={name: value}, headers=headers)
        assert api.status_code in (200, 400), (name, value)
        if api.status_code == 400:
            assert api.get_json()["error"]["code"] == "validation"


@pytest.mark.parametrize("value", ODD)
def test_forms_and_verification(signed_in, value):
    client, letter_id, headers = signed_in
    assert client.post("/t/110105/letters/day", data={"date": value, "kind": value}).status_code == 302
    resp = client.post("/t/110105/letters/open-letter", data={"body": value, "org": value, "action": "issue"})
    assert resp.status_code in (302, 400)
    assert client.post(f"/t/110105/letters/{letter_id}/void", data={"reason": value * 20}).status_code == 302
    assert client.get("/verify", query_string={"code": value}).status_code in (200, 404)
    assert client.get(f"/verify/{value or 'x'}").status_code == 404
    for body in ({"reason": value}, {"date": value}, {"body": value, "org": value}, [value], value):
        for url in (f"/api/v1/t/110105/letters/{letter_id}/void", "/api/v1/t/110105/letters/day-batch",
                    "/api/v1/t/110105/letters/open-letter"):
            answer = client.post(url, json=body, headers=headers)
            assert answer.status_code in (200, 202, 400, 409), (url, body, answer.status_code)
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count(LetterBatch.id))).scalar_one() == 0
        letter = db.session.get(Letter, letter_id)
        assert letter.state in ("valid", "void")


def test_unknown_ids_are_404(signed_in):
    client, _letter_id, headers = signed_in
    for url in ("/t/110105/letters/424242", "/t/110105/letters/424242.pdf", "/t/110105/letters/batches/7",
                "/t/110105/letters/batches/7.pdf", "/t/110105/letters/batches/7.zip",
                "/t/110105/letters/member/424242/certificate-letter", "/t/110105/letters/99999999999999999999",
                "/t/110105/letters/batches/99999999999999999999"):
        assert client.get(url).status_code == 404, url
    assert client.post("/t/110105/letters/424242/void", data={"reason": "x"}).status_code == 404
    assert client.post("/t/110105/letters/member/99999999999999999999/activity-card").status_code == 404
    for url in ("/api/v1/t/110105/letters/424242", "/api/v1/t/110105/letters/batches/3",
                "/api/v1/t/110105/letters/batches/3.zip"):
        assert client.get(url, headers=headers).status_code == 404, url

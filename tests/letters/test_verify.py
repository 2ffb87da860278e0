"""The public verification page: genuine or not, state, number, issuer, masked name."""
from datetime import datetime, timedelta

import time_machine

from portal.extensions import db
from portal.letters import services, verify
from tests.conftest import scope
from tests.letters.support import admin_principal, issue_intro, reload

JSON = {"Accept": "application/json"}


def _path(letter):
    return f"/verify/{letter.token}"


def test_a_genuine_letter_shows_number_issuer_state_and_masked_name(make, client):
    letter = issue_intro(admin_principal(make), name="李四")
    resp = client.get(_path(letter))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-genuine="1"' in html and 'data-state="valid"' in html
    assert "（朝组）字第 1 号" in html
    assert "中共北京市朝阳区委组织部" in html
    assert "李*" in html
    assert "李四" not in html
    assert "110105199005170011" not in html and "1990" not in html

    data = client.get(_path(letter), headers=JSON).get_json()
    assert data == {
        "genuine": True, "kind": "introduction", "kind_label": "党员组织关系介绍信",
        "number": "（朝组）字第 1 号", "issuer": "中共北京市朝阳区委组织部",
        "issued_on": letter.issued_on.isoformat(), "valid_until": letter.valid_until.isoformat(),
        "state": "valid", "state_label": "有效", "member": "李*",
    }


def test_used_void_and_overdue_states(make, client):
    p = admin_principal(make)
    used, voided, late = issue_intro(p), issue_intro(p), issue_intro(p)
    with scope("110105"):
        services.mark_used(p.user, used)
        services.void(p.user, voided, "信息有误")
        db.session.commit()
    assert client.get(_path(used), headers=JSON).get_json()["state"] == "used"
    assert client.get(_path(voided), headers=JSON).get_json()["state"] == "void"
    html = client.get(_path(voided)).get_data(as_text=True)
    assert 'data-state="void"' in html and "已作废" in html
    assert client.get(_path(late), headers=JSON).get_json()["state"] == "valid"
    # the day after the validity ends, a letter nobody reported with is overdue
    day_after = datetime.combine(late.valid_until + timedelta(days=1), datetime.min.time())
    with time_machine.travel(day_after, tick=False):
        assert client.get(_path(late), headers=JSON).get_json()["state"] == "overdue"
        assert 'data-state="overdue"' in client.get(_path(late)).get_data(as_text=True)
        # a used or void letter stays so after its validity
        assert client.get(_path(used), headers=JSON).get_json()["state"] == "used"
    with time_machine.travel(datetime.combine(late.valid_until, datetime.min.time()), tick=False):
        assert client.get(_path(late), headers=JSON).get_json()["state"] == "valid"


def test_a_forged_or_altered_token_is_not_genuine_and_reveals_nothing(make, client):
    letter = issue_intro(admin_principal(make), name="李四")
    raw, sig = letter.token.split(".")
    altered_raw = ("A" if raw[0] != "A" else "B") + raw[1:]
    forged = [
        f"{altered_raw}.{sig}",                      # body changed, signature kept
        f"{raw}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}",   # signature changed
        verify.new_token(),                           # well signed, never issued
        "not-a-token", "x" * 500, "../../etc/passwd", "%00",
    ]
    for token in forged:
        resp = client.get(f"/verify/{token}")
        assert resp.status_code == 404, token
        html = resp.get_data(as_text=True)
        assert 'data-genuine="0"' in html
        assert "朝组" not in html and "李" not in html and "组织部" not in html
        resp = client.get(f"/verify/{token}", headers=JSON)
        assert resp.status_code == 404 and resp.get_json() == {"genuine": False}
    assert verify.token_is_signed(letter.token)
    assert not verify.token_is_signed(forged[0]) and not verify.token_is_signed(forged[1])


def test_the_short_code_is_accepted_in_any_case_with_or_without_the_dash(make, client):
    letter = issue_intro(admin_principal(make))
    code = letter.verify_code
    assert len(code) == 9 and code[4] == "-"
    for typed in (code, code.lower(), code.replace("-", ""), f" {code[:4]} {code[5:]} "):
        resp = client.get("/verify", query_string={"code": typed}, headers=JSON)
        assert resp.status_code == 200, typed
        assert resp.get_json()["number"] == letter.number
    page = client.get("/verify", query_string={"code": code})
    assert page.status_code == 200 and "（朝组）字第 1 号" in page.get_data(as_text=True)
    other = "".join("2" if c != "2" else "3" for c in letter.short_code)
    assert client.get("/verify", query_string={"code": other}).status_code == 404
    assert client.get("/verify", query_string={"code": "0O1I-LLLL"}).status_code == 404
    empty = client.get("/verify")
    assert empty.status_code == 200 and "验证码" in empty.get_data(as_text=True)


def test_verification_needs_no_login_and_is_rate_limited(make, client):
    letter = issue_intro(admin_principal(make))
    answers = [client.get(_path(letter), headers=JSON).status_code for _ in range(30)]
    assert answers == [200] * 30
    limited = client.get(_path(letter), headers=JSON)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    # the short-code form shares the limit
    assert client.get("/verify", query_string={"code": letter.verify_code}).status_code == 429


def test_a_letter_of_another_tenant_verifies_by_token(make, client):
    letter = issue_intro(admin_principal(make, "320115"), code="320115")
    data = client.get(_path(letter), headers=JSON).get_json()
    assert data["genuine"] is True and data["issuer"].startswith("中共南京市江宁区")
    assert reload(letter, "320115").state == "valid"

"""Requests a client can send that used to answer 500 get 400 or 404 in the api.md error shape;
search wildcards are literal; printed addresses never come from the Host header."""
import re
from urllib.parse import quote

import pytest

from portal.extensions import db
from tests.conftest import login, scope
from tests.letters.support import admin_principal, issue_intro

DEEP = "[" * 1000 + "]" * 1000
HUGE = "99999999999"


@pytest.fixture
def world(make, client):
    branch = make.org("110105", name="望京第一党支部")
    member = make.member("110105", branch, name="王小明", employer="甲公司")
    p = admin_principal(make)
    token = make.token(p.user)
    login(client, p.user.username)
    return {"principal": p, "member": member.id, "branch": branch.code,
            "api": {"Authorization": f"Bearer {token}"}}


def error_shape(resp, *statuses):
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:300])
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
    return body["error"]


def _path(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values.get(m[1], HUGE)), rule.rule)


def test_deeply_nested_json_is_a_400_on_every_json_post(clean_app, client, world):
    probed = 0
    for rule in clean_app.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.rule.startswith("/api/") or "any(" in rule.rule:
            continue
        url = _path(rule, {"tenant": "110105", "member_id": world["member"], "code": world["branch"]})
        for body in (DEEP, '{"note": ' + DEEP + "}"):
            try:
                resp = client.post(url, data=body, content_type="application/json", headers=world["api"])
            except RecursionError as exc:  # TESTING re-raises unexpected errors
                pytest.fail(f"{url}: {exc!r}")
            if resp.status_code >= 300 or resp.status_code < 200:  # some steps ignore the body
                error_shape(resp, 400, 404, 405, 409)
        probed += 1
    assert probed >= 10
    resp = client.post(f"/api/v1/t/110105/members/{world['member']}/contacts", data=DEEP,
                       content_type="application/json", headers=world["api"])
    assert error_shape(resp, 400)["code"] == "validation"


def test_superscript_digits_in_a_letter_search(client, world):
    issue_intro(world["principal"], name="李四")
    resp = client.get("/api/v1/t/110105/letters?q=²", headers=world["api"])
    assert resp.status_code == 200 and resp.get_json()["total"] == 0
    assert client.get("/t/110105/letters/?q=²").status_code == 200


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "2026-02-30", "20260101", "2026-W01"])
def test_stats_as_of_out_of_range_is_a_400(client, world, as_of):
    error_shape(client.get(f"/api/v1/t/110105/stats?as_of={as_of}", headers=world["api"]), 400)
    assert client.get(f"/t/110105/reports/stats?as_of={as_of}").status_code == 400


def test_region_stats_as_of_out_of_range_is_a_400(make, client):
    upper = make.user(None, "upper_reader", region="110100")
    token = make.token(upper)
    resp = client.get("/api/v1/regions/110100/stats?as_of=0001-01-01", headers={"Authorization": f"Bearer {token}"})
    assert "统计日期应在" in error_shape(resp, 400)["message"]
    ok = client.get("/api/v1/regions/110100/stats?as_of=2026-11-01", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    login(client, upper.username)
    assert client.get("/region/110100/stats?as_of=0001-01-01").status_code == 400


def test_ids_past_the_integer_range_are_404_everywhere(clean_app, client, world):
    """Every GET route with an id in its path, with an id no 32-bit column can hold."""
    error_shape(client.get(f"/api/v1/t/110105/imports/{HUGE}", headers=world["api"]), 404)
    error_shape(client.get(f"/api/v1/t/110105/members/{HUGE}", headers=world["api"]), 404)
    failures, probed = [], 0
    for rule in clean_app.url_map.iter_rules():
        args = set(rule.arguments) - {"tenant"}
        if "GET" not in rule.methods or not args or "any(" in rule.rule or rule.endpoint == "static":
            continue
        url = _path(rule, {"tenant": "110105"})
        headers = world["api"] if url.startswith("/api/") else {}
        for suffix in ("", "?member=" + HUGE + "&org_id=" + HUGE + "&page=" + HUGE + "&subject=member:" + HUGE):
            try:
                resp = client.get(url + suffix, headers=headers)
            except Exception as exc:  # TESTING re-raises what would be a 500
                failures.append(f"{url}{suffix}: {exc!r}"[:300])
                continue
            if resp.status_code >= 500:
                failures.append(f"{url}{suffix}: {resp.status_code}")
        probed += 1
    assert probed >= 15 and not failures, failures


@pytest.mark.parametrize("q", ["%", "_", "\\", "%%", "a_c"])
def test_like_wildcards_are_literal_in_every_search(client, world, make, q):
    issue_intro(world["principal"], name="李四")
    make.org("110105", name="望京第二党支部")
    api = world["api"]

    def total(url):
        resp = client.get(url, headers=api)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:200])
        body = resp.get_json()
        return body["total"] if "total" in body else len(body["items"])

    e = quote(q)
    for url in (f"/api/v1/t/110105/letters?q={e}", f"/api/v1/t/110105/members?q={e}",
                f"/api/v1/t/110105/orgs?q={e}", f"/api/v1/registry?q={e}"):
        assert total(url) == 0, url
    assert "王小明" not in client.get(f"/t/110105/members/?q={e}").get_data(as_text=True)
    assert "望京第二党支部" not in client.get(f"/t/110105/orgs/?q={e}").get_data(as_text=True)
    make.user("110105", "clerk", username="zhangclerk")
    users = client.get(f"/t/110105/users?q={e}").get_data(as_text=True)
    assert "zhangclerk" not in users


def test_a_letter_issued_with_a_forged_host_points_at_the_public_address(clean_app, client, world):
    from portal.letters import services
    resp = client.post(f"/api/v1/t/110105/members/{world['member']}/activity-card", json={},
                       headers={**world["api"], "Host": "evil.example"})
    assert resp.status_code == 201, resp.get_json()
    base = clean_app.config["PUBLIC_BASE_URL"]
    assert resp.get_json()["verify_url"].startswith(base + "/verify/")
    with scope("110105"):
        letter = services.get(world["principal"], resp.get_json()["id"])
        stored = services.render_context(letter)["doc"]["verify_url"]
        db.session.rollback()
    assert stored.startswith(base + "/verify/") and "evil" not in stored

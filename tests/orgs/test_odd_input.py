"""Input no form or client should send still gets a clear answer and changes nothing: NUL bytes,
lone surrogates (JSON can carry them), digits of other scripts where codes are expected, huge
strings. No 500, on SQLite and PostgreSQL."""
import json

import pytest

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.orgs.models import Organization
from portal.tenancy.models import Tenant
from tests.conftest import login, scope
from tests.factories import PASSWORD

BAD_TEXT = ["a\x00b", "x" * 5000]          # refused wherever text is stored
BAD_CODES = ["١١٠١٠٥-0001", "²²²²²²", "110105-0001\x00", "a\x00b", "x" * 5000]  # never name an org or a tenant


def _counts():
    with scope("110105"):
        orgs = db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar()
        audit = db.session.execute(db.select(db.func.count()).select_from(AuditEntry)).scalar()
    return orgs, audit, db.session.execute(db.select(db.func.count()).select_from(Tenant)).scalar()


def _ok(resp, allowed):
    assert resp.status_code in allowed, (resp.request.method, resp.request.path, resp.status_code)
    if resp.status_code >= 400 and resp.request.path.startswith("/api/"):
        assert resp.get_json()["error"]["message"]


@pytest.fixture
def headers(make):
    make.org("110105", name="党委", kind="基层党委")
    return {"Authorization": f"Bearer {make.token(make.user('110105', 'tenant_admin'))}",
            "Content-Type": "application/json"}


@pytest.mark.parametrize("value", BAD_TEXT + ["\ud800"])
def test_api_bodies(client, headers, value):
    before = _counts()
    body = json.dumps  # keeps lone surrogates as JSON escapes
    for data in ({"name": value, "kind": "党支部"}, {"name": "支部", "kind": "党支部", "address": value},
                 {"name": "支部", "kind": "党支部", "parent": value}, {"name": "支部", "kind": "党支部", "code": value},
                 {"name": "支部", "kind": "党支部", "industries": [value]}):
        _ok(client.post("/api/v1/t/110105/orgs", data=body(data), headers=headers), (400,))
    _ok(client.patch("/api/v1/t/110105/orgs/110105-0001", data=body({"contact_name": value}), headers=headers),
        (400,))
    assert _counts() == before


@pytest.mark.parametrize("value", BAD_CODES)
def test_api_codes_and_queries(client, headers, value):
    before = _counts()
    _ok(client.get("/api/v1/t/110105/orgs", query_string={"q": value}, headers=headers), (200,))
    _ok(client.get("/api/v1/t/110105/orgs", query_string={"kind": value, "role": value}, headers=headers), (400,))
    _ok(client.get(f"/api/v1/t/110105/orgs/{value}", headers=headers), (404,))
    _ok(client.patch(f"/api/v1/t/110105/orgs/{value}", json={"name": "x"}, headers=headers), (404,))
    _ok(client.post("/api/v1/t/110105/orgs", json={"name": "支部", "kind": "党支部", "code": value,
                                                   "region": value}, headers=headers), (400,))
    _ok(client.get("/api/v1/t/110105/orgs", headers={"Authorization": f"Bearer pt_{value}"}), (401,))
    assert _counts() == before


@pytest.mark.parametrize("value", BAD_CODES)
def test_pages(make, client, value):
    make.org("110105", name="党委", kind="基层党委")
    make.user("110105", "tenant_admin", username="admin")
    from portal.auth import services
    services.create_user("root", PASSWORD, platform_admin=True)
    db.session.commit()
    before = _counts()
    _ok(client.post("/login", data={"username": value, "password": value}), (400, 401))
    login(client, "admin")
    _ok(client.get("/t/110105/orgs/", query_string={"q": value, "kind": value, "role": value, "page": value}), (200,))
    _ok(client.get(f"/t/110105/orgs/{value}"), (404,))
    _ok(client.post("/t/110105/orgs/new", data={"name": value, "kind": "党支部", "role": "both", "parent": value,
                                                "code": value, "region": value}), (400,))
    _ok(client.post("/t/110105/orgs/110105-0001/edit", data={"name": "党委", "kind": "基层党委", "role": "both",
                                                             "region": value}), (400,))
    _ok(client.post("/t/110105/orgs/110105-0001/move", data={"parent": value}), (400,))
    _ok(client.get("/t/110105/users", query_string={"q": value}), (200,))
    _ok(client.post("/t/110105/users", data={"username": value, "role": "secretary", "org": value}), (400,))
    _ok(client.post("/t/110105/users/1/role", data={"role": value, "org": value}), (302,))
    _ok(client.get("/login", query_string={"next": value}), (302,))
    client.post("/logout")
    login(client, "root")
    _ok(client.post("/platform/tenants", data={"code": value, "name": "某区", "parent": value}), (400,))
    _ok(client.post(f"/platform/tenants/{value}/admins", data={"username": "x"}), (404,))
    assert _counts() == before


@pytest.mark.parametrize("value", BAD_TEXT)
def test_page_text(make, client, value):
    make.org("110105", name="党委", kind="基层党委")
    make.user("110105", "tenant_admin", username="admin")
    db.session.commit()
    before = _counts()
    login(client, "admin")
    _ok(client.post("/t/110105/orgs/new", data={"name": "支部", "kind": "党支部", "role": "both",
                                                "address": value}), (400,))
    _ok(client.post("/t/110105/orgs/110105-0001/edit", data={"name": "党委", "kind": "基层党委", "role": "both",
                                                             "contact_name": value}), (400,))
    _ok(client.post("/t/110105/users", data={"username": "ok-name", "display_name": value, "role": "clerk"}), (400,))
    resp = client.post("/account/tokens", data={"tok-name": value}, follow_redirects=True)
    assert resp.status_code == 200 and ("令牌名称" in resp.get_data(as_text=True))
    assert _counts() == before
    from portal.auth.models import ApiToken, User
    assert db.session.execute(db.select(db.func.count()).select_from(ApiToken)).scalar() == 0
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 1

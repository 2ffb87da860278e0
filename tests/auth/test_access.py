"""Who reaches what: an upper-level reader sees no tenant page or API; strangers get 404 like a
missing object; every endpoint declares its access."""
import re

from portal.auth.access import LOGIN, PLATFORM, PUBLIC, UPPER
from portal.auth.roles import PERMISSIONS
from tests.conftest import login


def _tenant_urls(app, code):
    """Every page and API route under a tenant, with placeholder values, and its methods."""
    for rule in app.url_map.iter_rules():
        if "tenant" not in rule.arguments:
            continue
        path = rule.rule.replace("<tenant>", code)
        path = re.sub(r"<int:[^>]+>", "1", path)
        path = re.sub(r"<(?:[a-z]+:)?[^>]+>", "x", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def test_there_are_tenant_routes_to_check(clean_app):
    urls = list(_tenant_urls(clean_app, "320115"))
    assert ("GET", "/t/320115/orgs/") in urls and ("PATCH", "/api/v1/t/320115/orgs/x") in urls


def test_upper_reader_gets_404_on_every_tenant_page_and_api(make, client):
    org = make.org("320115", name="江宁支部")
    make.member("320115", org)
    reader = make.user(None, "upper_reader", username="city", region="320100")
    token = make.token(reader)
    login(client, "city")
    assert client.get("/home").status_code == 200
    checked = 0
    for code in ("320115", "110105"):
        for method, path in _tenant_urls(make.app, code):
            if path.startswith("/api/"):
                resp = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, json={})
            else:
                resp = client.open(path, method=method, data={})
            assert resp.status_code == 404, (method, path, resp.status_code)
            checked += 1
    assert checked > 10


def test_user_with_a_role_elsewhere_gets_404_not_403(make, client):
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    for method, path in _tenant_urls(make.app, "320115"):
        if not path.startswith("/api/"):
            assert client.open(path, method=method, data={}).status_code == 404, (method, path)


def test_every_endpoint_declares_its_access(clean_app):
    known = {PUBLIC, LOGIN, PLATFORM, UPPER} | {p for perms in PERMISSIONS.values() for p in perms}
    missing = []
    for endpoint, view in clean_app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if getattr(view, "_access", None) not in known:
            missing.append(endpoint)
    assert missing == []


def test_platform_admin_has_no_tenant_access_by_itself(make, client):
    from portal.auth import services
    from portal.extensions import db
    from tests.factories import PASSWORD
    services.create_user("root", PASSWORD, platform_admin=True)
    db.session.commit()
    login(client, "root")
    assert client.get("/t/110105/orgs/").status_code == 404

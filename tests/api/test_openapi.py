"""The API's one description (issue 14): GET /api/v1/openapi.json names every /api/v1 route and
nothing else, each with its request and answer schemas, the bearer token and the api.md errors;
/api/v1/docs shows it with files the app serves itself; a schema's refusal keeps api.md's shape."""
import re

import pytest

from portal.api import openapi
from tests.factories import id_number

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def routed(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every operation under /api/v1 in the URL map."""
    with app.app_context():
        return {(openapi.openapi_path(rule.rule), method.lower()) for rule in openapi.api_rules()
                for method in rule.methods - {"HEAD", "OPTIONS"}}


def documented(document) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}


def test_every_route_is_documented_and_every_documented_route_exists(clean_app, document):
    in_map, in_doc = routed(clean_app), documented(document)
    assert len(in_map) > 60
    assert in_map - in_doc == set(), "routes under /api/v1 missing from openapi.json"
    assert in_doc - in_map == set(), "openapi.json names routes that do not exist"


def test_the_coverage_check_notices_a_new_undocumented_route_and_a_stale_one(clean_app, document):
    doc = {**document, "paths": dict(document["paths"])}
    doc["paths"]["/api/v1/t/{tenant}/nothing-here"] = {"get": {"responses": {}}}
    in_map = routed(clean_app) | {("/api/v1/t/{tenant}/brand-new", "post")}
    assert in_map - documented(doc) == {("/api/v1/t/{tenant}/brand-new", "post")}
    assert documented(doc) - in_map == {("/api/v1/t/{tenant}/nothing-here", "get")}


def test_each_operation_has_its_answer_schema_auth_and_errors(document):
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            success = [s for s in op["responses"] if s.startswith("2")]
            assert success, (method, path)
            for status in success:
                assert status == "204" or op["responses"][status].get("content"), (method, path, status)
            for status in ("400", "404", "409", "429"):
                assert status in op["responses"], (method, path, status)
            if path in ("/api/v1/openapi.json", "/api/v1/docs"):
                assert op["security"] == []
            elif path.startswith("/api/v1/self/"):  # a member's link: no user, its own code or session
                assert op["security"] == [] and "401" in op["responses"]
            else:
                assert "401" in op["responses"] and "403" in op["responses"] and "security" not in op
            if method in ("post", "patch") and not path.endswith(("/read", "/ack", "/render", "/activity-card")):
                assert "requestBody" in op, (method, path)
    member = document["components"]["schemas"]["Member"]["properties"]
    assert {"id", "name", "id_number", "org", "version", "holds_relationship"} <= set(member)
    body = document["paths"]["/api/v1/t/{tenant}/members"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/MemberCreate")
    tenant = [p for p in document["paths"]["/api/v1/t/{tenant}/members"]["parameters"] if p["name"] == "tenant"]
    assert tenant[0]["schema"]["pattern"] == "^[0-9]{6}$"
    patch = document["components"]["schemas"]["MemberPatch"]["properties"]
    assert patch["version"]["type"] == "integer"


def test_the_docs_page_loads_only_the_apps_own_files(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert 'data-swagger-ui="/api/v1/openapi.json"' in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    for src in sources:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.data) > 1000, src
    js = client.get("/api/v1/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert "SwaggerUIBundle" in js


def test_the_docs_page_in_a_browser_shows_the_operations(live_server, browser):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() > 60
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()


# ---- the schemas validate, in api.md's error shape ----

@pytest.fixture
def clerk(make):
    make.org("110105", name="第一党支部")
    return {"Authorization": "Bearer " + make.token(make.user("110105", "clerk"))}


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/t/110105/members", {"name": "张三", "nickname": "x"}, "nickname"),
    ("/api/v1/t/110105/members", {"name": ["张三"]}, "name"),
    ("/api/v1/t/110105/members", {"holds_relationship": "yes"}, "holds_relationship"),
    ("/api/v1/t/110105/transfers", {"to_org": "x"}, "member"),
    ("/api/v1/t/110105/transfers", {"member": 1, "to_org": 5}, "to_org"),
    ("/api/v1/t/110105/agreements", {"host_org": "x", "members": "1,2"}, "members"),
    ("/api/v1/t/110105/letters/day-batch", {"date": 20261130}, "date"),
    ("/api/v1/t/110105/letters/open-letter", {"body": {"x": 1}}, "body"),
    ("/api/v1/t/110105/training/activities", {"title": "学习", "on": "2026-11-01", "org": None}, "org"),
])
def test_a_body_the_schema_refuses_is_400_naming_the_field_in_chinese(client, clerk, path, body, field):
    resp = client.post(path, json=body, headers=clerk)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert error["code"] == "validation" and error["message"]
    assert field in error["fields"], error
    assert re.search(r"[\u4e00-\u9fff]", error["fields"][field]), error


@pytest.mark.parametrize("data,content_type", [
    ("[1, 2]", "application/json"), ("not json", "application/json"), ("name=x", "application/x-www-form-urlencoded"),
    ("", "application/json"), ("[" * 5000 + "]" * 5000, "application/json"),
])
def test_a_body_that_is_no_json_object_is_400(client, clerk, data, content_type):
    resp = client.post("/api/v1/t/110105/members", data=data, content_type=content_type, headers=clerk)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["fields"] == {"body": "请求体应为JSON对象"}


@pytest.mark.parametrize("query,field", [("page=0", "page"), ("per_page=201", "per_page"), ("page=x", "page"),
                                         ("as_of=2026-02-30", "as_of"), ("as_of=0001-01-01", "as_of")])
def test_a_query_the_schema_refuses_is_400(client, clerk, query, field):
    resp = client.get("/api/v1/t/110105/members?" + query, headers=clerk)
    assert resp.status_code == 400
    assert field in resp.get_json()["error"]["fields"]


def test_english_callers_read_the_schema_errors_in_english(client, clerk):
    resp = client.post("/api/v1/t/110105/members?lang=en", json={"name": 1.5, "sex": True}, headers=clerk)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["fields"]["sex"] == "Must be text"


def test_a_stranger_is_refused_before_the_schema_reads_the_body(client, make):
    make.org("320115", name="别处党支部")
    foreign = {"Authorization": "Bearer " + make.token(make.user("320115", "clerk"))}
    resp = client.post("/api/v1/t/110105/members", json={"nickname": 1}, headers=foreign)
    assert resp.status_code == 404
    assert client.post("/api/v1/t/110105/members", json={"nickname": 1}).status_code == 401


def test_a_valid_body_still_reaches_the_service(client, clerk, make):
    from portal.extensions import db
    from portal.orgs.models import Organization
    from tests.conftest import scope
    with scope("110105"):
        code = db.session.execute(db.select(Organization.code)).scalar_one()
    body = {"name": "钱七", "sex": "女", "id_number": id_number("110105"), "education": "本科",
            "joined_on": "2016-05-04", "org": code, "direction": "流出", "phone": 13800000000}
    resp = client.post("/api/v1/t/110105/members", json=body, headers=clerk)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["phone"] == "13800000000"

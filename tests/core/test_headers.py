"""Security headers on pages, API answers and files; templates keep to the policy."""
import re
from pathlib import Path

from portal import create_app
from portal.core.headers import CSP
from tests.conftest import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def assert_common(resp):
    h = resp.headers
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"


def test_pages_send_a_strict_policy_and_no_store(client, make):
    resp = client.get("/login")
    assert_common(resp)
    csp = resp.headers["Content-Security-Policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in resp.headers  # development speaks plain HTTP

    org = make.org("110105")
    member = make.member("110105", org, name="王小明")
    admin = make.user("110105", "tenant_admin")
    login(client, admin.username)
    for url in (f"/t/110105/members/{member.id}", "/t/110105/members/", "/t/110105/roster/export.xlsx",
                "/t/110105/nowhere"):
        resp = client.get(url)
        assert_common(resp)
        assert resp.headers["Cache-Control"] == "no-store", url


def test_api_answers_and_errors_carry_the_headers(client, make):
    token = make.token(make.user("110105", "tenant_admin"))
    for url in ("/api/v1/t/110105/members", "/api/v1/t/110105/members/99"):
        resp = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert_common(resp)
        assert resp.headers["Cache-Control"] == "no-store"
        assert "Content-Security-Policy" not in resp.headers  # JSON is not a document


def test_static_files_stay_cacheable(client):
    resp = client.get("/static/portal.js")
    assert resp.status_code == 200
    assert_common(resp)
    assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_production_adds_hsts(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "FIELD_KEY": "f" * 40,
                      "PUBLIC_BASE_URL": "https://portal.example.gov.cn", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    resp = app.test_client().get("/static/portal.css")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_served_templates_have_no_inline_script_or_style():
    """The policy would block them; print templates (WeasyPrint, never served) are exempt."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        rel = path.relative_to(TEMPLATES).as_posix()
        if rel.startswith("letters/") and not rel.startswith("letters/pages/"):
            continue
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"javascript:", r"\sstyle\s*=",
                        r"<style"):
            for m in re.finditer(pattern, text):
                found.append(f"{rel}: {m.group(0)}")
    assert not found, found

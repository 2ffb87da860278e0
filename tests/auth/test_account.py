"""The account page: change the password (other sessions end), make and revoke API tokens."""
from portal.audit.models import AuditEntry
from portal.auth.models import ApiToken, User
from portal.extensions import db
from tests.conftest import login, scope
from tests.factories import PASSWORD

NEW = "another-secret-77"


def _in_app(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def test_change_password(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    browser, other_browser = clean_app.test_client(), clean_app.test_client()
    login(browser, "clerk1")
    login(other_browser, "clerk1")
    page = browser.get("/account").get_data(as_text=True)
    assert "修改密码" in page and "API 令牌" in page

    resp = browser.post("/account", data={"pw-current": "wrong-password-9", "pw-new": NEW, "pw-confirm": NEW})
    assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = browser.post("/account", data={"pw-current": PASSWORD, "pw-new": "short", "pw-confirm": "short"})
    assert resp.status_code == 400 and "密码长度应为12到200个字符" in resp.get_data(as_text=True)
    resp = browser.post("/account", data={"pw-current": PASSWORD, "pw-new": NEW, "pw-confirm": NEW + "x"})
    assert resp.status_code == 400 and "两次输入的新密码不一致" in resp.get_data(as_text=True)

    resp = browser.post("/account", data={"pw-current": PASSWORD, "pw-new": NEW, "pw-confirm": NEW})
    assert resp.status_code == 302
    assert browser.get("/account").status_code == 200  # this session continues
    assert other_browser.get("/account").status_code == 302  # the other one ended

    third = clean_app.test_client()
    assert third.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 401
    assert third.post("/login", data={"username": "clerk1", "password": NEW}).status_code == 302

    def audited():
        with scope("110105"):  # the trail of the tenant where clerk1 has a role
            return db.session.execute(db.select(AuditEntry.action).filter_by(object_type="user")
                                      .order_by(AuditEntry.seq)).scalars().all()
    assert _in_app(clean_app, audited) == ["create", "password_changed"]  # made by the factory, then changed


def test_tokens_are_made_shown_once_and_revoked(setup, clean_app):
    setup(lambda make: make.org("110105", name="党委", kind="基层党委"))
    setup(lambda make: make.user("110105", "viewer", username="viewer1"))
    browser = clean_app.test_client()
    login(browser, "viewer1")
    assert "还没有令牌" in browser.get("/account").get_data(as_text=True)
    resp = browser.post("/account/tokens", data={"tok-name": "省平台对接"})
    assert resp.status_code == 302
    page = browser.get("/account").get_data(as_text=True)
    raw = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert raw.startswith("pt_") and "省平台对接" in page
    assert raw not in browser.get("/account").get_data(as_text=True)  # shown only once

    api = clean_app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert api.get("/api/v1/t/110105/orgs", headers=headers).status_code == 200

    token_id = _in_app(clean_app, lambda: db.session.execute(db.select(ApiToken.id)).scalar_one())
    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    resp = api.get("/api/v1/t/110105/orgs", headers=headers)
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthenticated"
    assert "已撤销" in browser.get("/account").get_data(as_text=True)
    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 404  # already revoked


def test_one_cannot_revoke_another_users_token(setup, clean_app):
    setup(lambda make: make.user("110105", "viewer", username="a"))
    raw = setup(lambda make: make.token(make.user("110105", "viewer", username="b")))
    browser = clean_app.test_client()
    login(browser, "a")
    token_id = _in_app(clean_app, lambda: db.session.execute(db.select(ApiToken.id)).scalar_one())
    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert clean_app.test_client().get("/api/v1/t/110105/orgs",
                                       headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_api_ignores_browser_sessions(setup, clean_app):
    setup(lambda make: make.user("110105", "viewer", username="viewer1"))
    browser = clean_app.test_client()
    login(browser, "viewer1")
    assert browser.get("/api/v1/t/110105/orgs").status_code == 401


def test_deactivated_user_loses_session_and_tokens(setup, clean_app):
    raw = setup(lambda make: make.token(make.user("110105", "viewer", username="viewer1")))
    browser = clean_app.test_client()
    login(browser, "viewer1")

    def deactivate():
        db.session.execute(db.update(User).filter_by(username="viewer1").values(active=False))
        db.session.commit()
    _in_app(clean_app, deactivate)
    assert browser.get("/account").status_code == 302
    assert clean_app.test_client().get("/api/v1/t/110105/orgs",
                                       headers={"Authorization": f"Bearer {raw}"}).status_code == 401

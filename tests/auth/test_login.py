"""Login hardening: argon2 hashes, CSRF, rate limiting of failures, cookie flags, safe `next`, logout."""
import pytest

from portal import create_app
from portal.auth.models import User
from portal.extensions import db, limiter
from tests.conftest import login
from tests.factories import PASSWORD


def test_passwords_are_stored_as_argon2(make):
    user = make.user("110105", "clerk", username="clerk1")
    stored = db.session.execute(db.select(User.password_hash).filter_by(id=user.id)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_outside_the_suite_passwords_are_hashed_at_full_cost(make):
    """The suite hashes at the lowest cost for speed; every other configuration keeps OWASP's
    argon2id profile, and a password stored at another cost is rehashed at the next login."""
    from portal.auth import services as auth
    from portal.config import Config, from_env
    assert Config.PASSWORD_HASH_COST == from_env()["PASSWORD_HASH_COST"] == (2, 19456, 1)
    user = make.user("110105", "clerk", username="clerk1")
    assert "$m=1024,t=1,p=1$" in user.password_hash
    full = create_app({**{k: getattr(Config, k) for k in dir(Config) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": db.engine.url.render_as_string(hide_password=False)})
    with full.app_context():
        assert auth.authenticate("clerk1", PASSWORD) is not None
        stored = db.session.execute(db.select(User.password_hash).filter_by(username="clerk1")).scalar_one()
        assert "$m=19456,t=2,p=1$" in stored
        db.session.remove()


def test_the_hash_cost_is_set_from_the_environment_but_never_below_owasps_floor(monkeypatch):
    from portal.config import UnsafeConfiguration, from_env
    monkeypatch.setenv("PASSWORD_HASH_COST", "3,65536,4")
    assert from_env()["PASSWORD_HASH_COST"] == (3, 65536, 4)
    for weak in ("1,1024,1", "2,12288,1", "1,19456,1", "2,19456,0", "fast", "2,19456"):
        monkeypatch.setenv("PASSWORD_HASH_COST", weak)
        with pytest.raises(UnsafeConfiguration):
            from_env()


def test_login_success_sets_a_hardened_session_cookie(make, client):
    make.user("110105", "clerk", username="clerk1")
    resp = login(client, "clerk1")
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    assert client.get("/account").status_code == 200


def test_wrong_password_is_401_with_a_message_and_no_session(make, client):
    make.user("110105", "clerk", username="clerk1")
    for username, password in (("clerk1", "wrong-password-1"), ("nobody", PASSWORD)):
        resp = client.post("/login", data={"username": username, "password": password})
        assert resp.status_code == 401
        assert "用户名或密码不正确" in resp.get_data(as_text=True)
        assert client.get("/account").status_code == 302  # still anonymous


def test_empty_form_is_400_not_counted(make, client):
    resp = client.post("/login", data={})
    assert resp.status_code == 400 and "请输入用户名" in resp.get_data(as_text=True)


def test_inactive_user_cannot_log_in(make, client):
    user = make.user("110105", "clerk", username="clerk1")
    user.active = False
    db.session.commit()
    assert client.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 401


def test_failed_attempts_are_rate_limited_and_successes_are_not(make, client):
    make.user("110105", "clerk", username="clerk1")
    limit = int(make.app.config["LOGIN_ACCOUNT_ADDRESS_LIMIT"].split()[0])
    for _ in range(limit + 2):  # successful logins do not use up the allowance
        assert client.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 302
    for _ in range(limit):
        assert client.post("/login", data={"username": "clerk1", "password": "wrong-password-1"}).status_code == 401
    resp = client.post("/login", data={"username": "clerk1", "password": PASSWORD})
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert not resp.headers.getlist("Set-Cookie")  # no session was made
    fresh = make.app.test_client()  # the limit is per account and address, not per browser session
    assert fresh.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 429
    limiter.reset()
    assert fresh.post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/t/110105/orgs/", "/t/110105/orgs/"),
    ("/account?x=1", "/account?x=1"),
    ("https://evil.example/", None),
    ("//evil.example/", None),
    ("/\\evil.example/", None),
    ("\\\\evil.example", None),
    ("/\t/evil.example", None),
    ("javascript:alert(1)", None),
    ("http:/evil.example", None),
])
def test_next_only_redirects_within_the_site(make, client, target, expected):
    make.user(None, "upper_reader", username="reader", region="320100")
    resp = client.post("/login", query_string={"next": target}, data={"username": "reader", "password": PASSWORD})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    if expected:
        assert location == expected
    else:
        assert location == "/" and "evil" not in location


def test_logout_ends_the_session(make, client):
    make.user("110105", "clerk", username="clerk1")
    login(client, "clerk1")
    assert client.get("/account").status_code == 200
    assert client.get("/logout").status_code == 405  # logging out is a POST (CSRF-protected)
    resp = client.post("/logout")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert client.get("/account").status_code == 302


@pytest.fixture
def csrf_app(clean_app):
    """A dedicated app on the same database with CSRF protection on, as in production."""
    settings = {k: v for k, v in clean_app.config.items() if k.isupper()}
    settings["WTF_CSRF_ENABLED"] = True
    app = create_app(settings)
    yield app
    with app.app_context():
        db.session.remove()


def test_login_needs_the_csrf_token(make, csrf_app):
    make.user("110105", "clerk", username="clerk1")
    client = csrf_app.test_client()
    resp = client.post("/login", data={"username": "clerk1", "password": PASSWORD})
    assert resp.status_code == 400
    assert "页面已过期" in resp.get_data(as_text=True)
    assert not [c for c in resp.headers.getlist("Set-Cookie") if "_user_id" in c]
    assert client.get("/account").status_code == 302  # no session was made

    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = client.post("/login", data={"username": "clerk1", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    assert client.get("/account").status_code == 200
    # Logging out without the token is refused too.
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200

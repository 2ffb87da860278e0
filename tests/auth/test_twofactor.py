"""Two-factor login (TOTP) for tenant admins and platform admins, with recovery codes stored hashed."""
import re
from datetime import timedelta

import pyotp
import time_machine

from portal.audit.models import AuditEntry
from portal.auth.models import RecoveryCode, User
from portal.core import clock
from portal.extensions import db
from tests.conftest import login, scope
from tests.factories import PASSWORD


def _turn_on(client):
    assert client.post("/account/2fa/begin").status_code == 302
    page = client.get("/account").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert "<svg" in page  # the QR code, drawn on the server
    resp = client.post("/account/2fa/confirm", data={"tf-code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)
    assert len(codes) == 10
    assert not re.findall(r"<li><code>", client.get("/account").get_data(as_text=True))  # shown once
    return secret, codes


def _password_step(client, username="admin"):
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/2fa"), resp.headers
    assert client.get("/account").status_code == 302  # not logged in yet


def test_admin_turns_on_two_factor_and_login_needs_the_code(setup, clean_app):
    setup(lambda make: make.user("110105", "tenant_admin", username="admin"))
    with time_machine.travel(clock.utcnow(), tick=False) as traveller:
        browser = clean_app.test_client()
        login(browser, "admin")
        secret, codes = _turn_on(browser)
        with clean_app.app_context():
            user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
            assert user.totp_secret_enc and secret not in user.totp_secret_enc  # encrypted at rest
            stored = db.session.execute(db.select(RecoveryCode.code_hash).filter_by(user_id=user.id)).scalars().all()
            assert len(stored) == 10 and not set(codes) & set(stored)  # hashed only
        traveller.shift(timedelta(seconds=31))

        other = clean_app.test_client()
        _password_step(other)
        resp = other.post("/login/2fa", data={"code": "000000"})
        assert resp.status_code == 401 and "验证码不正确" in resp.get_data(as_text=True)
        code = pyotp.TOTP(secret).now()
        assert other.post("/login/2fa", data={"code": code}).status_code == 302
        assert other.get("/account").status_code == 200

        # The same code does not open a second login (replay).
        third = clean_app.test_client()
        _password_step(third)
        assert third.post("/login/2fa", data={"code": code}).status_code == 401

        # A recovery code works once.
        assert third.post("/login/2fa", data={"code": codes[0].upper()}).status_code == 302
        fourth = clean_app.test_client()
        _password_step(fourth)
        assert fourth.post("/login/2fa", data={"code": codes[0]}).status_code == 401
    with clean_app.app_context(), scope("110105"):
        actions = db.session.execute(db.select(AuditEntry.action).filter_by(object_type="user")
                                     .order_by(AuditEntry.seq)).scalars().all()
        assert actions == ["create", "twofactor_on", "recovery_code_used"]


def test_the_password_step_alone_expires(setup, clean_app):
    setup(lambda make: make.user("110105", "tenant_admin", username="admin"))
    with time_machine.travel(clock.utcnow(), tick=False) as traveller:
        browser = clean_app.test_client()
        login(browser, "admin")
        secret, _codes = _turn_on(browser)
        traveller.shift(timedelta(seconds=31))
        other = clean_app.test_client()
        _password_step(other)
        traveller.shift(timedelta(minutes=6))
        resp = other.post("/login/2fa", data={"code": pyotp.TOTP(secret).now()})
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
        assert other.get("/account").status_code == 302
        assert clean_app.test_client().post("/login/2fa", data={"code": "123456"}).status_code == 302  # no step 1


def test_only_admins_may_turn_it_on_and_turning_off_needs_password_and_code(setup, clean_app):
    setup(lambda make: (make.user("110105", "clerk", username="clerk1"),
                        make.user("110105", "tenant_admin", username="admin")))
    clerk = clean_app.test_client()
    login(clerk, "clerk1")
    assert "启用两步验证" not in clerk.get("/account").get_data(as_text=True)
    resp = clerk.post("/account/2fa/begin", follow_redirects=True)
    assert "只有管理员可以启用两步验证" in resp.get_data(as_text=True)
    with time_machine.travel(clock.utcnow(), tick=False) as traveller:
        admin = clean_app.test_client()
        login(admin, "admin")
        secret, _codes = _turn_on(admin)
        traveller.shift(timedelta(seconds=31))
        resp = admin.post("/account/2fa/disable", data={"off-password": "wrong-password-1",
                                                        "off-code": pyotp.TOTP(secret).now()}, follow_redirects=True)
        assert "当前密码不正确" in resp.get_data(as_text=True)
        assert admin.post("/account/2fa/disable", data={"off-password": PASSWORD, "off-code": pyotp.TOTP(secret).now()}
                          ).status_code == 302
    with clean_app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        assert user.totp_enabled_at is None and user.totp_secret_enc is None
        assert db.session.execute(db.select(RecoveryCode).filter_by(user_id=user.id)).first() is None
    other = clean_app.test_client()
    assert other.post("/login", data={"username": "admin", "password": PASSWORD}).headers["Location"] == "/"


def test_platform_admins_may_turn_it_on(setup, clean_app):
    setup(lambda make: __import__("portal.auth.services", fromlist=["x"]).create_user(
        "root", PASSWORD, platform_admin=True) and db.session.commit())
    browser = clean_app.test_client()
    login(browser, "root")
    assert "启用两步验证" in browser.get("/account").get_data(as_text=True)
    _turn_on(browser)

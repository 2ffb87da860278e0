"""Sessions end on the server: at logout (a copied cookie opens nothing afterwards), after the idle
time, after the absolute lifetime, and when an admin ends a user's sessions."""
from datetime import timedelta

import time_machine

from portal.audit.models import AuditEntry
from portal.auth.models import User, UserSession
from portal.core import clock
from portal.extensions import db
from tests.conftest import login, scope


def _copy_cookie(source, target):
    """What someone who copied the browser's cookie (shared computer, stolen file) would hold."""
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def test_a_cookie_copied_before_logout_opens_nothing_after_it(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    browser, thief = clean_app.test_client(), clean_app.test_client()
    login(browser, "clerk1")
    _copy_cookie(browser, thief)
    assert thief.get("/t/110105/members/").status_code == 200  # the copy works while logged in
    assert browser.post("/logout").status_code == 302
    assert thief.get("/t/110105/members/").status_code == 302  # to the login page
    assert thief.get("/account").status_code == 302
    with clean_app.app_context():
        row = db.session.execute(db.select(UserSession)).scalar_one()
        assert row.ended_at is not None and row.end_reason == "logout"


def test_an_idle_session_ends(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    idle = clean_app.config["SESSION_IDLE_MINUTES"]
    start = clock.utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        browser = clean_app.test_client()
        login(browser, "clerk1")
        for _ in range(3):  # activity keeps it open
            traveller.shift(timedelta(minutes=idle - 5))
            assert browser.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=idle + 1))
        assert browser.get("/account").status_code == 302


def test_a_session_ends_after_its_lifetime_however_busy(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    hours = clean_app.config["SESSION_LIFETIME_HOURS"]
    with time_machine.travel(clock.utcnow(), tick=False) as traveller:
        browser = clean_app.test_client()
        login(browser, "clerk1")
        for _ in range(hours * 3 - 1):
            traveller.shift(timedelta(minutes=20))
            assert browser.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=21))
        assert browser.get("/account").status_code == 302
        login(browser, "clerk1")  # a new login is a new session
        assert browser.get("/account").status_code == 200


def test_an_admin_ends_a_users_sessions(setup, clean_app):
    setup(lambda make: (make.user("110105", "tenant_admin", username="admin"),
                        make.user("110105", "clerk", username="clerk1"),
                        make.user("320115", "tenant_admin", username="stranger")))
    with clean_app.app_context():
        uid = db.session.execute(db.select(User.id).filter_by(username="clerk1")).scalar_one()
    laptop, phone, admin, stranger = (clean_app.test_client() for _ in range(4))
    login(laptop, "clerk1")
    login(phone, "clerk1")
    login(admin, "admin")
    login(stranger, "stranger")
    assert stranger.post(f"/t/110105/users/{uid}/sessions/end").status_code == 404
    assert laptop.get("/account").status_code == 200
    resp = admin.post(f"/t/110105/users/{uid}/sessions/end", follow_redirects=True)
    assert resp.status_code == 200 and "已结束 clerk1 的 2 个登录会话" in resp.get_data(as_text=True)
    assert laptop.get("/account").status_code == 302 and phone.get("/account").status_code == 302
    assert admin.get("/account").status_code == 200  # the admin's own session goes on
    with clean_app.app_context():
        with scope("110105"):
            entry = db.session.execute(db.select(AuditEntry).filter_by(action="sessions_ended")).scalar_one()
        assert (entry.username, entry.object_id, entry.after) == ("admin", str(uid), {"sessions": 2})
    login(laptop, "clerk1")  # logging in again works
    assert laptop.get("/account").status_code == 200


def test_one_ends_ones_other_sessions(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    here, there = clean_app.test_client(), clean_app.test_client()
    login(here, "clerk1")
    login(there, "clerk1")
    assert "本机" in here.get("/account").get_data(as_text=True)
    assert here.post("/account/sessions/end").status_code == 302
    assert here.get("/account").status_code == 200 and there.get("/account").status_code == 302


def test_cli_ends_sessions(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    browser = clean_app.test_client()
    login(browser, "clerk1")
    result = clean_app.test_cli_runner().invoke(args=["users", "end-sessions", "clerk1"])
    assert result.exit_code == 0 and "1 个登录会话" in result.output
    assert browser.get("/account").status_code == 302
    assert clean_app.test_cli_runner().invoke(args=["users", "end-sessions", "nobody"]).exit_code != 0

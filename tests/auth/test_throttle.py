"""Login throttling per account and per address. Behind a reverse proxy (TRUSTED_PROXIES) the
client address comes from X-Forwarded-For, so one person's failures no longer lock everyone out,
and a stranger's failures on a known account hold it only briefly."""
from datetime import timedelta

import pytest
import time_machine

from portal import create_app
from portal.core import clock
from portal.extensions import db, limiter
from tests.factories import PASSWORD

WRONG = "wrong-password-1"


@pytest.fixture
def proxied(clean_app):
    """The app as deployed behind one reverse proxy: every request reaches it from 10.0.0.1."""
    settings = {k: v for k, v in clean_app.config.items() if k.isupper()}
    settings["TRUSTED_PROXIES"] = 1
    app = create_app(settings)
    limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()


def _post(app, client_ip, username, password, proxy="10.0.0.1"):
    return app.test_client().post("/login", data={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": proxy}, headers={"X-Forwarded-For": client_ip})


def test_one_person_behind_the_proxy_does_not_lock_out_everyone(setup, proxied):
    setup(lambda make: [make.user("110105", "clerk", username=n) for n in ("clerk1", "clerk2", "target")])
    per_address = int(proxied.config["LOGIN_RATE_LIMIT"].split()[0])
    # One person tries many accounts (a different name each time) until their address is refused.
    for i in range(per_address):
        assert _post(proxied, "203.0.113.5", f"guess{i}", WRONG).status_code == 401
    assert _post(proxied, "203.0.113.5", "clerk1", PASSWORD).status_code == 429
    # Everyone else, through the same proxy, logs in as usual.
    assert _post(proxied, "198.51.100.7", "clerk1", PASSWORD).status_code == 302
    assert _post(proxied, "198.51.100.8", "clerk2", PASSWORD).status_code == 302


def test_a_stranger_cannot_hold_a_known_account(setup, proxied):
    setup(lambda make: make.user("110105", "clerk", username="target"))
    pair = int(proxied.config["LOGIN_ACCOUNT_ADDRESS_LIMIT"].split()[0])
    with time_machine.travel(clock.utcnow(), tick=False) as traveller:
        for _ in range(pair):
            assert _post(proxied, "203.0.113.5", "target", WRONG).status_code == 401
        # The stranger's own address is refused for this account, even with the right password…
        assert _post(proxied, "203.0.113.5", "target", PASSWORD).status_code == 429
        # …but the owner, from their own address, is not.
        assert _post(proxied, "198.51.100.7", "target", PASSWORD).status_code == 302
        # Many addresses together lock the account only for the short account-wide window.
        account = int(proxied.config["LOGIN_ACCOUNT_LIMIT"].split()[0])
        for i in range(account):
            _post(proxied, f"192.0.2.{i + 1}", "target", WRONG)
        assert _post(proxied, "198.51.100.7", "target", PASSWORD).status_code == 429
        traveller.shift(timedelta(minutes=2))
        assert _post(proxied, "198.51.100.7", "target", PASSWORD).status_code == 302


def test_without_trusted_proxies_the_header_is_ignored(setup, clean_app):
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    per_address = int(clean_app.config["LOGIN_RATE_LIMIT"].split()[0])
    for i in range(per_address):  # a forged header on every attempt does not make new addresses
        assert _post(clean_app, f"203.0.113.{i + 1}", f"guess{i}", WRONG, proxy="198.51.100.9").status_code == 401
    assert _post(clean_app, "203.0.113.200", "clerk1", PASSWORD, proxy="198.51.100.9").status_code == 429

"""Password rules: 12 characters at least; outside development the demo password and common
passwords are refused (in development the demo data needs them)."""
import pytest

from portal.auth import services
from portal.core.errors import ValidationFailed
from portal.demo.seed import DEFAULT_PASSWORD
from tests.factories import PASSWORD


@pytest.mark.parametrize("password, message", [
    ("Short-pw-1", "至少需要12个字符"),
    ("abcdefghijklmn", "同时包含字母和数字"),
    (DEFAULT_PASSWORD, "不能使用演示密码"),
    ("Password@2026", "过于常见"),
    ("P@ssw0rd-2026", "过于常见"),
    ("1qaz2wsx3edc", "过于常见"),
    ("qwerty123456", "过于常见"),
    ("woaini1314520", "过于常见"),
    ("Huawei@12345", "过于常见"),
    ("aaaaaa111111", "过于常见"),
])
def test_weak_passwords_are_refused(ctx, password, message):
    with pytest.raises(ValidationFailed) as info:
        services.check_password_strength(password)
    assert message in info.value.fields["password"]


@pytest.mark.parametrize("password", [PASSWORD, "Zh8#kq2-Lm9!", "dangjian-2026-江宁"])
def test_good_passwords_pass(ctx, password):
    services.check_password_strength(password)


def test_development_allows_the_demo_password(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "ENV_NAME", "development")
    services.check_password_strength(DEFAULT_PASSWORD)
    monkeypatch.setitem(ctx.config, "ENV_NAME", "production")
    with pytest.raises(ValidationFailed):
        services.check_password_strength(DEFAULT_PASSWORD)


def test_the_account_page_refuses_a_common_password(setup, clean_app):
    from tests.conftest import login
    setup(lambda make: make.user("110105", "clerk", username="clerk1"))
    browser = clean_app.test_client()
    login(browser, "clerk1")
    resp = browser.post("/account", data={"pw-current": PASSWORD, "pw-new": "Password@2026", "pw-confirm": "Password@2026"})
    assert resp.status_code == 400 and "过于常见" in resp.get_data(as_text=True)
    assert clean_app.test_client().post("/login", data={"username": "clerk1", "password": PASSWORD}).status_code == 302

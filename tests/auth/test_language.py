"""The language chosen on the login page survives logging in, and is remembered for next time."""
from portal.auth.models import User
from portal.extensions import db
from tests.conftest import login


def _lang(resp) -> str:
    html = resp.get_data(as_text=True)
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_english_chosen_before_login_stays_after_it_and_next_time(make, clean_app):
    make.user("110105", "clerk", username="lang-clerk")
    first = clean_app.test_client()
    assert _lang(first.get("/login?lang=en")) == "en"
    login(first, "lang-clerk")
    page = first.get("/t/110105/members/")
    assert page.status_code == 200 and _lang(page) == "en"
    assert "Register" in page.get_data(as_text=True)
    with clean_app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(username="lang-clerk")).scalar_one() == "en"
    # Another browser, no choice made: the saved preference applies.
    second = clean_app.test_client()
    login(second, "lang-clerk")
    assert _lang(second.get("/t/110105/members/")) == "en"


def test_chinese_stays_the_default(make, client):
    make.user("110105", "clerk", username="zh-clerk")
    login(client, "zh-clerk")
    assert _lang(client.get("/t/110105/members/")) == "zh-CN"

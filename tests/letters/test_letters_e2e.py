"""In a real browser (CSRF on): issue an activity card from the member page after confirming,
void it with a reason, write the open letter and watch its job finish, verify by short code."""
import pytest

from portal.extensions import db
from portal.letters.models import Letter, LetterBatch
from tests.conftest import scope
from tests.e2e.conftest import live_server, login, page  # noqa: F401  (fixtures)
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
SHOTS = None  # set to a folder to keep screenshots while working on the pages


def _shot(pg, name):
    if SHOTS:
        pg.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_clerk_issues_voids_writes_and_verifies(live_server, page, make):  # noqa: F811
    branch = make.org("110105", name="望京第一党支部")
    member = make.member("110105", branch, name="欧阳明", region="广东省深圳市")
    make.member("110105", branch, name="司马光", region="浙江省杭州市")
    clerk = make.user("110105", "clerk", username="letters-clerk")
    login(page, live_server, clerk.username, PASSWORD)

    page.goto(f"{live_server}/t/110105/members/{member.id}")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    with page.expect_navigation():  # waiting after the click may still see the page before it
        page.click("#issue-activity-card")
    assert dialogs and "欧阳明" in dialogs[0]
    assert "已发放流动党员活动证" in page.content()
    _shot(page, "letter")
    with scope("110105"):
        card = db.session.execute(db.select(Letter).filter_by(kind="activity_card")).scalar_one()

    page.fill("input[name=reason]", "证件遗失")
    with page.expect_navigation():
        page.get_by_role("button", name="作废").click()
    assert "已作废" in page.locator("#letter-state").inner_text()

    page.goto(f"{live_server}/t/110105/letters/open-letter")
    with page.expect_navigation():
        page.click("button[value=preview]")
    assert "共 2 名流出党员" in page.locator("#open-letter-preview").inner_text()
    with page.expect_navigation():
        page.click("button[value=issue]")
    page.wait_for_selector("#batch-pdf", timeout=60000)
    _shot(page, "batch")
    assert "100%" in page.locator(".progress-bar").inner_text()
    with scope("110105"):
        assert db.session.execute(db.select(LetterBatch)).scalar_one().count == 2

    page.goto(f"{live_server}/t/110105/letters/")
    _shot(page, "index")
    assert page.locator("table tbody tr").count() == 3

    page.goto(f"{live_server}/verify")
    page.fill("input[name=code]", card.verify_code.lower())
    with page.expect_navigation():
        page.click("#verify-form button[type=submit]")
    _shot(page, "verify")
    result = page.locator("#verify-result")
    assert result.get_attribute("data-state") == "void"
    assert "欧*" in page.content() and "欧阳明" not in page.content()

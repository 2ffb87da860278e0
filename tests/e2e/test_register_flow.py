"""In a real browser: log in, add a member, find them by search, record a contact."""
import pytest

from portal.extensions import db
from portal.members.models import Contact, Member
from tests.conftest import scope
from tests.e2e.conftest import login
from tests.factories import PASSWORD, id_number

pytestmark = pytest.mark.e2e


def test_clerk_adds_finds_and_contacts_a_member(live_server, page, make):
    org = make.org("110105", name="朝阳区第一流动党员党支部")
    clerk = make.user("110105", "clerk", username="chaoyang-clerk")
    number = id_number("110105", serial=321)

    login(page, live_server, clerk.username, PASSWORD)
    page.goto(f"{live_server}/t/110105/members/new")
    page.fill("input[name=name]", "欧阳明")
    page.select_option("select[name=sex]", "男")
    page.fill("input[name=id_number]", number)
    page.select_option("select[name=education]", "本科")
    page.fill("input[name=joined_on]", "2012-07-01")
    option = page.locator("select[name=org] option", has_text="朝阳区第一流动党员党支部").first
    page.select_option("select[name=org]", option.get_attribute("value"))
    page.select_option("select[name=direction]", "流出")
    page.fill("input[name=phone]", "13912340000")
    page.fill("input[name=employer]", "深圳某科技有限公司")
    with page.expect_navigation():  # waiting after the click may still see the page before it
        page.locator("form button[type=submit]").last.click()
    assert "欧阳明" in page.content()

    # Find by exact ID number from the register's search box.
    page.goto(f"{live_server}/t/110105/members/")
    page.fill("input[name=q]", number)
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()
    with page.expect_navigation():
        page.get_by_role("link", name="欧阳明").first.click()

    page.fill("#contact-form textarea[name=note]", "电话联系，本人在深圳务工，情况良好")
    page.select_option("#contact-form select[name=channel]", "电话")
    with page.expect_navigation():
        page.locator("#contact-form button[type=submit]").click()
    assert "情况良好" in page.locator("#contacts").inner_text()

    with scope("110105"):
        member = db.session.execute(db.select(Member).filter_by(name="欧阳明")).scalar_one()
        assert member.employer == "深圳某科技有限公司" and member.org_id == org.id
        contact = db.session.execute(db.select(Contact).filter_by(member_id=member.id)).scalar_one()
        assert contact.channel == "电话" and member.last_contact_on == contact.on

"""Issue 10's proof in a real browser at 390×844: a member opens their link, fails the code once,
enters it, reports "I am reachable" and a new phone number; the branch then sees the contact (the
member is off the 失联 list) and the pending change, approves it, and the register shows the new
phone. Each page of the flow fits the phone's width."""

import re

import pytest

from portal.extensions import db
from portal.members.models import Member
from portal.tenancy.context import tenant_scope
from tests.e2e.conftest import live_server, login  # noqa: F401  (fixture)
from tests.factories import PASSWORD, id_number
from tests.selfservice.conftest import A

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    pg = context.new_page()
    yield pg
    context.close()


def _fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at {PHONE['width']} px"


def test_a_member_reports_on_a_phone_and_the_branch_approves(make, live_server, browser, phone):  # noqa: F811
    top = make.org(
        A, name="朝阳区流动人员党委", kind="基层党委", contact_name="王书记", contact_phone="010-65091234"
    )
    branch = make.org(
        A, name="朝阳区某街道党支部", parent=top, contact_name="李支书", contact_phone="13800000001"
    )
    number = id_number(A, serial=77)
    member = make.member(
        A, branch, name="手机党员", id_number=number, phone="13911112222", last_contact_on="2025-01-10"
    )
    make.user(A, "clerk", username="phone-clerk")
    office = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()

    # The office makes the link on the member page, at the phone's width too.
    login(office, live_server, "phone-clerk", PASSWORD)
    office.goto(f"{live_server}/t/{A}/members/{member.id}")
    _fits(office)
    office.click("#self-issue")
    url = office.input_value("#self-link-url")
    assert office.locator("#self-link-qr svg").count() == 1
    _fits(office)
    token = url.rsplit("/m/", 1)[1]

    # The member, on a phone: one wrong code, then the right one.
    phone.goto(f"{live_server}/m/{token}")
    _fits(phone)
    box = phone.locator("button[type=submit]").bounding_box()
    assert box["height"] >= 44 and box["width"] <= PHONE["width"]
    phone.fill("#id_last6", "000000")
    phone.click("#self-code-form button[type=submit]")
    assert "还可尝试 4 次" in phone.inner_text("#self-code-error")
    phone.fill("#id_last6", number[-6:])
    phone.click("#self-code-form button[type=submit]")
    assert "手*** 同志，您好" in phone.inner_text("#self-record")
    assert "138****" not in phone.inner_text("#self-record") and "139****2222" in phone.inner_text(
        "#self-record"
    )
    _fits(phone)
    phone.click("#self-reachable button")
    assert "已记录" in phone.inner_text("main")
    phone.click("#self-details summary")
    phone.fill("#f-phone", "13700001111")
    phone.click("#self-details button[type=submit]")
    assert "党支部审核后更新" in phone.inner_text("main")
    _fits(phone)

    # The branch: the contact is recorded, the member is off the 失联 list, the change waits.
    office.goto(f"{live_server}/t/{A}/members/?contact=lost")
    assert "手机党员" not in office.inner_text("main")
    office.goto(f"{live_server}/t/{A}/members/{member.id}")
    assert "网络" in office.inner_text("#contacts")
    office.goto(f"{live_server}/t/{A}/worklist")
    _fits(office)
    assert "手机党员 同志通过自助链接报告" in office.inner_text("#worklist")
    office.click("#worklist a:has-text('去处理')")
    values = office.inner_text("#self-report-values")
    assert re.search(r"13911112222\s+13700001111", values), values
    _fits(office)
    office.click("#self-approve")
    office.goto(f"{live_server}/t/{A}/members/{member.id}")
    assert "13700001111" in office.inner_text("#member-fields")
    office.context.close()
    db.session.rollback()
    with tenant_scope(member.tenant_id):
        assert db.session.execute(db.select(Member.phone).filter_by(id=member.id)).scalar() == "13700001111"

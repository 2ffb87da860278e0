"""In a real browser, under the Content-Security-Policy: log in, click through the main pages and
use their script; the console reports no policy violation."""
import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.letters.support import admin_principal, issue_intro

pytestmark = pytest.mark.e2e

NAV = ("党员台账", "组织", "转接", "共管协议", "工作台", "文书", "统计", "用户", "审计")


def test_main_pages_work_under_the_policy(live_server, page, make):
    branch = make.org("110105", name="朝阳区第一流动党员党支部")
    make.org("110105", name="朝阳区第一流动党员党支部第一小组", parent=branch)
    member = make.member("110105", branch, name="欧阳明", employer="深圳某科技有限公司")
    p = admin_principal(make)
    letter = issue_intro(p, name="李四")
    violations, answers = [], []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    page.on("pageerror", lambda exc: violations.append(f"script error: {exc}"))
    page.on("response", lambda r: answers.append(r) if r.request.resource_type == "document" else None)

    login(page, live_server, p.user.username, PASSWORD)
    page.wait_for_load_state()
    for label in NAV:
        with page.expect_navigation():  # waiting after the click may still see the page before it
            page.locator("nav").get_by_role("link", name=label, exact=True).first.click()
        assert page.locator("main").inner_text().strip(), label
    with page.expect_navigation():
        page.locator("#nav-notifications").click()  # its name carries the unread count
    with page.expect_navigation():
        page.locator("nav").get_by_role("link", name="联合名录", exact=True).click()

    # Pages reached from the lists, and the script each one runs.
    page.goto(f"{live_server}/t/110105/members/{member.id}")
    assert "欧阳明" in page.content()
    page.goto(f"{live_server}/t/110105/members/new")
    box = page.locator("#not-transferred-box")
    page.select_option("select[name=direction]", "流入")
    assert box.is_visible()
    page.select_option("select[name=direction]", "流出")
    assert not box.is_visible()
    page.goto(f"{live_server}/t/110105/reports/stats")
    widths = page.locator("svg.stats-chart rect").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and max(widths) > 0  # the charts are drawn on the server as SVG
    page.goto(f"{live_server}/t/110105/orgs/")
    indent = page.locator(".indent-1").first.evaluate("e => getComputedStyle(e).paddingLeft")
    assert indent != "0px"
    page.goto(f"{live_server}/t/110105/letters/{letter.id}")
    assert "李四" in page.content()
    page.goto(f"{live_server}/t/110105/roster/import")
    page.goto(f"{live_server}/account")
    page.goto(f"{live_server}/verify/{letter.token}")
    assert "李" in page.content()
    page.goto(f"{live_server}/t/110105/members/")
    page.goto(f"{live_server}/t/110105/no-such-page")
    page.locator("main a[data-back]").click()  # back without a javascript: URL
    page.wait_for_url(f"{live_server}/t/110105/members/")

    assert not violations, violations
    documents = [r for r in answers if r.url.startswith(live_server)]
    assert len(documents) > 15
    assert all("script-src 'self'" in (r.headers.get("content-security-policy") or "") for r in documents)

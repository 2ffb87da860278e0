"""In a real browser: the origin's clerk picks members for a co-management agreement from those
living in the host's area, looks up a second one by name without losing the first, and proposes."""
import re

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD, id_number

pytestmark = pytest.mark.e2e


def test_search_keeps_the_ticked_members_and_the_proposal_names_both(make, live_server, page):
    committee = make.org("110105", name="朝阳区流动人员党委", kind="基层党委")
    branch = make.org("110105", name="朝阳区某街道党支部", parent=committee)
    host = make.org("320115", name="江宁开发区流动党员党支部", kind="流动党员党支部", role="host")
    host_code = host.code
    for serial, name, region in ((601, "张三", "江苏省南京市江宁区"), (602, "王五", "南京市江宁区东山街道"),
                                 (603, "李四", "广东省深圳市南山区")):
        make.member("110105", branch, name=name, id_number=id_number("110105", serial=serial), region=region)
    make.user("110105", "clerk", username="chaoyang-clerk")

    login(page, live_server, "chaoyang-clerk", PASSWORD)
    page.goto(f"{live_server}/t/110105/exchange/agreements/new?host_org={host_code}")
    picker = page.locator("#member-choices")
    assert "张三" in picker.inner_text() and "王五" in picker.inner_text() and "李四" not in picker.inner_text()
    picker.locator("label:has-text('张三')").click()
    page.fill("#mq", "王五")
    page.click("button:has-text('查找党员')")
    page.wait_for_url(re.compile(r"mq=%E7%8E%8B%E4%BA%94|mq=王五"))
    picker = page.locator("#member-choices")
    assert picker.locator("label:has-text('张三')").count() == 1
    assert picker.locator("input:checked").count() == 1
    assert page.is_checked("#member-choices .form-check:has-text('张三') input")
    picker.locator("label:has-text('王五')").click()
    page.click("button:has-text('提出协议')")
    page.wait_for_url(re.compile(r"/t/110105/exchange/agreements/\d+$"))
    text = page.inner_text("body")
    assert "协议已提出" in text and "张三" in text and "王五" in text and "李四" not in text

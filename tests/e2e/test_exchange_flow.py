"""In a real browser: a clerk of Chaoyang submits a transfer, a clerk of Jiangning accepts it and
downloads the letter of introduction, whose text carries the member's name."""
import re
import subprocess

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD, id_number

pytestmark = pytest.mark.e2e


def test_submit_in_one_tenant_accept_in_another_download_the_letter(make, live_server, page):
    committee = make.org("110105", name="朝阳区流动人员党委", kind="基层党委")
    branch = make.org("110105", name="朝阳区某街道党支部", parent=committee)
    target = make.org("320115", name="江宁开发区流动党员党支部", kind="流动党员党支部", role="host")
    target_code = target.code
    make.member("110105", branch, name="王建国", id_number=id_number("110105", serial=501))
    make.user("110105", "clerk", username="chaoyang-clerk")
    make.user("320115", "clerk", username="jiangning-clerk")
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations before irreversible steps

    login(page, live_server, "chaoyang-clerk", PASSWORD)
    page.goto(f"{live_server}/t/110105/exchange/transfers")
    page.click("text=发起转接")
    page.fill("input[name=q]", "王建国")
    page.click("form:has(input[name=q]) button")
    page.click("a:has-text('王建国')")
    page.fill("input[name=to_q]", "开发区")
    page.click("form:has(input[name=to_q]) button")
    page.click(f"a[href*='to_org={target_code}']")
    page.fill("textarea[name=note]", "外出务工已满一年，居住地固定")
    page.click("button:has-text('提交转接')")
    page.wait_for_url(re.compile(r"/t/110105/exchange/transfers/\d+$"))
    assert page.locator(".state-badge").inner_text() == "待接收"
    transfer_url = page.url.replace("/t/110105/", "/t/320115/")

    page.context.clear_cookies()
    login(page, live_server, "jiangning-clerk", PASSWORD)
    page.goto(f"{live_server}/t/320115/exchange/transfers?box=incoming")
    page.click("a:has-text('王建国')")
    assert page.url == transfer_url
    page.click("button:has-text('接收并开具介绍信')")
    page.wait_for_selector("text=已接收，介绍信已开具")
    assert page.locator(".state-badge").inner_text() == "已开介绍信"
    href = page.get_attribute("a[data-download=letter]", "href")
    response = page.context.request.get(f"{live_server}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.body(), capture_output=True,
                          check=True).stdout.decode("utf-8")
    assert "王建国" in text and "（朝组）字第 1 号" in text.replace("\n", "")
    assert "江宁开发区流动党员党支部" in text.replace(" ", "").replace("\n", "")

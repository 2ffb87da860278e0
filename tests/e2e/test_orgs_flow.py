"""In a real browser (CSRF on): build a small tree, then move a branch, declining the
confirmation once (nothing changes) and accepting it the second time."""
import os
from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.orgs.models import Organization
from tests.conftest import scope
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("ORG_SCREENSHOTS")  # a folder to keep screenshots in, for looking at the pages


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _org(name):
    """The org's values now (plain, so reading them later needs no tenant context)."""
    with scope("110105"):
        db.session.expire_all()
        org = db.session.execute(db.select(Organization).filter_by(name=name)).scalar_one()
        return SimpleNamespace(id=org.id, code=org.code, parent_id=org.parent_id)


def _create(page, base, name, kind, parent_label=None):
    page.goto(f"{base}/t/110105/orgs/new")
    page.fill("input[name=name]", name)
    page.select_option("select[name=kind]", kind)
    if parent_label:
        value = page.locator("select[name=parent] option", has_text=parent_label).first.get_attribute("value")
        page.select_option("select[name=parent]", value)
    page.fill("input[name=contact_name]", "刘联系")
    page.fill("input[name=contact_phone]", "13811112222")
    _shot(page, "org-form")
    with page.expect_navigation():  # waiting after the click may still see the page before it
        page.locator("main form button[type=submit]").click()


def test_admin_builds_a_tree_and_moves_a_branch(live_server, page, make):
    admin = make.user("110105", "tenant_admin", username="chaoyang-admin")
    login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/t/110105/orgs/")
    assert "还没有组织" in page.content()
    _shot(page, "orgs-empty")

    _create(page, live_server, "朝阳区流动党员党委", "基层党委")
    _create(page, live_server, "望京街道流动党员党委", "基层党委")
    _create(page, live_server, "第一流动党员党支部", "流动党员党支部", parent_label="朝阳区流动党员党委")
    page.goto(page.url.replace("/orgs/", "/orgs/", 1) + "/edit")
    page.fill("input[name=address]", "朝阳区望京街道")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "已保存" in page.content() and "朝阳区望京街道" in page.content()
    _shot(page, "org-show")
    first, target = _org("第一流动党员党支部"), _org("望京街道流动党员党委")
    assert first.parent_id == _org("朝阳区流动党员党委").id

    page.goto(f"{live_server}/t/110105/orgs/")
    _shot(page, "orgs-tree")
    page.goto(f"{live_server}/t/110105/orgs/{first.code}/move")
    _shot(page, "org-move")
    page.select_option("select[name=parent]", target.code)
    messages = []

    def decline(dialog):
        messages.append(dialog.message)
        dialog.dismiss()
    page.once("dialog", decline)
    page.locator("main form button[type=submit]").click()
    assert messages == ["确定移动 第一流动党员党支部 及其全部下级组织吗？"]
    assert _org("第一流动党员党支部").parent_id == _org("朝阳区流动党员党委").id  # declined: unchanged

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "已将 第一流动党员党支部 移到 望京街道流动党员党委 之下" in page.content()
    assert _org("第一流动党员党支部").parent_id == target.id

"""Organization pages: the tree with member counts, search, show, create, edit, move, access."""
import re

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.orgs import services
from portal.orgs.models import Organization
from tests.conftest import login, scope
from tests.orgs.helpers import plain


def _tree(make):
    root = make.org("110105", name="朝阳区人才服务中心流动人员党委", kind="基层党委")
    one = make.org("110105", name="第一党支部", parent=root)
    temp = make.org("110105", name="望京临时党支部", kind="临时党支部", parent=one)
    two = make.org("110105", name="第二党支部", parent=root, role="host")
    return plain(root), plain(one), plain(temp), plain(two)


def _row(html, code):
    m = re.search(rf'<tr data-org="{re.escape(code)}">(.*?)</tr>', html, re.DOTALL)
    assert m, f"no row for {code}"
    return m.group(1)


def _cell(row, name):
    return int(re.search(rf"<td[^>]*data-{name}>(\d+)</td>", row).group(1))


def test_tree_lists_orgs_indented_with_member_counts(make, client):
    root, one, temp, two = _tree(make)
    make.member("110105", one)
    make.member("110105", temp)
    make.member("110105", temp)
    make.user("110105", "viewer", username="viewer1")
    login(client, "viewer1")
    html = client.get("/t/110105/orgs/").get_data(as_text=True)
    assert html.index(root.code) < html.index(one.code) < html.index(temp.code)
    assert (_cell(_row(html, root.code), "count"), _cell(_row(html, root.code), "total")) == (0, 3)
    assert (_cell(_row(html, one.code), "count"), _cell(_row(html, one.code), "total")) == (1, 3)
    assert (_cell(_row(html, temp.code), "count"), _cell(_row(html, temp.code), "total")) == (2, 2)
    assert 'class="indent-2"' in _row(html, temp.code)  # two levels down (portal.css indents)
    assert "流入地" in _row(html, two.code)
    assert "新建组织" not in html  # a viewer cannot create


def test_search_by_name_kind_and_role(make, client):
    root, one, temp, two = _tree(make)
    make.org("320115", name="江宁第一党支部")
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    html = client.get("/t/110105/orgs/?q=第一").get_data(as_text=True)
    assert one.code in html and root.code not in html.split("<tbody>")[1] and "江宁" not in html
    assert "朝阳区人才服务中心流动人员党委 › " in html  # where the match sits in the tree
    html = client.get("/t/110105/orgs/?kind=临时党支部").get_data(as_text=True)
    assert f'data-org="{temp.code}"' in html and f'data-org="{one.code}"' not in html
    html = client.get("/t/110105/orgs/?role=host").get_data(as_text=True)
    assert f'data-org="{two.code}"' in html and f'data-org="{one.code}"' not in html
    html = client.get("/t/110105/orgs/?q=不存在的组织").get_data(as_text=True)
    assert "没有符合条件的组织" in html
    # Nonsense filters and pages do not break the page.
    assert client.get("/t/110105/orgs/?kind=xx&role=yy&page=-3").status_code == 200
    assert client.get("/t/110105/orgs/?page=abc").status_code == 200


def test_empty_state(make, client):
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    html = client.get("/t/110105/orgs/").get_data(as_text=True)
    assert "还没有组织" in html


def test_tree_is_paginated(make, client):
    from portal.orgs import views
    root = make.org("110105", name="党委", kind="基层党委")
    for i in range(5):
        make.org("110105", name=f"支部{i}", parent=root)
    make.user("110105", "viewer", username="viewer1")
    login(client, "viewer1")
    old = views.TREE_PER_PAGE
    views.TREE_PER_PAGE = 4
    try:
        first = client.get("/t/110105/orgs/").get_data(as_text=True)
        second = client.get("/t/110105/orgs/?page=2").get_data(as_text=True)
    finally:
        views.TREE_PER_PAGE = old
    assert first.count("<tr data-org=") == 4 and second.count("<tr data-org=") == 2
    assert "第 1 / 2 页，共 6 条" in first


def test_create_edit_and_show(make, client):
    root = plain(make.org("110105", name="党委", kind="基层党委"))
    make.user("110105", "clerk", username="clerk1")
    login(client, "clerk1")
    page = client.get(f"/t/110105/orgs/new?parent={root.code}").get_data(as_text=True)
    assert f'<option selected value="{root.code}">' in page
    resp = client.post("/t/110105/orgs/new", data={
        "name": "物流行业流动党员党支部", "kind": "流动党员党支部", "parent": root.code, "role": "host",
        "region": "110105", "address": "朝阳区十八里店", "contact_name": "赵书记", "contact_phone": "010-65001234",
        "industries": "物流、快递", "accepting": "y", "code": ""})
    assert resp.status_code == 302
    with scope("110105"):
        org = db.session.execute(db.select(Organization).filter_by(name="物流行业流动党员党支部")).scalar_one()
        assert (org.parent_id, org.role, org.industries, org.accepting) == (root.id, "host", "物流、快递", True)
    assert resp.headers["Location"].endswith(f"/t/110105/orgs/{org.code}")
    html = client.get(f"/t/110105/orgs/{org.code}").get_data(as_text=True)
    assert "物流行业流动党员党支部" in html and "赵书记" in html and "流入地" in html and root.name in html

    resp = client.post(f"/t/110105/orgs/{org.code}/edit", data={
        "name": "物流行业流动党员党支部", "kind": "流动党员党支部", "role": "both", "region": "110105",
        "address": "朝阳区十八里店", "contact_name": "钱书记", "contact_phone": "13900001111", "industries": "物流"})
    assert resp.status_code == 302
    with scope("110105"):
        db.session.expire_all()
        org = services.get(org.code)
        assert (org.contact_name, org.accepting, org.role) == ("钱书记", False, "both")
        actions = db.session.execute(db.select(AuditEntry.action).filter_by(object_id=org.code)
                                     .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["create", "update"]


def test_form_errors_are_shown_and_nothing_is_written(make, client):
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    resp = client.post("/t/110105/orgs/new", data={"name": "支部", "kind": "党支部", "role": "both",
                                                    "contact_phone": "123", "region": "abc", "parent": "nope"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "联系电话应为11位手机号或带区号的固定电话" in html
    with scope("110105"):
        assert db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar() == 0
    resp = client.post("/t/110105/orgs/new", data={"name": "", "kind": "不存在", "role": "x"})
    assert resp.status_code == 400
    assert "请输入名称" in resp.get_data(as_text=True)


def test_move_page_excludes_self_and_descendants_and_asks_to_confirm(make, client):
    root, one, temp, two = _tree(make)
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    html = client.get(f"/t/110105/orgs/{one.code}/move").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', html)
    assert root.code in options and two.code in options
    assert one.code not in options and temp.code not in options
    assert 'data-confirm="确定移动 第一党支部 及其全部下级组织吗？"' in html

    # A crafted request under its own descendant is refused with a clear message.
    resp = client.post(f"/t/110105/orgs/{one.code}/move", data={"parent": temp.code})
    assert resp.status_code == 400
    assert "不能移到自身或其下级组织之下" in resp.get_data(as_text=True)

    resp = client.post(f"/t/110105/orgs/{one.code}/move", data={"parent": two.code})
    assert resp.status_code == 302
    with scope("110105"):
        db.session.expire_all()
        assert services.get(temp.code).path == f"/{root.id}/{two.id}/{one.id}/{temp.id}/"
        assert services.get(one.code).parent_id == two.id
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "第二党支部" in html


def test_secretary_sees_only_their_subtree_and_cannot_edit(make, client):
    root, one, temp, two = _tree(make)
    with scope("110105"):
        make.user("110105", "secretary", username="sec1", org=services.get(one.code))
    login(client, "sec1")
    html = client.get("/t/110105/orgs/").get_data(as_text=True)
    assert f'data-org="{one.code}"' in html and f'data-org="{temp.code}"' in html
    assert f'data-org="{root.code}"' not in html and f'data-org="{two.code}"' not in html
    assert client.get(f"/t/110105/orgs/{temp.code}").status_code == 200
    assert client.get(f"/t/110105/orgs/{two.code}").status_code == 404
    assert client.get(f"/t/110105/orgs/{root.code}").status_code == 404
    assert client.get("/t/110105/orgs/new").status_code == 403
    assert client.post(f"/t/110105/orgs/{one.code}/edit", data={"name": "x", "kind": "党支部"}).status_code == 403
    assert client.post(f"/t/110105/orgs/{one.code}/move", data={"parent": ""}).status_code == 403


def test_other_tenants_orgs_and_strangers_get_404(make, client):
    b = plain(make.org("320115", name="江宁支部"))
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    assert client.get(f"/t/110105/orgs/{b.code}").status_code == 404
    assert client.get(f"/t/110105/orgs/{b.code}/edit").status_code == 404
    assert client.post(f"/t/110105/orgs/{b.code}/move", data={"parent": ""}).status_code == 404
    assert client.get("/t/320115/orgs/").status_code == 404  # no role in that tenant
    assert client.get(f"/t/320115/orgs/{b.code}").status_code == 404


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/t/110105/orgs/")
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]

"""A tenant admin manages the tenant's users at /t/<t>/users."""
import re

from portal.audit.models import AuditEntry
from portal.auth.models import RoleGrant, User
from portal.extensions import db
from tests.conftest import login, scope
from tests.factories import PASSWORD
from tests.orgs.helpers import plain


def _grant(username, code="110105"):
    from tests.conftest import tenant
    db.session.expire_all()
    return db.session.execute(db.select(RoleGrant).join(User).filter(
        User.username == username, RoleGrant.tenant_id == tenant(code).id)).scalar_one_or_none()


def _user_id(username):
    return db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()


def _audit_actions():
    """What people did on the page; the factory's own user creations (actor "system") are left out."""
    with scope("110105"):
        return db.session.execute(db.select(AuditEntry.action).filter_by(object_type="user")
                                  .filter(AuditEntry.username != "system")
                                  .order_by(AuditEntry.id)).scalars().all()


def test_create_user_shows_a_one_time_password_that_works(make, client):
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    resp = client.post("/t/110105/users", data={"username": "wang", "display_name": "王业务", "role": "clerk"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    password = re.search(r'id="created-user">.*?<code>([^<]+)</code>', html, re.DOTALL).group(1)
    assert "只显示这一次" in html
    assert _grant("wang").role == "clerk"
    assert _audit_actions() == ["create"]
    assert client.get("/t/110105/users").get_data(as_text=True).count(password) == 0  # never shown again
    other = make.app.test_client()
    assert other.post("/login", data={"username": "wang", "password": password}).status_code == 302


def test_create_user_refusals(make, client):
    other_org_id = make.org("320115", name="江宁支部").id
    make.user("110105", "tenant_admin", username="admin")
    make.user("320115", "clerk", username="taken")
    login(client, "admin")
    cases = [({"username": "taken", "role": "clerk"}, "用户名已存在"),
             ({"username": "sec", "role": "secretary", "org": ""}, "支部书记需要指定所属组织"),
             ({"username": "sec", "role": "secretary", "org": str(other_org_id)}, "所属组织不存在"),
             ({"username": "", "role": "clerk"}, "请输入用户名"),
             ({"username": "x", "role": "platform_admin"}, "Not a valid choice")]
    for data, message in cases:
        resp = client.post("/t/110105/users", data=data)
        assert resp.status_code == 400, data
        html = resp.get_data(as_text=True)
        assert message in html or data["role"] == "platform_admin", (data, html[-2000:])
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 2


def test_create_secretary_of_an_org(make, client):
    org = plain(make.org("110105", name="第一党支部"))
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    resp = client.post("/t/110105/users", data={"username": "sec", "role": "secretary", "org": str(org.id)})
    assert resp.status_code == 200
    grant = _grant("sec")
    assert (grant.role, grant.org_id) == ("secretary", org.id)
    assert "第一党支部" in client.get("/t/110105/users").get_data(as_text=True)


def test_change_role_and_remove_role(make, client):
    org_id = make.org("110105", name="第一党支部").id
    make.user("110105", "tenant_admin", username="admin")
    make.user("110105", "viewer", username="zhao")
    login(client, "admin")
    uid = _user_id("zhao")
    resp = client.post(f"/t/110105/users/{uid}/role", data={"role": "clerk"})
    assert resp.status_code == 302
    assert _grant("zhao").role == "clerk"
    resp = client.post(f"/t/110105/users/{uid}/role", data={"role": "secretary", "org": ""}, follow_redirects=True)
    assert "支部书记需要指定所属组织" in resp.get_data(as_text=True)
    assert _grant("zhao").role == "clerk"
    client.post(f"/t/110105/users/{uid}/role", data={"role": "secretary", "org": str(org_id)})
    assert (_grant("zhao").role, _grant("zhao").org_id) == ("secretary", org_id)
    resp = client.post(f"/t/110105/users/{uid}/role", data={"role": "superuser"}, follow_redirects=True)
    assert "未知角色" in resp.get_data(as_text=True)

    page = client.get("/t/110105/users").get_data(as_text=True)
    assert 'data-confirm="确定修改 zhao 的角色？' in page
    resp = client.post(f"/t/110105/users/{uid}/role", data={"role": "remove"}, follow_redirects=True)
    assert "已移除 zhao 在本县区的角色" in resp.get_data(as_text=True)
    assert _grant("zhao") is None
    assert _audit_actions() == ["update", "update", "revoke"]
    # The removed user can still log in, but the tenant is now closed to them.
    other = make.app.test_client()
    login(other, "zhao")
    assert other.get("/t/110105/orgs/").status_code == 404


def test_admin_cannot_remove_or_demote_self(make, client):
    make.user("110105", "tenant_admin", username="admin")
    login(client, "admin")
    uid = _user_id("admin")
    for role, message in (("remove", "不能移除自己的角色"), ("viewer", "不能修改自己的角色")):
        resp = client.post(f"/t/110105/users/{uid}/role", data={"role": role}, follow_redirects=True)
        assert message in resp.get_data(as_text=True)
        assert _grant("admin").role == "tenant_admin"
    assert _audit_actions() == []


def test_users_of_other_tenants_are_not_reachable(make, client):
    make.user("110105", "tenant_admin", username="admin")
    make.user("320115", "clerk", username="stranger")
    login(client, "admin")
    uid = _user_id("stranger")
    assert client.post(f"/t/110105/users/{uid}/role", data={"role": "remove"}).status_code == 404
    assert client.post(f"/t/110105/users/{uid}/password").status_code == 404
    assert _grant("stranger", "320115").role == "clerk"
    assert "stranger" not in client.get("/t/110105/users").get_data(as_text=True)


def test_reset_password(setup, clean_app):
    def data(make):
        from portal.auth import services
        make.user("110105", "tenant_admin", username="admin")
        make.user("110105", "clerk", username="only-here")
        both = make.user("110105", "clerk", username="in-two")
        services.grant(both, "clerk", tenant=make.tenant("320115"))
        db.session.commit()
        return {"only-here": _user_id("only-here"), "in-two": _user_id("in-two")}
    ids = setup(data)
    client = clean_app.test_client()
    login(client, "admin")
    resp = client.post(f"/t/110105/users/{ids['only-here']}/password", follow_redirects=True)
    html = resp.get_data(as_text=True)
    new = re.search(r"已为 only-here 设置新密码（只显示这一次）：(\S+?)\s*<", html).group(1)
    other = clean_app.test_client()
    assert other.post("/login", data={"username": "only-here", "password": PASSWORD}).status_code == 401
    assert other.post("/login", data={"username": "only-here", "password": new}).status_code == 302
    resp = client.post(f"/t/110105/users/{ids['in-two']}/password", follow_redirects=True)
    assert "在其他县区或平台也有角色" in resp.get_data(as_text=True)
    assert setup(lambda make: _audit_actions()) == ["password_reset"]


def test_search_and_pagination(make, client):
    from portal.admin import views
    make.user("110105", "tenant_admin", username="admin")
    for i in range(4):
        make.user("110105", "viewer", username=f"viewer{i}")
    login(client, "admin")
    html = client.get("/t/110105/users?q=viewer2").get_data(as_text=True)
    assert 'data-user="viewer2"' in html and 'data-user="viewer1"' not in html
    assert "没有符合条件的用户" in client.get("/t/110105/users?q=nobody").get_data(as_text=True)
    old = views.USERS_PER_PAGE
    views.USERS_PER_PAGE = 2
    try:
        html = client.get("/t/110105/users?page=3").get_data(as_text=True)
    finally:
        views.USERS_PER_PAGE = old
    assert html.count("data-user=") == 1 and "第 3 / 3 页，共 5 条" in html


def test_only_tenant_admins_manage_users(make, client):
    make.user("110105", "clerk", username="clerk1")
    make.user("110105", "viewer", username="viewer1")
    login(client, "clerk1")
    assert client.get("/t/110105/users").status_code == 403
    assert client.post("/t/110105/users", data={"username": "x", "role": "tenant_admin"}).status_code == 403
    assert client.post(f"/t/110105/users/{_user_id('viewer1')}/role", data={"role": "tenant_admin"}).status_code == 403
    assert _grant("viewer1").role == "viewer"
    assert _grant("clerk1").role == "clerk"

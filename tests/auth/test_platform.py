"""The platform page /platform/tenants: list tenants, add one, give it an administrator."""
import re

import pytest

from portal.audit.models import AuditEntry
from portal.auth import services
from portal.auth.models import User
from portal.extensions import db
from portal.tenancy.models import Tenant
from tests.conftest import login, scope
from tests.factories import PASSWORD


@pytest.fixture
def root(make):
    services.create_user("root", PASSWORD, platform_admin=True)
    db.session.commit()


def _tenant(code):
    db.session.expire_all()
    return db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one_or_none()


def test_lists_tenants(root, client):
    login(client, "root")
    html = client.get("/platform/tenants").get_data(as_text=True)
    for code in ("110105", "320115", "410804", "620802", "653225"):
        assert f'data-tenant="{code}"' in html
    assert "马组" in html and "20天" in html  # 410804's letter prefix and validity
    assert "县区管理" in client.get("/home").get_data(as_text=True)


def test_create_tenant(root, client):
    login(client, "root")
    resp = client.post("/platform/tenants", data={"code": "320116", "name": "南京市六合区", "parent": ""})
    assert resp.status_code == 302
    tenant = _tenant("320116")
    assert (tenant.name, tenant.parent_region, tenant.letter_validity_days, tenant.reply_deadline_days) == \
        ("南京市六合区", "320100", 30, 15)
    with scope("320116"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(object_type="tenant")).scalar_one()
        assert (entry.action, entry.username, entry.object_id) == ("create", "root", "320116")
    assert "南京市六合区" in client.get("/platform/tenants").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"code": "32011", "name": "某区"}, "code", "县区代码应为6位数字的行政区划代码"),
    ({"code": "abcdef", "name": "某区"}, "code", "县区代码应为6位数字的行政区划代码"),
    ({"code": "320000", "name": "江苏省"}, "code", "县区代码不能是省级代码"),
    ({"code": "110105", "name": "重复"}, "code", "县区 110105 已存在"),
    ({"code": "320116", "name": ""}, "name", "请输入名称"),
    ({"code": "320116", "name": "六合区", "parent": "110000"}, "parent", "包含该县区的市级或省级代码"),
    ({"code": "320116", "name": "六合区", "parent": "320116"}, "parent", "包含该县区的市级或省级代码"),
    ({"code": "320116", "name": "六合区", "parent": "3201"}, "parent", "包含该县区的市级或省级代码"),
])
def test_create_tenant_refusals(root, client, data, field, message):
    login(client, "root")
    resp = client.post("/platform/tenants", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count()).select_from(Tenant)).scalar() == 5


def test_create_admin_for_a_tenant(root, make, client):
    login(client, "root")
    resp = client.post("/platform/tenants/410804/admins", data={"username": "macun-admin", "display_name": "马村管理员"},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    password = re.search(r'id="created-admin">.*?<code>([^<]+)</code>', html, re.DOTALL).group(1)
    user = db.session.execute(db.select(User).filter_by(username="macun-admin")).scalar_one()
    assert user.grants[0].role == "tenant_admin" and user.grants[0].tenant.code == "410804"
    assert password not in client.get("/platform/tenants").get_data(as_text=True)
    resp = client.post("/platform/tenants/410804/admins", data={"username": "macun-admin"}, follow_redirects=True)
    assert "用户名已存在" in resp.get_data(as_text=True)
    assert client.post("/platform/tenants/999999/admins", data={"username": "x"}).status_code == 404
    with scope("410804"):
        assert db.session.execute(db.select(AuditEntry.action).filter_by(object_type="user")).scalars().all() \
            == ["create"]
    other = make.app.test_client()
    assert other.post("/login", data={"username": "macun-admin", "password": password}).status_code == 302


def test_only_platform_admins(make, client):
    make.user("110105", "tenant_admin", username="admin")
    assert client.get("/platform/tenants").status_code == 302  # anonymous: to the login page
    login(client, "admin")
    assert client.get("/platform/tenants").status_code == 403
    assert client.post("/platform/tenants", data={"code": "320116", "name": "六合区"}).status_code == 403
    assert client.post("/platform/tenants/110105/admins", data={"username": "evil"}).status_code == 403
    assert _tenant("320116") is None
    assert db.session.execute(db.select(User).filter_by(username="evil")).scalar_one_or_none() is None

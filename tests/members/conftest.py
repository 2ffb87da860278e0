"""Helpers for the member register tests.

A request in the test client shares the test's database session; when the request rolls back (as
every refused change does) the test's ORM objects expire, and on PostgreSQL row-level security
refuses to reload them outside a tenant context. So the fixtures hand out detached snapshots
(plain attribute copies) of what they create."""
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect

from portal.extensions import db
from portal.members.models import Member
from portal.tenancy.context import cross_tenant, tenant_scope


def snap(obj):
    """A plain copy of an ORM object's column values (server defaults loaded across tenants)."""
    # The register opens only to its own tenant (not to the cross-tenant flag) on PostgreSQL.
    with tenant_scope(obj.tenant_id) if getattr(obj, "tenant_id", None) else cross_tenant():
        return SimpleNamespace(**{a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs})


@pytest.fixture
def chaoyang(make):
    """Tenant 110105 with a small tree: a committee, a branch with a temporary branch below it, and
    a second branch; returns snapshots of the orgs."""
    top = make.org("110105", name="朝阳区人才服务中心流动人员党委", kind="基层党委")
    first = make.org("110105", name="第一党支部", parent=top)
    sub = make.org("110105", name="第一支部临时党支部", kind="临时党支部", parent=first)
    other = make.org("110105", name="第二党支部", parent=top)
    return {"top": snap(top), "first": snap(first), "sub": snap(sub), "other": snap(other)}


@pytest.fixture
def new_member(make):
    """make.member, returning a snapshot."""
    def build(code, org, **fields):
        return snap(make.member(code, org, **fields))
    return build


@pytest.fixture
def new_org(make):
    def build(code, **kw):
        return snap(make.org(code, **kw))
    return build


def count_members(code=None):
    from tests.conftest import each_tenant, tenant
    query = db.select(db.func.count()).select_from(Member)
    if code:
        with tenant_scope(tenant(code).id):
            return db.session.execute(query).scalar_one()
    return sum(each_tenant(lambda: db.session.execute(query).scalar_one()))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}

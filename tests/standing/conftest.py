"""A county (110105) with a committee, two branches (one with a temporary branch below it), a
clerk, a viewer and a secretary of the first branch, each with an API token. Fixtures hand out
plain values: a refused request rolls the shared session back, and on PostgreSQL a tenant row
cannot be refreshed outside its tenant."""
from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.tenancy.context import cross_tenant
from tests.factories import id_number

T = "110105"


def in_county():
    """Cross-tenant reads acting in the county, whose register the database opens to them."""
    from portal.tenancy.models import Tenant
    return cross_tenant(acting_for=db.session.execute(db.select(Tenant.id).filter_by(code=T)).scalar_one())


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def plain(obj):
    from sqlalchemy import inspect
    with in_county():
        return SimpleNamespace(**{a.key: getattr(obj, a.key) for a in inspect(obj).mapper.column_attrs})


@pytest.fixture
def county(make):
    top = make.org(T, name="朝阳区流动人员党委", kind="基层党委")
    first = make.org(T, name="第一党支部", parent=top)
    sub = make.org(T, name="第一支部临时党支部", kind="临时党支部", parent=first)
    other = make.org(T, name="第二党支部", parent=top)
    users = {"clerk": make.user(T, "clerk", username="c-clerk"),
             "viewer": make.user(T, "viewer", username="c-viewer"),
             "secretary": make.user(T, "secretary", username="c-secretary", org=first)}
    tokens = {k: make.token(u) for k, u in users.items()}
    return SimpleNamespace(make=make, top=plain(top), first=plain(first), sub=plain(sub), other=plain(other),
                           users={k: plain(u) for k, u in users.items()}, tokens=tokens,
                           tenant_id=make.tenant(T).id)


@pytest.fixture
def member(county):
    def build(name="张三", org=None, **fields):
        fields.setdefault("dues_paid_through", "")
        fields.setdefault("id_number", id_number(T))
        return plain(county.make.member(T, org or county.first, name=name, **fields))
    return build


def api(client, county, who="clerk"):
    h = bearer(county.tokens[who])

    class Api:
        def get(self, path, **kw):
            return client.get(f"/api/v1/t/{T}{path}", headers=h, **kw)

        def post(self, path, json=None, **kw):
            return client.post(f"/api/v1/t/{T}{path}", headers=h, json={} if json is None and "data" not in kw
                               else json, **kw)

        def delete(self, path):
            return client.delete(f"/api/v1/t/{T}{path}", headers=h)
    return Api()


def rows(model, **filters):
    with in_county():
        query = db.select(model).filter_by(**filters).order_by(model.id)
        return db.session.execute(query).unique().scalars().all()


def member_row(member_id):
    from portal.members.models import Member
    with in_county():
        db.session.expire_all()
        return db.session.get(Member, member_id)

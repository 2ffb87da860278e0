"""Builders for test data, going through the same services as the product."""
import itertools
from datetime import date

from portal.auth import services as auth
from portal.core import clock
from portal.auth.access import Principal
from portal.extensions import db
from portal.members import services as members
from portal.members.idnumber import check_digit
from portal.orgs import services as orgs
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant

PASSWORD = "correct-horse-42"


def last_month() -> str:
    """Dues paid through the month before today's: "on time" whatever the date."""
    first = clock.today().replace(day=1)
    prev = first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
    return f"{prev:%Y-%m}"
_seq = itertools.count(1)


def id_number(region: str = "110105", born: date = date(1990, 5, 17), serial: int | None = None) -> str:
    serial = next(_seq) % 1000 if serial is None else serial
    first = f"{region}{born:%Y%m%d}{serial:03d}"
    return first + check_digit(first)


class Factory:
    def __init__(self, app):
        self.app = app

    def tenant(self, code: str) -> Tenant:
        return db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()

    def user(self, code: str | None, role: str = "tenant_admin", username: str | None = None, org=None,
             region: str | None = None, password: str = PASSWORD):
        username = username or f"u{next(_seq)}-{role}"
        tenant = self.tenant(code) if code else None
        user, _ = auth.create_user(username, password, tenant=tenant, role=role,
                                   org_id=org.id if org is not None else None, region_code=region)
        db.session.commit()
        return user

    def token(self, user) -> str:
        raw = auth.issue_token(user, "test")
        db.session.commit()
        return raw

    def principal(self, code: str, role: str = "tenant_admin"):
        tenant = self.tenant(code)
        user = self.user(code, role)
        return Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id))

    def org(self, code: str, name: str = "示例党支部", kind: str = "党支部", parent=None, **extra):
        tenant = self.tenant(code)
        with tenant_scope(tenant.id):
            actor = None
            org = orgs.create(actor, {"name": name, "kind": kind, "parent": parent.code if parent else None,
                                      "contact_name": extra.pop("contact_name", "张联系"),
                                      "contact_phone": extra.pop("contact_phone", "13800000000"), **extra})
            db.session.commit()
            return org

    def member(self, code: str, org, **fields):
        tenant = self.tenant(code)
        data = {"name": "张三", "sex": "男", "id_number": id_number(code), "education": "本科",
                "joined_on": "2015-07-01", "org": org.code, "direction": "流出", "phone": "13912345678",
                "dues_paid_through": last_month(), "region": "江苏省南京市", "employer": "示例公司"}
        data.update(fields)
        holds = data.pop("holds_relationship", True)
        with tenant_scope(tenant.id):
            principal = Principal(user=None, tenant=tenant, grant=None)
            m = members.create(principal, data, holds_relationship=holds)
            db.session.commit()
            return m

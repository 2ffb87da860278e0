from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKeyConstraint, Integer, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock

KINDS = ("基层党委", "党总支", "党支部", "临时党支部", "流动党员党支部", "流动党员服务站", "驻外流动党员党组织")
ROLES = ("host", "origin", "both")
ROLE_LABELS = {"host": lazy("流入地"), "origin": lazy("流出地"), "both": lazy("流入地和流出地")}
# Kinds that may stamp and issue letters (domain.md: the stamp on a letter is a 基层党委's).
ISSUING_KINDS = ("基层党委",)


class Organization(TenantScoped, db.Model):
    """A party organization of a tenant, in a tree. `code` is unique within the tenant in the
    database; it starts with the tenant's code (orgs.services checks it), so it is unique across all
    tenants too without a key a distributed table could not hold."""
    __tablename__ = "organizations"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["organizations.tenant_id", "organizations.id"]),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    code: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Materialized path of ids ("/1/4/9/") so "this org and those below it" is one LIKE.
    path: Mapped[str] = mapped_column(String(400), nullable=False, default="/", index=True)
    role: Mapped[str] = mapped_column(String(10), nullable=False, default="both")
    region: Mapped[str] = mapped_column(String(6), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    industries: Mapped[str] = mapped_column(Text, default="")
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now(), onupdate=clock.utcnow)

    parent = relationship("Organization", remote_side=[id], foreign_keys=[parent_id],
                          primaryjoin="Organization.parent_id == Organization.id", viewonly=True)
    # Loaded from the identity map (tenants are few and already loaded), not joined into every
    # list that joins an organization (a transfer list joined four copies of tenants).
    tenant = relationship("Tenant", lazy="select")

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: "Organization") -> bool:
        return self.path.startswith(other.path)

    def to_dict(self) -> dict:
        return {
            "code": self.code, "name": self.name, "kind": self.kind,
            "parent": self.parent.code if self.parent_id and self.parent else None,
            "role": self.role, "region": self.region, "address": self.address,
            "contact_name": self.contact_name, "contact_phone": self.contact_phone,
            "industries": self.industries, "accepting": self.accepting,
            "tenant": self.tenant.code if self.tenant else None,
        }

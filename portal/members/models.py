from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text,
                        func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock

SEXES = ("男", "女")
DIRECTIONS = ("流出", "流入")
DIRECTION_KEYS = {"outgoing": "流出", "incoming": "流入"}
CATEGORIES = ("正式党员", "预备党员")
# Offered once per level; the synonyms of statistics.md are accepted on input and stored canonical.
EDUCATIONS = ("研究生", "本科", "专科", "中专", "高中", "初中", "小学")
EDUCATION_SYNONYMS = {"博士": "研究生", "硕士": "研究生", "大学": "本科", "大专": "专科"}
MOVE_REASONS = ("务工", "经商", "求学", "随迁", "其他")
# Channels offered when recording a contact; older rows may carry 短信, 面谈, 走访 or 其他 and stay valid.
CONTACT_CHANNELS = ("电话", "微信", "上门", "信函", "网络", "报到")
LEGACY_CONTACT_CHANNELS = ("短信", "面谈", "走访", "其他")

ACTIVE = "active"
TRANSFERRED = "transferred"


class Member(TenantScoped, db.Model):
    """A mobile party member on a tenant's register (流动党员台账)."""
    __tablename__ = "members"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "org_id"], ["organizations.tenant_id", "organizations.id"]),
        # Within a tenant an ID number appears once on the active register.
        Index("uq_members_active_id", "tenant_id", "id_hash", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        Index("ix_members_tenant_name", "tenant_id", "name"),
        Index("ix_members_tenant_org", "tenant_id", "org_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    ethnicity: Mapped[str] = mapped_column(String(20), default="汉族")
    id_enc: Mapped[str] = mapped_column(Text, nullable=False)           # Fernet ciphertext
    id_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)  # keyed hash
    id_masked: Mapped[str] = mapped_column(String(18), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    education: Mapped[str] = mapped_column(String(10), nullable=False)
    joined_on: Mapped[date] = mapped_column(Date, nullable=False)
    category: Mapped[str] = mapped_column(String(10), default="正式党员")
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(4), nullable=False)
    moved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    move_reason: Mapped[str] = mapped_column(String(10), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    industry: Mapped[str] = mapped_column(String(60), default="")
    employer: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    dues_paid_through: Mapped[str] = mapped_column(String(7), default="")  # YYYY-MM
    last_contact_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    certificate_no: Mapped[str] = mapped_column(String(40), default="")
    # Whether this tenant holds the member's organizational relationship (an incoming member under
    # co-management may be registered here while the origin holds it).
    holds_relationship: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default=ACTIVE, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now(), onupdate=clock.utcnow)

    __mapper_args__ = {"version_id_col": version, "primary_key": [id]}

    org = relationship("Organization", foreign_keys=[org_id],
                       primaryjoin="and_(Member.org_id == Organization.id, Member.tenant_id == Organization.tenant_id)",
                       lazy="joined", viewonly=True)
    contacts = relationship("Contact", back_populates="member", order_by="desc(Contact.on)",
                            primaryjoin="and_(Contact.member_id == Member.id, Contact.tenant_id == Member.tenant_id)",
                            viewonly=True)


class Contact(TenantScoped, db.Model):
    """A recorded contact with a member (the basis of 失联 status)."""
    __tablename__ = "contacts"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        Index("ix_contacts_member", "tenant_id", "member_id", "on"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())

    member = relationship("Member", back_populates="contacts", foreign_keys=[member_id],
                          primaryjoin="and_(Contact.member_id == Member.id, Contact.tenant_id == Member.tenant_id)",
                          viewonly=True)


class RelationshipHold(TenantScoped, db.Model):
    """The cross-tenant index: which organization holds an ID number's relationship.

    The primary key on the keyed hash is what makes "one ID number, one holder at a time" a
    database rule rather than a hope. Reading it across tenants is explicit (exchange/registry).
    """
    __tablename__ = "relationship_holds"
    # Distributed by the hash, not the tenant: the one key that must be unique across tenants.
    __table_args__ = ({"info": {"distribute_by": "id_hash"}},)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    since: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())

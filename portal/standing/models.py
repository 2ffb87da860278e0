"""A member's standing: dues paid, organizational life attended, the activity certificate and
training points. Every table is tenant-owned and keyed (tenant_id, member_id) to the register."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (Date, DateTime, ForeignKeyConstraint, Index, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core import clock
from portal.extensions import db
from portal.tenancy.scoping import TenantScoped, tenant_key

ORG_LIFE_KINDS = ("三会一课", "主题党日", "组织生活会", "其他")

_MEMBER_FK = lambda: ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"])


class DuesPayment(TenantScoped, db.Model):
    """Dues paid for one month; members.dues_paid_through is the latest month paid."""
    __tablename__ = "dues_payments"
    __table_args__ = (
        tenant_key(),
        _MEMBER_FK(),
        UniqueConstraint("tenant_id", "member_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[str] = mapped_column(String(7), nullable=False)  # YYYY-MM
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    recorded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)


class OrgLifeRecord(TenantScoped, db.Model):
    """Organizational life a member attended, held by the own branch or by a host under an
    agreement (then org_id is the host's organization, possibly in another tenant)."""
    __tablename__ = "org_life_records"
    __table_args__ = (
        tenant_key(),
        _MEMBER_FK(),
        Index("ix_org_life_member", "tenant_id", "member_id", "on"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    agreement_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)


class ActivityCertificate(TenantScoped, db.Model):
    """A 流动党员活动证: issued, checked once a year, returned when the member comes back."""
    __tablename__ = "activity_certificates"
    __table_args__ = (
        tenant_key(),
        _MEMBER_FK(),
        Index("ix_activity_certificates_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(40), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    last_checked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    returned_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)

    member = relationship("Member", foreign_keys=[member_id], lazy="joined", viewonly=True,
                          primaryjoin="and_(ActivityCertificate.member_id == Member.id, "
                                      "ActivityCertificate.tenant_id == Member.tenant_id)")

    def check_due_on(self) -> date:
        """The day the yearly check falls due: a year after the last check (or the issue)."""
        base = self.last_checked_on or self.issued_on
        try:
            return base.replace(year=base.year + 1)
        except ValueError:  # 29 February
            return base.replace(year=base.year + 1, day=28)


class TrainingActivity(TenantScoped, db.Model):
    """A study or training session of an organization, worth some points to each attendee."""
    __tablename__ = "training_activities"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "org_id"], ["organizations.tenant_id", "organizations.id"]),
        Index("ix_training_activities_on", "tenant_id", "on"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    points: Mapped[Decimal] = mapped_column(Numeric(5, 1), nullable=False)


class TrainingAttendance(TenantScoped, db.Model):
    __tablename__ = "training_attendances"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "activity_id"],
                             ["training_activities.tenant_id", "training_activities.id"]),
        _MEMBER_FK(),
        UniqueConstraint("tenant_id", "activity_id", "member_id"),
        Index("ix_training_attendances_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)

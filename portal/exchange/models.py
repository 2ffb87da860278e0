"""What crosses tenants: transfers of a member's relationship, co-management agreements, their
attendance records and notices, and the notifications each side receives.

Every shared row belongs to two tenants. `tenant_id` (TenantScoped, so the ORM filter and the
PostgreSQL policy apply) is the owning side: the sender of a transfer, the origin of an agreement.
`other_tenant_id` is the other side: the receiver, the host (equal to `tenant_id` for a transfer
between two organizations of one tenant). Exchange code reads these tables only through
`portal.exchange.shared`, which opens `cross_tenant()` and filters to
`tenant_id == me OR other_tenant_id == me` in one place.

A notification belongs to one tenant only: the one that receives it.

Placement: a shared row lives with its owning tenant (on a distributed database, on that tenant's
node), and so do its events, covered members, attendance and notices, keyed (tenant_id, x_id) to it.
Its foreign keys reach the owning side's register and organizations only; the other side's
organization (to_org_id, host_org_id) lives with the other tenant, where no foreign key of a table
distributed by tenant can reach, and the services check it when the row is written.
"""
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy
from portal.tenancy.scoping import TenantScoped, tenant_key

# ---- transfers ----

SUBMITTED, RETURNED, ACCEPTED, OVERDUE, COMPLETED, CANCELLED = (
    "submitted", "returned", "accepted", "overdue", "completed", "cancelled")
TRANSFER_STATES = (SUBMITTED, RETURNED, ACCEPTED, OVERDUE, COMPLETED, CANCELLED)
OPEN_STATES = (SUBMITTED, RETURNED, ACCEPTED, OVERDUE)
OPEN_STATES_SQL = "state IN ('submitted', 'returned', 'accepted', 'overdue')"
STATE_LABELS = {
    SUBMITTED: lazy("待接收"), RETURNED: lazy("已退回"), ACCEPTED: lazy("已开介绍信"),
    OVERDUE: lazy("介绍信逾期"), COMPLETED: lazy("已报到"), CANCELLED: lazy("已撤销"),
}
STATE_COLORS = {SUBMITTED: "primary", RETURNED: "warning", ACCEPTED: "info", OVERDUE: "danger",
                COMPLETED: "success", CANCELLED: "secondary"}

RETURN_REASONS = ("incomplete", "not_our_area", "wrong_addressee", "other")
RETURN_REASON_LABELS = {
    "incomplete": lazy("材料不全"), "not_our_area": lazy("不属本地管辖"),
    "wrong_addressee": lazy("接收组织有误"), "other": lazy("其他原因"),
}

# Steps and which side takes them.
SENDER_STEPS = ("resubmit", "cancel", "reissue")
RECEIVER_STEPS = ("accept", "return", "arrive")
STEP_LABELS = {
    "submit": lazy("提交转接"), "accept": lazy("接收并开具介绍信"), "return": lazy("退回"),
    "resubmit": lazy("修改后重新提交"), "cancel": lazy("撤销"), "arrive": lazy("确认报到"),
    "reissue": lazy("作废并重开介绍信"), "overdue": lazy("介绍信逾期"),
}


class Transfer(TenantScoped, db.Model):
    """A transfer of one member's organizational relationship (组织关系转接)."""
    __tablename__ = "transfers"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "from_org_id"], ["organizations.tenant_id", "organizations.id"]),
        Index("ix_transfers_other_state", "other_tenant_id", "state"),
        Index("ix_transfers_tenant_state", "tenant_id", "state"),
        Index("ix_transfers_member", "tenant_id", "member_id"),
        # One open transfer per member at a time, enforced by the database.
        Index("uq_transfers_open_member", "tenant_id", "member_id", unique=True,
              sqlite_where=text(OPEN_STATES_SQL), postgresql_where=text(OPEN_STATES_SQL)),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the sender submitted about the member (no full ID number): the receiver decides on it.
    member_snapshot: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    member_name: Mapped[str] = mapped_column(String(40), nullable=False)
    from_org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    to_org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default=SUBMITTED)
    note: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(String(20), default="")
    return_note: Mapped[str] = mapped_column(Text, default="")
    return_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reply_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    # The sender's letter of introduction (the newest; a reissue replaces it).
    letter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    letter_number: Mapped[str] = mapped_column(String(60), default="")
    letter_issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    letter_valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    letter_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The receiver's receipt, written when the member reports.
    receipt_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    receipt_number: Mapped[str] = mapped_column(String(60), default="")
    arrived_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    new_member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now,
                                                 onupdate=datetime.now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "primary_key": [id]}

    # Loaded by one `id IN (...)` query each, not joined: the receiver's organization lives with the
    # other tenant, on another node of a distributed database, where a join cannot follow.
    from_org = relationship("Organization", foreign_keys=[from_org_id],
                            primaryjoin="Transfer.from_org_id == Organization.id", lazy="selectin",
                            viewonly=True)
    to_org = relationship("Organization", foreign_keys=[to_org_id],
                          primaryjoin="Transfer.to_org_id == Organization.id", lazy="selectin", viewonly=True)
    sender = relationship("Tenant", foreign_keys="Transfer.tenant_id",
                          primaryjoin="Transfer.tenant_id == Tenant.id", lazy="select", viewonly=True)
    receiver = relationship("Tenant", foreign_keys=[other_tenant_id],
                            primaryjoin="Transfer.other_tenant_id == Tenant.id", lazy="select", viewonly=True)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))

    @property
    def state_color(self) -> str:
        return STATE_COLORS.get(self.state, "secondary")

    @property
    def internal(self) -> bool:
        return self.tenant_id == self.other_tenant_id


class TransferEvent(TenantScoped, db.Model):
    """One step in a transfer's history: who, when, what, why."""
    __tablename__ = "transfer_events"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "transfer_id"], ["transfers.tenant_id", "transfers.id"]),
        Index("ix_transfer_events_transfer", "transfer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    transfer_id: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(60), default="")
    actor_tenant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    from_state: Mapped[str] = mapped_column(String(12), default="")
    to_state: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    letter_number: Mapped[str] = mapped_column(String(60), default="")

    @property
    def action_label(self) -> str:
        return str(STEP_LABELS.get(self.action, self.action))

    @property
    def reason_label(self) -> str:
        return str(RETURN_REASON_LABELS.get(self.reason, self.reason)) if self.reason else ""


# ---- agreements ----

PROPOSED, ACTIVE, DECLINED, TERMINATED, EXPIRED = "proposed", "active", "declined", "terminated", "expired"
AGREEMENT_STATES = (PROPOSED, ACTIVE, DECLINED, TERMINATED, EXPIRED)
AGREEMENT_STATE_LABELS = {
    PROPOSED: lazy("待会签"), ACTIVE: lazy("生效中"), DECLINED: lazy("已拒绝"),
    TERMINATED: lazy("已终止"), EXPIRED: lazy("已到期"),
}
AGREEMENT_STATE_COLORS = {PROPOSED: "primary", ACTIVE: "success", DECLINED: "secondary",
                          TERMINATED: "secondary", EXPIRED: "warning"}
SCOPE_MEMBERS, SCOPE_ALL = "members", "all_in_area"
REPORT_EVERY = ("month", "quarter")
REPORT_LABELS = {"month": lazy("每月"), "quarter": lazy("每季度")}
# The routine report first: it is what a form is opened for most often; the three that must be
# told (三沟通) follow.
NOTICE_KINDS = ("report", "accident", "violation", "misconduct")
NOTICE_LABELS = {
    "report": lazy("情况通报"),
    "accident": lazy("因本人原因发生重大事故或工作失误"),
    "violation": lazy("违反法律法规或党的纪律"),
    "misconduct": lazy("有损党员形象的行为"),
}
# The default duties (domain.md: 流入地为主、流出地配合).
DEFAULT_DUTIES_HOST = (
    "组织参加组织生活和党内活动",
    "开展教育培训和日常管理",
    "记录参加组织生活和活动情况",
    "参与年度民主评议并反馈评议意见",
)
DEFAULT_DUTIES_ORIGIN = (
    "与党员保持经常联系",
    "负责党费收缴和组织关系管理",
    "及时向流入地党组织通报党员相关信息",
)


class Agreement(TenantScoped, db.Model):
    """A two-way co-management agreement (双向共管协议): tenant_id is the origin, other_tenant_id the host."""
    __tablename__ = "agreements"
    __table_args__ = (
        tenant_key(),
        ForeignKeyConstraint(["tenant_id", "origin_org_id"], ["organizations.tenant_id", "organizations.id"]),
        Index("ix_agreements_other_state", "other_tenant_id", "state"),
        Index("ix_agreements_tenant_state", "tenant_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(String(40), default="")
    origin_org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    host_org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    proposed_by_side: Mapped[str] = mapped_column(String(6), nullable=False, default="origin")
    scope: Mapped[str] = mapped_column(String(12), nullable=False, default=SCOPE_MEMBERS)
    duties_host: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    duties_origin: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    origin_contact_name: Mapped[str] = mapped_column(String(40), default="")
    origin_contact_phone: Mapped[str] = mapped_column(String(40), default="")
    host_contact_name: Mapped[str] = mapped_column(String(40), default="")
    host_contact_phone: Mapped[str] = mapped_column(String(40), default="")
    report_every: Mapped[str] = mapped_column(String(8), nullable=False, default="quarter")
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default=PROPOSED)
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    proposed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)
    signed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_by_side: Mapped[str] = mapped_column(String(6), default="")
    end_reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    document_number: Mapped[str] = mapped_column(String(60), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version, "primary_key": [id]}

    origin_org = relationship("Organization", foreign_keys=[origin_org_id],
                              primaryjoin="Agreement.origin_org_id == Organization.id", lazy="selectin",
                              viewonly=True)
    host_org = relationship("Organization", foreign_keys=[host_org_id],
                            primaryjoin="Agreement.host_org_id == Organization.id", lazy="selectin", viewonly=True)
    origin = relationship("Tenant", foreign_keys="Agreement.tenant_id",
                          primaryjoin="Agreement.tenant_id == Tenant.id", lazy="select", viewonly=True)
    host = relationship("Tenant", foreign_keys=[other_tenant_id],
                        primaryjoin="Agreement.other_tenant_id == Tenant.id", lazy="select", viewonly=True)

    @property
    def state_label(self) -> str:
        return str(AGREEMENT_STATE_LABELS.get(self.state, self.state))

    @property
    def state_color(self) -> str:
        return AGREEMENT_STATE_COLORS.get(self.state, "secondary")

    @property
    def report_label(self) -> str:
        return str(REPORT_LABELS.get(self.report_every, self.report_every))

    def side_of(self, tenant_id: int) -> str | None:
        if tenant_id == self.tenant_id:
            return "origin"
        if tenant_id == self.other_tenant_id:
            return "host"
        return None


def _AGREEMENT_FK():
    return ForeignKeyConstraint(["tenant_id", "agreement_id"], ["agreements.tenant_id", "agreements.id"])


class AgreementMember(TenantScoped, db.Model):
    """A member named in an agreement (the origin's register row)."""
    __tablename__ = "agreement_members"
    __table_args__ = (tenant_key(), _AGREEMENT_FK(), UniqueConstraint("tenant_id", "agreement_id", "member_id"))

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    agreement_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    id_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), default="")
    id_masked: Mapped[str] = mapped_column(String(18), default="")


class Attendance(TenantScoped, db.Model):
    """Organizational life attended (or missed) by a covered member, recorded by the host."""
    __tablename__ = "attendances"
    __table_args__ = (tenant_key(), _AGREEMENT_FK(), Index("ix_attendances_member", "tenant_id", "member_id", "on"))

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    agreement_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    member_name: Mapped[str] = mapped_column(String(40), default="")
    on: Mapped[date] = mapped_column(Date, nullable=False)
    activity: Mapped[str] = mapped_column(String(200), nullable=False)
    present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    recorded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_by_name: Mapped[str] = mapped_column(String(60), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)


class Notice(TenantScoped, db.Model):
    """A notice one side of an agreement posts to the other (三沟通 and reports)."""
    __tablename__ = "notices"
    __table_args__ = (tenant_key(), _AGREEMENT_FK())

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    other_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), nullable=False, index=True)
    agreement_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    from_side: Mapped[str] = mapped_column(String(6), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    member_name: Mapped[str] = mapped_column(String(40), default="")
    occurred_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    posted_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    posted_by_name: Mapped[str] = mapped_column(String(60), default="")
    posted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acked_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acked_by_name: Mapped[str] = mapped_column(String(60), default="")

    @property
    def kind_label(self) -> str:
        return str(NOTICE_LABELS.get(self.kind, self.kind))


# ---- notifications ----

NOTIFICATION_KINDS = {
    "transfer_submitted": lazy("收到新的转接申请"),
    "transfer_resubmitted": lazy("转接申请已修改后重新提交"),
    "transfer_returned": lazy("转接申请被退回"),
    "transfer_accepted": lazy("转接已接收，介绍信已开具"),
    "transfer_arrived": lazy("党员已报到，回执已出具"),
    "transfer_cancelled": lazy("转接已撤销"),
    "transfer_reissued": lazy("介绍信已重新开具"),
    "transfer_requested": lazy("对方请求转入党员组织关系"),
    "transfer_overdue": lazy("介绍信已逾期，党员未报到"),
    "agreement_proposed": lazy("收到共管协议"),
    "agreement_countersigned": lazy("共管协议已会签生效"),
    "agreement_declined": lazy("共管协议被拒绝"),
    "agreement_terminated": lazy("共管协议已终止"),
    "notice_posted": lazy("收到共管通报"),
    "work_item": lazy("新的待办事项"),  # written by the work-list sweep (portal/worklist/sweep.py)
}


class Notification(TenantScoped, db.Model):
    """An in-app message to an organization of the receiving tenant about what the other side did."""
    __tablename__ = "notifications"
    __table_args__ = (tenant_key(), Index("ix_notifications_unread", "tenant_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    from_tenant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(20), default="")
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=datetime.now)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    read_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def kind_label(self) -> str:
        return str(NOTIFICATION_KINDS.get(self.kind, self.kind))

"""The work list (待办): one row per thing an organization has to do, rebuilt by the daily sweep.

A row lives as long as its cause: the sweep deletes it the day the cause is gone (a contact
recorded, dues paid, a reply sent) and inserts it the day the cause appears. `notified_at` marks
that the responsible organization's inbox has heard of it, so a row is announced once, not daily.
"""
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.i18n import lazy
from portal.tenancy.scoping import TenantScoped, tenant_key

# api.md's kinds, most urgent first (the list is ordered by this rank, then by due date).
KINDS = (
    "reply_overdue", "letter_overdue", "reply_due", "letter_expiring", "awaiting_other_side",
    "returned_repeatedly", "self_report_arrived", "self_report_details", "self_report_moved",
    "removal_candidate", "suspension_candidate", "lost_contact",
    "abroad_contact_due", "no_dues_6m", "no_org_life_6m", "certificate_check_due", "agreement_ending",
    "agreement_report_due", "political_birthday",
)
RANK = {kind: i for i, kind in enumerate(KINDS)}
KIND_LABELS = {
    "reply_due": lazy("转接待答复"),
    "reply_overdue": lazy("转接答复已逾期"),
    "awaiting_other_side": lazy("对方逾期未答复"),
    "returned_repeatedly": lazy("转接多次退回"),
    "letter_expiring": lazy("介绍信即将到期"),
    "letter_overdue": lazy("介绍信逾期未报到"),
    "lost_contact": lazy("失去联系"),
    "abroad_contact_due": lazy("出国（境）党员待联系"),
    "suspension_candidate": lazy("拟停止党籍"),
    "removal_candidate": lazy("拟除名"),
    "no_dues_6m": lazy("连续6个月未交党费"),
    "no_org_life_6m": lazy("连续6个月未参加组织生活"),
    "certificate_check_due": lazy("活动证待年审"),
    "agreement_ending": lazy("共管协议即将到期"),
    "agreement_report_due": lazy("共管协议待通报"),
    "political_birthday": lazy("政治生日"),
    "self_report_details": lazy("党员报告信息变更"),
    "self_report_arrived": lazy("党员自报已报到"),
    "self_report_moved": lazy("党员报告再次流动或返乡"),
}
SUBJECT_TYPES = ("member", "transfer", "agreement", "certificate", "self_report")


class WorkItem(TenantScoped, db.Model):
    __tablename__ = "work_items"
    __table_args__ = (
        tenant_key(),
        # One row per cause and responsible organization (an internal transfer concerns two
        # organizations of the same tenant).
        UniqueConstraint("tenant_id", "kind", "subject_type", "subject_id", "org_id"),
        Index("ix_work_items_org_kind", "tenant_id", "org_id", "kind"),
        Index("ix_work_items_unnotified", "tenant_id", "notified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(12), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The subject's name (member, or agreement number) and one figure (years, returns) the
    # summary is built from when shown, so it speaks the reader's language and counts days to now.
    subject_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    found_on: Mapped[date] = mapped_column(Date, nullable=False)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    org = relationship("Organization", foreign_keys=[org_id],
                       primaryjoin="and_(WorkItem.org_id == Organization.id, "
                                   "WorkItem.tenant_id == Organization.tenant_id)",
                       lazy="joined", viewonly=True)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


class WorklistDigest(TenantScoped, db.Model):
    """One daily e-mail digest of an organization's work list: the row is taken before sending,
    so a second run of the same day finds it and sends nothing."""
    __tablename__ = "worklist_digests"
    __table_args__ = (tenant_key(), UniqueConstraint("tenant_id", "org_id", "on"),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer, nullable=False)
    on: Mapped[date] = mapped_column(Date, nullable=False)
    items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recipients: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

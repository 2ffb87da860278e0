"""A member's personal self-service link, and what the member reported through it.

The link's secret is stored only as a keyed hash; the row carries its own lockout counter, so
five wrong codes lock that link whatever address they came from."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.core import clock
from portal.extensions import db
from portal.i18n import lazy
from portal.tenancy.scoping import TenantScoped, tenant_key

# What a member may report (api.md). `reachable` is recorded at once; the others wait for the office.
REACHABLE, DETAILS, ARRIVED, MOVED, RETURNED = "reachable", "details", "arrived", "moved", "returned"
KINDS = (REACHABLE, DETAILS, ARRIVED, MOVED, RETURNED)
KIND_LABELS = {
    REACHABLE: lazy("报平安"),
    DETAILS: lazy("信息变更"),
    ARRIVED: lazy("已报到"),
    MOVED: lazy("再次流动"),
    RETURNED: lazy("已返乡"),
}
RECORDED, PENDING, APPROVED, REJECTED = "recorded", "pending", "approved", "rejected"
STATE_LABELS = {
    RECORDED: lazy("已记录"),
    PENDING: lazy("待审核"),
    APPROVED: lazy("已确认"),
    REJECTED: lazy("未通过"),
}
# The register fields a member may change themselves (api.md `details`).
DETAIL_FIELDS = ("phone", "address", "employer", "industry", "region")


class SelfServiceLink(TenantScoped, db.Model):
    __tablename__ = "self_service_links"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        tenant_key(),
        UniqueConstraint("tenant_id", "token_hash"),
        # The token is the only key a member has: found across tenants by its hash.
        Index("ix_self_service_links_token", "token_hash"),
        Index("ix_self_service_links_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SelfReport(TenantScoped, db.Model):
    """One thing a member reported. `values` holds what they sent, `previous` the register's values
    at that moment, so the office compares old and new side by side.

    On PostgreSQL the rows are readable in their own tenant only, like the register, except arrival
    claims, which the transfer's receiver (`other_tenant_id`) reads and decides beside the transfer:
    a shared row of two sides (rls.PARTY_ONLY), no third tenant and no cross-tenant flag."""

    __tablename__ = "self_reports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "link_id"], ["self_service_links.tenant_id", "self_service_links.id"]
        ),
        tenant_key(),
        Index("ix_self_reports_state", "tenant_id", "state", "kind"),
        Index("ix_self_reports_transfer", "transfer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer, nullable=False)
    link_id: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    values: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    previous: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    transfer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The receiving tenant of an arrival claim; None for every other report.
    other_tenant_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("tenants.id"), nullable=True)
    on: Mapped[date | None] = mapped_column(Date, nullable=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False, default="")  # the client's IP
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, self.state))

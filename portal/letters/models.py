"""Issued documents (letters), their yearly number sequences, and batches of letters.

A Letter is the record of one printed document: its number in the tenant's yearly sequence for
its kind, its verification token and short code, the context it was rendered from (encrypted at
rest: the introduction letter prints the whole ID number), the stored PDF with its checksum, and
its life (valid, used, void; "overdue" is computed from valid_until).
"""
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, Index, Integer, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.crypto import SealedBytes
from portal.extensions import db
from portal.i18n import lazy
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock

# Kinds of documents (the print templates of portal/letters/render.py).
INTRODUCTION = "introduction"
RECEIPT = "receipt"
CERTIFICATE_LETTER = "certificate_letter"
ACTIVITY_CARD = "activity_card"
AGREEMENT = "agreement"
OPEN_LETTER = "open_letter"
KINDS = (INTRODUCTION, RECEIPT, CERTIFICATE_LETTER, ACTIVITY_CARD, AGREEMENT, OPEN_LETTER)

KIND_LABELS = {
    INTRODUCTION: lazy("党员组织关系介绍信"),
    RECEIPT: lazy("回执"),
    CERTIFICATE_LETTER: lazy("党员证明信"),
    ACTIVITY_CARD: lazy("流动党员活动证"),
    AGREEMENT: lazy("双向共管协议"),
    OPEN_LETTER: lazy("致流动党员的一封信"),
}

# Stored states; OVERDUE is computed (valid and past valid_until), never stored.
VALID, USED, VOID, OVERDUE = "valid", "used", "void", "overdue"
STATES = (VALID, USED, OVERDUE, VOID)
STATE_LABELS = {VALID: lazy("有效"), USED: lazy("已使用"), OVERDUE: lazy("已逾期"), VOID: lazy("已作废")}
STATE_BADGES = {VALID: "success", USED: "secondary", OVERDUE: "warning", VOID: "danger"}


class LetterSequence(TenantScoped, db.Model):
    """The next number of a tenant's yearly sequence for one kind of document. Taken under a row
    lock inside the transaction that issues the document (numbering.py)."""
    __tablename__ = "letter_sequences"
    __table_args__ = (tenant_key(), UniqueConstraint("tenant_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    next_value: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Letter(TenantScoped, db.Model):
    """One issued document."""
    __tablename__ = "letters"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "kind", "year", "seq"),
        # Verification looks a paper up by token or short code across tenants (verify.py): both
        # are random and the short code is checked free across tenants when issued, so a key
        # within the tenant, which a table distributed by tenant can hold, is enough.
        UniqueConstraint("tenant_id", "token"),
        UniqueConstraint("tenant_id", "short_code"),
        Index("ix_letters_subject", "tenant_id", "subject_type", "subject_id"),
        Index("ix_letters_tenant_issued", "tenant_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(60), nullable=False)      # "（朝组）字第 12 号"
    subject_type: Mapped[str] = mapped_column(String(20), nullable=False)  # member, transfer, agreement
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Whom and which organization the document concerns (list, search, a secretary's subtree).
    person_name: Mapped[str] = mapped_column(String(60), default="")
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issuer_name: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=VALID)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Verification: an unguessable signed token (QR code) and a short code typed by hand.
    token: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    short_code: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    # The context the document was rendered from, JSON encrypted with the field key.
    context_enc: Mapped[str] = mapped_column(Text, nullable=False)
    # The rendered PDF; deferred so lists never load it.
    pdf: Mapped[bytes | None] = mapped_column(SealedBytes, nullable=True, deferred=True)  # prints whole ID numbers
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    pdf_void: Mapped[bool] = mapped_column(Boolean, default=False)     # stored PDF carries 作废
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    render_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # last render job
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    def effective_state(self, today: date | None = None) -> str:
        """valid, used, void, or overdue (valid but past its validity)."""
        today = today or clock.today()
        if self.state == VALID and self.valid_until is not None and self.valid_until < today:
            return OVERDUE
        return self.state

    @property
    def is_overdue(self) -> bool:
        return self.effective_state() == OVERDUE

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.effective_state()])

    @property
    def state_badge(self) -> str:
        return STATE_BADGES[self.effective_state()]

    @property
    def verify_code(self) -> str:
        """The short code as printed: XXXX-XXXX."""
        return f"{self.short_code[:4]}-{self.short_code[4:]}"

    @property
    def rendered(self) -> bool:
        return self.rendered_at is not None

    def __repr__(self):
        return f"<Letter {self.kind} {self.number}>"


class LetterBatch(TenantScoped, db.Model):
    """Many documents rendered in one job: the open letter to all outgoing members, or all the
    letters of one day. Holds the combined printable PDF."""
    __tablename__ = "letter_batches"
    __table_args__ = (tenant_key(),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)      # open_letter, day
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")                # the open letter as written
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    on_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    letter_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    pdf: Mapped[bytes | None] = mapped_column(SealedBytes, nullable=True, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())

    BATCH_OPEN_LETTER = "open_letter"
    BATCH_DAY = "day"

    @property
    def kind_label(self) -> str:
        return str(lazy("致流动党员的一封信") if self.kind == self.BATCH_OPEN_LETTER else lazy("当日文书合订"))

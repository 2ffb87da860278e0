"""The documents the exchange issues through the letters service: the sender's letter of
introduction, the receiver's receipt, the signed co-management agreement.

The letters service numbers, stores, renders and verifies them (portal/letters/services.py); this
module builds their context (the member's data, the organizations) and issues each one in the
tenant whose committee signs it, inside the caller's transaction.
"""
from dataclasses import dataclass
from datetime import date

from portal.exchange.models import SCOPE_ALL
from portal.extensions import db
from portal.letters import services as letters
from portal.letters.models import Letter
from portal.members import services as members
from portal.members.rules import full_years, parse_ym
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant
from portal.core import clock


@dataclass
class IssuedDocument:
    id: int
    number: str
    issued_on: date
    valid_until: date | None


def issue(kind: str, *, tenant: Tenant, actor, subject_type: str, subject_id: int, context: dict,
          validity_days: int | None = None, org_id: int | None = None) -> IssuedDocument:
    """Issue a document in `tenant` (its committee signs it): the next number of its sequence."""
    with tenant_scope(tenant.id):
        letter = letters.issue(kind, actor=actor, subject_type=subject_type, subject_id=subject_id,
                               context={**context, "_org_id": org_id} if org_id else context,
                               validity_days=validity_days)
        db.session.flush()
        return IssuedDocument(letter.id, letter.number, letter.issued_on, letter.valid_until)


def _letter(letter_id: int) -> Letter | None:
    return db.session.execute(db.select(Letter).filter(Letter.id == letter_id)).scalar_one_or_none()


def void(tenant_id: int, letter_id: int | None, actor, reason: str) -> None:
    """Void a letter of `tenant_id` (it keeps its number). A letter already void stays so."""
    if letter_id is None:
        return
    with tenant_scope(tenant_id):
        letter = _letter(letter_id)
        if letter is not None and letter.state == "valid":
            letters.void(actor, letter, reason)
        db.session.flush()


def mark_used(tenant_id: int, letter_id: int | None, actor) -> None:
    if letter_id is None:
        return
    with tenant_scope(tenant_id):
        letter = _letter(letter_id)
        if letter is not None:
            letters.mark_used(actor, letter)
        db.session.flush()


def pdf(tenant: Tenant, letter_id: int | None) -> bytes | None:
    """The PDF of a letter of `tenant` (the stored one, or rendered in memory until its job ran)."""
    if letter_id is None:
        return None
    with tenant_scope(tenant.id):
        letter = _letter(letter_id)
        if letter is None:
            return None
        return letters.pdf_bytes(letter)


# ---- contexts ----

def member_context(member, *, today: date | None = None) -> dict:
    """The member as the national forms print them (whole ID number: the letter requires it)."""
    today = today or clock.today()
    return {
        "name": member.name, "sex": member.sex, "ethnicity": member.ethnicity or "汉族",
        "age": full_years(member.birth_date, today) if member.birth_date else None,
        "category": member.category or "正式党员", "id_number": members.id_number_of(member),
        "phone": member.phone or "",
    }


def dues_date(paid_through: str | None) -> date | None:
    parsed = parse_ym(paid_through or "")
    return date(parsed[0], parsed[1], 1) if parsed else None


def introduction_context(member, from_org, to_org, validity_days: int) -> dict:
    return {
        "member": member_context(member), "from_org": from_org.name, "to_org": to_org.name,
        "addressee": to_org.name, "dues_paid_through": dues_date(member.dues_paid_through),
        "validity_days": validity_days,
    }


def receipt_context(member, from_org, to_org, *, arrived_on: date, handler: str, handler_phone: str,
                    letter_number: str, addressee: str = "") -> dict:
    """`addressee`: the committee that issued the letter of introduction (issuer_of); the receipt
    goes back to it, as the letter's own 回执联 does."""
    return {
        "member": member_context(member), "from_org": from_org.name, "to_org": to_org.name,
        "addressee": addressee or from_org.name,
        "arrived_on": arrived_on, "handler": handler, "handler_phone": handler_phone,
        "letter_number": letter_number,
    }


def issuer_of(tenant_id: int, letter_id: int | None) -> str:
    """The issuing committee printed on a letter of `tenant_id` ("" when there is none)."""
    if letter_id is None:
        return ""
    with tenant_scope(tenant_id):
        letter = _letter(letter_id)
        return letter.issuer_name if letter is not None else ""


def agreement_context(agreement, covered: list[dict]) -> dict:
    def side(org, name, phone):
        return {"name": org.name, "contact_name": name, "contact_phone": phone}
    return {"agreement": {
        "number": agreement.number,
        "origin_org": side(agreement.origin_org, agreement.origin_contact_name, agreement.origin_contact_phone),
        "host_org": side(agreement.host_org, agreement.host_contact_name, agreement.host_contact_phone),
        "members": covered, "scope_all": agreement.scope == SCOPE_ALL,
        "duties_host": list(agreement.duties_host or []), "duties_origin": list(agreement.duties_origin or []),
        "report_every": agreement.report_every, "starts_on": agreement.starts_on, "ends_on": agreement.ends_on,
        "signed_on": agreement.signed_on,
    }}

"""What an imported file would change on the register, found set-based: the tenant's
organizations read once, the cross-tenant index and the members already registered read in
chunks of numbers, and each row compared field by field with the member it names.

A change is {row, member, name, field, header, old, new} with old and new as a person reads them
(an organization by name, dates as YYYY-MM-DD). Two fields only move forward from the register's
side: the last contact date follows the contacts recorded, and the dues month follows the payments
recorded, so an export that is older than the register does not take either back.
"""
from datetime import date

from sqlalchemy import func

from portal.extensions import db
from portal.i18n import _
from portal.members import services as members
from portal.members.models import ACTIVE, Member, RelationshipHold
from portal.orgs.models import Organization
from portal.roster.layout import HEADER_OF
from portal.standing.models import DuesPayment
from portal.tenancy.context import cross_tenant

CHUNK = 5000
# Compared with the register; the ID number is the key itself and the birth date follows from it.
COMPARED = tuple(f for f in members.FIELDS if f not in ("id_number", "birth_date"))
FORWARD_ONLY = ("last_contact_on", "dues_paid_through")
_MEMBER_COLUMNS = [Member.id, Member.id_hash, Member.name, Member.version, Member.org_id,
                   *(getattr(Member, f) for f in COMPARED if f != "org")]


class OrgIndex:
    """The tenant's organizations by code and by name (a code wins, as in orgs.find)."""

    def __init__(self, rows):
        self.by_code, self.by_name, self.by_id = {}, {}, {}
        for org in rows:
            self.by_code[org.code] = org
            self.by_name.setdefault(org.name, org)
            self.by_id[org.id] = org

    @classmethod
    def load(cls) -> "OrgIndex":
        return cls(db.session.execute(db.select(Organization).order_by(Organization.id)).scalars().all())

    def find(self, ref):
        ref = ref.strip() if isinstance(ref, str) else ""
        return self.by_code.get(ref) or self.by_name.get(ref)

    def path_of(self, org_id) -> str:
        org = self.by_id.get(org_id)
        return org.path if org else ""

    def label(self, org_id) -> str:
        org = self.by_id.get(org_id)
        return org.name if org else ""

    def ref(self, org_id) -> str:
        org = self.by_id.get(org_id)
        return org.code if org else ""


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def holds_of(hashes: list[str]) -> dict:
    """The index entries of these numbers, whichever tenant holds them (read across tenants)."""
    found = {}
    with cross_tenant():
        for chunk in _chunks(hashes):
            for hold in db.session.execute(db.select(RelationshipHold.id_hash, RelationshipHold.tenant_id,
                                                     RelationshipHold.org_id).filter(
                    RelationshipHold.id_hash.in_(chunk))).all():
                found[hold.id_hash] = hold
    return found


def members_of(hashes: list[str]) -> dict[str, dict]:
    """The active members of this register with these numbers, as plain values by id hash."""
    found = {}
    for chunk in _chunks(hashes):
        rows = db.session.execute(db.select(*_MEMBER_COLUMNS).filter(
            Member.id_hash.in_(chunk), Member.status == ACTIVE)).mappings().all()
        for row in rows:
            found[row["id_hash"]] = dict(row)
    return found


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def diff(n: int, current: dict, values: dict, fields: list[str], orgs: OrgIndex) -> list[dict]:
    """The changes row `n` (cleaned `values`, columns `fields`) makes to the member `current`."""
    out = []
    for field in fields:
        if field not in COMPARED:
            continue
        if field == "org":
            old, new = current["org_id"], values.get("org_id")
            if new is not None and new != old:
                change = _change(n, current, field, orgs.label(old), orgs.label(new))
                change["ref"] = orgs.ref(new)
                out.append(change)
            continue
        old, new = current.get(field), values.get(field)
        if isinstance(old, str) or isinstance(new, str):
            old, new = old or "", new or ""
        if old == new:
            continue
        if field in FORWARD_ONLY and (not new or (old and new < old)):
            continue
        out.append(_change(n, current, field, _shown(old), _shown(new)))
    return out


def _change(n, current, field, old, new) -> dict:
    return {"row": n, "member": current["id"], "name": current["name"], "version": current["version"],
            "field": field, "header": HEADER_OF.get(field, field), "old": old, "new": new}


def dues_behind_payments(changes: list[dict]) -> list[dict]:
    """A dues month the file sets behind the payments recorded is refused, as on the form."""
    wanted = {c["member"]: c for c in changes if c["field"] == "dues_paid_through"}
    errors = []
    for chunk in _chunks(list(wanted)):
        for member_id, latest in db.session.execute(db.select(DuesPayment.member_id, func.max(DuesPayment.month))
                                                    .filter(DuesPayment.member_id.in_(chunk))
                                                    .group_by(DuesPayment.member_id)).all():
            change = wanted[member_id]
            if latest and change["new"] < latest:
                errors.append({"row": change["row"], "column": change["header"], "message": _(
                    "党费缴费记录已登记至%(m)s；如需更正，请在党费记录中删除多登记的月份", m=latest)})
    return errors


def _key(change: dict) -> tuple:
    return change["row"], change["member"], change["field"], change["old"], change["new"]


def same_changes(reviewed: list[dict], now: list[dict]) -> bool:
    return sorted(map(_key, reviewed)) == sorted(map(_key, now))


def apply(principal, changes: list[dict]) -> int:
    """Write the reviewed changes through the register's own update (its rules, the index, the
    standing records, one audit entry per member with before and after). Returns members updated."""
    by_member: dict[int, dict] = {}
    for change in changes:
        by_member.setdefault(change["member"], {})[change["field"]] = change
    for member_id, fields in by_member.items():
        member = members.get(principal, member_id)
        data = {}
        for field, change in fields.items():
            # The name shown may be shared by two organizations; the code is not.
            data[field] = change["ref"] if field == "org" else change["new"]
        members.update(principal, member, data, expected_version=next(iter(fields.values()))["version"])
    return len(by_member)

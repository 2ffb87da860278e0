"""Writing a validated register file in bulk: the new members, their entries in the cross-tenant
index, the dues month and certificate each brings, and one audit entry per member, as batched
INSERTs in the caller's transaction.

The rules are those of members.services.create (validated earlier by the same `clean`); what
differs is that a row costs no round trip of its own. A number claimed elsewhere between the
import's check and its write hits the index's primary key, and the whole import rolls back.
"""
from portal.audit.services import record_many
from portal.core import clock, crypto
from portal.tenancy.bulk import insert
from portal.members import idnumber
from portal.members.models import ACTIVE, Member, RelationshipHold
from portal.members.services import FIELDS
from portal.standing.models import ActivityCertificate, DuesPayment

BATCH = 5000
# Model columns an import writes, with the defaults the ORM would give.
_DEFAULTS = {"ethnicity": "汉族", "category": "正式党员", "move_reason": "", "region": "", "industry": "",
             "employer": "", "address": "", "phone": "", "dues_paid_through": "", "certificate_no": ""}
_VALUE_COLUMNS = ("name", "sex", "ethnicity", "birth_date", "education", "joined_on", "category", "org_id",
                  "direction", "moved_on", "move_reason", "region", "industry", "employer", "address", "phone",
                  "dues_paid_through", "last_contact_on", "certificate_no")


def member_row(tenant_id: int, values: dict, now) -> dict:
    number = values["id_number"]
    row = {key: values.get(key, _DEFAULTS.get(key)) for key in _VALUE_COLUMNS}
    for key, default in _DEFAULTS.items():
        if row[key] is None:
            row[key] = default
    row.update(tenant_id=tenant_id, id_enc=crypto.encrypt(number), id_hash=crypto.keyed_hash(number),
               id_masked=idnumber.mask(number), holds_relationship=True, status=ACTIVE, version=1,
               created_at=now, updated_at=now)
    return row


def _snapshot(row: dict, member_id: int) -> dict:
    """The audit view of members.services.snapshot, from the inserted values."""
    values = {k: row.get(k) for k in FIELDS if k not in ("id_number", "org")}
    values["id_number"] = row["id_masked"]
    values["org_id"] = row["org_id"]
    values["holds_relationship"] = True
    return values


def insert_members(principal, rows: list[dict], on_progress=None) -> int:
    """Insert the cleaned rows (members.services.clean output) as new members of the principal's
    tenant; returns how many were written."""
    tenant_id = principal.tenant.id
    user_id = getattr(principal.user, "id", None)
    now = clock.utcnow()
    today = clock.today()
    members, holds, payments, certificates = (Member.__table__, RelationshipHold.__table__,
                                              DuesPayment.__table__, ActivityCertificate.__table__)
    written = 0
    for start in range(0, len(rows), BATCH):
        audit: list[dict] = []
        batch = [member_row(tenant_id, values, now) for values in rows[start:start + BATCH]]
        by_hash = {r["id_hash"]: r for r in batch}
        inserted = insert(members, batch, returning=("id", "id_hash"))
        hold_rows, dues_rows, cert_rows = [], [], []
        for member_id, id_hash in inserted:
            row = by_hash[id_hash]
            hold_rows.append({"id_hash": id_hash, "tenant_id": tenant_id, "member_id": member_id,
                              "org_id": row["org_id"], "since": now})
            if row["dues_paid_through"]:
                dues_rows.append({"tenant_id": tenant_id, "member_id": member_id, "month": row["dues_paid_through"],
                                  "recorded_by": user_id, "created_at": now})
            if row["certificate_no"]:
                moved = row["moved_on"]
                cert_rows.append({"tenant_id": tenant_id, "member_id": member_id, "number": row["certificate_no"],
                                  "issued_on": moved if moved and moved <= today else today, "created_at": now})
            audit.append({"action": "create", "object_type": "member", "object_id": member_id,
                          "after": _snapshot(row, member_id), "summary": row["name"]})
        insert(holds, hold_rows)
        insert(payments, dues_rows)
        insert(certificates, cert_rows)
        # The chain is extended batch by batch (its head stays locked to the commit): the entries
        # of 100,000 members need not all be held at once.
        record_many(principal.user, audit, tenant_id=tenant_id)
        written += len(inserted)
        if on_progress:
            on_progress(written, len(rows))
    return written

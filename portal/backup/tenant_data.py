"""What one tenant's archive holds, and putting it back.

The rows are read and written as stored (encrypted fields and sealed documents stay ciphertext,
keyed hashes stay as they are), so a restored database is the same byte for byte and the audit
chain verifies. That ties an archive to the field key it was made under: the archive names the
key's fingerprint, and import refuses another key (restore with that key, then `flask keys rotate`).

In an archive: the tenant's own rows of every table; the transfers and agreements (and their
events, lists, attendance and notices) it takes part in on the other side; the users holding a
role in it, their grants, API tokens and recovery codes; the directory rows of the counterpart
tenants. Not in it: login sessions and the delivery queue of jobs (both transient).
"""
import base64
import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from portal.core import clock, crypto
from portal.core.crypto import SealedBytes
from portal.extensions import db
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant
from portal.tenancy.scoping import apply_settings

FORMAT = 1
SKIPPED = {"user_sessions", "job_outbox"}
USER_TABLES = {"api_tokens", "recovery_codes"}   # rows of the users in the archive


class RestoreRefused(Exception):
    """The archive does not fit this database; nothing was written."""


# ---- values ----

def _raw_table(table: sa.Table) -> sa.Table:
    """The table with its sealed columns as plain binary: ciphertext is copied, never re-sealed."""
    columns = [sa.Column(c.name, sa.LargeBinary() if isinstance(c.type, SealedBytes) else c.type,
                         primary_key=c.primary_key) for c in table.columns]
    return sa.Table(table.name, sa.MetaData(), *columns)


def _encode(value):
    if isinstance(value, datetime):
        return {"$t": "dt", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$t": "d", "v": value.isoformat()}
    if isinstance(value, (bytes, memoryview)):
        return {"$t": "b", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$t": "n", "v": str(value)}
    if isinstance(value, (dict, list)):
        return {"$t": "j", "v": value}
    return value


def _decode(value):
    if not isinstance(value, dict):
        return value
    kind, v = value["$t"], value["v"]
    return {"dt": datetime.fromisoformat, "d": date.fromisoformat, "b": base64.b64decode,
            "n": Decimal, "j": lambda x: x}[kind](v)


def _tables() -> list[sa.Table]:
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED]


def _revision(conn) -> list[str]:
    return sorted(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def _select(conn, table: sa.Table, where) -> dict:
    raw = _raw_table(table)
    order = [raw.c[c.name] for c in table.primary_key.columns] or list(raw.columns)
    rows = conn.execute(sa.select(raw).where(where(raw)).order_by(*order)).all()
    return {"columns": [c.name for c in raw.columns], "rows": [[_encode(v) for v in row] for row in rows]}


# ---- export ----

def export_tenant(code: str) -> tuple[bytes, dict]:
    """The archive's payload (JSON) and the count of rows per table."""
    tenant = db.session.execute(sa.select(Tenant.id, Tenant.code, Tenant.name).filter_by(code=code)).one_or_none()
    if tenant is None:
        raise RestoreRefused(f"no tenant with the code {code}")
    tid = tenant.id
    meta = {t.name: t for t in _tables()}
    out = {}
    with cross_tenant(acting_for=tid):
        apply_settings()  # Core statements on the connection: the RLS settings go out first
        conn = db.session.connection()
        user_ids = sa.select(meta["role_grants"].c.user_id).where(meta["role_grants"].c.tenant_id == tid)
        for name, table in meta.items():
            cols = table.c
            if name == "tenants":
                where = lambda t: t.c.id == tid
            elif name == "users":
                where = lambda t: t.c.id.in_(user_ids)
            elif name in USER_TABLES:
                where = lambda t: t.c.user_id.in_(user_ids)
            elif "other_tenant_id" in cols:
                where = lambda t: sa.or_(t.c.tenant_id == tid, t.c.other_tenant_id == tid)
            elif "tenant_id" in cols:
                where = lambda t: t.c.tenant_id == tid
            else:
                continue
            out[name] = _select(conn, table, where)
        others = set()
        for name, dump in out.items():
            columns = dump["columns"]
            for key in ("tenant_id", "other_tenant_id"):
                if key in columns:
                    i = columns.index(key)
                    others.update(row[i] for row in dump["rows"] if row[i] not in (None, tid))
        counterparts = _select(conn, meta["tenants"], lambda t: t.c.id.in_(sorted(others)))
        revision = _revision(conn)
    db.session.rollback()
    payload = {"format": FORMAT, "tenant": {"id": tid, "code": tenant.code, "name": tenant.name},
               "exported_at": clock.utcnow().isoformat(), "revision": revision,
               "field_key": crypto.fingerprint(), "tables": out, "counterparts": counterparts}
    counts = {name: len(dump["rows"]) for name, dump in out.items()}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), counts


# ---- import ----

def _rows(dump: dict) -> list[dict]:
    return [{c: _decode(v) for c, v in zip(dump["columns"], row)} for row in dump["rows"]]


def _existing(conn, table: sa.Table, ids: list) -> set:
    if not ids:
        return set()
    found = set()
    for i in range(0, len(ids), 500):
        found.update(conn.execute(sa.select(table.c.id).where(table.c.id.in_(ids[i:i + 500]))).scalars())
    return found


def _insert(conn, table: sa.Table, rows: list[dict]) -> None:
    raw = _raw_table(table)
    for i in range(0, len(rows), 200):
        conn.execute(raw.insert(), rows[i:i + 200])


def _insert_others(conn, table: sa.Table, rows: list[dict]) -> int:
    """The other side's rows of what the tenant shares (a transfer the other county sent it): each
    needs its owner's register and organizations, which belong to the other county's archive. Rows
    whose owner's rows are not in this database are left out (and reported), the rest restored."""
    raw, kept = _raw_table(table), 0
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(raw.insert(), [row])
            kept += 1
        except sa.exc.IntegrityError:
            continue
    return kept


def _advance_sequences(conn, tables) -> None:
    """Rows came with their ids: PostgreSQL's sequences move past them (never back: other tenants'
    rows, which this role may not see, can hold higher ids)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        if "id" not in table.c or not isinstance(table.c.id.type, sa.Integer):
            continue
        seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if seq is None:
            continue
        top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
        if top is not None:
            conn.execute(sa.text(f"SELECT setval('{seq}', GREATEST((SELECT last_value FROM {seq}), :top))"),
                         {"top": top})


def import_tenant(payload: bytes) -> tuple[int, dict, dict]:
    """Restore an archive's tenant into this database, all or nothing. Returns the tenant's id and
    the rows written per table."""
    data = json.loads(payload)
    if data.get("format") != FORMAT:
        raise RestoreRefused("this archive has a format this version does not read")
    if data["field_key"] != crypto.fingerprint():
        raise RestoreRefused("the archive was made under another FIELD_KEY: set that key to import it "
                             "(then `flask keys rotate` to move to a new one)")
    meta = {t.name: t for t in _tables()}
    tid, code = data["tenant"]["id"], data["tenant"]["code"]
    tables = data["tables"]
    counts, left_out = {}, {}
    try:
        with cross_tenant(acting_for=tid):
            apply_settings()  # Core statements on the connection: the RLS settings go out first
            conn = db.session.connection()
            revision = _revision(conn)
            if revision != data["revision"]:
                raise RestoreRefused(f"the archive is of schema revision {data['revision']}, this database "
                                     f"of {revision}: restore with the portal version that made it")
            tenants = meta["tenants"]
            if conn.execute(sa.select(tenants.c.id).where(sa.or_(tenants.c.id == tid, tenants.c.code == code))).first():
                raise RestoreRefused(f"this database already has the tenant {code} (or its id {tid})")
            for row in _rows(data["counterparts"]):
                there = conn.execute(sa.select(tenants.c.code).where(tenants.c.id == row["id"])).scalar()
                if there is None:
                    if conn.execute(sa.select(tenants.c.id).where(tenants.c.code == row["code"])).first():
                        raise RestoreRefused(f"the tenant {row['code']} has another id here than in the archive")
                    _insert(conn, tenants, [row])
                elif there != row["code"]:
                    raise RestoreRefused(f"the tenant id {row['id']} is {there} here, {row['code']} in the archive")
            _insert(conn, tenants, _rows(tables["tenants"]))
            counts["tenants"] = 1
            users = meta["users"]
            new_users = set()
            for row in _rows(tables["users"]):
                there = conn.execute(sa.select(users.c.username).where(users.c.id == row["id"])).scalar()
                if there is None:
                    if conn.execute(sa.select(users.c.id).where(users.c.username == row["username"])).first():
                        raise RestoreRefused(f"the user {row['username']} has another id here than in the archive")
                    _insert(conn, users, [row])
                    new_users.add(row["id"])
                elif there != row["username"]:
                    raise RestoreRefused(f"the user id {row['id']} is {there} here, {row['username']} in the archive")
            counts["users"] = len(new_users)
            for name, table in meta.items():
                if name in ("tenants", "users") or name not in tables:
                    continue
                rows = _rows(tables[name])
                if name in USER_TABLES:
                    rows = [r for r in rows if r["user_id"] in new_users]
                elif "tenant_id" in table.c and "id" in table.c:
                    # The other side's rows of what the tenant shares may be here already (the
                    # counterpart lives on in this database): those stay as they are.
                    theirs = [r["id"] for r in rows if r["tenant_id"] != tid]
                    present = _existing(conn, table, theirs)
                    others = [r for r in rows if r["tenant_id"] != tid and r["id"] not in present]
                    rows = [r for r in rows if r["tenant_id"] == tid]
                    _insert(conn, table, rows)
                    kept = _insert_others(conn, table, others)
                    if len(others) > kept:
                        left_out[name] = len(others) - kept
                    counts[name] = len(rows) + kept
                    continue
                _insert(conn, table, rows)
                counts[name] = len(rows)
            _advance_sequences(conn, meta.values())
        db.session.commit()
    except RestoreRefused:
        db.session.rollback()
        raise
    except sa.exc.IntegrityError as exc:
        db.session.rollback()
        raise RestoreRefused(f"rows of the archive clash with rows of this database, nothing was imported "
                             f"({type(exc.orig).__name__})")
    return tid, counts, left_out

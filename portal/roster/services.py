"""Importing and exporting the register (roster-import.md).

An import is all or nothing: every row is validated first (the same rules as the forms, through
members.services.clean), ID numbers are checked against this tenant and the cross-tenant index,
and only when no row is bad are the new members written, in bulk, in one transaction. Rows already
on this register with the same values count as unchanged, so importing the same file twice changes
nothing; rows with other values stop the import for review (old → new per field), and only a
person's confirmation writes them, each update audited.
"""
import gc
import io

import xlsxwriter
from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from portal.auth.access import Principal
from portal.auth.models import User
from portal.auth.roles import READ_ID
from portal.core import clock, crypto, sheets
from portal.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from portal.core.parsing import as_id
from portal.extensions import db
from portal.i18n import _
from portal.jobs import queue
from portal.members import lookups
from portal.members import services as members
from portal.members.models import ACTIVE, Member
from portal.orgs import services as orgs_services
from portal.orgs.models import Organization
from portal.roster.layout import COLUMNS, FIELD_OF, HEADER_OF, REQUIRED, UnreadableFile, read_table
from portal.roster import bulk, review
from portal.roster.models import DONE, FINISHED, QUEUED, REJECTED, REVIEW, RUNNING, RosterImport
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant

ALLOWED_SUFFIXES = (".xlsx", ".csv")


def start(principal, filename: str, content: bytes) -> RosterImport:
    """Store the upload and run the import as a job (inline without Redis)."""
    if not filename or not filename.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationFailed({"file": _("只接受.xlsx或.csv文件")})
    if not content:
        raise ValidationFailed({"file": _("文件是空的")})
    run = RosterImport(filename=filename[:200], content=content, state=QUEUED,
                       created_by=getattr(principal.user, "id", None))
    db.session.add(run)
    db.session.commit()
    job = queue.enqueue("roster.import", principal.tenant.id, params={"import_id": run.id},
                        user_id=run.created_by)
    run = db.session.get(RosterImport, run.id)
    if run.job_id is None:
        run.job_id = job.id
        db.session.commit()
    return run


def get(import_id) -> RosterImport:
    number = as_id(import_id)
    run = db.session.get(RosterImport, number) if number is not None else None
    if run is None:
        raise NotFound(_("导入记录不存在"))
    return run


def get_for(principal, import_id) -> RosterImport:
    """An import as a person may read it. A branch secretary reads only the imports they started:
    another's file and report are about members outside their subtree."""
    run = get(import_id)
    if principal.org_limit is not None and run.created_by != getattr(principal.user, "id", None):
        raise NotFound(_("导入记录不存在"))
    return run


@queue.handler("roster.import")
def _run_job(job, import_id: int):
    run = db.session.get(RosterImport, import_id)
    if run is None or run.state in (DONE, REJECTED, REVIEW):
        return {"state": run.state if run else "missing"}
    tenant = db.session.get(Tenant, run.tenant_id)
    # After review the writes are the confirming person's.
    actor = run.confirmed_by or run.created_by
    user = db.session.get(User, actor) if actor else None
    principal = Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id) if user else None)
    run.state = RUNNING
    db.session.commit()
    # The cyclic collector would walk the import's hundreds of thousands of live values again and
    # again; what an import allocates is freed by reference counting.
    gc.disable()
    try:
        execute(principal, run, on_progress=lambda done, total: _progress(job, run, done, total))
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the import must not stay "running"
        db.session.rollback()
        # The class only: a message could quote a cell, and cells hold ID numbers.
        current_app.logger.error("roster import %s failed: %s", import_id, type(exc).__name__)
        run = db.session.get(RosterImport, import_id)
        _finish(run, REJECTED, errors=[{"row": 0, "column": "", "message": _(
            "导入时出现意外错误，未写入任何数据；请检查文件格式后重试")}], rows=run.rows or 0)
    finally:
        gc.enable()
    return run.to_dict()


def _progress(job, run, done, total):
    run.progress = int(done * 90 / total) if total else 90
    queue.progress(job, done, total)


def execute(principal, run: RosterImport, on_progress=None) -> RosterImport:
    """Validate the whole file, then either reject it (a report per bad row), stop at review
    (rows that would change members already on this register), or write it in one transaction.
    A run confirmed after review (`confirmed_by`) writes, provided the changes are still those
    the person saw."""
    errors: list[dict] = []

    def bad(row, header, message):
        errors.append({"row": row, "column": header, "message": str(message)})

    if run.content is None:
        return _finish(run, REJECTED, errors=[{"row": 1, "column": "", "message": _("上传的文件已无法读取，请重新上传")}],
                       rows=0)
    try:
        headers, rows = read_table(run.content, run.filename)
    except UnreadableFile as exc:
        return _finish(run, REJECTED, errors=[{"row": 1, "column": "", "message": str(exc)}], rows=0)
    known = [h for h in headers if h in FIELD_OF]
    unknown = [h for h in headers if h and h not in FIELD_OF]
    for header in REQUIRED:
        if header not in known:
            bad(1, header, _("缺少必需的列"))
    duplicated = {h for h in known if known.count(h) > 1}
    for header in duplicated:
        bad(1, header, _("该列出现了不止一次"))
    run.unknown_columns = unknown
    if errors:
        return _finish(run, REJECTED, errors=errors, rows=len(rows))

    index = {h: i for i, h in enumerate(headers) if h in FIELD_OF}
    fields = [FIELD_OF[h] for h in index]
    org_index = review.OrgIndex.load()
    limit = orgs_services.get_by_id(principal.org_limit) if principal.org_limit else None
    valid: list[tuple[int, dict, str]] = []  # (row number, cleaned values, id hash)
    seen: dict[str, int] = {}
    births: dict[str, int] = {}  # region code + birth date -> rows
    total = len(rows)
    for n, row in enumerate(rows, start=2):
        data = {FIELD_OF[h]: (row[i] if i < len(row) else None) for h, i in index.items()}
        data = {k: ("" if v is None else v) for k, v in data.items()}
        rows[n - 2] = None  # the raw row is not needed again: memory stays with the cleaned values
        try:
            values = members.clean(data, find_org=org_index.find)
        except ValidationFailed as exc:
            for field, message in exc.fields.items():
                bad(n, HEADER_OF.get(field, field), message)
            continue
        if limit is not None and not values["_org"].path.startswith(limit.path):
            bad(n, "所在支部", _("只能登记本组织及下级组织的党员"))
            continue
        values.pop("_org")
        values.pop("_born", None)
        number = values["id_number"]
        id_hash = crypto.keyed_hash(number)
        if id_hash in seen:
            bad(n, "身份证号", _("与第%(r)d行的身份证号重复", r=seen[id_hash]))
            continue
        seen[id_hash] = n
        births[number[:14]] = births.get(number[:14], 0) + 1
        valid.append((n, values, id_hash))
        if on_progress and (n - 1) % 1000 == 0:
            on_progress(n - 1, total * 2)

    # Many numbers sharing one region and birth date are candidates for one person, not a register:
    # refused before the index is read, so the file learns nothing about who is registered.
    crowded = max(births.values(), default=0)
    if crowded > current_app.config["IMPORT_SAME_BIRTH_LIMIT"]:
        return _finish(run, REJECTED, rows=total, errors=[{"row": 0, "column": "身份证号", "message": _(
            "共%(t)d行，其中%(c)d个身份证号的地区代码和出生日期完全相同，不像一份名册，整个文件未导入。",
            t=total, c=crowded)}])

    # Who already holds these numbers, here or elsewhere: one set-based query per 5,000 numbers
    # against the index (read across tenants on purpose), and the members already on this register.
    hashes = [h for _, _, h in valid]
    holds = review.holds_of(hashes)
    here = review.members_of(hashes)
    del hashes, births, seen
    to_write: list[dict] = []
    changes: list[dict] = []
    unchanged = 0
    conflicts: list[tuple[int, dict, object]] = []
    for n, values, id_hash in valid:
        current = here.get(id_hash)
        hold = holds.get(id_hash)
        if current is not None:
            if limit is not None and not org_index.path_of(current["org_id"]).startswith(limit.path):
                bad(n, "身份证号", _("该党员已在本县区台账中，但不在您管理的组织范围内"))
                continue
            found = review.diff(n, current, values, fields, org_index)
            if found:
                changes.extend(found)
            else:
                unchanged += 1
        elif hold is not None and hold.tenant_id != run.tenant_id:
            conflicts.append((n, values, hold))
        elif hold is not None:
            bad(n, "身份证号", _("本县区已登记此身份证号的组织关系，但其不在在册党员中；请先在台账中核实"))
        else:
            to_write.append(values)
    if conflicts and not _name_conflicts(principal, run, conflicts, bad):
        return _finish(run, REJECTED, rows=total, errors=[{"row": 0, "column": "身份证号", "message": _(
            "共%(t)d行，其中%(c)d行的身份证号已由其他县区持有组织关系，超过%(k)d行的上限，整个文件未导入，"
            "也不逐行列出。请核对名册后重新导入，或逐人在“组织关系查询”中核实。",
            t=total, c=len(conflicts), k=current_app.config["IMPORT_CONFLICT_LIMIT"])}])
    if not errors and changes:
        errors.extend(review.dues_behind_payments(changes))
    if errors:
        errors.sort(key=lambda e: (e["row"], e["column"]))
        return _finish(run, REJECTED, errors=errors, rows=total)

    if changes and run.confirmed_by is None:
        return _to_review(run, rows=total, changes=changes, pending=len(to_write), unchanged=unchanged)
    if run.confirmed_by is not None and not review.same_changes(run.changes or [], changes):
        return _finish(run, REJECTED, rows=total, errors=[{"row": 0, "column": "", "message": _(
            "预览之后台账已有变动，确认的修改已不是当前的修改，未写入任何数据；请重新导入")}])

    try:
        updated = review.apply(principal, changes)
        written = bulk.insert_members(principal, to_write, on_progress=on_progress and (
            lambda done, n: on_progress(total + done * total // max(n, 1), total * 2)))
        db.session.flush()
    except (ValidationFailed, Conflict, IntegrityError) as exc:  # a race with another writer: still all or nothing
        db.session.rollback()
        run = db.session.get(RosterImport, run.id)
        message = exc.message if isinstance(exc, (ValidationFailed, Conflict)) else _(
            "导入期间另有人登记了文件中的身份证号，未写入任何数据；请重新导入")
        return _finish(run, REJECTED, errors=[{"row": 0, "column": "", "message": message}], rows=total)
    return _finish(run, DONE, rows=total, written=written, unchanged=unchanged, updated=updated)


def _to_review(run, *, rows, changes, pending, unchanged) -> RosterImport:
    """Stop before writing: the file stays sealed until the person confirms or discards."""
    run.state, run.errors, run.rows, run.changes = REVIEW, [], rows, changes
    run.pending, run.unchanged, run.written, run.updated = pending, unchanged, 0, 0
    run.register_stamp = register_stamp()
    run.progress = 100
    db.session.commit()
    return run


def register_stamp() -> str:
    """What changes whenever the tenant's active register does (a member added, removed, or
    edited: every edit moves the member's version on)."""
    count, top, versions = db.session.execute(db.select(
        func.count(Member.id), func.max(Member.id), func.sum(Member.version)).filter(Member.status == ACTIVE)).one()
    return f"{count}:{top or 0}:{versions or 0}"


def _locked(principal, import_id) -> RosterImport:
    run = get_for(principal, import_id)
    db.session.execute(db.select(RosterImport.id).filter(RosterImport.id == run.id).with_for_update())
    db.session.refresh(run)
    return run


def confirm(principal, import_id) -> RosterImport:
    """Apply a reviewed import (api.md: 409 unless in review and the register unchanged since)."""
    run = _locked(principal, import_id)
    if run.state != REVIEW:
        db.session.rollback()
        raise Conflict(_("该导入不在待确认状态"))
    if run.register_stamp != register_stamp():
        db.session.rollback()
        raise Conflict(_("预览之后台账已有变动，列出的原值可能已不准确；请重新导入"))
    run.state, run.progress = QUEUED, 0
    run.confirmed_by = getattr(principal.user, "id", None) or run.created_by or 0
    db.session.commit()
    job = queue.enqueue("roster.import", principal.tenant.id, params={"import_id": run.id},
                        user_id=run.confirmed_by or None)
    run = db.session.get(RosterImport, run.id)
    if run.state not in FINISHED:
        run.job_id = job.id
        db.session.commit()
    return run


def discard(principal, import_id) -> RosterImport:
    run = _locked(principal, import_id)
    if run.state != REVIEW:
        db.session.rollback()
        raise Conflict(_("该导入不在待确认状态"))
    return _finish(run, REJECTED, rows=run.rows, unchanged=run.unchanged, errors=[
        {"row": 0, "column": "", "message": _("已放弃本次导入，未写入任何数据")}], keep_changes=True)


def _name_conflicts(principal, run, conflicts, bad) -> bool:
    """Report each row held by another tenant, naming the holder, when there are few: each named
    holder is a lookup (charged and audited). Many conflicts, or an exhausted lookup budget, are
    reported as counts only (False): a file of candidate numbers must not work as a bulk lookup."""
    if len(conflicts) > current_app.config["IMPORT_CONFLICT_LIMIT"]:
        return False
    tenant_ids = [run.tenant_id]
    try:
        lookups.charge(principal.user, tenant_ids, n=len(conflicts))
    except RateLimited:
        return False
    for n, data, hold in conflicts:
        with cross_tenant():
            org = db.session.execute(db.select(Organization).filter_by(
                id=hold.org_id, tenant_id=hold.tenant_id)).scalar_one()
            tenant = db.session.get(Tenant, hold.tenant_id)
        lookups.audit(principal.user, tenant_ids, str(data.get("id_number") or ""),
                      _("由 %(o)s（%(c)s）持有", o=org.name, c=org.code), via="import")
        bad(n, "身份证号", _("冲突：%(m)s", m=members.holder_message(org, tenant)))
    return True


def _finish(run, state, *, errors=None, rows=0, written=0, unchanged=0, updated=0, keep_changes=False) -> RosterImport:
    run.state, run.errors, run.rows, run.written, run.unchanged = state, errors or [], rows, written, unchanged
    run.updated, run.pending = updated, 0
    if state == REJECTED and not keep_changes:
        run.changes = []
    run.content = None  # the upload is personal data; once processed, only the outcome is kept
    run.progress = 100
    run.finished_at = clock.utcnow()
    db.session.commit()
    return run


def error_report(run: RosterImport) -> bytes:
    wb = sheets.workbook()
    ws = wb.create_sheet("错误报告")
    ws.append(sheets.row(ws, ["行号", "列", "原因"]))
    for e in run.errors or []:
        # The column is a header from the uploaded file: text, never a formula.
        ws.append(sheets.row(ws, [e["row"], str(e["column"]), str(e["message"])]))
    if run.unknown_columns:
        ws.append([])
        ws.append(sheets.row(ws, ["未识别的列（已忽略）", "、".join(str(c) for c in run.unknown_columns)]))
    return sheets.save(wb)


def export(principal, query) -> bytes:
    """The register (a members.services.search query) as xlsx in the import layout, streamed:
    plain column values in batches, each row written as it comes (xlsxwriter's constant-memory
    mode), every cell written as text, so nothing typed into the register becomes a formula."""
    if not principal.can(READ_ID):
        raise ValidationFailed({"export": _("您的角色不能导出完整身份证号")})
    names: dict[str, list[str]] = {}
    label: dict[int, str] = {}
    every = db.session.execute(db.select(Organization.id, Organization.name, Organization.code)).all()
    for org in every:
        names.setdefault(org.name, []).append(org.code)
    for org in every:
        label[org.id] = org.name if len(names[org.name]) == 1 else org.code
    fields = [field for _, field in COLUMNS]
    columns = [Member.id_enc if f == "id_number" else Member.org_id if f == "org" else getattr(Member, f)
               for f in fields]
    rows = db.session.execute(query.with_only_columns(*columns, maintain_column_froms=True)
                              .execution_options(yield_per=2000))
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    ws = book.add_worksheet("流动党员台账")
    for c, (header, _field) in enumerate(COLUMNS):
        ws.write_string(0, c, header)
    id_at, org_at = fields.index("id_number"), fields.index("org")
    decrypt = crypto.decrypt
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if c == id_at:
                value = decrypt(value) or ""
            elif c == org_at:
                value = label.get(value, "")
            if value is None or value == "":
                continue
            ws.write_string(r, c, value if isinstance(value, str) else _export_value(value))
    book.close()
    return buf.getvalue()


def _export_value(value) -> str:
    """Every exported cell is text, as typed into the register (dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)

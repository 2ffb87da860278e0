"""Statistics for pages, API and exports: parameter parsing, tenant and region scopes, xlsx."""
import re
from datetime import date

from portal.core import clock, sheets
from portal.core.errors import ValidationFailed
from portal.i18n import _
from portal.orgs import services as orgs
from portal.reports.stats import LABELS, TABLE_LABELS, TABLES, compute
from portal.tenancy.context import tenant_scope

# Statistics reach back at most a century from as_of; outside these days the arithmetic has no
# meaning (and at year 1 it would leave the calendar).
EARLIEST, LATEST = date(1921, 7, 1), date(2100, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_as_of(value) -> date:
    """The as_of of a request: today (Asia/Shanghai) when empty; ValidationFailed otherwise."""
    if not value:
        return clock.today()
    text = str(value).strip()
    try:
        day = date.fromisoformat(text) if _ISO_DAY.fullmatch(text) else None
    except ValueError:  # 2026-02-30
        day = None
    if day is None:
        raise ValidationFailed({"as_of": _("日期格式应为YYYY-MM-DD")})
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed({"as_of": _("统计日期应在%(a)s至%(b)s之间", a=EARLIEST.isoformat(), b=LATEST.isoformat())})
    return day


def parse_params(args, principal) -> dict:
    errors = {}
    as_of = clock.today()
    try:
        as_of = parse_as_of(args.get("as_of"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    direction = args.get("direction") or None
    if direction and direction not in ("outgoing", "incoming"):
        errors["direction"] = _("应为 outgoing 或 incoming")
    org = None
    if args.get("org"):
        org = orgs.find(args["org"])
        if org is None:
            errors["org"] = _("本县区没有此组织")
    if errors:
        raise ValidationFailed(errors)
    if principal.org_limit and (org is None or not org.path.startswith(orgs.get_by_id(principal.org_limit).path)):
        org = orgs.get_by_id(principal.org_limit)
    return {"as_of": as_of, "direction": direction, "org": org}


def tenant_stats(principal, *, as_of: date, direction=None, org=None) -> dict:
    tenant = principal.tenant
    result = compute(as_of, org=org, direction=direction, lost_months=tenant.lost_contact_months,
                     tenant_ids=[tenant.id])
    return {"tenant": tenant.code, "as_of": as_of.isoformat(), **result}


def region_stats(tenants, region: str, as_of: date) -> dict:
    """Sum of the counties under a region.

    The register opens to one tenant at a time (row-level security on PostgreSQL), so each county's
    roster is one aggregate in its own scope: one statement, plus one settings write on PostgreSQL.
    Transfers are not personal rows: one grouped count over all the counties gives the region's
    (a transfer between two counties of the region counts out for one and in for the other, as
    the sum over counties did)."""
    from sqlalchemy import func

    from portal.extensions import db
    from portal.members.models import ACTIVE, Member
    from portal.reports.stats import _expressions, transfer_counts
    total: dict = {"region": region, "as_of": as_of.isoformat(), "total": 0,
                   **{t: {c: 0 for c in cells} for t, cells in TABLES.items()}, "transfers": {},
                   "counties": []}
    by_months: dict = {}
    for tenant in tenants:
        months = tenant.lost_contact_months
        if months not in by_months:
            exprs = _expressions(as_of, months)
            by_months[months] = (list(exprs), db.select(func.count(Member.id), *exprs.values()).filter(
                Member.status == ACTIVE, Member.joined_on <= as_of))
        keys, query = by_months[months]
        with tenant_scope(tenant.id):
            row = db.session.execute(query.filter(Member.tenant_id == tenant.id)).one()
        county = int(row[0] or 0)
        total["counties"].append({"tenant": tenant.code, "name": tenant.name, "total": county})
        total["total"] += county
        for (table, cell), value in zip(keys, row[1:]):
            total[table][cell] += int(value or 0)
    total["transfers"] = transfer_counts(as_of, [t.id for t in tenants]) if tenants else {}
    total["transfers"].setdefault(str(as_of.year), {"in": 0, "out": 0})
    return total


def labels() -> dict:
    return {"tables": TABLE_LABELS, "cells": LABELS}


def to_xlsx(result: dict) -> bytes:
    from openpyxl.styles import Font
    bold = Font(bold=True)
    wb = sheets.workbook()
    ws = wb.create_sheet("统计")
    ws.append(sheets.row(ws, ["统计日期", result["as_of"], "总数", result["total"]]))
    for table, cells in TABLES.items():
        ws.append([])
        ws.append(sheets.row(ws, [str(TABLE_LABELS[table])], font=bold))
        ws.append(sheets.row(ws, [str(LABELS[table][c]) for c in cells]))
        ws.append(sheets.row(ws, [result[table][c] for c in cells]))
    ws.append([])
    ws.append(sheets.row(ws, ["组织关系转接"], font=bold))
    ws.append(sheets.row(ws, ["年度", "转入", "转出"]))
    for year, counts in result["transfers"].items():
        ws.append(sheets.row(ws, [str(year), counts["in"], counts["out"]]))
    return sheets.save(wb)

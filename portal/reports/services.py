"""Statistics for pages, API and exports: parameter parsing, tenant and region scopes, xlsx."""
import io
from datetime import date

from portal.core.errors import ValidationFailed
from portal.i18n import _
from portal.orgs import services as orgs
from portal.reports.stats import LABELS, TABLE_LABELS, TABLES, compute
from portal.tenancy.context import tenant_scope
from portal.core import clock


def parse_params(args, principal) -> dict:
    errors = {}
    as_of = clock.today()
    if args.get("as_of"):
        try:
            as_of = date.fromisoformat(args["as_of"])
        except ValueError:
            errors["as_of"] = _("日期格式应为YYYY-MM-DD")
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
    """Sum of the counties under a region; each county computed in its own tenant scope."""
    total: dict = {"region": region, "as_of": as_of.isoformat(), "total": 0,
                   **{t: {c: 0 for c in cells} for t, cells in TABLES.items()}, "transfers": {},
                   "counties": []}
    for tenant in tenants:
        with tenant_scope(tenant.id):
            part = compute(as_of, lost_months=tenant.lost_contact_months, tenant_ids=[tenant.id])
        total["counties"].append({"tenant": tenant.code, "name": tenant.name, "total": part["total"]})
        total["total"] += part["total"]
        for table, cells in TABLES.items():
            for cell in cells:
                total[table][cell] += part[table][cell]
        for year, counts in part["transfers"].items():
            slot = total["transfers"].setdefault(year, {"in": 0, "out": 0})
            slot["in"] += counts["in"]
            slot["out"] += counts["out"]
    total["transfers"].setdefault(str(as_of.year), {"in": 0, "out": 0})
    return total


def labels() -> dict:
    return {"tables": TABLE_LABELS, "cells": LABELS}


def to_xlsx(result: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "统计"
    ws.append(["统计日期", result["as_of"], "总数", result["total"]])
    for table, cells in TABLES.items():
        ws.append([])
        ws.append([str(TABLE_LABELS[table])])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.append([str(LABELS[table][c]) for c in cells])
        ws.append([result[table][c] for c in cells])
    ws.append([])
    ws.append(["组织关系转接"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append(["年度", "转入", "转出"])
    for year, counts in result["transfers"].items():
        ws.append([year, counts["in"], counts["out"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

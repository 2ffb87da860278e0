"""Statistics for pages, API and exports: parameter parsing, tenant and region scopes, xlsx."""
import io
from datetime import date
from pathlib import Path

import xlsxwriter
from flask import current_app

from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.core.parsing import parse_date
from portal.i18n import _
from portal.orgs import services as orgs
from portal.core import areas
from portal.reports import charts
from portal.reports.stats import (BREAKDOWN_LABELS, LABELS, REASON_LABELS, TABLE_LABELS, TABLES, breakdowns,
                                  compute, compute_by_tenant, empty_cells, transfer_counts)
from portal.tenancy.context import region_read
from portal.orgs import scope

# Statistics reach back at most a century from as_of; outside these days the arithmetic has no
# meaning (and at year 1 it would leave the calendar).
EARLIEST, LATEST = date(1921, 7, 1), date(2100, 12, 31)


def parse_as_of(value) -> date:
    """The as_of of a request: today (Asia/Shanghai) when empty; ValidationFailed otherwise."""
    try:
        day = parse_date(value)
    except ValueError:  # not a date, or 2026-02-30
        raise ValidationFailed({"as_of": _("日期格式应为YYYY-MM-DD")})
    if day is None:
        return clock.today()
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
    root = scope.limit(principal)
    if root is not None and (org is None or not org.path.startswith(root.path)):
        org = root
    return {"as_of": as_of, "direction": direction, "org": org}


def tenant_stats(principal, *, as_of: date, direction=None, org=None) -> dict:
    """statistics.md's tables and, under their own keys, the breakdowns offices report."""
    tenant = principal.tenant
    result = compute(as_of, org=org, direction=direction, lost_months=tenant.lost_contact_months,
                     tenant_ids=[tenant.id])
    extra = breakdowns(as_of, org=org, direction=direction, lost_months=tenant.lost_contact_months,
                       tenant_ids=[tenant.id])
    return {"tenant": tenant.code, "as_of": as_of.isoformat(), **result, **extra}


def region_stats(tenants, region: str, as_of: date) -> dict:
    """The counties under a region, counted together (`region_read`: on PostgreSQL the region's
    register opens for these aggregates only): one grouped query per 失联 threshold the counties
    use (one when they share it), one for the breakdowns, one for the transfers."""
    ids = [t.id for t in tenants]
    thresholds: dict[int, list[int]] = {}
    for tenant in tenants:
        thresholds.setdefault(tenant.lost_contact_months, []).append(tenant.id)
    parts: dict[int, dict] = {}
    with region_read(ids):
        for months, group in thresholds.items():
            parts.update(compute_by_tenant(as_of, lost_months=months, tenant_ids=group))
        extra = breakdowns(as_of, tenant_ids=ids, with_branches=False)
        transfers = transfer_counts(as_of, ids)
    total: dict = {"region": region, "region_name": areas.title(region), "as_of": as_of.isoformat(), "total": 0,
                   **{t: {c: 0 for c in cells} for t, cells in TABLES.items()}, "transfers": transfers,
                   "counties": [], "move_reason": extra["move_reason"], "destination": extra["destination"],
                   "industry": extra["industry"]}
    for tenant in tenants:
        part = parts.get(tenant.id) or empty_cells()
        total["counties"].append({"tenant": tenant.code, "name": tenant.name, "total": part["total"],
                                  "lost": part["contact"]["lost"]})
        total["total"] += part["total"]
        for table, cells in TABLES.items():
            for cell in cells:
                total[table][cell] += part[table][cell]
    # A region's branches are its counties: one row per county, with its 失联.
    total["branches"] = [{"org": c["tenant"], "name": c["name"], "total": c["total"], "lost": c["lost"]}
                         for c in total["counties"]]
    return total


def labels() -> dict:
    return {"tables": TABLE_LABELS, "cells": LABELS, "breakdowns": BREAKDOWN_LABELS, "reasons": REASON_LABELS}


def _share(n: int, total: int) -> float:
    return round(n * 100 / total, 1) if total else 0.0


def sections(result: dict) -> list[dict]:
    """Every table of a result as {key, title, rows: [{label, count, share, lost?}], chart}, in
    the order pages, the xlsx and the PDF report show them."""
    total = result["total"]
    out = []

    def add(key, title, rows, lost=False, chart_rows=None):
        chart = charts.bars(str(title), [(r["label"], r["count"]) for r in (chart_rows or rows)], total)
        out.append({"key": key, "title": str(title), "rows": rows, "chart": chart, "lost": lost})

    for table, cells in TABLES.items():
        add(table, TABLE_LABELS[table], [{"label": str(LABELS[table][c]), "count": result[table][c],
                                          "share": _share(result[table][c], total)} for c in cells])
    if "move_reason" in result:
        add("move_reason", BREAKDOWN_LABELS["move_reason"], [
            {"label": str(REASON_LABELS[k]), "count": n, "share": _share(n, total)}
            for k, n in result["move_reason"].items()])
        unknown = str(_("未登记或境外"))
        rows = [{"label": (d["province"] + d["city"]) or unknown, "count": d["count"], "share": _share(d["count"], total)}
                for d in result["destination"]]
        add("destination", BREAKDOWN_LABELS["destination"], rows, chart_rows=_top(rows))
        rows = [{"label": d["industry"] or str(_("未登记")), "count": d["count"], "share": _share(d["count"], total)}
                for d in result["industry"]]
        add("industry", BREAKDOWN_LABELS["industry"], rows, chart_rows=_top(rows))
        rows = [{"label": b["name"] or b["org"], "count": b["total"], "share": _share(b["total"], total),
                 "lost": b["lost"]} for b in result["branches"]]
        add("branches", BREAKDOWN_LABELS["branches"], rows, lost=True, chart_rows=_top(rows))
    return out


def _top(rows: list[dict], n: int = 12) -> list[dict]:
    """A chart shows the largest rows and the rest as one bar; the table lists them all."""
    if len(rows) <= n:
        return rows
    rest = sum(r["count"] for r in rows[n - 1:])
    return rows[:n - 1] + [{"label": str(_("其余")), "count": rest}]


def transfer_chart(result: dict):
    return charts.lines(str(_("组织关系转接（已完成）")), result["transfers"], (str(_("转入")), str(_("转出"))))


def to_xlsx(result: dict, scope_name: str = "") -> bytes:
    """All tables, one sheet each, counts as numbers and shares as percentages (not text)."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                     "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0%"})
    head = book.add_worksheet(str(_("概况")))
    head.write_string(0, 0, str(_("统计范围")), bold)
    head.write_string(0, 1, scope_name or result.get("tenant") or result.get("region", ""))
    head.write_string(1, 0, str(_("统计日期")), bold)
    head.write_string(1, 1, result["as_of"])
    head.write_string(2, 0, str(_("总数")), bold)
    head.write_number(2, 1, result["total"])
    if result.get("counties"):
        head.write_string(4, 0, str(_("县区")), bold)
        head.write_string(4, 1, str(_("人数")), bold)
        for i, c in enumerate(result["counties"], start=5):
            head.write_string(i, 0, f"{c['name']}（{c['tenant']}）")
            head.write_number(i, 1, c["total"])
    for section in sections(result):
        ws = book.add_worksheet(section["title"][:31].replace("（", "(").replace("）", ")"))
        headers = [str(_("项目")), str(_("人数")), str(_("占比"))] + ([str(_("失联"))] if section["lost"] else [])
        for c, h in enumerate(headers):
            ws.write_string(0, c, h, bold)
        for r, row in enumerate(section["rows"], start=1):
            ws.write_string(r, 0, row["label"])
            ws.write_number(r, 1, row["count"])
            ws.write_number(r, 2, row["share"] / 100, percent)
            if section["lost"]:
                ws.write_number(r, 3, row["lost"])
        ws.set_column(0, 0, 28)
    ws = book.add_worksheet(str(_("组织关系转接")))
    for c, h in enumerate([str(_("年度")), str(_("转入")), str(_("转出"))]):
        ws.write_string(0, c, h, bold)
    for r, (year, counts) in enumerate(result["transfers"].items(), start=1):
        ws.write_number(r, 0, int(year))
        ws.write_number(r, 1, counts["in"])
        ws.write_number(r, 2, counts["out"])
    book.close()
    return buf.getvalue()


def to_pdf(result: dict, scope_name: str) -> bytes:
    """The report as PDF (WeasyPrint): the scope's name, the date, every table with its chart.
    Nothing is fetched: the style sheet is the app's own file and the charts are inline SVG."""
    from flask import render_template
    from weasyprint import CSS, HTML
    html = render_template("reports/print.html", result=result, scope_name=scope_name, sections=sections(result),
                           transfers=transfer_chart(result), printed_on=clock.today())
    css = CSS(filename=str(Path(current_app.static_folder) / "print-stats.css"))
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=[css])


def _no_fetch(url, *args, **kwargs):
    raise ValueError("the statistics report loads nothing")

"""The deadlines dashboard of a tenant, and the counts per county for an upper-level reader."""
from flask import g, render_template

from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import READ
from portal.core import clock
from portal.exchange import dashboard as service
from portal.orgs import scope
from portal.exchange.views import bp
from portal.i18n import lazy

BUCKET_LABELS = {
    "awaiting_reply": lazy("待答复"), "due": lazy("3天内到期待答复"), "reply_overdue": lazy("答复已逾期"),
    "returned": lazy("已退回待修改"), "returned_repeatedly": lazy("多次退回"),
    "awaiting_arrival": lazy("已开介绍信未报到"), "letter_overdue": lazy("介绍信逾期"),
}
# Who waits on whom depends on the side.
BOX_BUCKET_LABELS = {
    "incoming": {**BUCKET_LABELS, "awaiting_reply": lazy("待本方接收或退回"), "returned": lazy("已退回待对方修改")},
    "outgoing": {**BUCKET_LABELS, "awaiting_reply": lazy("等待对方答复"), "returned": lazy("被退回待本方修改")},
}
BOX_LABELS = {"incoming": lazy("接收方（本县区待办）"), "outgoing": lazy("派出方（等待对方或党员）")}


@bp.get("/t/<tenant>/exchange/dashboard", endpoint="dashboard")
@permission(READ)
def tenant_dashboard():
    today = clock.today()
    desk = service.desk(g.tenant.id, today, org=scope.limit(g.principal))
    return render_template("exchange/dashboard.html", counts=desk["counts"], lists=desk["lists"],
                           buckets=service.BUCKETS, waiting=service.WAITING, flags=service.FLAGS,
                           bucket_labels=BOX_BUCKET_LABELS, box_labels=BOX_LABELS, today=today,
                           agreement_counts=service.agreement_counts(g.tenant.id, today),
                           reply_days=g.tenant.reply_deadline_days, validity_days=g.tenant.letter_validity_days)


@bp.get("/region/<code>/exchange")
@upper_only
def region(code):
    tenants = region_tenants(g.user, code)
    rows = service.region_rows(tenants)
    totals = {box: {b: sum(r[box][b] for r in rows) for b in service.BUCKETS} for box in ("incoming", "outgoing")}
    return render_template("exchange/region.html", code=code, rows=rows, totals=totals, buckets=service.BUCKETS,
                           bucket_labels=BUCKET_LABELS)

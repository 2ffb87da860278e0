"""Reading the work list: what a principal sees (a branch secretary: their subtree), counts by kind,
by organization, by county for an upper level, and the item shape of api.md."""
from datetime import date

import sqlalchemy as sa
from flask import url_for

from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.core.paging import Page
from portal.extensions import db
from portal.i18n import _
from portal.orgs import services as orgs
from portal.orgs.models import Organization
from portal.tenancy.context import region_read
from portal.worklist.models import KIND_LABELS, KINDS, RANK, WorkItem
from portal.orgs import scope


# Built once: constructing the CASE of nineteen kinds cost more than compiling it from the cache.
_URGENCY = (sa.case(RANK, value=WorkItem.kind, else_=len(KINDS)), WorkItem.due_on.is_(None), WorkItem.due_on,
            WorkItem.id)


def most_urgent_first(q):
    """Order items by the rank of their kind, then the nearest due date."""
    return q.order_by(*_URGENCY)


def parse_filters(principal, *, org: str = "", kind: str = "") -> tuple[Organization | None, str]:
    """The ?org= and ?kind= filters, checked: an unknown kind or an organization outside what the
    principal may see is a clear error, not an empty list."""
    org, kind = (org or "").strip(), (kind or "").strip()
    errors = {}
    if kind and kind not in KINDS:
        errors["kind"] = _("待办类型应为：%(v)s", v="、".join(KINDS))
    chosen = None
    if org:
        chosen = orgs.find(org) if len(org) <= 100 else None
        limit = scope.limit(principal)
        if chosen is None or (limit is not None and not chosen.is_within(limit)):
            errors["org"] = _("没有此组织或无权查看：%(o)s", o=org[:40])
    if errors:
        raise ValidationFailed(errors)
    return chosen, kind


def _scope(principal, query, org: Organization | None):
    top = org or scope.limit(principal)
    if top is not None:
        query = query.filter(WorkItem.org_id.in_(
            sa.select(Organization.id).filter(orgs.subtree_filter(Organization.path, top))))
    return query


def query(principal, *, org: Organization | None = None, kind: str = ""):
    """The items, most urgent first (rank of the kind, then the nearest due date)."""
    q = _scope(principal, db.select(WorkItem), org)
    if kind:
        q = q.filter(WorkItem.kind == kind)
    return most_urgent_first(q)


def counts(principal, *, org: Organization | None = None) -> dict:
    """{kind: n} over the principal's organizations, only kinds that have items, in urgency order."""
    q = _scope(principal, db.select(WorkItem.kind, sa.func.count()).group_by(WorkItem.kind), org)
    found = dict(db.session.execute(q).all())
    return {kind: found[kind] for kind in KINDS if found.get(kind)}


def page(principal, counts: dict, *, org: Organization | None = None, kind: str = "", number: int = 1,
         per_page: int = 20) -> Page:
    """Page `number` of the list, given its `counts` (by kind, in urgency order, as `counts`
    returns them for the same principal and org): the total is their sum, and since the list is
    ordered by kind first, the page's rows lie in the kinds its offsets fall into. Only those kinds
    are read (by the index that starts with the kind) and sorted, instead of the whole list; a page
    past the end reads nothing. Organizations are not joined: the page names them from the tree it
    shows anyway."""
    start = (number - 1) * per_page
    total = counts.get(kind, 0) if kind else sum(counts.values())
    if start >= total:
        return Page([], page=number, per_page=per_page, total=total)
    q = query(principal, org=org, kind=kind).options(sa.orm.raiseload(WorkItem.org))
    if not kind:
        window, before, seen = [], 0, 0
        for k, n in counts.items():
            if seen + n <= start:
                before += n
            elif seen < start + per_page:
                window.append(k)
            seen += n
        q = q.filter(WorkItem.kind.in_(window))
        start -= before
    items = db.session.execute(q.limit(per_page).offset(start)).scalars().all()
    return Page(items, page=number, per_page=per_page, total=total)


def org_counts(principal, tree: list[Organization] | None = None) -> list[dict]:
    """Rows per organization (tree order) with their counts by kind and total, for a tenant admin.
    `tree` is the principal's organizations when the caller has read them already."""
    q = _scope(principal, db.select(WorkItem.org_id, WorkItem.kind, sa.func.count())
               .group_by(WorkItem.org_id, WorkItem.kind), None)
    by_org: dict[int, dict] = {}
    for org_id, kind, n in db.session.execute(q).all():
        by_org.setdefault(org_id, {})[kind] = n
    rows = []
    for org in tree if tree is not None else orgs.tree(limit_to=scope.limit(principal)):
        if org.id in by_org:
            rows.append({"org": org, "counts": by_org[org.id], "total": sum(by_org[org.id].values())})
    return rows


def region_counts(tenants) -> list[dict]:
    """Counts by kind per county under a region (aggregates only: no names, no items). Read
    through the region's door (`region_read`): on PostgreSQL the region's work items open for
    reading, and the cross-tenant flag opens none."""
    ids = [t.id for t in tenants]
    found: dict[int, dict] = {}
    if ids:
        with region_read(ids):
            for tid, kind, n in db.session.execute(
                    sa.select(WorkItem.tenant_id, WorkItem.kind, sa.func.count())
                    .where(WorkItem.tenant_id.in_(ids)).group_by(WorkItem.tenant_id, WorkItem.kind)).all():
                found.setdefault(tid, {})[kind] = n
    return [{"tenant": {"code": t.code, "name": t.name}, "counts": found.get(t.id, {}),
             "total": sum(found.get(t.id, {}).values())} for t in tenants]


def summary(item: WorkItem, today: date | None = None) -> str:
    today = today or clock.today()
    name, n, due = item.subject_name, item.number, item.due_on
    days = (due - today).days if due else None
    k = item.kind
    if k == "reply_due":
        return _("%(n)s 同志的转接申请待答复，还剩 %(d)d 天（%(due)s 前）", n=name, d=days, due=due.isoformat())
    if k == "reply_overdue":
        return _("%(n)s 同志的转接申请答复已逾期 %(d)d 天", n=name, d=-days)
    if k == "awaiting_other_side":
        return _("%(n)s 同志的转接申请对方逾期 %(d)d 天未答复，请催办", n=name, d=-days)
    if k == "returned_repeatedly":
        return _("%(n)s 同志的转接已被退回 %(c)d 次", n=name, c=n or 0)
    if k == "letter_expiring":
        return _("%(n)s 同志的介绍信 %(due)s 到期，尚未报到", n=name, due=due.isoformat())
    if k == "letter_overdue":
        return _("%(n)s 同志的介绍信已过有效期仍未报到（口袋党员）", n=name)
    if k in ("lost_contact", "abroad_contact_due", "suspension_candidate", "removal_candidate"):
        since = _("自 %(d)s 起", d=due.isoformat()) if due else _("从未登记联系")
        text = {"lost_contact": _("%(n)s 同志失去联系，%(s)s"),
                "abroad_contact_due": _("%(n)s 同志在国（境）外，半年内未联系，%(s)s"),
                "suspension_candidate": _("%(n)s 同志失联已满6个月，可提请停止党籍，%(s)s"),
                "removal_candidate": _("%(n)s 同志停止党籍后满2年仍无法联系，可提请除名，%(s)s")}[k]
        return text % {"n": name, "s": since}
    if k == "no_dues_6m":
        return _("%(n)s 同志自 %(m)s 起连续6个月以上未交党费，请核查", n=name, m=due.strftime("%Y-%m") if due else "")
    if k == "no_org_life_6m":
        return _("%(n)s 同志连续6个月未参加组织生活，请核查", n=name)
    if k == "certificate_check_due":
        return _("%(n)s 同志的流动党员活动证应于 %(due)s 前年审", n=name, due=due.isoformat() if due else "")
    if k == "agreement_ending":
        return _("共管协议 %(a)s 将于 %(due)s 到期", a=name, due=due.isoformat())
    if k == "agreement_report_due":
        return _("共管协议 %(a)s 应于 %(due)s 前向对方通报情况", a=name, due=due.isoformat())
    if k == "self_report_details":
        return _("%(n)s 同志通过自助链接报告联系方式等信息变更，请核对后确认", n=name)
    if k == "self_report_moved":
        return _("%(n)s 同志报告再次流动或已返乡，请办理转接、共管或结束流出登记", n=name)
    if k == "self_report_arrived":
        return _("%(n)s 同志自报已到本组织报到，请确认报到或告知尚未报到", n=name)
    if k == "political_birthday":
        return _("%(due)s 是 %(n)s 同志入党 %(y)d 周年纪念日", n=name, y=n or 0, due=due.isoformat())
    return name


def linker():
    """`link` for the rows of one page: each kind of address is built by url_for once, the ids put
    into it per row (an address whose marker cannot be told apart falls back to url_for)."""
    made: dict[tuple, tuple[str, str] | None] = {}

    def build(endpoint: str, arg: str, value) -> str:
        key = (endpoint, arg)
        if key not in made:
            url = url_for(endpoint, **{arg: _MARK})
            made[key] = tuple(url.split(str(_MARK))) if url.count(str(_MARK)) == 1 else None
        parts = made[key]
        if parts is None or value is None:
            return url_for(endpoint, **{arg: value})
        return f"{parts[0]}{int(value)}{parts[1]}"

    def link_of(item: WorkItem) -> str:
        endpoint, arg, value = _target(item)
        return build(endpoint, arg, value)
    return link_of


_MARK = 918273645


def _target(item: WorkItem) -> tuple[str, str, int | None]:
    if item.subject_type == "transfer":
        return "exchange.transfer", "transfer_id", item.subject_id
    if item.subject_type == "agreement":
        return "exchange.agreement", "agreement_id", item.subject_id
    if item.subject_type == "self_report":
        return "selfservice.report", "report_id", item.subject_id
    if item.kind == "political_birthday":
        return "worklist.greeting", "member_id", item.member_id
    return "members.show", "member_id", item.member_id or item.subject_id


def link(item: WorkItem) -> str:
    """The page that resolves the item."""
    endpoint, arg, value = _target(item)
    return url_for(endpoint, **{arg: value})


def to_dict(item: WorkItem) -> dict:
    """api.md's item."""
    return {"kind": item.kind, "subject": {"type": item.subject_type, "id": item.subject_id},
            "org": item.org.code if item.org else None,
            "due_on": item.due_on.isoformat() if item.due_on else None, "summary": summary(item)}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def kind_labels() -> dict[str, str]:
    """Every kind's label in the request's language, for a page that shows many (translated once
    each rather than per row)."""
    return {kind: str(KIND_LABELS[kind]) for kind in KINDS}

"""The roster statistics of statistics.md, computed in SQL (one grouped query per scope), for a
tenant, a branch subtree, or the counties under a region."""
from datetime import date
from functools import lru_cache

from sqlalchemy import and_, case, func, or_

from portal.extensions import db
from portal.i18n import lazy
from portal.members.models import ACTIVE, DIRECTION_KEYS, Member
from portal.members.rules import dues_bounds, lost_contact_cutoff, months_before
from portal.orgs.models import Organization
from portal.reports.places import province_city

TABLES = {
    "gender": ("male", "female"),
    "age": ("le35", "36_54", "55_60", "gt60"),
    "education": ("postgraduate", "bachelor", "junior_college", "below_college"),
    "party_age": ("le5", "6_10", "11_20", "gt20"),
    "dues": ("on_time", "1_5m", "6_12m", "1_5y", "gt5y", "unknown"),
    "contact": ("in_contact", "lost"),
}
LABELS = {
    "gender": {"male": lazy("男"), "female": lazy("女")},
    "age": {"le35": lazy("35岁及以下"), "36_54": lazy("36至54岁"), "55_60": lazy("55至60岁"), "gt60": lazy("60岁以上")},
    "education": {"postgraduate": lazy("研究生"), "bachelor": lazy("本科"), "junior_college": lazy("专科"), "below_college": lazy("专科以下")},
    "party_age": {"le5": lazy("5年及以下"), "6_10": lazy("6至10年"), "11_20": lazy("11至20年"), "gt20": lazy("20年以上")},
    "dues": {"on_time": lazy("按时交纳"), "1_5m": lazy("欠交1至5个月"), "6_12m": lazy("欠交6至12个月"), "1_5y": lazy("欠交1至5年"),
             "gt5y": lazy("欠交5年以上"), "unknown": lazy("未登记")},
    "contact": {"in_contact": lazy("保持联系"), "lost": lazy("失去联系")},
}
TABLE_LABELS = {"gender": lazy("性别"), "age": lazy("年龄"), "education": lazy("学历"), "party_age": lazy("党龄"), "dues": lazy("党费交纳"),
                "contact": lazy("联系情况")}
EDUCATION_GROUPS = {
    "postgraduate": ("博士", "硕士", "研究生"),
    "bachelor": ("本科", "大学"),
    "junior_college": ("大专", "专科"),
}


def years_before(day: date, years: int) -> date:
    return months_before(day, years * 12)


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


@lru_cache(maxsize=64)
def _expressions(as_of: date, lost_months: int) -> dict:
    """One labelled SUM(CASE …) per cell. Full years ≤ N at D ⇔ born after D − (N+1) years.

    Kept per (day, threshold): they depend on nothing else, and building the thirty expressions
    cost a page more than running the query. Callers read the dict, never change it."""
    after = lambda col, years: col > years_before(as_of, years)  # noqa: E731 - full years < `years`
    exprs = {
        ("gender", "male"): _count(Member.sex == "男"),
        ("gender", "female"): _count(Member.sex == "女"),
        ("age", "le35"): _count(after(Member.birth_date, 36)),
        ("age", "36_54"): _count(and_(~after(Member.birth_date, 36), after(Member.birth_date, 55))),
        ("age", "55_60"): _count(and_(~after(Member.birth_date, 55), after(Member.birth_date, 61))),
        ("age", "gt60"): _count(~after(Member.birth_date, 61)),
        ("party_age", "le5"): _count(after(Member.joined_on, 6)),
        ("party_age", "6_10"): _count(and_(~after(Member.joined_on, 6), after(Member.joined_on, 11))),
        ("party_age", "11_20"): _count(and_(~after(Member.joined_on, 11), after(Member.joined_on, 21))),
        ("party_age", "gt20"): _count(~after(Member.joined_on, 21)),
    }
    for key, values in EDUCATION_GROUPS.items():
        exprs[("education", key)] = _count(Member.education.in_(values))
    every = tuple(v for values in EDUCATION_GROUPS.values() for v in values)
    exprs[("education", "below_college")] = _count(~Member.education.in_(every))
    paid = Member.dues_paid_through
    for bucket in TABLES["dues"]:
        if bucket == "unknown":
            exprs[("dues", bucket)] = _count(or_(paid.is_(None), paid == ""))
            continue
        oldest, newest = dues_bounds(bucket, as_of)
        cond = [paid.is_not(None), paid != ""]
        if oldest:
            cond.append(paid >= oldest)
        if newest:
            cond.append(paid <= newest)
        exprs[("dues", bucket)] = _count(and_(*cond))
    cutoff = lost_contact_cutoff(as_of, lost_months)
    exprs[("contact", "in_contact")] = _count(and_(Member.last_contact_on.is_not(None),
                                                   Member.last_contact_on >= cutoff))
    exprs[("contact", "lost")] = _count(or_(Member.last_contact_on.is_(None), Member.last_contact_on < cutoff))
    return exprs


def compute(as_of: date, *, org: Organization | None = None, direction: str | None = None,
            lost_months: int = 6, tenant_ids: list[int] | None = None) -> dict:
    """Counts as of `as_of` over active members (joined by then). Runs inside the caller's tenant
    context; with `tenant_ids` (an upper-level rollup) the caller reads across tenants explicitly."""
    exprs = _expressions(as_of, lost_months)
    query = _scoped(db.select(func.count(Member.id), *exprs.values()), as_of=as_of, org=org, direction=direction,
                    tenant_ids=tenant_ids)
    out = _cells(list(exprs), db.session.execute(query).one())
    out["transfers"] = transfer_counts(as_of, tenant_ids, org=org)
    return out


def compute_by_tenant(as_of: date, *, lost_months: int, tenant_ids: list[int]) -> dict:
    """{tenant id: the tables of `compute` without transfers} for many tenants in one grouped query
    (an upper-level rollup, inside `region_read`). Tenants without members are absent."""
    exprs = _expressions(as_of, lost_months)
    query = _scoped(db.select(Member.tenant_id, func.count(Member.id), *exprs.values()), as_of=as_of, org=None,
                    direction=None, tenant_ids=tenant_ids).group_by(Member.tenant_id)
    return {row[0]: _cells(list(exprs), row[1:]) for row in db.session.execute(query).all()}


def empty_cells() -> dict:
    return {"total": 0, **{table: {cell: 0 for cell in cells} for table, cells in TABLES.items()}}


def _cells(keys: list, row) -> dict:
    """A result row (total, then one value per expression of `keys`) as {"total": n, table: {cell: n}}."""
    out = empty_cells()
    out["total"] = int(row[0] or 0)
    for (table, cell), value in zip(keys, row[1:]):
        out[table][cell] = int(value or 0)
    return out


_transfer_counter = None


def register_transfer_counter(fn):
    """The exchange supplies fn(as_of, tenant_ids, org=None) -> {"YYYY": {"in": n, "out": n}}."""
    global _transfer_counter
    _transfer_counter = fn
    return fn


def transfer_counts(as_of: date, tenant_ids=None, org: Organization | None = None) -> dict:
    counts = _transfer_counter(as_of, tenant_ids, org=org) if _transfer_counter else {}
    counts.setdefault(str(as_of.year), {"in": 0, "out": 0})
    return dict(sorted(counts.items()))


# ---- the breakdowns offices report (issue 11): reason, destination, industry, branch ----

REASON_KEYS = {"务工": "work", "经商": "business", "求学": "study", "随迁": "family", "其他": "other", "": "unknown"}
REASON_LABELS = {"work": lazy("务工"), "business": lazy("经商"), "study": lazy("求学"), "family": lazy("随迁"),
                 "other": lazy("其他"), "unknown": lazy("未登记")}
BREAKDOWN_LABELS = {"move_reason": lazy("流动原因"), "destination": lazy("流向地区"), "industry": lazy("从事行业"),
                    "branches": lazy("所在支部（含失联）")}


def _scoped(query, *, as_of, org, direction, tenant_ids):
    query = query.filter(Member.status == ACTIVE, Member.joined_on <= as_of)
    if tenant_ids is not None:
        query = query.filter(Member.tenant_id.in_(tenant_ids))
    if direction:
        query = query.filter(Member.direction == DIRECTION_KEYS.get(direction, direction))
    if org is not None:
        sub = db.select(Organization.id).filter(Organization.path.startswith(org.path, autoescape=True))
        query = query.filter(Member.org_id.in_(sub))
    return query


def breakdowns(as_of: date, *, org: Organization | None = None, direction: str | None = None,
               lost_months: int = 6, tenant_ids: list[int] | None = None, with_branches: bool = True) -> dict:
    """Counts by 流动原因, by 流向地区 (province and city of the place, names from the division
    data), by 从事行业, and per branch with its 失联 count. Grouped queries over the same members
    as `compute`; in the caller's tenant context."""
    scope = dict(as_of=as_of, org=org, direction=direction, tenant_ids=tenant_ids)
    reasons = {key: 0 for key in REASON_LABELS}
    places: dict[tuple, int] = {}
    industries: dict[str, int] = {}
    # One scan for the three: the combinations of reason, place and industry are few.
    for reason, place, trade, n in db.session.execute(
            _scoped(db.select(Member.move_reason, Member.region, Member.industry, func.count()), **scope)
            .group_by(Member.move_reason, Member.region, Member.industry)).all():
        key = REASON_KEYS.get(reason or "", "other")
        reasons[key] += n
        where = province_city(place)
        places[where] = places.get(where, 0) + n
        trade = (trade or "").strip()
        industries[trade] = industries.get(trade, 0) + n
    destination = [{"province": p, "city": c, "code": code, "count": n}
                   for (code, p, c), n in sorted(places.items(), key=lambda kv: (-kv[1], kv[0][0]))]
    industry = [{"industry": k, "count": n} for k, n in sorted(industries.items(), key=lambda kv: (-kv[1], kv[0]))]
    out = {"move_reason": reasons, "destination": destination, "industry": industry}
    if not with_branches:
        return out
    cutoff = lost_contact_cutoff(as_of, lost_months)
    lost = _count(or_(Member.last_contact_on.is_(None), Member.last_contact_on < cutoff))
    # The branch's code and name joined in, not read by a second statement (an organization the
    # reader cannot see, or gone, joins nothing and is named "").
    named = Organization.__table__.alias("named")
    per_org = db.session.execute(
        _scoped(db.select(Member.tenant_id, Member.org_id, named.c.code, named.c.name, func.count(), lost), **scope)
        .outerjoin(named, and_(named.c.tenant_id == Member.tenant_id, named.c.id == Member.org_id))
        .group_by(Member.tenant_id, Member.org_id, named.c.code, named.c.name)).all()
    branches = [{"org": code or "", "name": name or "", "total": int(n), "lost": int(lo or 0)}
                for _t, _o, code, name, n, lo in per_org]
    branches.sort(key=lambda b: (-b["total"], b["org"]))
    out["branches"] = branches
    return out

"""Pages of the work list: the first screen after login, the greeting letter of a political
birthday, and the counts per county for an upper-level reader. Thin over services.py."""
from flask import Blueprint, current_app, flash, g, render_template, request

from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import MANAGE_USERS, READ
from portal.core import clock
from portal.core.errors import ValidationFailed
from portal.core.paging import page_arg
from portal.members import services as members
from portal.orgs import services as orgs
from portal.worklist import rules, services
from portal.worklist.models import KINDS
from portal.orgs import scope

bp = Blueprint("worklist", __name__)


@bp.get("/t/<tenant>/worklist", endpoint="index")
@permission(READ)
def index():
    status = 200
    try:
        org, kind = services.parse_filters(g.principal, org=request.args.get("org", ""),
                                           kind=request.args.get("kind", ""))
    except ValidationFailed as exc:
        for message in exc.fields.values():
            flash(message, "danger")
        org, kind, status = None, "", 400
    counts = services.counts(g.principal, org=org)
    pagination = services.page(g.principal, counts, org=org, kind=kind, number=page_arg(),
                               per_page=current_app.config.get("PER_PAGE", 20))
    tree = orgs.tree(limit_to=scope.limit(g.principal))
    return render_template(
        "worklist/index.html", pagination=pagination, counts=counts, org=org, kind=kind, kinds=KINDS,
        labels=services.kind_labels(), summary=services.summary, link=services.linker(), orgs=tree,
        org_names={o.id: o.name for o in tree},
        org_rows=services.org_counts(g.principal, tree) if g.principal.can(MANAGE_USERS) else None,
        today=clock.today()), status


@bp.get("/t/<tenant>/worklist/greetings/<int:member_id>", endpoint="greeting")
@permission(READ)
def greeting(member_id):
    """The political-birthday greeting letter, printable on A4."""
    member = members.get(g.principal, member_id)
    today = clock.today()
    anniversary = rules.next_anniversary(member.joined_on, today)
    return render_template("worklist/greeting.html", member=member, anniversary=anniversary,
                           years=anniversary.year - member.joined_on.year, today=today, sender=member.org)


@bp.get("/region/<code>/worklist", endpoint="region")
@upper_only
def region(code):
    rows = services.region_counts(region_tenants(g.user, code))
    totals = {k: sum(r["counts"].get(k, 0) for r in rows) for k in KINDS}
    return render_template("worklist/region.html", code=code, rows=rows, totals=totals, kinds=KINDS,
                           label=services.kind_label)

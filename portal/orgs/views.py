"""Pages of a tenant's organizations: the tree, one organization, create, edit, move."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from portal.core.paging import in_memory, page_arg
from portal.audit import services as audit
from portal.auth.access import permission
from portal.core.forms import choices as form_choices
from portal.core.text import clean_query
from portal.auth.roles import AUDIT, MANAGE_ORGS, READ
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.orgs import services
from portal.orgs.forms import MoveForm, OrgForm
from portal.orgs.models import KINDS, ROLE_LABELS, ROLES, Organization
from portal.orgs import scope

bp = Blueprint("orgs", __name__, url_prefix="/t/<tenant>/orgs")

TREE_PER_PAGE = 100


def _levels(rows: list[Organization]) -> dict[int, int]:
    """Indentation of each row of a depth-first list, relative to the shallowest shown."""
    levels: dict[int, int] = {}
    for o in rows:
        levels[o.id] = levels[o.parent_id] + 1 if o.parent_id in levels else 0
    return levels


def _visible_tree() -> list[Organization]:
    return services.ordered(db.session.execute(services.visible_query(g.principal)).scalars().all())


def _parent_choices(exclude: Organization | None = None, *, top_label: str | None = None) -> list:
    rows = _visible_tree()
    levels = _levels(rows)
    choices = [("", top_label or _("（无上级，作为顶级组织）"))]
    for o in rows:
        if exclude is not None and o.is_within(exclude):
            continue
        choices.append((o.code, "　" * levels[o.id] + f"{o.name}（{o.kind}）"))
    return form_choices(choices)


def _apply_errors(form, exc: ValidationFailed) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(str(message))
        else:
            flash(str(message), "danger")


@bp.get("/")
@permission(READ)
def index():
    q = clean_query(request.args.get("q"))
    kind = request.args.get("kind") or ""
    role = request.args.get("role") or ""
    if kind not in KINDS:
        kind = ""
    if role not in ROLES:
        role = ""
    visible = _visible_tree()
    counts = services.member_counts()
    totals = services.subtree_totals(visible, counts)
    filtered = bool(q or kind or role)
    if filtered:
        matches = {o.id for o in db.session.execute(
            services.visible_query(g.principal, q=q, kind=kind, role=role)).scalars()}
        rows = [o for o in visible if o.id in matches]
    else:
        rows = visible
    by_id = {o.id: o for o in visible}
    trail = {}
    if filtered:
        for o in rows:
            ids = [int(p) for p in o.path.strip("/").split("/") if p.isdigit()][:-1]
            trail[o.id] = [by_id[i].name for i in ids if i in by_id]
    return render_template("orgs/index.html", page=in_memory(rows, page_arg(), TREE_PER_PAGE),
                           levels=_levels(visible), counts=counts, totals=totals, filtered=filtered,
                           trail=trail, q=q, kind=kind, role=role, kinds=KINDS, roles=ROLES,
                           org_roles=ROLE_LABELS, has_any=bool(visible))


@bp.route("/new", methods=["GET", "POST"])
@permission(MANAGE_ORGS)
def create():
    form = OrgForm()
    form.parent.choices = _parent_choices()
    if request.method == "GET" and request.args.get("parent"):
        form.parent.data = request.args["parent"]
    status = 200
    if form.validate_on_submit():
        try:
            org = services.create(g.user, form.data_for_service(with_code=True, with_parent=True))
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
            status = 400
        else:
            db.session.commit()
            flash(_("已新建组织：%(n)s（代码 %(c)s）", n=org.name, c=org.code), "success")
            return redirect(url_for("orgs.show", code=org.code))
    elif request.method == "POST":
        status = 400
    return render_template("orgs/form.html", form=form, org=None), status


@bp.get("/<code>")
@permission(READ)
def show(code):
    org = services.get_visible(g.principal, code)
    limit = scope.limit(g.principal)
    chain = [a for a in services.ancestors(org) if limit is None or a.is_within(limit)]
    subtree = services.descendants(org)
    counts = services.member_counts()
    total = sum(counts.get(o.id, 0) for o in subtree)
    history = None
    if g.principal.can(AUDIT):
        history = audit.trail(object_type="organization", object_id=org.code, per_page=10)
    return render_template("orgs/show.html", org=org, chain=chain, children=services.children_of(org),
                           direct=counts.get(org.id, 0), total=total, counts=counts, org_roles=ROLE_LABELS,
                           below=len(subtree) - 1, history=history)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@permission(MANAGE_ORGS)
def edit(code):
    org = services.get_visible(g.principal, code)
    initial = {k: getattr(org, k) for k in services.EDITABLE}
    form = OrgForm(data=initial)
    status = 200
    if form.validate_on_submit():
        try:
            services.update(g.user, org, form.data_for_service(with_code=False, with_parent=False))
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
            status = 400
        else:
            db.session.commit()
            flash(_("已保存"), "success")
            return redirect(url_for("orgs.show", code=org.code))
    elif request.method == "POST":
        status = 400
    return render_template("orgs/form.html", form=form, org=org), status


@bp.route("/<code>/move", methods=["GET", "POST"])
@permission(MANAGE_ORGS)
def move(code):
    org = services.get_visible(g.principal, code)
    form = MoveForm()
    form.parent.choices = _parent_choices(exclude=org)
    if request.method == "GET":
        form.parent.data = org.parent.code if org.parent_id and org.parent else ""
    status = 200
    if form.validate_on_submit():
        try:
            services.move(g.user, org, form.parent.data or None)
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
            status = 400
        else:
            db.session.commit()
            parent = org.parent
            flash(_("已将 %(n)s 移到 %(p)s 之下", n=org.name, p=parent.name) if parent
                  else _("已将 %(n)s 设为顶级组织", n=org.name), "success")
            return redirect(url_for("orgs.show", code=org.code))
    elif request.method == "POST":
        status = 400
    return render_template("orgs/move.html", form=form, org=org, below=len(services.descendants(org)) - 1), status


@bp.app_template_global()
def org_role_label(role: str) -> str:
    label = ROLE_LABELS.get(role)
    return str(label) if label else role



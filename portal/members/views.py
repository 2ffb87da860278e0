"""Pages of the member register: the lists (流出 / 流入), a member's page with the contact history,
and the forms to register, edit and record a contact. Thin: parse, call services, render."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from jinja2 import TemplateNotFound
from sqlalchemy import func, literal
from sqlalchemy.orm.exc import StaleDataError

from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ
from portal.core import clock, crypto, paging
from portal.core.errors import Conflict, ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.members import idnumber, rules, services
from portal.members.forms import ETHNICITIES, FORM_FIELDS, ContactForm, MemberForm, options
from portal.members.models import ACTIVE, DIRECTION_KEYS, Member

bp = Blueprint("members", __name__, url_prefix="/t/<tenant>/members")

TABS = ("outgoing", "incoming")
HISTORY_TAB = "transferred"  # rows kept after the relationship was transferred out
PER_PAGE_CHOICES = (20, 50, 100)
MAX_PAGE = 100_000
HELD_INCLUDE = "exchange/_held_elsewhere.html"
CONTACTS_PER_PAGE = 20


# ---- small helpers ----

def _arg(name: str, limit: int = 100) -> str:
    """A query-string value as clean text (no NUL, at most `limit` characters)."""
    value = request.args.get(name, "") or ""
    return value.replace("\x00", "").strip()[:limit]


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


def _id_arg(name: str) -> int | None:
    """A row id from the query string (?after=, ?before=), or None when absent or not an id."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _org_choices(principal, blank: str | None = None) -> list[tuple[str, str]]:
    """The tenant's organization tree as select options (a secretary sees their subtree only)."""
    orgs = services.allowed_orgs(principal)
    top = min((o.depth for o in orgs), default=0)
    choices = [("", blank)] if blank is not None else []
    return choices + [(o.code, "\u3000" * (o.depth - top) + o.name) for o in orgs]


def _put_errors(form, exc: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields; others as a message above."""
    for field in form:
        field.errors = []
    rest = []
    for key, message in exc.fields.items():
        key = {"holds_relationship": "not_transferred"}.get(key, key)
        field = getattr(form, key, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [str(message)]
        else:
            rest.append(str(message))
    if rest:
        flash("；".join(rest), "danger")


def _template_exists(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _held_elsewhere(number: str, direction: str) -> dict | None:
    """Who holds the relationship of this ID number, when it is another tenant."""
    try:
        number, _born = idnumber.validate(number)
    except idnumber.InvalidIdNumber:
        return None
    found = services.holder(crypto.keyed_hashes(number))
    if found is None or found[2].id == g.tenant.id:
        return None
    _hold, org, tenant = found
    return {"org": org, "tenant": tenant, "id_number": number,
            "direction": DIRECTION_KEYS.get(direction, direction)}


def _form_page(form, member=None, *, status=200, held=None, stale=None):
    return render_template("members/form.html", form=form, member=member, held_elsewhere=held,
                           held_include=_template_exists(HELD_INCLUDE), stale=stale,
                           ethnicities=ETHNICITIES), status


def _both_versions(form, member_id) -> dict:
    """The conflict page: the saved version (as it is now, read again) beside the one this person
    sent, field by field, so nothing they typed is lost and nothing of the other save is hidden."""
    db.session.rollback()
    saved = services.get(g.principal, member_id)
    current = _form_data(saved)
    sent = form.member_data()
    rows = []
    for key in FORM_FIELDS:
        if key == "birth_date":
            continue
        mine = "" if sent.get(key) is None else str(sent.get(key))
        theirs = "" if current.get(key) is None else str(current.get(key))
        rows.append({"label": getattr(form, key).label.text, "saved": theirs, "sent": mine,
                     "differs": mine.strip() != theirs.strip()})
    # Sending the form again now is a deliberate choice made with the saved version in view.
    form.version.data = str(saved.version)
    return {"rows": rows, "version": saved.version, "member": saved}


# ---- the lists ----

@bp.get("/")
@permission(READ)
def index():
    principal = g.principal
    tab = request.args.get("direction", "outgoing")
    tab = {"流出": "outgoing", "流入": "incoming", "已转出": HISTORY_TAB}.get(tab, tab)
    if tab not in TABS + (HISTORY_TAB,):
        tab = "outgoing"
    org_choices = _org_choices(principal, blank=_("全部组织"))
    filters = {
        "q": _arg("q"),
        "org": _arg("org") if _arg("org") in {code for code, _label in org_choices} else "",
        "contact": _arg("contact") if _arg("contact") in rules.CONTACT_LABELS else "",
        "dues": _arg("dues") if _arg("dues") in rules.DUES_LABELS else "",
    }
    filtering = any(filters.values())
    # All three tabs counted by one statement (both directions grouped over the search, the
    # transferred-out history beside them), and the page reuses its tab's count.
    found = services.search(principal, **filters).order_by(None).subquery()
    history = services.transferred_out(principal, q=filters["q"])
    counted = dict(db.session.execute(
        db.select(found.c.direction, func.count()).group_by(found.c.direction).union_all(
            db.select(literal(HISTORY_TAB), func.count()).select_from(history.order_by(None).subquery()))).all())
    counts = {key: counted.get(DIRECTION_KEYS[key], 0) for key in TABS}
    counts[HISTORY_TAB] = counted.get(HISTORY_TAB, 0)
    per_page = _int_arg("per_page", current_app.config.get("PER_PAGE", 20), 1, max(PER_PAGE_CHOICES))
    # Next and previous read past the row they follow (keyset), so a deep page costs a first one.
    seek = {"page": _int_arg("page", 1, 1, MAX_PAGE), "per_page": per_page, "total": counts[tab],
            "after": _id_arg("after"), "before": _id_arg("before")}
    if tab == HISTORY_TAB:
        pagination = paging.seek(history, Member, ("updated_at", "id"), descending=True, **seek)
    else:
        pagination = paging.seek(services.search(principal, direction=tab, **filters), Member, ("name", "id"), **seek)
    today = clock.today()
    cutoff = rules.lost_contact_cutoff(today, g.tenant.lost_contact_months or 6)
    return render_template(
        "members/index.html", tab=tab, counts=counts, pagination=pagination, filters=filters,
        active={k: v for k, v in filters.items() if v},
        filtering=filtering, org_choices=org_choices, dues_labels=rules.DUES_LABELS,
        contact_labels=rules.CONTACT_LABELS, today=today, lost_cutoff=cutoff, dues_bucket=rules.dues_bucket,
        can_edit=principal.can(EDIT_REGISTER))


# ---- one member ----

def _show_page(member, contact_form=None, *, status=200):
    principal = g.principal
    page = _int_arg("page", 1, 1, MAX_PAGE)
    items, total, names = services.contacts_page(member, page, CONTACTS_PER_PAGE)
    contacts = paging.Page(items, page=page, per_page=CONTACTS_PER_PAGE, total=total)
    today = clock.today()
    if contact_form is None:
        contact_form = ContactForm(formdata=None, on=today.isoformat())
    cutoff = rules.lost_contact_cutoff(today, g.tenant.lost_contact_months or 6)
    reveal = services.may_see_id(principal)
    return render_template(
        "members/show.html", member=member, contacts=contacts, contact_form=contact_form,
        contact_names=names,
        id_number=(services.id_number_of(member) or member.id_masked) if reveal else member.id_masked,
        id_revealed=reveal, can_edit=principal.can(EDIT_REGISTER) and member.status == ACTIVE,
        dues_label=rules.DUES_LABELS[rules.dues_bucket(member.dues_paid_through or "", today)],
        dues_bucket=rules.dues_bucket(member.dues_paid_through or "", today),
        lost=member.last_contact_on is None or member.last_contact_on < cutoff,
        age=rules.full_years(member.birth_date, today)), status


@bp.get("/<int:member_id>")
@permission(READ)
def show(member_id):
    # A member transferred out keeps a read-only page: the old link tells where they went.
    return _show_page(services.get(g.principal, member_id, with_history=True))


@bp.post("/<int:member_id>/contacts")
@permission(EDIT_REGISTER)
def add_contact(member_id):
    principal = g.principal
    member = services.get(principal, member_id)
    form = ContactForm()
    try:
        services.record_contact(principal, member, {"on": form.on.data, "channel": form.channel.data,
                                                    "note": form.note.data})
    except ValidationFailed as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return _show_page(services.get(principal, member_id), form, status=400)
    db.session.commit()
    flash(_("已记录联系"), "success")
    return redirect(url_for("members.show", member_id=member.id, _anchor="contacts"))


# ---- register and edit ----

@bp.route("/new", methods=["GET", "POST"])
@permission(EDIT_REGISTER)
def create():
    principal = g.principal
    form = MemberForm()
    choices = _org_choices(principal, blank="—")
    form.org.choices = options(choices)
    if request.method == "GET":
        direction = {"incoming": "流入", "outgoing": "流出"}.get(request.args.get("direction", ""), "流出")
        form.direction.data = direction
        if principal.org_limit:
            form.org.data = next((code for code, _label in choices if code), "")
        return _form_page(form)
    data = form.member_data()
    holds = not form.not_transferred.data
    try:
        member = services.create(principal, data, holds_relationship=holds, asked_by_person=True)
    except services.HeldElsewhere as exc:
        db.session.rollback()
        _put_errors(form, exc)
        held = _held_elsewhere(data["id_number"] or "", data["direction"] or "")
        return _form_page(form, status=409, held=held)
    except ValidationFailed as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return _form_page(form, status=400)
    db.session.commit()
    flash(_("已登记党员 %(n)s", n=member.name), "success")
    return redirect(url_for("members.show", member_id=member.id))


def _form_data(member) -> dict:
    data = services.to_dict(member, reveal_id=True)
    return {key: data.get(key) or "" for key in FORM_FIELDS}


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@permission(EDIT_REGISTER)
def edit(member_id):
    principal = g.principal
    member = services.get(principal, member_id)
    if request.method == "GET":
        form = MemberForm(formdata=None, data=_form_data(member))
        form.version.data = str(member.version)
        form.org.choices = options(_org_choices(principal, blank="—"))
        return _form_page(form, member)
    form = MemberForm()
    form.org.choices = options(_org_choices(principal, blank="—"))
    try:
        version = int(form.version.data or "")
    except ValueError:
        flash(_("表单缺少版本信息，请重新打开编辑页面"), "danger")
        return _form_page(form, member, status=400)
    data = form.member_data()
    data.pop("birth_date", None)  # follows the ID number; shown, not edited
    try:
        services.update(principal, member, data, expected_version=version)
    except services.HeldElsewhere as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return _form_page(form, member, status=409)
    except ValidationFailed as exc:
        db.session.rollback()
        _put_errors(form, exc)
        return _form_page(form, member, status=400)
    except (Conflict, StaleDataError):
        stale = _both_versions(form, member_id)
        return _form_page(form, stale["member"], status=409, stale=stale)
    try:
        db.session.commit()
    except StaleDataError:
        # Another save committed between this one's read and its write (the version column).
        stale = _both_versions(form, member_id)
        return _form_page(form, stale["member"], status=409, stale=stale)
    flash(_("已保存"), "success")
    return redirect(url_for("members.show", member_id=member.id))

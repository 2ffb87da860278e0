"""Pages of a member's standing (党费, 组织生活, 活动证: sections of the member page, each with its
own paginated page and form) and the tenant's 学习积分 pages (activities, attendees, yearly
points, the half-yearly list to publish). Thin: parse, call services, render."""
from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ
from portal.core import clock
from portal.core.errors import Conflict, PortalError, ValidationFailed
from portal.core.paging import paginate
from portal.core.parsing import parse_date
from portal.extensions import db
from portal.i18n import _
from portal.members import services as members
from portal.core.forms import choices as options
from portal.standing import publish, services
from portal.standing.models import ORG_LIFE_KINDS
from portal.standing.forms import (ActivityForm, AttendeesForm, CertificateForm, DuesForm, OrgLifeForm,
                                   StepForm)

bp = Blueprint("standing", __name__, url_prefix="/t/<tenant>")

PER_PAGE = 20
POINTS_PER_PAGE = 50


def _put_errors(form, exc: PortalError) -> None:
    """A service's field errors next to the form's fields; the rest as a message above."""
    rest = []
    for key, message in exc.fields.items():
        field = getattr(form, key, None) if form is not None else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [str(message)]
        else:
            rest.append(str(message))
    if not isinstance(exc, ValidationFailed):  # a conflict explains itself above the form
        flash(exc.message, "danger")
    elif rest or not exc.fields:
        flash("；".join(rest) or exc.message, "danger")


def _refused(exc: PortalError, form=None):
    db.session.rollback()
    _put_errors(form, exc)


def _org_choices(principal, blank: str | None = None):
    orgs = members.allowed_orgs(principal)
    top = min((o.depth for o in orgs), default=0)
    choices = [("", blank)] if blank is not None else []
    return options(choices + [(o.code, "\u3000" * (o.depth - top) + o.name) for o in orgs])


def _member(member_id):
    return members.get(g.principal, member_id)


def _back_to_member(member, anchor: str):
    return redirect(url_for("members.show", member_id=member.id, _anchor=anchor))


# ---- the member page's sections ----

def member_panel(member) -> dict:
    """What the member page shows of the member's standing (templates/standing/_member_panel.html).
    Its two small forms are written out in the template: they are always blank here, and building
    and rendering them through WTForms cost more than the page's own standing reads."""
    today = clock.today()
    summary = services.member_summary(member, today.year)
    return {
        **summary,
        "org_names": services.org_names(r.org_id for r in summary["org_life"]),
        "today": today, "is_due": services.is_due, "year": today.year,
        "target": services.POINTS_TARGET, "kinds": ORG_LIFE_KINDS,
        "can_edit": g.principal.can(EDIT_REGISTER), "current_month": services.current_month(),
    }


def _dues_page(member, form=None, status=200):
    page = paginate(services.dues_query(member), per_page=PER_PAGE)
    form = form or DuesForm(formdata=None, month=services.current_month())
    return render_template("standing/dues.html", member=member, payments=page, form=form,
                           names=members.recorder_names(page.items),
                           can_edit=g.principal.can(EDIT_REGISTER)), status


@bp.get("/members/<int:member_id>/dues")
@permission(READ)
def dues(member_id):
    return _dues_page(_member(member_id))


@bp.post("/members/<int:member_id>/dues")
@permission(EDIT_REGISTER)
def add_dues(member_id):
    member = _member(member_id)
    form = DuesForm()
    try:
        payment = services.record_dues(g.principal, member, form.values())
    except (ValidationFailed, Conflict) as exc:  # 400 or 409, as the error says
        _refused(exc, form)
        return _dues_page(_member(member_id), form, exc.status)
    db.session.commit()
    flash(_("已登记 %(m)s 党费，党费交至 %(t)s", m=payment.month, t=member.dues_paid_through), "success")
    if request.form.get("next") == "member":
        return _back_to_member(member, "standing-dues")
    return redirect(url_for("standing.dues", member_id=member.id))


@bp.post("/members/<int:member_id>/dues/<int:payment_id>/delete")
@permission(EDIT_REGISTER)
def delete_dues(member_id, payment_id):
    member = _member(member_id)
    services.delete_dues(g.principal, member, payment_id)
    db.session.commit()
    flash(_("已删除该月缴费记录"), "success")
    return redirect(url_for("standing.dues", member_id=member.id))


def _org_life_page(member, form=None, status=200):
    page = paginate(services.org_life_query(member), per_page=PER_PAGE)
    form = form or OrgLifeForm(formdata=None, on=clock.today().isoformat())
    return render_template("standing/org_life.html", member=member, records=page, form=form,
                           org_names=services.org_names(r.org_id for r in page.items),
                           names=members.recorder_names(page.items),
                           can_edit=g.principal.can(EDIT_REGISTER)), status


@bp.get("/members/<int:member_id>/org-life")
@permission(READ)
def org_life(member_id):
    return _org_life_page(_member(member_id))


@bp.post("/members/<int:member_id>/org-life")
@permission(EDIT_REGISTER)
def add_org_life(member_id):
    member = _member(member_id)
    form = OrgLifeForm()
    try:
        services.record_org_life(g.principal, member, form.values())
    except ValidationFailed as exc:
        _refused(exc, form)
        return _org_life_page(_member(member_id), form, 400)
    db.session.commit()
    flash(_("已记录组织生活"), "success")
    if request.form.get("next") == "member":
        return _back_to_member(member, "standing-org-life")
    return redirect(url_for("standing.org_life", member_id=member.id))


@bp.post("/members/<int:member_id>/org-life/<int:record_id>/delete")
@permission(EDIT_REGISTER)
def delete_org_life(member_id, record_id):
    member = _member(member_id)
    services.delete_org_life(g.principal, member, record_id)
    db.session.commit()
    flash(_("已删除该条组织生活记录"), "success")
    return redirect(url_for("standing.org_life", member_id=member.id))


def _certificates_page(member, form=None, status=200):
    certs = db.session.execute(services.certificates_query(member)).scalars().all()
    form = form or CertificateForm(formdata=None, issued_on=clock.today().isoformat())
    return render_template("standing/certificates.html", member=member, certificates=certs, form=form,
                           step_form=StepForm(formdata=None, on=clock.today().isoformat()),
                           today=clock.today(), is_due=services.is_due,
                           can_edit=g.principal.can(EDIT_REGISTER)), status


@bp.get("/members/<int:member_id>/certificates")
@permission(READ)
def certificates(member_id):
    return _certificates_page(_member(member_id))


@bp.post("/members/<int:member_id>/certificates")
@permission(EDIT_REGISTER)
def issue_certificate(member_id):
    member = _member(member_id)
    form = CertificateForm()
    try:
        cert = services.issue_certificate(g.principal, member, form.values())
    except (ValidationFailed, Conflict) as exc:  # 400 or 409, as the error says
        _refused(exc, form)
        return _certificates_page(_member(member_id), form, exc.status)
    db.session.commit()
    flash(_("已发放活动证 %(n)s", n=cert.number), "success")
    return redirect(url_for("standing.certificates", member_id=member.id))


def _certificate_step(member_id, cert_id, step, done):
    member = _member(member_id)
    form = StepForm()
    try:
        cert = step(g.principal, member, cert_id, form.values())
    except (ValidationFailed, Conflict) as exc:
        _refused(exc)
        return _certificates_page(_member(member_id), status=exc.status)
    db.session.commit()
    flash(done(cert), "success")
    if request.form.get("next") == "due":  # checked from the tenant's list of certificates due
        return redirect(url_for("standing.certificates_due"))
    return redirect(url_for("standing.certificates", member_id=member.id))


@bp.post("/members/<int:member_id>/certificates/<int:cert_id>/check")
@permission(EDIT_REGISTER)
def check_certificate(member_id, cert_id):
    return _certificate_step(member_id, cert_id, services.check_certificate, lambda cert: _(
        "活动证 %(n)s 已于 %(d)s 查验", n=cert.number, d=cert.last_checked_on.isoformat()))


@bp.post("/members/<int:member_id>/certificates/<int:cert_id>/return")
@permission(EDIT_REGISTER)
def return_certificate(member_id, cert_id):
    return _certificate_step(member_id, cert_id, services.return_certificate,
                             lambda cert: _("活动证 %(n)s 已收回", n=cert.number))


# ---- the tenant's certificate check list ----

def _as_of_arg():
    raw = (request.args.get("as_of") or "").strip()[:20]
    if not raw:
        return clock.today()
    try:
        as_of = parse_date(raw)
    except ValueError:
        raise ValidationFailed({"as_of": _("日期格式应为YYYY-MM-DD")})
    if not 1950 <= as_of.year <= 2999:
        raise ValidationFailed({"as_of": _("日期无效")})
    return as_of


@bp.get("/standing/certificates")
@permission(READ)
def certificates_due():
    as_of = _as_of_arg()
    page = paginate(services.certificates_due(g.principal, as_of), per_page=PER_PAGE)
    return render_template("standing/certificates_due.html", rows=page, as_of=as_of,
                           can_edit=g.principal.can(EDIT_REGISTER))


# ---- 学习积分: activities, attendees, points ----

def _activities_page(form=None, status=200):
    principal = g.principal
    year = services.parse_year(request.args.get("year"))
    page = paginate(services.activities_query(principal, year=year), per_page=PER_PAGE)
    if form is None:
        form = ActivityForm(formdata=None, on=clock.today().isoformat())
    form.org.choices = _org_choices(principal, blank="—")
    return render_template("standing/activities.html", activities=page, form=form, year=year,
                           counts=services.attendee_count(a.id for a in page.items),
                           org_names=services.org_names(a.org_id for a in page.items),
                           can_edit=principal.can(EDIT_REGISTER)), status


@bp.get("/standing/training")
@permission(READ)
def activities():
    return _activities_page()


@bp.post("/standing/training")
@permission(EDIT_REGISTER)
def create_activity():
    form = ActivityForm()
    try:
        activity = services.create_activity(g.principal, form.values())
    except ValidationFailed as exc:
        _refused(exc, form)
        return _activities_page(form, 400)
    db.session.commit()
    flash(_("已登记学习活动“%(t)s”，请添加参加的党员", t=activity.title), "success")
    return redirect(url_for("standing.activity", activity_id=activity.id))


def _activity_page(activity, form=None, status=200):
    principal = g.principal
    page = paginate(services.attendees_query(principal, activity), per_page=POINTS_PER_PAGE)
    form = form or AttendeesForm(formdata=None)
    form.org.choices = _org_choices(principal, blank=_("（不按组织添加）"))
    return render_template("standing/activity.html", activity=activity, attendees=page, form=form,
                           org_name=services.org_names([activity.org_id]).get(activity.org_id, ""),
                           can_edit=principal.can(EDIT_REGISTER)), status


@bp.get("/standing/training/<int:activity_id>")
@permission(READ)
def activity(activity_id):
    return _activity_page(services.get_activity(g.principal, activity_id))


@bp.post("/standing/training/<int:activity_id>/attendees")
@permission(EDIT_REGISTER)
def add_attendees(activity_id):
    activity = services.get_activity(g.principal, activity_id)
    form = AttendeesForm()
    try:
        added = services.add_attendees(g.principal, activity, form.values())
    except (ValidationFailed, Conflict) as exc:
        _refused(exc, form)
        return _activity_page(services.get_activity(g.principal, activity_id), form, exc.status)
    db.session.commit()
    flash(_("已添加 %(n)d 名党员", n=added), "success")
    return redirect(url_for("standing.activity", activity_id=activity.id))


@bp.post("/standing/training/<int:activity_id>/attendees/<int:member_id>/delete")
@permission(EDIT_REGISTER)
def remove_attendee(activity_id, member_id):
    activity = services.get_activity(g.principal, activity_id)
    services.remove_attendee(g.principal, activity, member_id)
    db.session.commit()
    flash(_("已从名单中移除"), "success")
    return redirect(url_for("standing.activity", activity_id=activity.id))


def _points_args():
    principal = g.principal
    choices = _org_choices(principal, blank=_("全部组织"))
    org = (request.args.get("org") or "").strip()[:40]
    org = org if org in {c.value if hasattr(c, "value") else c[0] for c in choices} else ""
    return {"year": services.parse_year(request.args.get("year")),
            "half": services.parse_half(request.args.get("half")), "org": org,
            "below": request.args.get("below") in ("1", "on", "true")}, choices


@bp.get("/standing/points")
@permission(READ)
def points():
    args, choices = _points_args()
    query = services.points_query(g.principal, args["year"], half=args["half"], below=args["below"],
                                  org=args["org"])
    # Paginate the members (db.paginate keeps the first column), then read the page's points rows.
    page = paginate(query, per_page=POINTS_PER_PAGE)
    rows = [services.points_row(r) for r in db.session.execute(
        query.limit(POINTS_PER_PAGE).offset((page.page - 1) * POINTS_PER_PAGE)).unique().all()]
    return render_template("standing/points.html", rows=rows, pagination=page, args=args, org_choices=choices,
                           target=services.POINTS_TARGET, this_year=clock.today().year)


@bp.get("/standing/points/publish")
@permission(READ)
def publish_print():
    args, _choices = _points_args()
    half = args["half"] or (1 if clock.today().month <= 6 else 2)
    items = publish.rows(g.principal, args["year"], half, org=args["org"])
    return render_template("standing/publish.html", items=items, year=args["year"], half=half,
                           heading=publish.title(g.tenant.name, args["year"], half), headers=publish.HEADERS,
                           target=services.POINTS_TARGET, printed_on=clock.today(), org=args["org"])


@bp.get("/standing/points/publish.xlsx")
@permission(READ)
def publish_xlsx():
    args, _choices = _points_args()
    half = args["half"] or (1 if clock.today().month <= 6 else 2)
    heading = publish.title(g.tenant.name, args["year"], half)
    data = publish.to_xlsx(heading, publish.rows(g.principal, args["year"], half, org=args["org"]))
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(heading + '.xlsx')}"})

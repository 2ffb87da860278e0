"""Pages of the letters feature: the list of issued documents, a letter's page (download,
re-render, void), the member documents, and the batches (open letter, all letters of a day)."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from portal.core.downloads import file_response
from portal.core.paging import page_arg, paginate
from portal.auth.access import permission
from portal.auth.roles import LETTERS
from portal.core.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import get_job
from portal.letters import documents, files, services
from portal.letters.files import letter_filename
from portal.letters.forms import CertificateLetterForm, DayBatchForm, OpenLetterForm, VoidForm, put_errors
from portal.letters.models import STATE_LABELS, STATES
from portal.core import clock, qr
from portal.letters.render import merge_open_letter
from portal.members import services as members
from portal.orgs import scope
from portal.orgs import services as orgs

bp = Blueprint("letters", __name__, url_prefix="/t/<tenant>/letters")


def member_letters(member, limit: int = 10):
    """Template global for the member page's panel: the member's documents, newest first."""
    principal = g.get("principal")
    if principal is None or not principal.can(LETTERS) or member is None:
        return []
    return services.for_subject("member", member.id, limit)


def _get_member(member_id):
    if services.as_id(member_id) is None:
        raise NotFound(_("党员不存在"))
    return members.get(g.principal, member_id)


def _kind_choices(all_label):
    return [("", all_label)] + services.kind_choices()


# ---------------------------------------------------------------- the list

@bp.get("/")
@permission(LETTERS)
def index():
    filters = {k: (request.args.get(k) or "").strip()[:60] for k in ("kind", "state", "date", "q")}
    try:
        query = services.search(g.principal, kind=filters["kind"], state=filters["state"], on=filters["date"],
                                q=filters["q"])
    except ValidationFailed as exc:
        flash(_("筛选条件有误：%(m)s", m=exc.message), "warning")
        query = services.search(g.principal)
    letters = paginate(query)
    day_form = DayBatchForm(formdata=None, date=clock.today().isoformat())
    day_form.kind.choices = _kind_choices(_("全部类型"))
    return render_template("letters/pages/index.html", letters=letters, filters=filters,
                           kinds=services.kind_choices(), states=[(s, str(STATE_LABELS[s])) for s in STATES],
                           batches=services.recent_batches(g.principal), day_form=day_form)


# ---------------------------------------------------------------- one letter

@bp.get("/<int:letter_id>")
@permission(LETTERS)
def show(letter_id):
    letter = services.get(g.principal, letter_id)
    job = get_job(letter.job_id) if letter.job_id and not letter.rendered else None
    return render_template("letters/pages/show.html", letter=letter, job=job,
                           void_form=VoidForm(formdata=None),
                           verify_url=services.verify.verify_url(letter.token),
                           qr_svg=qr.svg_for(services.verify.verify_url(letter.token)))


@bp.get("/<int:letter_id>.pdf")
@permission(LETTERS)
def download(letter_id):
    letter = services.get(g.principal, letter_id)
    data = services.pdf_bytes(letter)
    return file_response(data, letter_filename(letter), inline=request.args.get("inline") == "1")


@bp.post("/<int:letter_id>/render")
@permission(LETTERS)
def rerender(letter_id):
    letter = services.get(g.principal, letter_id)
    try:
        job = services.rerender(g.principal, letter)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("letters.show", letter_id=letter.id))
    db.session.commit()
    flash(_("已提交重新生成，稍候刷新本页") if job else _("已重新生成PDF"), "success")
    return redirect(url_for("letters.show", letter_id=letter.id))


@bp.post("/<int:letter_id>/void")
@permission(LETTERS)
def void(letter_id):
    letter = services.get(g.principal, letter_id)
    form = VoidForm()
    try:
        services.void_by_user(g.principal, letter, form.reason.data)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("letters.show", letter_id=letter.id))
    db.session.commit()
    flash(_("文书 %(n)s 已作废，文号保留", n=letter.number), "success")
    return redirect(url_for("letters.show", letter_id=letter.id))


# ---------------------------------------------------------------- documents about a member

@bp.route("/member/<int:member_id>/certificate-letter", methods=["GET", "POST"])
@permission(LETTERS)
def certificate_letter(member_id):
    member = _get_member(member_id)
    form = CertificateLetterForm()
    if request.method == "POST":
        try:
            letter = documents.issue_certificate_letter(g.principal, member, {
                "to_place": form.to_place.data, "reason": form.reason.data,
                "valid_until": form.valid_until.data})
        except ValidationFailed as exc:
            db.session.rollback()
            if not put_errors(form, exc.fields):
                flash(exc.message, "danger")
            return render_template("letters/pages/certificate_form.html", form=form, member=member), 400
        db.session.commit()
        flash(_("已开具党员证明信 %(n)s", n=letter.number), "success")
        return redirect(url_for("letters.show", letter_id=letter.id))
    return render_template("letters/pages/certificate_form.html", form=form, member=member)


@bp.post("/member/<int:member_id>/activity-card")
@permission(LETTERS)
def activity_card(member_id):
    member = _get_member(member_id)
    try:
        letter = documents.issue_activity_card(g.principal, member)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(request.referrer or url_for("letters.index"))
    db.session.commit()
    flash(_("已发放流动党员活动证，证号 %(n)s", n=letter.number), "success")
    return redirect(url_for("letters.show", letter_id=letter.id))


# ---------------------------------------------------------------- batches

def _org_choices():
    limit = scope.limit(g.principal)
    choices = [] if limit else [("", _("本县区全部流出党员"))]
    for org in orgs.tree(limit_to=limit):
        choices.append((org.code, "　" * max(org.depth, 0) + org.name))
    return choices


@bp.route("/open-letter", methods=["GET", "POST"])
@permission(LETTERS)
def open_letter():
    form = OpenLetterForm(body=documents.DEFAULT_OPEN_LETTER) if request.method == "GET" else OpenLetterForm()
    form.org.choices = _org_choices()
    preview = None
    if request.method == "POST":
        data = {"body": form.body.data, "org": form.org.data}
        try:
            if request.form.get("action") == "issue":
                batch = documents.start_open_letter(g.principal, data)
                db.session.commit()
                services.dispatch_batch(batch, user_id=g.user.id)
                return redirect(url_for("letters.batch", batch_id=batch.id))
            values = documents.clean_open_letter(data)
            _org, query = documents.open_letter_recipients(g.principal, values["org"])
            count = db.session.execute(db.select(db.func.count()).select_from(query.subquery())).scalar_one()
            first = db.session.execute(query.limit(1)).scalars().first()
            text = merge_open_letter(values["body"], documents.open_letter_member(first)) if first else ""
            preview = {"count": count, "member": first, "text": text}
        except ValidationFailed as exc:
            db.session.rollback()
            if not put_errors(form, exc.fields):
                flash(exc.message, "danger")
            return render_template("letters/pages/open_letter.html", form=form, preview=None), 400
    return render_template("letters/pages/open_letter.html", form=form, preview=preview)


@bp.post("/day")
@permission(LETTERS)
def day_batch():
    try:
        batch = services.start_day_batch(g.principal, (request.form.get("date") or "").strip()[:20],
                                         (request.form.get("kind") or "").strip()[:30])
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("letters.index"))
    db.session.commit()
    services.dispatch_batch(batch, user_id=g.user.id)
    return redirect(url_for("letters.batch", batch_id=batch.id))


@bp.get("/batches/<int:batch_id>")
@permission(LETTERS)
def batch(batch_id):
    batch = services.get_batch(g.principal, batch_id)
    job = services.batch_job(batch)
    per_page = 50
    page = page_arg()
    ids = batch.letter_ids or []
    pages = max((len(ids) + per_page - 1) // per_page, 1)
    page = min(page, pages)
    shown = services.letters_by_ids(ids[(page - 1) * per_page: page * per_page])
    return render_template("letters/pages/batch.html", batch=batch, job=job, letters=shown, page=page,
                           pages=pages)


@bp.post("/batches/<int:batch_id>/restart")
@permission(LETTERS)
def batch_restart(batch_id):
    batch = services.get_batch(g.principal, batch_id)
    job = services.batch_job(batch)
    if job is not None and job.state in ("queued", "running"):
        flash(_("该批量任务正在进行中"), "warning")
    else:
        services.dispatch_batch(batch, user_id=g.user.id)
    return redirect(url_for("letters.batch", batch_id=batch.id))


@bp.get("/batches/<int:batch_id>.pdf")
@permission(LETTERS)
def batch_pdf(batch_id):
    data, name, mimetype = files.batch_file(g.principal, batch_id, "pdf")
    return file_response(data, name, mimetype=mimetype, inline=request.args.get("inline") == "1")


@bp.get("/batches/<int:batch_id>.zip")
@permission(LETTERS)
def batch_archive(batch_id):
    data, name, mimetype = files.batch_file(g.principal, batch_id, "zip")
    return file_response(data, name, mimetype=mimetype)



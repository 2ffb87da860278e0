"""API routes of the letters feature (see api.md): issued documents, their PDFs, voiding,
member documents, batches (the open letter, all letters of a day) and job status."""
from flask import g, jsonify, request

from portal.api.blueprint import bp
from portal.api.util import json_body, listing
from portal.auth.access import permission
from portal.auth.roles import LETTERS, READ
from portal.core.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.letters import documents, services
from portal.letters.views import _safe_filename, batch_zip, letter_filename, pdf_response


def _args(*names) -> dict:
    return {n: (request.args.get(n) or "").strip()[:60] for n in names}


def _member(member_id):
    from portal.members import services as members
    if services.as_id(member_id) is None:
        raise NotFound(_("党员不存在"))
    return members.get(g.principal, member_id)


def _batch_dict(batch) -> dict:
    job = services.batch_job(batch)
    return {"id": batch.id, "kind": batch.kind, "title": batch.title, "count": batch.count,
            "date": batch.on_date.isoformat() if batch.on_date else None,
            "job": job.to_dict() if job else None, "rendered": batch.rendered_at is not None,
            "pdf_sha256": batch.pdf_sha256 or None}


@bp.get("/t/<tenant>/letters")
@permission(LETTERS)
def letters_list():
    a = _args("kind", "state", "date", "q", "subject")
    query = services.search(g.principal, kind=a["kind"], state=a["state"], on=a["date"], q=a["q"],
                            subject=a["subject"])
    return jsonify(listing(query, services.to_dict))


@bp.get("/t/<tenant>/letters/<int:letter_id>")
@permission(LETTERS)
def letters_get(letter_id):
    return jsonify(services.to_dict(services.get(g.principal, letter_id)))


@bp.get("/t/<tenant>/letters/<int:letter_id>.pdf")
@permission(LETTERS)
def letters_pdf(letter_id):
    letter = services.get(g.principal, letter_id)
    data = services.pdf_bytes(letter)
    return pdf_response(data, letter_filename(letter))


@bp.post("/t/<tenant>/letters/<int:letter_id>/void")
@permission(LETTERS)
def letters_void(letter_id):
    letter = services.get(g.principal, letter_id)
    body = json_body()
    services.void_by_user(g.principal, letter, body.get("reason"))
    db.session.commit()
    return jsonify(services.to_dict(services.get(g.principal, letter_id)))


@bp.post("/t/<tenant>/letters/<int:letter_id>/render")
@permission(LETTERS)
def letters_render(letter_id):
    letter = services.get(g.principal, letter_id)
    job = services.rerender(g.principal, letter)
    db.session.commit()
    answer = {"letter": services.to_dict(letter), "job": job.to_dict() if job else None}
    return jsonify(answer), 202 if job else 200


@bp.post("/t/<tenant>/members/<int:member_id>/certificate-letter")
@permission(LETTERS)
def letters_certificate(member_id):
    member = _member(member_id)
    letter = documents.issue_certificate_letter(g.principal, member, json_body())
    db.session.commit()
    return jsonify(services.to_dict(letter)), 201


@bp.post("/t/<tenant>/members/<int:member_id>/activity-card")
@permission(LETTERS)
def letters_activity_card(member_id):
    member = _member(member_id)
    if request.get_data() and not isinstance(request.get_json(silent=True), (dict, type(None))):
        raise ValidationFailed({"body": _("请求体应为JSON对象")})
    letter = documents.issue_activity_card(g.principal, member)
    db.session.commit()
    return jsonify({**services.to_dict(letter), "card_no": letter.number}), 201


@bp.post("/t/<tenant>/letters/open-letter")
@permission(LETTERS)
def letters_open_letter():
    batch = documents.start_open_letter(g.principal, json_body())
    db.session.commit()
    job = services.dispatch_batch(batch, user_id=g.user.id)
    return jsonify({"job": job.id, "batch": batch.id, "count": batch.count}), 202


@bp.post("/t/<tenant>/letters/day-batch")
@permission(LETTERS)
def letters_day_batch():
    body = json_body()
    on, kind = body.get("date"), body.get("kind") or ""
    if not isinstance(on, str) or not isinstance(kind, str):
        raise ValidationFailed({"date": _("date 应为 YYYY-MM-DD 文本")})
    batch = services.start_day_batch(g.principal, on.strip()[:20], kind.strip()[:30])
    db.session.commit()
    job = services.dispatch_batch(batch, user_id=g.user.id)
    return jsonify({"job": job.id, "batch": batch.id, "count": batch.count}), 202


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>")
@permission(LETTERS)
def letters_batch(batch_id):
    return jsonify(_batch_dict(services.get_batch(g.principal, batch_id)))


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>.pdf")
@permission(LETTERS)
def letters_batch_pdf(batch_id):
    batch = services.get_batch(g.principal, batch_id)
    if batch.rendered_at is None or batch.pdf is None:
        raise NotFound(_("合订PDF尚未生成，请等待任务完成"))
    return pdf_response(batch.pdf, _safe_filename(batch.title) + ".pdf")


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>.zip")
@permission(LETTERS)
def letters_batch_zip(batch_id):
    batch = services.get_batch(g.principal, batch_id)
    if batch.rendered_at is None:
        raise NotFound(_("PDF尚未生成，请等待任务完成"))
    return pdf_response(batch_zip(batch), _safe_filename(batch.title) + ".zip", mimetype="application/zip")


@bp.get("/t/<tenant>/jobs/<job_id>")
@permission(READ)
def jobs_get(job_id):
    from portal.jobs.queue import get_job
    job = get_job(job_id[:36]) if job_id else None
    if job is None:
        raise NotFound(_("任务不存在"))
    return jsonify(job.to_dict())

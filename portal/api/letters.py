"""API routes of the letters feature (see api.md): issued documents, their PDFs, voiding,
member documents, batches (the open letter, all letters of a day) and job status."""
from flask import g, jsonify

from portal.api.blueprint import bp
from portal.api.schemas import letters as s
from portal.api.schemas.common import EmptyBody, Job
from portal.api.util import listing
from portal.auth.access import permission
from portal.auth.roles import LETTERS, READ
from portal.core.downloads import file_response
from portal.core.errors import NotFound
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import get_job
from portal.letters import documents, files, services
from portal.members import services as members

PDF, ZIP = "application/pdf", "application/zip"


def _member(member_id):
    return members.get(g.principal, member_id)


def _batch_dict(batch) -> dict:
    job = services.batch_job(batch)
    return {"id": batch.id, "kind": batch.kind, "title": batch.title, "count": batch.count,
            "date": batch.on_date.isoformat() if batch.on_date else None,
            "job": job.to_dict() if job else None, "rendered": batch.rendered_at is not None,
            "pdf_sha256": batch.pdf_sha256 or None}


@bp.get("/t/<tenant>/letters")
@bp.query(s.LetterQuery)
@bp.answers(200, s.LetterPage)
@permission(LETTERS)
def letters_list(args):
    a = {n: (args.get(n) or "").strip()[:60] for n in ("kind", "state", "date", "q", "subject")}
    query = services.search(g.principal, kind=a["kind"], state=a["state"], on=a["date"], q=a["q"],
                            subject=a["subject"])
    return jsonify(listing(query, services.to_dict))


@bp.get("/t/<tenant>/letters/<int:letter_id>")
@bp.answers(200, s.Letter)
@permission(LETTERS)
def letters_get(letter_id):
    return jsonify(services.to_dict(services.get(g.principal, letter_id)))


@bp.get("/t/<tenant>/letters/<int:letter_id>.pdf")
@bp.answers(200, content_type=PDF, description="the letter")
@permission(LETTERS)
def letters_pdf(letter_id):
    letter = services.get(g.principal, letter_id)
    return file_response(services.pdf_bytes(letter), files.letter_filename(letter))


@bp.post("/t/<tenant>/letters/<int:letter_id>/void")
@bp.body(s.Void)
@bp.answers(200, s.Letter)
@permission(LETTERS)
def letters_void(data, letter_id):
    letter = services.get(g.principal, letter_id)
    services.void_by_user(g.principal, letter, data.get("reason"))
    db.session.commit()
    return jsonify(services.to_dict(services.get(g.principal, letter_id)))


@bp.post("/t/<tenant>/letters/<int:letter_id>/render")
@bp.body(EmptyBody)
@bp.answers(200, s.Rendered)
@bp.answers(202, s.Rendered)
@permission(LETTERS)
def letters_render(data, letter_id):
    letter = services.get(g.principal, letter_id)
    job = services.rerender(g.principal, letter)
    db.session.commit()
    answer = {"letter": services.to_dict(letter), "job": job.to_dict() if job else None}
    return jsonify(answer), 202 if job else 200


@bp.post("/t/<tenant>/members/<int:member_id>/certificate-letter")
@bp.body(s.CertificateLetterCreate)
@bp.answers(201, s.Letter)
@permission(LETTERS)
def letters_certificate(data, member_id):
    letter = documents.issue_certificate_letter(g.principal, _member(member_id), data)
    db.session.commit()
    return jsonify(services.to_dict(letter)), 201


@bp.post("/t/<tenant>/members/<int:member_id>/activity-card")
@bp.body(EmptyBody)
@bp.answers(201, s.ActivityCard)
@permission(LETTERS)
def letters_activity_card(data, member_id):
    letter = documents.issue_activity_card(g.principal, _member(member_id))
    db.session.commit()
    return jsonify({**services.to_dict(letter), "card_no": letter.number}), 201


@bp.post("/t/<tenant>/letters/open-letter")
@bp.body(s.OpenLetterCreate)
@bp.answers(202, s.BatchStarted)
@permission(LETTERS)
def letters_open_letter(data):
    batch = documents.start_open_letter(g.principal, data)
    db.session.commit()
    job = services.dispatch_batch(batch, user_id=g.user.id)
    return jsonify({"job": job.id, "batch": batch.id, "count": batch.count}), 202


@bp.post("/t/<tenant>/letters/day-batch")
@bp.body(s.DayBatchCreate)
@bp.answers(202, s.BatchStarted)
@permission(LETTERS)
def letters_day_batch(data):
    batch = services.start_day_batch(g.principal, (data.get("date") or "").strip()[:20],
                                     (data.get("kind") or "").strip()[:30])
    db.session.commit()
    job = services.dispatch_batch(batch, user_id=g.user.id)
    return jsonify({"job": job.id, "batch": batch.id, "count": batch.count}), 202


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>")
@bp.answers(200, s.Batch)
@permission(LETTERS)
def letters_batch(batch_id):
    return jsonify(_batch_dict(services.get_batch(g.principal, batch_id)))


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>.pdf")
@bp.answers(200, content_type=PDF, description="the batch bound in one PDF")
@permission(LETTERS)
def letters_batch_pdf(batch_id):
    data, name, mimetype = files.batch_file(g.principal, batch_id, "pdf")
    return file_response(data, name, mimetype=mimetype)


@bp.get("/t/<tenant>/letters/batches/<int:batch_id>.zip")
@bp.answers(200, content_type=ZIP, description="the batch's letters, one PDF each")
@permission(LETTERS)
def letters_batch_zip(batch_id):
    data, name, mimetype = files.batch_file(g.principal, batch_id, "zip")
    return file_response(data, name, mimetype=mimetype)


@bp.get("/t/<tenant>/jobs/<job_id>")
@bp.answers(200, Job)
@permission(READ)
def jobs_get(job_id):
    job = get_job(job_id[:36]) if job_id else None
    if job is None:
        raise NotFound(_("任务不存在"))
    return jsonify(job.to_dict())

from flask import Blueprint, jsonify, render_template

from portal.auth.access import permission
from portal.auth.roles import READ
from portal.core.errors import NotFound
from portal.jobs.queue import get_job

bp = Blueprint("jobs", __name__, url_prefix="/t/<tenant>/jobs")


@bp.get("/<job_id>")
@permission(READ)
def show(job_id):
    job = get_job(job_id)
    if job is None:
        raise NotFound("任务不存在")
    return render_template("jobs/show.html", job=job)


@bp.get("/<job_id>.json")
@permission(READ)
def status(job_id):
    job = get_job(job_id)
    if job is None:
        raise NotFound("任务不存在")
    return jsonify(job.to_dict())

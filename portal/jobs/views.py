from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, url_for

from portal.auth.access import permission, platform_only
from portal.auth.roles import MANAGE_USERS, READ
from portal.core.errors import NotFound, PortalError
from portal.core.paging import page_arg
from portal.i18n import _
from portal.jobs import services
from portal.jobs.queue import get_job, retry

bp = Blueprint("jobs", __name__, url_prefix="/t/<tenant>/jobs")
platform_bp = Blueprint("platform_jobs", __name__)


@bp.get("/")
@permission(READ)
def index():
    everyone = g.principal.can(MANAGE_USERS)
    page = services.people_jobs(g.principal.user.id, everyone=everyone, page=page_arg())
    return render_template("jobs/index.html", page=page, everyone=everyone, labels=services.kind_labels())


@bp.get("/<job_id>")
@permission(READ)
def show(job_id):
    job = get_job(job_id)
    if job is None:
        raise NotFound(_("任务不存在"))
    return render_template("jobs/show.html", job=job, labels=services.kind_labels())


@bp.get("/<job_id>.json")
@permission(READ)
def status(job_id):
    job = get_job(job_id)
    if job is None:
        raise NotFound(_("任务不存在"))
    return jsonify(job.to_dict())


@platform_bp.get("/platform/jobs")
@platform_only
def platform_index():
    return render_template("jobs/platform.html", overview=services.overview(), labels=services.kind_labels(),
                           redis=bool(current_app.config.get("REDIS_URL")))


@platform_bp.post("/platform/jobs/<job_id>/retry")
@platform_only
def platform_retry(job_id):
    try:
        retry(job_id)
    except PortalError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "danger")
    else:
        flash(services.retried_message(), "success")
    return redirect(url_for("platform_jobs.platform_index"))

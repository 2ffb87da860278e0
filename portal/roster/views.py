from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ_ID
from portal.core.errors import Conflict, ValidationFailed
from portal.jobs.queue import get_job
from portal.members import services as members
from portal.roster import services

bp = Blueprint("roster", __name__, url_prefix="/t/<tenant>/roster")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@bp.route("/import", methods=["GET", "POST"])
@permission(EDIT_REGISTER)
def upload():
    error = None
    if request.method == "POST":
        file = request.files.get("file")
        try:
            if file is None or not file.filename:
                raise ValidationFailed({"file": "请选择要导入的文件"})
            run = services.start(g.principal, file.filename, file.read())
        except ValidationFailed as exc:
            error = exc.message
        else:
            return redirect(url_for("roster.show", import_id=run.id))
    return render_template("roster/upload.html", error=error), (400 if error else 200)


@bp.get("/import/<int:import_id>")
@permission(EDIT_REGISTER)
def show(import_id):
    run = services.get_for(g.principal, import_id)
    job = None
    if run.job_id and run.state not in ("done", "rejected", "review"):
        job = get_job(run.job_id)
    return render_template("roster/show.html", run=run, job=job)


@bp.post("/import/<int:import_id>/confirm")
@permission(EDIT_REGISTER)
def confirm(import_id):
    return _decide(services.confirm, import_id)


@bp.post("/import/<int:import_id>/discard")
@permission(EDIT_REGISTER)
def discard(import_id):
    return _decide(services.discard, import_id)


def _decide(step, import_id):
    try:
        step(g.principal, import_id)
    except Conflict as exc:
        flash(exc.message, "danger")
    return redirect(url_for("roster.show", import_id=import_id))


@bp.get("/import/<int:import_id>/errors.xlsx")
@permission(EDIT_REGISTER)
def errors(import_id):
    run = services.get_for(g.principal, import_id)
    return xlsx_response(services.error_report(run), f"导入错误报告-{run.id}.xlsx")


@bp.get("/export.xlsx")
@permission(READ_ID)
def export():
    args = request.args
    query = members.search(g.principal, q=args.get("q", ""), direction=args.get("direction", ""),
                           org=args.get("org", ""), contact=args.get("contact", ""), dues=args.get("dues", ""))
    return xlsx_response(services.export(g.principal, query), f"{g.tenant.name}流动党员台账.xlsx")

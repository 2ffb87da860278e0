"""Register import API (api.md: POST /t/<t>/imports, GET /t/<t>/imports/<id>)."""
from flask import g

from portal.api.blueprint import bp
from portal.api.schemas import roster as s
from portal.api.schemas.common import EmptyBody
from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER
from portal.core.errors import ValidationFailed
from portal.roster import services


@bp.post("/t/<tenant>/imports")
@bp.arguments(s.ImportUpload, location="files", error_status_code=400)
@bp.answers(201, s.Import)
@permission(EDIT_REGISTER)
def create_import(upload):
    file = upload.get("file")
    if file is None or not file.filename:
        raise ValidationFailed({"file": "请以 multipart 字段 file 上传 .xlsx 或 .csv 文件"})
    run = services.start(g.principal, file.filename, file.read())
    return services.get(run.id).to_dict(), 201


@bp.get("/t/<tenant>/imports/<import_id>")
@bp.answers(200, s.Import)
@permission(EDIT_REGISTER)
def show_import(import_id):
    return services.get_for(g.principal, import_id).to_dict()


@bp.post("/t/<tenant>/imports/<import_id>/confirm")
@bp.body(EmptyBody)
@bp.answers(200, s.Import)
@permission(EDIT_REGISTER)
def confirm_import(data, import_id):
    return services.confirm(g.principal, import_id).to_dict()


@bp.post("/t/<tenant>/imports/<import_id>/discard")
@bp.body(EmptyBody)
@bp.answers(200, s.Import)
@permission(EDIT_REGISTER)
def discard_import(data, import_id):
    return services.discard(g.principal, import_id).to_dict()

"""API routes of the tenant's organizations (api.md): list, create, read, edit and move."""
from flask import g, request
from sqlalchemy.orm import selectinload

from portal.api.blueprint import bp
from portal.api.util import json_body, listing
from portal.auth.access import permission
from portal.auth.roles import MANAGE_ORGS, READ
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.orgs import services
from portal.orgs.models import Organization

WRITABLE = set(services.EDITABLE) | {"parent"}
READ_ONLY = {"code", "tenant"}  # accepted back unchanged, so a client may PATCH what it read


def _check_keys(data: dict, *, creating: bool, org: Organization | None = None) -> None:
    allowed = WRITABLE | ({"code"} if creating else READ_ONLY)
    errors = {k: _("未知字段") for k in data if k not in allowed}
    if org is not None:
        if "code" in data and data["code"] != org.code:
            errors["code"] = _("组织代码不能修改")
        if "tenant" in data and data["tenant"] != org.tenant.code:
            errors["tenant"] = _("所属县区不能修改")
    if errors:
        raise ValidationFailed(errors)


@bp.get("/t/<tenant>/orgs")
@permission(READ)
def orgs_list():
    query = services.visible_query(g.principal, q=request.args.get("q", ""), kind=request.args.get("kind", ""),
                                   role=request.args.get("role", ""))
    return listing(query.options(selectinload(Organization.parent)), Organization.to_dict, default_per_page=50)


@bp.post("/t/<tenant>/orgs")
@permission(MANAGE_ORGS)
def orgs_create():
    data = json_body()
    _check_keys(data, creating=True)
    org = services.create(g.user, data)
    db.session.commit()
    return org.to_dict(), 201


@bp.get("/t/<tenant>/orgs/<code>")
@permission(READ)
def orgs_get(code):
    return services.get_visible(g.principal, code).to_dict()


@bp.patch("/t/<tenant>/orgs/<code>")
@permission(MANAGE_ORGS)
def orgs_update(code):
    org = services.get_visible(g.principal, code)
    data = json_body()
    _check_keys(data, creating=False, org=org)
    services.update(g.user, org, {k: v for k, v in data.items() if k in WRITABLE})
    db.session.commit()
    return org.to_dict()

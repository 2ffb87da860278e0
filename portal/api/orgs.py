"""API routes of the tenant's organizations (api.md): list, create, read, edit and move."""
from flask import g
from sqlalchemy.orm import selectinload

from portal.api.blueprint import bp
from portal.api.schemas import orgs as s
from portal.api.util import listing
from portal.auth.access import permission
from portal.auth.roles import MANAGE_ORGS, READ
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.orgs import services
from portal.orgs.models import Organization


@bp.get("/t/<tenant>/orgs")
@bp.query(s.OrgQuery)
@bp.answers(200, s.OrgPage)
@permission(READ)
def orgs_list(args):
    query = services.visible_query(g.principal, q=args.get("q") or "", kind=args.get("kind") or "",
                                   role=args.get("role") or "")
    return listing(query.options(selectinload(Organization.parent)), Organization.to_dict, default_per_page=50)


@bp.post("/t/<tenant>/orgs")
@bp.body(s.OrgCreate)
@bp.answers(201, s.Org)
@permission(MANAGE_ORGS)
def orgs_create(data):
    org = services.create(g.user, data)
    db.session.commit()
    return org.to_dict(), 201


@bp.get("/t/<tenant>/orgs/<code>")
@bp.answers(200, s.Org)
@permission(READ)
def orgs_get(code):
    return services.get_visible(g.principal, code).to_dict()


@bp.patch("/t/<tenant>/orgs/<code>")
@bp.body(s.OrgPatch)
@bp.answers(200, s.Org)
@permission(MANAGE_ORGS)
def orgs_update(data, code):
    org = services.get_visible(g.principal, code)
    errors = {}
    if data.pop("code", org.code) != org.code:
        errors["code"] = _("组织代码不能修改")
    if data.pop("tenant", org.tenant.code) != org.tenant.code:
        errors["tenant"] = _("所属县区不能修改")
    if errors:
        raise ValidationFailed(errors)
    services.update(g.user, org, data)
    db.session.commit()
    return org.to_dict()

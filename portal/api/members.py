"""API routes of the member register (api.md): thin over portal.members.services; the shapes and
type checks are the schemas of portal.api.schemas.members."""
from flask import g

from portal.api.blueprint import bp
from portal.api.schemas import members as s
from portal.api.schemas.common import PageQuery
from portal.api.util import listing
from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.members import services
from portal.members.models import Member


def _member_dict(member) -> dict:
    return services.to_dict(member, reveal_id=services.may_see_id(g.principal))


@bp.get("/t/<tenant>/members")
@bp.query(s.MemberQuery)
@bp.answers(200, s.MemberPage)
@permission(READ)
def members_list(args):
    as_of = args.pop("as_of", None)
    filters = {k: args.get(k) or "" for k in ("q", "direction", "org", "contact", "dues")}
    return listing(services.search(g.principal, as_of=as_of, **filters), _member_dict, key=(Member, ("name", "id")))


@bp.post("/t/<tenant>/members")
@bp.body(s.MemberCreate)
@bp.answers(201, s.Member)
@permission(EDIT_REGISTER)
def members_create(data):
    holds = data.pop("holds_relationship", None)
    member = services.create(g.principal, data, holds_relationship=True if holds is None else holds,
                             asked_by_person=True)
    db.session.commit()
    return _member_dict(member), 201


@bp.get("/t/<tenant>/members/<member_id>")
@bp.answers(200, s.Member)
@permission(READ)
def members_get(member_id):
    return _member_dict(services.get(g.principal, member_id))


@bp.patch("/t/<tenant>/members/<member_id>")
@bp.body(s.MemberPatch)
@bp.answers(200, s.Member)
@permission(EDIT_REGISTER)
def members_patch(data, member_id):
    member = services.get(g.principal, member_id)
    version = data.pop("version", None)
    data.pop("age", None)  # follows the birth date
    if "id" in data and data.pop("id") != member.id:
        raise ValidationFailed({"id": _("不能修改编号")})
    if "holds_relationship" in data and data.pop("holds_relationship") != member.holds_relationship:
        raise ValidationFailed({"holds_relationship": _("组织关系的持有方只能通过转接或共管办理改变")})
    services.update(g.principal, member, data, expected_version=version)
    db.session.commit()
    return _member_dict(member)


@bp.get("/t/<tenant>/members/<member_id>/contacts")
@bp.query(PageQuery)
@bp.answers(200, s.ContactPage)
@permission(READ)
def members_contacts(args, member_id):
    member = services.get(g.principal, member_id)
    return listing(services.contacts_query(member), services.contact_to_dict)


@bp.post("/t/<tenant>/members/<member_id>/contacts")
@bp.body(s.ContactCreate)
@bp.answers(201, s.Contact)
@permission(EDIT_REGISTER)
def members_contact_create(data, member_id):
    member = services.get(g.principal, member_id)
    contact = services.record_contact(g.principal, member, data)
    db.session.commit()
    return services.contact_to_dict(contact), 201

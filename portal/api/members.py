"""API routes of the member register (api.md): thin over portal.members.services."""
from flask import g, request

from portal.api.blueprint import bp
from portal.api.util import as_of_arg, json_body, listing
from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.members import services

# Keys a client may send back unchanged from a GET (read-only; ignored when equal).
READ_ONLY = ("id", "holds_relationship", "age")  # answered, never written


def _member_dict(member) -> dict:
    return services.to_dict(member, reveal_id=services.may_see_id(g.principal))


def _check_keys(data: dict, allowed: tuple) -> None:
    unknown = {k: _("未知字段") for k in data if k not in allowed}
    if unknown:
        raise ValidationFailed(unknown, message=_("请求中有未知字段：%(k)s", k="、".join(str(k)[:40] for k in unknown)))


def _holds_flag(value) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValidationFailed({"holds_relationship": _("应为 true 或 false")})
    return value


@bp.get("/t/<tenant>/members")
@permission(READ)
def members_list():
    args = request.args
    filters = {key: args.get(key, "") for key in ("q", "direction", "org", "contact", "dues")}
    query = services.search(g.principal, as_of=as_of_arg(), **filters)
    return listing(query, _member_dict)


@bp.post("/t/<tenant>/members")
@permission(EDIT_REGISTER)
def members_create():
    data = json_body()
    _check_keys(data, services.FIELDS + ("holds_relationship",))
    holds = _holds_flag(data.get("holds_relationship"))
    member = services.create(g.principal, data, holds_relationship=holds, asked_by_person=True)
    db.session.commit()
    return _member_dict(member), 201


@bp.get("/t/<tenant>/members/<member_id>")
@permission(READ)
def members_get(member_id):
    return _member_dict(services.get(g.principal, member_id))


@bp.patch("/t/<tenant>/members/<member_id>")
@permission(EDIT_REGISTER)
def members_patch(member_id):
    member = services.get(g.principal, member_id)
    data = json_body()
    _check_keys(data, services.FIELDS + READ_ONLY + ("version",))
    version = data.pop("version", None)
    data.pop("age", None)  # follows the birth date
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValidationFailed({"version": _("应为整数")})
    if "id" in data and data.pop("id") != member.id:
        raise ValidationFailed({"id": _("不能修改编号")})
    if "holds_relationship" in data and data.pop("holds_relationship") != member.holds_relationship:
        raise ValidationFailed({"holds_relationship": _("组织关系的持有方只能通过转接或共管办理改变")})
    services.update(g.principal, member, data, expected_version=version)
    db.session.commit()
    return _member_dict(member)


@bp.get("/t/<tenant>/members/<member_id>/contacts")
@permission(READ)
def members_contacts(member_id):
    member = services.get(g.principal, member_id)
    return listing(services.contacts_query(member), services.contact_to_dict)


@bp.post("/t/<tenant>/members/<member_id>/contacts")
@permission(EDIT_REGISTER)
def members_contact_create(member_id):
    member = services.get(g.principal, member_id)
    data = json_body()
    _check_keys(data, ("on", "channel", "note"))
    contact = services.record_contact(g.principal, member, data)
    db.session.commit()
    return services.contact_to_dict(contact), 201

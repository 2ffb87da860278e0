"""API routes of a member's standing and the study points (api.md shapes): thin over
portal.standing.services."""
from flask import g

from portal.api.blueprint import bp
from portal.api.schemas import standing as s
from portal.api.schemas.common import AsOfQuery, PageQuery
from portal.api.util import listing, page_args
from portal.auth.access import permission
from portal.auth.roles import EDIT_REGISTER, READ
from portal.extensions import db
from portal.members import services as members
from portal.standing import services


def _member(member_id):
    return members.get(g.principal, member_id)


@bp.get("/t/<tenant>/members/<member_id>/dues")
@bp.query(PageQuery)
@bp.answers(200, s.DuesPage)
@permission(READ)
def standing_dues(args, member_id):
    member = _member(member_id)
    body = listing(services.dues_query(member), services.dues_to_dict)
    body["dues_paid_through"] = member.dues_paid_through or None
    return body


@bp.post("/t/<tenant>/members/<member_id>/dues")
@bp.body(s.DuesCreate)
@bp.answers(201, s.DuesRecorded)
@permission(EDIT_REGISTER)
def standing_dues_create(data, member_id):
    member = _member(member_id)
    payment = services.record_dues(g.principal, member, data)
    db.session.commit()
    return {**services.dues_to_dict(payment), "dues_paid_through": member.dues_paid_through}, 201


@bp.delete("/t/<tenant>/members/<member_id>/dues/<payment_id>")
@bp.answers(200, s.DuesPaidThrough)
@permission(EDIT_REGISTER)
def standing_dues_delete(member_id, payment_id):
    member = _member(member_id)
    services.delete_dues(g.principal, member, payment_id)
    db.session.commit()
    return {"dues_paid_through": member.dues_paid_through or None}


def _life_dict(row):
    return services.org_life_to_dict(row)


@bp.get("/t/<tenant>/members/<member_id>/org-life")
@bp.query(s.YearQuery)
@bp.answers(200, s.OrgLifePage)
@permission(READ)
def standing_org_life(args, member_id):
    member = _member(member_id)
    year = services.parse_year(args["year"]) if args.get("year") else None
    return listing(services.org_life_query(member, year=year), _life_dict)


@bp.post("/t/<tenant>/members/<member_id>/org-life")
@bp.body(s.OrgLifeCreate)
@bp.answers(201, s.OrgLife)
@permission(EDIT_REGISTER)
def standing_org_life_create(data, member_id):
    row = services.record_org_life(g.principal, _member(member_id), data)
    db.session.commit()
    return services.org_life_to_dict(row), 201


@bp.get("/t/<tenant>/members/<member_id>/certificates")
@bp.query(PageQuery)
@bp.answers(200, s.CertificatePage)
@permission(READ)
def standing_certificates(args, member_id):
    return listing(services.certificates_query(_member(member_id)), services.certificate_to_dict)


@bp.post("/t/<tenant>/members/<member_id>/certificates")
@bp.body(s.CertificateCreate)
@bp.answers(201, s.Certificate)
@permission(EDIT_REGISTER)
def standing_certificate_issue(data, member_id):
    cert = services.issue_certificate(g.principal, _member(member_id), data)
    db.session.commit()
    return services.certificate_to_dict(cert), 201


@bp.post("/t/<tenant>/members/<member_id>/certificates/<cert_id>/check")
@bp.body(s.CertificateStep)
@bp.answers(200, s.Certificate)
@permission(EDIT_REGISTER)
def standing_certificate_check(data, member_id, cert_id):
    cert = services.check_certificate(g.principal, _member(member_id), cert_id, data)
    db.session.commit()
    return services.certificate_to_dict(cert)


@bp.post("/t/<tenant>/members/<member_id>/certificates/<cert_id>/return")
@bp.body(s.CertificateStep)
@bp.answers(200, s.Certificate)
@permission(EDIT_REGISTER)
def standing_certificate_return(data, member_id, cert_id):
    cert = services.return_certificate(g.principal, _member(member_id), cert_id, data)
    db.session.commit()
    return services.certificate_to_dict(cert)


@bp.get("/t/<tenant>/certificates/due")
@bp.query(AsOfQuery)
@bp.answers(200, s.CertificateDuePage)
@permission(READ)
def standing_certificates_due(args):
    as_of = args.get("as_of")

    def row(cert):
        return {**services.certificate_to_dict(cert, as_of),
                "member": {"id": cert.member.id, "name": cert.member.name}}
    return listing(services.certificates_due(g.principal, as_of), row)


@bp.get("/t/<tenant>/training/activities")
@bp.query(s.YearQuery)
@bp.answers(200, s.ActivityPage)
@permission(READ)
def standing_activities(args):
    year = services.parse_year(args["year"]) if args.get("year") else None
    return listing(services.activities_query(g.principal, year=year), services.activity_to_dict)


@bp.post("/t/<tenant>/training/activities")
@bp.body(s.ActivityCreate)
@bp.answers(201, s.Activity)
@permission(EDIT_REGISTER)
def standing_activity_create(data):
    activity = services.create_activity(g.principal, data)
    db.session.commit()
    return services.activity_to_dict(activity, 0), 201


@bp.get("/t/<tenant>/training/activities/<activity_id>")
@bp.answers(200, s.Activity)
@permission(READ)
def standing_activity(activity_id):
    activity = services.get_activity(g.principal, activity_id)
    return services.activity_to_dict(activity, services.attendee_count([activity.id]).get(activity.id, 0))


@bp.get("/t/<tenant>/training/activities/<activity_id>/attendees")
@bp.query(PageQuery)
@bp.answers(200, s.AttendeePage)
@permission(READ)
def standing_attendees(args, activity_id):
    activity = services.get_activity(g.principal, activity_id)
    return listing(services.attendees_query(g.principal, activity),
                   lambda m: {"id": m.id, "name": m.name, "org": m.org.code if m.org else None})


@bp.post("/t/<tenant>/training/activities/<activity_id>/attendees")
@bp.body(s.AttendeesAdd)
@bp.answers(201, s.AttendeesAdded)
@permission(EDIT_REGISTER)
def standing_attendees_add(data, activity_id):
    activity = services.get_activity(g.principal, activity_id)
    added = services.add_attendees(g.principal, activity, data)
    db.session.commit()
    total = services.attendee_count([activity.id]).get(activity.id, 0)
    return {"added": added, "attendees": total}, 201


@bp.delete("/t/<tenant>/training/activities/<activity_id>/attendees/<member_id>")
@bp.answers(200, s.AttendeeCount)
@permission(EDIT_REGISTER)
def standing_attendee_remove(activity_id, member_id):
    activity = services.get_activity(g.principal, activity_id)
    services.remove_attendee(g.principal, activity, member_id)
    db.session.commit()
    return {"attendees": services.attendee_count([activity.id]).get(activity.id, 0)}


@bp.get("/t/<tenant>/training/points")
@bp.query(s.PointsQuery)
@bp.answers(200, s.PointsPage)
@permission(READ)
def standing_points(args):
    year = services.parse_year(args.get("year"))
    half = services.parse_half(args.get("half"))
    below = args.get("below") in ("1", "true", "on")
    query = services.points_query(g.principal, year, half=half, below=below, org=(args.get("org") or "")[:100])
    page, per_page = page_args(50)
    total = db.session.execute(db.select(db.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": [services.points_row(r) for r in rows], "total": total, "page": page, "year": year,
            "half": half, "target": str(services.POINTS_TARGET)}

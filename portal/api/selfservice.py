"""API routes of member self-service (api.md "Member self-service"): thin over portal.selfservice.services.

The member's two routes take no user: the link token is in the path, and the session from
/session travels as the bearer. A user's API token in that header means nothing there."""

from flask import g, request

from portal.api.blueprint import bp
from portal.api.schemas import selfservice as s
from portal.api.schemas.common import EmptyBody
from portal.api.util import listing
from portal.auth.access import permission, public
from portal.auth.roles import EDIT_REGISTER, READ
from portal.extensions import db, limiter
from portal.members import services as members
from portal.selfservice import services
from portal.selfservice.models import PENDING
from portal.selfservice.views import CODE_LIMIT, PAGE_LIMIT


@bp.post("/t/<tenant>/members/<int:member_id>/self-service")
@bp.body(EmptyBody)
@bp.answers(201, s.LinkIssued)
@permission(EDIT_REGISTER)
def self_service_issue(data, member_id):
    member = members.get(g.principal, member_id)
    token, link = services.issue(g.principal, member)
    db.session.commit()
    return {"url": services.link_url(token), "token": token, "expires_on": link.expires_on.isoformat()}, 201


@bp.delete("/t/<tenant>/members/<int:member_id>/self-service")
@bp.answers(204)
@permission(EDIT_REGISTER)
def self_service_revoke(member_id):
    member = members.get(g.principal, member_id)
    services.revoke(g.principal, member)
    db.session.commit()
    return "", 204


def _address() -> str:
    return (request.remote_addr or "")[:64]


@bp.post("/self/<token>/session")
@bp.body(s.SessionBody)
@bp.answers(200, s.SessionAnswer)
@bp.alt_response(401, description="wrong code (5 wrong tries lock the link for an hour: 429)")
@public
@limiter.shared_limit(CODE_LIMIT, scope="self-service-code")
def self_service_session(data, token):
    session, member = services.unlock(token, data.get("id_last6"), _address())
    return {"session": session, "expires_in": services.SESSION_SECONDS, "member": member}


@bp.post("/self/<token>/reports")
@bp.body(s.ReportBody)
@bp.answers(201, s.ReportCreated)
@bp.alt_response(401, description="no session, or a session of another link")
@public
@limiter.shared_limit(PAGE_LIMIT, scope="self-service-page")
def self_service_report(data, token):
    header = request.headers.get("Authorization", "")
    ref = services.check_session(token, header[7:].strip() if header.startswith("Bearer ") else "")
    return services.report(ref, data, _address()), 201


@bp.get("/t/<tenant>/self-reports")
@bp.query(s.SelfReportsQuery)
@bp.answers(200, s.SelfReportPage)
@permission(READ)
def self_reports_list(args):
    query = services.reports_query(g.principal, state=args.get("state", PENDING))
    rows = []

    def to_dict(row):
        rows.append(row)
        return row

    answer = listing(query, to_dict)
    names = services.member_names(rows)
    answer["items"] = [services.report_to_dict(r, names) for r in rows]
    return answer


@bp.post("/t/<tenant>/self-reports/<int:report_id>/approve")
@bp.body(EmptyBody)
@bp.answers(200, s.SelfReport)
@permission(EDIT_REGISTER)
def self_report_approve(data, report_id):
    row = services.approve(g.principal, services.get_report(g.principal, report_id))
    return services.report_to_dict(row)


@bp.post("/t/<tenant>/self-reports/<int:report_id>/reject")
@bp.body(s.RejectBody)
@bp.answers(200, s.SelfReport)
@permission(EDIT_REGISTER)
def self_report_reject(data, report_id):
    row = services.reject(g.principal, services.get_report(g.principal, report_id), data.get("reason"))
    return services.report_to_dict(row)

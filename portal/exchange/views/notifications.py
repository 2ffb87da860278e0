"""The inbox of what the other side did. Reading it changes nothing; "mark read" is a POST."""
from flask import flash, g, redirect, render_template, request, url_for

from portal.auth.access import permission
from portal.auth.roles import READ
from portal.exchange import notifications as service
from portal.exchange.views import bp
from portal.extensions import db
from portal.i18n import _
from portal.core.paging import paginate


@bp.get("/t/<tenant>/notifications", endpoint="notifications")
@permission(READ)
def inbox():
    unread_only = request.args.get("unread") == "1"
    pagination = paginate(service.inbox(g.principal, unread_only=unread_only))
    unread_ids = {n.id for n in pagination.items if n.read_at is None}
    return render_template("exchange/notifications.html", pagination=pagination, unread_ids=unread_ids,
                           unread_only=unread_only, remaining=service.unread_count(g.principal))


@bp.post("/t/<tenant>/notifications/read")
@permission(READ)
def read_all():
    n = service.mark_all_read(g.principal)
    db.session.commit()
    flash(_("已将 %(n)d 条消息标为已读", n=n), "success")
    return redirect(url_for("exchange.notifications"))

"""Pages of the exchange. One blueprint named "exchange"; its routes carry full paths because they
live in three places: the registry (/registry, any logged-in user with a role), a tenant's work
(/t/<tenant>/exchange/..., /t/<tenant>/notifications) and the upper level (/region/<code>/exchange)."""
from urllib.parse import quote

from flask import Blueprint, make_response

bp = Blueprint("exchange", __name__)


def pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f"inline; filename=\"document.pdf\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


from portal.exchange.views import agreements, dashboard, notifications, registry, transfers  # noqa: E402,F401

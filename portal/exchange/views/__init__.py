"""Pages of the exchange. One blueprint named "exchange"; its routes carry full paths because they
live in three places: the registry (/registry, any logged-in user with a role), a tenant's work
(/t/<tenant>/exchange/..., /t/<tenant>/notifications) and the upper level (/region/<code>/exchange)."""
from flask import Blueprint

from portal.core.downloads import file_response

bp = Blueprint("exchange", __name__)


def pdf_response(data: bytes, filename: str):
    """The exchange's documents open in the browser (inline) rather than download."""
    return file_response(data, filename, inline=True)


from portal.exchange.views import agreements, dashboard, notifications, registry, transfers  # noqa: E402,F401

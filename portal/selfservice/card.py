"""The activity certificate (流动党员活动证) printed with the member's personal self-service link.

The link is made the way the member page and the sheet beside the letter to all outgoing members
make it (services.issue: a new link, the previous one stops working), and goes only into the PDF
handed back in the answer: the card's stored context and stored PDF never hold the token, so a
re-render, a void or a download later prints the card without a link that may have been revoked.
"""

from portal.auth.roles import LETTERS
from portal.core.errors import ValidationFailed
from portal.i18n import _
from portal.core import qr
from portal.letters import documents
from portal.letters import services as letters
from portal.letters.files import letter_filename
from portal.members.models import ACTIVE
from portal.selfservice import services


def card_with_link(principal, member) -> tuple[bytes, str]:
    """(PDF, download name) of the member's valid activity card carrying a new self-service link
    and its QR code. The caller commits (the link row and its audit entry)."""
    principal.require(LETTERS)
    if member.status != ACTIVE:
        raise ValidationFailed({"member": _("该党员不在册，不能生成自助链接")})
    card = documents.valid_card(member)
    if card is None:
        raise ValidationFailed({"card": _("该党员没有有效的流动党员活动证，请先发放")})
    token, link = services.issue(principal, member)
    url = services.link_url(token)
    pdf = letters.render_transient(card, {"self_service": {
        "url": url, "qr_png": qr.png_data_uri_for(url), "expires_on": link.expires_on}})
    return pdf, letter_filename(card)

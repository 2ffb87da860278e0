"""Verification of printed documents: tokens, short codes and the public /verify page.

A token is 16 random bytes (URL-safe base64) followed by a truncated HMAC of them keyed with a key
derived from FIELD_KEY: a forged or altered token fails the signature check before any database
lookup, and a well-formed but unknown one finds no row; both get the same "not genuine" answer
(HTTP 404) and reveal nothing. The short code (8 characters from an alphabet without 0/O, 1/I/L)
is printed as XXXX-XXXX for people who type it in at /verify?code=.

The page needs no login, is rate limited, and shows only: genuine or not, kind, number, issuing
organization, issue date, validity, state (valid, used, overdue, void) and the member's name
masked to its first character. Never the ID number.
"""
import base64
import hashlib
import hmac
import re
import secrets

from flask import Blueprint, current_app, jsonify, render_template, request

from portal.auth.access import public
from portal.core.urls import public_url
from portal.extensions import db, limiter
from portal.letters.models import STATE_LABELS, Letter
from portal.tenancy import lookup as keys  # not `lookup`: the page below is named so
from portal.tenancy.context import tenant_scope

bp = Blueprint("verify", __name__)

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_LEN = 8
_RAW_BYTES = 16
_SIG_BYTES = 9
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{12}$")
RATE_LIMIT = "30 per minute"


def _key() -> bytes:
    return hashlib.sha256(b"portal-letter-token:" + current_app.config["FIELD_KEY"].encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(raw: str) -> str:
    return _b64(hmac.new(_key(), raw.encode(), hashlib.sha256).digest()[:_SIG_BYTES])


def new_token() -> str:
    raw = _b64(secrets.token_bytes(_RAW_BYTES))
    return f"{raw}.{_sign(raw)}"


def token_is_signed(token: str) -> bool:
    """Whether the token is well formed and carries our signature (no database involved)."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        return False
    raw, sig = token.split(".")
    return hmac.compare_digest(sig, _sign(raw))


def new_short_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(SHORT_LEN))


def normalize_code(text: str) -> str | None:
    """"k7q2-9xhd", "K7Q2 9XHD" -> "K7Q29XHD"; None when it cannot be a short code."""
    if not isinstance(text, str):
        return None
    code = re.sub(r"[\s\-－—_·.]", "", text).upper()
    if len(code) != SHORT_LEN or any(c not in ALPHABET for c in code):
        return None
    return code


def verify_url(token: str) -> str:
    """The absolute URL printed in the QR code, always under PUBLIC_BASE_URL: a letter issued in
    a request whose Host header says evil.example still points at the portal."""
    return public_url(f"/verify/{token}")


def lookup_url() -> str:
    """The absolute URL of the page where the printed short code is typed in."""
    return public_url("/verify")


def mask_name(name: str) -> str:
    name = (name or "").strip()
    return f"{name[0]}*" if name else ""


# ---- lookups (across tenants on purpose: the token is the only key a reader has) ----
# The letters open to their own tenant only; the key is found in the index of lookup keys
# (tenancy.lookup), and the letter is then read in the tenant the index names.

def index(letter: Letter) -> None:
    """Make a new letter findable by its token and its short code (in the letter's transaction)."""
    for kind, key in ((keys.LETTER_TOKEN, letter.token), (keys.LETTER_CODE, letter.short_code)):
        keys.add(kind, keys.digest(kind, key), letter.tenant_id, letter.id)


def _letter_by(kind: str, key: str) -> Letter | None:
    found = keys.find(kind, [keys.digest(kind, key)])
    if found is None:
        return None
    tenant_id, letter_id, _digest = found
    with tenant_scope(tenant_id):
        letter = db.session.get(Letter, letter_id)
        # The letter's own key decides: an index row that does not match it is no answer.
        if letter is None or (letter.token if kind == keys.LETTER_TOKEN else letter.short_code) != key:
            return None
        return letter


def find_by_token(token: str) -> Letter | None:
    if not token_is_signed(token):
        return None
    return _letter_by(keys.LETTER_TOKEN, token)


def find_by_code(text: str) -> Letter | None:
    code = normalize_code(text)
    if code is None:
        return None
    return _letter_by(keys.LETTER_CODE, code)


def public_view(letter: Letter) -> dict:
    """What a stranger holding the paper may learn."""
    state = letter.effective_state()
    return {
        "genuine": True,
        "kind": letter.kind,
        "kind_label": letter.kind_label,
        "number": letter.number,
        "issuer": letter.issuer_name,
        "issued_on": letter.issued_on.isoformat(),
        "valid_until": letter.valid_until.isoformat() if letter.valid_until else None,
        "state": state,
        "state_label": str(STATE_LABELS[state]),
        "member": mask_name(letter.person_name),
    }


# ---- the page ----

def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _answer(letter: Letter | None, *, asked: bool = True, code: str = ""):
    if letter is None:
        if _wants_json():
            return jsonify({"genuine": False}), 404 if asked else 400
        return render_template("verify/show.html", info=None, asked=asked, code=code), 404 if asked else 200
    info = public_view(letter)
    if _wants_json():
        return jsonify(info)
    return render_template("verify/show.html", info=info, asked=True, code=code)


@bp.get("/verify/<path:token>")
@public
@limiter.shared_limit(RATE_LIMIT, scope="verify")
def show(token):
    return _answer(find_by_token(token))


@bp.get("/verify")
@public
@limiter.shared_limit(RATE_LIMIT, scope="verify")
def lookup():
    code = (request.args.get("code") or "").strip()[:40]
    if not code:
        return _answer(None, asked=False)
    return _answer(find_by_code(code), code=code)

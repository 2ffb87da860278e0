"""Logins kept on the server. The cookie carries a random key; the row behind it decides whether
the login is still open: ended by logout, by an admin or a password change, or by the idle and
absolute limits (SESSION_IDLE_MINUTES, SESSION_LIFETIME_HOURS)."""
import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from portal.auth.models import User, UserSession
from portal.core import clock
from portal.extensions import db
from portal.tenancy.scoping import reusable

# last_seen_at is written at most this often: enough for the idle limit, not a write per request.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), timedelta(hours=cfg["SESSION_LIFETIME_HOURS"])


def start(user: User, address: str = "") -> str:
    """Open a session for `user`; returns the key for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = clock.utcnow()
    db.session.add(UserSession(user_id=user.id, key_hash=_digest(raw), created_at=now, last_seen_at=now,
                               address=(address or "")[:64]))
    db.session.flush()
    return raw


def is_open(row: UserSession, now=None) -> bool:
    now = now or clock.utcnow()
    idle, lifetime = _limits()
    return row.ended_at is None and now - row.last_seen_at <= idle and now - row.created_at <= lifetime


@cache
def _live_statement():
    """The session row by its key's hash, with its user and grants: built once, as every request
    asks it (see scoping.reusable)."""
    return reusable(db.select(UserSession).where(UserSession.key_hash == bindparam("key_hash"))
                    .options(joinedload(UserSession.user).joinedload(User.grants)))


def live(user_id: int, raw) -> UserSession | None:
    """The open session of `user_id` with this key, or None; notes the activity for the idle limit.

    The row comes with its user, the user's grants and their tenants: what every page needs to
    authorize, in one statement rather than one each."""
    if not isinstance(raw, str) or not raw or len(raw) > 100:
        return None
    row = db.session.execute(_live_statement(), {"key_hash": _digest(raw)}).unique().scalar_one_or_none()
    now = clock.utcnow()
    if row is None or row.user_id != user_id or not is_open(row, now):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row


def end(row: UserSession | None, reason: str) -> None:
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = clock.utcnow(), reason


def end_all(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """End every open session of `user` (but `keep`); returns how many were open."""
    rows = db.session.execute(db.select(UserSession).filter(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))).scalars().all()
    now = clock.utcnow()
    count = 0
    for row in rows:
        if keep is not None and row.id == keep.id:
            continue
        count += is_open(row, now)
        row.ended_at, row.end_reason = now, reason
    return count


def open_sessions(user: User) -> list[UserSession]:
    rows = db.session.execute(db.select(UserSession).filter(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc())).scalars().all()
    now = clock.utcnow()
    return [r for r in rows if is_open(r, now)]

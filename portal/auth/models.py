import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.core import clock


class User(UserMixin, db.Model):
    """A person. Global (one login), with roles granted per tenant."""
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The language the person last chose (zh_Hans_CN or en); applied at each login.
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # Two-factor login (TOTP): the secret Fernet-encrypted with FIELD_KEY; enabled once confirmed.
    totp_secret_enc: Mapped[str | None] = mapped_column(String(300), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)  # refuses a code twice

    grants = relationship("RoleGrant", back_populates="user", cascade="all, delete-orphan",
                          lazy="selectin")

    @property
    def is_active(self):
        return self.active

    def session_token(self) -> str:
        """Changes with the password, so a new password ends every other session."""
        return hashlib.sha256(b"portal-session:" + (self.password_hash or "").encode()).hexdigest()[:20]

    def get_id(self):
        return f"{self.id}:{self.session_token()}"

    def grant_for(self, tenant_id: int):
        return next((g for g in self.grants if g.tenant_id == tenant_id), None)

    def grant_in(self, code: str):
        """The grant in the active tenant with this code, or None (tenants come with the grants)."""
        return next((g for g in self.grants if g.tenant is not None and g.tenant.code == code and g.tenant.active),
                    None)


class RoleGrant(db.Model):
    """A role of a user: in one tenant (optionally limited to an org subtree), or over a region."""
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(6), nullable=True)

    user = relationship("User", back_populates="grants")
    tenant = relationship("Tenant", lazy="joined")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    hint: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user = relationship("User")

    @staticmethod
    def digest(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class UserSession(db.Model):
    """A login on the server side. The browser's cookie carries only a random key whose SHA-256 is
    stored here, so logging out, an idle or absolute timeout, or an admin ends it for good: a copy
    of the cookie opens nothing afterwards."""
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    user = relationship("User")


class RecoveryCode(db.Model):
    """A one-time code for when the authenticator is lost; only its hash is stored."""
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

"""Two-factor login with TOTP (RFC 6238, pyotp) for tenant admins and platform admins, with
one-time recovery codes. The secret is encrypted with FIELD_KEY; recovery codes are stored as
keyed hashes only; a code is accepted once (the time step is remembered)."""
import secrets
from datetime import UTC

import pyotp

from portal.auth.models import RecoveryCode, User
from portal.auth.roles import TENANT_ADMIN
from portal.core import clock, crypto
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _

ISSUER = "流动党员管理服务平台"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


def eligible(user: User) -> bool:
    return bool(user.is_platform_admin or any(gr.role == TENANT_ADMIN for gr in user.grants))


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret_enc)


def _secret(user: User) -> str | None:
    return crypto.decrypt(user.totp_secret_enc) if user.totp_secret_enc else None


def _now_step() -> int:
    return int(clock.utcnow().replace(tzinfo=UTC).timestamp()) // 30


def begin(user: User) -> str:
    """A new secret, waiting for its first code (two-factor is not on until `confirm`)."""
    if not eligible(user):
        raise ValidationFailed({"totp": _("只有管理员可以启用两步验证")})
    if enabled(user):
        raise ValidationFailed({"totp": _("两步验证已启用")})
    secret = pyotp.random_base32()
    user.totp_secret_enc = crypto.encrypt(secret)
    return secret


def pending_uri(user: User) -> str | None:
    """The otpauth:// address of a secret waiting for confirmation (shown as a QR code)."""
    secret = _secret(user) if not enabled(user) else None
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER) if secret else None


def pending_secret(user: User) -> str | None:
    return _secret(user) if not enabled(user) else None


def _totp_step(user: User, code: str) -> int | None:
    """The time step `code` belongs to (now, or one step either side for clock drift), or None."""
    secret = _secret(user)
    code = (code or "").strip().replace(" ", "")
    if not secret or not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = _now_step()
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.at(step * 30), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).filter_by(user_id=user.id))
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _j in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=crypto.keyed_hash("recovery:" + code)))
    return codes


def confirm(user: User, code: str) -> list[str]:
    """Turn two-factor on with the first code from the app; returns the recovery codes (shown once)."""
    if enabled(user) or not user.totp_secret_enc:
        raise ValidationFailed({"code": _("请先生成两步验证密钥")})
    step = _totp_step(user, code)
    if step is None:
        raise ValidationFailed({"code": _("验证码不正确，请核对手机时间后重试")})
    user.totp_last_step = step
    user.totp_enabled_at = clock.utcnow()
    return _new_recovery_codes(user)


def check(user: User, code: str) -> str | None:
    """The second factor at login: "totp" or "recovery" when `code` is good (and now spent), else None."""
    if not enabled(user):
        return None
    step = _totp_step(user, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None  # a code already used (or an older one): replay
        user.totp_last_step = step
        return "totp"
    normalized = (code or "").strip().lower().replace(" ", "")
    if len(normalized) == 10 and "-" not in normalized:
        normalized = f"{normalized[:5]}-{normalized[5:]}"
    if len(normalized) != 11:
        return None
    # Under every key of the ring: recovery codes are stored as hashes only and cannot be rotated.
    row = db.session.execute(db.select(RecoveryCode).filter(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
        RecoveryCode.code_hash.in_(crypto.keyed_hashes("recovery:" + normalized)))).scalars().first()
    if row is None:
        return None
    row.used_at = clock.utcnow()
    return "recovery"


def recovery_left(user: User) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(RecoveryCode).filter_by(
        user_id=user.id, used_at=None)).scalar_one()


def disable(user: User, code: str) -> None:
    """Turn two-factor off; needs a current code (or a recovery code), the password is checked by the caller."""
    if not enabled(user):
        raise ValidationFailed({"code": _("两步验证未启用")})
    if check(user, code) is None:
        raise ValidationFailed({"code": _("验证码不正确")})
    user.totp_secret_enc = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(db.delete(RecoveryCode).filter_by(user_id=user.id))

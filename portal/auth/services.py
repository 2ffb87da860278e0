"""Users, passwords (argon2), grants and API tokens."""
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.auth.models import ApiToken, RoleGrant, User
from portal.auth.roles import ALL_ROLES, TENANT_ROLES, UPPER_READER
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def hash_password(raw: str) -> str:
    return _hasher.hash(raw)


def check_password_strength(raw: str) -> None:
    if len(raw or "") < MIN_PASSWORD:
        raise ValidationFailed({"password": _("密码至少需要%(n)d个字符", n=MIN_PASSWORD)})
    if raw.isdigit() or raw.isalpha():
        raise ValidationFailed({"password": _("密码需同时包含字母和数字或符号")})


def verify_password(user: User | None, raw: str) -> bool:
    if user is None:
        # Spend the same time as a real check so timing does not reveal which usernames exist.
        _hasher.hash(raw or "x")
        return False
    try:
        return _hasher.verify(user.password_hash, raw or "")
    except (VerificationError, InvalidHashError):
        return False


def user_by_name(username: str) -> User | None:
    return db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    user = user_by_name((username or "").strip())
    if not verify_password(user, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def create_user(username: str, password: str | None = None, *, tenant=None, role: str | None = None,
                org_id: int | None = None, region_code: str | None = None, display_name: str = "",
                platform_admin: bool = False) -> tuple[User, str]:
    """Create a user (and optionally a grant). Returns the user and the password in clear,
    generated when none is given, to be shown once."""
    username = (username or "").strip()
    if not username or len(username) > 60:
        raise ValidationFailed({"username": _("用户名不能为空且不超过60个字符")})
    if user_by_name(username):
        raise ValidationFailed({"username": _("用户名已存在")})
    if password is None:
        password = secrets.token_urlsafe(9) + "7a"
    else:
        check_password_strength(password)
    user = User(username=username, password_hash=hash_password(password), display_name=display_name or username,
                is_platform_admin=platform_admin)
    db.session.add(user)
    if role:
        grant(user, role, tenant=tenant, org_id=org_id, region_code=region_code)
    db.session.flush()
    return user, password


def grant(user: User, role: str, *, tenant=None, org_id=None, region_code=None) -> RoleGrant:
    if role not in ALL_ROLES:
        raise ValidationFailed({"role": _("未知角色：%(r)s", r=role)})
    if role in TENANT_ROLES and tenant is None:
        raise ValidationFailed({"tenant": _("该角色需要指定县区")})
    if role == UPPER_READER and not region_code:
        raise ValidationFailed({"region": _("上级查看角色需要指定地区代码")})
    existing = user.grant_for(tenant.id) if tenant is not None else None
    if existing:
        existing.role, existing.org_id = role, org_id
        return existing
    g = RoleGrant(user=user, role=role, tenant_id=tenant.id if tenant else None,
                  org_id=org_id, region_code=region_code)
    db.session.add(g)
    user.grants.append(g)
    return g


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise ValidationFailed({"current": _("当前密码不正确")})
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.utcnow()


def issue_token(user: User, name: str = "") -> str:
    raw = "pt_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name[:60], token_hash=ApiToken.digest(raw), hint=raw[-4:]))
    db.session.flush()
    return raw


def revoke_token(user: User, token_id: int) -> bool:
    tok = db.session.get(ApiToken, token_id)
    if tok is None or tok.user_id != user.id or tok.revoked_at:
        return False
    tok.revoked_at = datetime.utcnow()
    return True


def user_for_token(raw: str) -> User | None:
    if not raw or not raw.startswith("pt_"):
        return None
    tok = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=ApiToken.digest(raw))).scalar_one_or_none()
    if tok is None or tok.revoked_at is not None or not tok.user.active:
        return None
    tok.last_used_at = datetime.utcnow()
    return tok.user

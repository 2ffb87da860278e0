"""Users, passwords (argon2), grants and API tokens, and the audit records of changes to them."""
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth import sessions, twofactor
from portal.auth.models import ApiToken, RoleGrant, User
from portal.auth.roles import ALL_ROLES, SECRETARY, TENANT_ROLES, UPPER_READER
from portal.core import clock
from portal.core.errors import NotFound, ValidationFailed
from portal.core.text import storable
from portal.extensions import db
from portal.i18n import _
from portal.tenancy import loader
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    """argon2id with the cost of PASSWORD_HASH_COST. A stored hash names the cost it was made with,
    so verifying never depends on the setting; a login rehashes a password stored at another cost."""
    return _hasher_with(*current_app.config["PASSWORD_HASH_COST"])


MIN_PASSWORD = 12
DEMO_PASSWORD = "Demo-2026-only!"  # documented in the README; never acceptable outside development

# Letters left once digits and symbols are taken out (and common look-alikes undone) that make a
# password guessable whatever is added around them: "Password@2026", "1q2w3e4r5t6y", "Abc12345678!".
_WEAK_STEMS = {"", "password", "passwor", "qwerty", "qwertyuiop", "qwer", "qwe", "asdf", "asdfghjkl", "zxcvbnm",
               "qazwsx", "qazwsxedc", "qazwsxedcrfv", "zaqwsxcde", "qaz", "admin", "administrator", "root",
               "guest", "test", "iloveyou", "woaini", "welcome", "letmein", "changeme", "default", "abc",
               "abcd", "abcdefg", "abcdef", "aa", "a", "qq", "demo", "demoonly", "huawei", "portal"}
_LOOKALIKES = str.maketrans({"0": "o", "@": "a", "$": "s", "1": "", "3": "e", "5": "s", "!": ""})


@lru_cache(maxsize=1)
def _common() -> frozenset:
    text = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _guessable(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _common() or len(set(lowered)) < 5:
        return True
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)  # "p@ssw0rd" of "P@ssw0rd-2026"
    stems = {"".join(c for c in text if c.isalpha())
             for text in (lowered, lowered.translate(_LOOKALIKES), core.translate(_LOOKALIKES))}
    return bool(stems & _WEAK_STEMS)


def hash_password(raw: str) -> str:
    return _hasher().hash(raw)


def check_password_strength(raw: str) -> None:
    """At least MIN_PASSWORD characters, not only letters or only digits; outside development also
    not the demo password and not a common one (the demo data needs them in development only)."""
    if not isinstance(raw, str) or len(raw) < MIN_PASSWORD:
        raise ValidationFailed({"password": _("密码至少需要%(n)d个字符", n=MIN_PASSWORD)})
    if raw.isdigit() or raw.isalpha():
        raise ValidationFailed({"password": _("密码需同时包含字母和数字或符号")})
    if current_app.config.get("ENV_NAME") == "development":
        return
    demo = {DEMO_PASSWORD, current_app.config.get("DEMO_PASSWORD") or DEMO_PASSWORD}
    if raw in demo:
        raise ValidationFailed({"password": _("不能使用演示密码，请另设密码")})
    if _guessable(raw):
        raise ValidationFailed({"password": _("密码过于常见，容易被猜中，请另设密码")})


def verify_password(user: User | None, raw: str) -> bool:
    if user is None:
        # Spend the same time as a real check so timing does not reveal which usernames exist.
        _hasher().hash(raw or "x")
        return False
    try:
        return _hasher().verify(user.password_hash, raw or "")
    except (VerificationError, InvalidHashError):
        return False


def user_by_name(username: str) -> User | None:
    return db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    username = (username or "").strip()
    if not storable(username) or not storable(password or ""):
        verify_password(None, "x")  # same time as a real attempt
        return None
    user = user_by_name(username)
    if not verify_password(user, password) or not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def create_user(username: str, password: str | None = None, *, tenant=None, role: str | None = None,
                org_id: int | None = None, region_code: str | None = None, display_name: str = "",
                platform_admin: bool = False, actor=None) -> tuple[User, str]:
    """Create a user (and optionally a grant), recorded in the trail of the tenant the role is in,
    whoever creates it (a tenant admin, the platform admin, `flask users create`: actor None).
    Returns the user and the password in clear, generated when none is given, to be shown once."""
    username = (username or "").strip() if isinstance(username, str) else ""
    if not username or len(username) > 60 or not username.isprintable() or any(c.isspace() for c in username):
        raise ValidationFailed({"username": _("用户名不能为空、不含空格且不超过60个字符")})
    if user_by_name(username):
        raise ValidationFailed({"username": _("用户名已存在")})
    display_name = (display_name or "").strip()
    if len(display_name) > 60 or not display_name.isprintable():
        raise ValidationFailed({"display_name": _("姓名不超过60个字符，且不能含有无效字符")})
    if password is None:
        password = random_password()
    else:
        check_password_strength(password)
    user = User(username=username, password_hash=hash_password(password), display_name=display_name or username,
                is_platform_admin=platform_admin)
    db.session.add(user)
    if role:
        grant(user, role, tenant=tenant, org_id=org_id, region_code=region_code)
    db.session.flush()
    if tenant is not None and role in TENANT_ROLES:
        record(actor, "create", "user", user.id, after={"username": user.username, "role": role, "org_id": org_id},
               summary=user.username, tenant_id=tenant.id)
    return user, password


def create_tenant(code, name, parent=None, *, actor=None) -> Tenant:
    """Add a tenant, recorded in its own trail whoever adds it (the platform page, or
    `flask tenants create`: actor None). Flushes; the caller commits."""
    tenant = loader.create_tenant(code, name, parent)
    with tenant_scope(tenant.id):
        record(actor, "create", "tenant", tenant.code, summary=tenant.name,
               after={"code": tenant.code, "name": tenant.name, "parent_region": tenant.parent_region})
        db.session.flush()
    return tenant


def audit_user(user: User, action: str, *, actor=None, before=None, after=None) -> None:
    """A change of a user (password, tokens, sessions, two-factor) is recorded in every tenant where
    the user holds a role: users are global, the trails are per tenant."""
    for tenant_id in sorted({gr.tenant_id for gr in user.grants if gr.tenant_id}):
        record(actor or user, action, "user", user.id, before=before, after=after, summary=user.username,
               tenant_id=tenant_id)


def grant(user: User, role: str, *, tenant=None, org_id=None, region_code=None) -> RoleGrant:
    if role not in ALL_ROLES:
        raise ValidationFailed({"role": _("未知角色：%(r)s", r=role)})
    if role in TENANT_ROLES and tenant is None:
        raise ValidationFailed({"tenant": _("该角色需要指定县区")})
    if role == UPPER_READER:
        region_code = (region_code or "").strip()
        if not re.fullmatch(r"[0-9]{6}", region_code):
            raise ValidationFailed({"region": _("上级查看角色需要指定6位地区代码（市级如 320100，省级如 320000）")})
    existing = user.grant_for(tenant.id) if tenant is not None else None
    if existing:
        existing.role, existing.org_id = role, org_id
        return existing
    g = RoleGrant(user=user, role=role, tenant_id=tenant.id if tenant else None,
                  org_id=org_id, region_code=region_code)
    db.session.add(g)
    user.grants.append(g)
    return g


def change_password(user: User, current: str, new: str, *, keep=None) -> None:
    """A new password ends every other session of the user (`keep`: the one making the change)."""
    if not verify_password(user, current):
        raise ValidationFailed({"current": _("当前密码不正确")})
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.utcnow()
    sessions.end_all(user, "password", keep=keep)
    audit_user(user, "password_changed")


def issue_token(user: User, name: str = "") -> str:
    """A new API token for `user` (the account page, `flask users token`), recorded in the user's
    tenants' trails either way. Returns the token in clear, to be shown once."""
    name = (name or "").strip()
    if not name.isprintable() or not storable(name):
        raise ValidationFailed({"name": _("令牌名称不能含有无效字符")})
    raw = "pt_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name[:60], token_hash=ApiToken.digest(raw), hint=raw[-4:]))
    db.session.flush()
    audit_user(user, "token_created", after={"name": name[:60]})
    return raw


def revoke_token(user: User, token_id: int) -> bool:
    tok = db.session.get(ApiToken, token_id)
    if tok is None or tok.user_id != user.id or tok.revoked_at:
        return False
    tok.revoked_at = clock.utcnow()
    audit_user(user, "token_revoked", after={"token_id": token_id})
    return True


def end_own_sessions(user: User, *, keep=None, by_admin: bool = False) -> int:
    """Log `user` out everywhere (but the session `keep`): from the account page, or by the
    operator's `flask users end-sessions` (by_admin). Recorded; returns how many were open."""
    count = sessions.end_all(user, "admin" if by_admin else "user", keep=keep)
    audit_user(user, "sessions_ended", actor=None, after={"sessions": count})
    return count


def enable_second_factor(user: User, code: str) -> list[str]:
    """Confirm two-factor login with a first code; returns the recovery codes (shown once)."""
    codes = twofactor.confirm(user, code)
    audit_user(user, "twofactor_on")
    return codes


def disable_second_factor(user: User, password: str, code: str) -> None:
    """Turning two-factor login off needs the current password and a code."""
    if not verify_password(user, password):
        raise ValidationFailed({"password": _("当前密码不正确")})
    twofactor.disable(user, code)
    audit_user(user, "twofactor_off")


def second_factor(user: User, code: str) -> str | None:
    """The login's second step: "totp", "recovery" (recorded: one code fewer) or None."""
    used = twofactor.check(user, code)
    if used == "recovery":
        audit_user(user, "recovery_code_used", after={"left": twofactor.recovery_left(user)})
    return used


def user_for_token(raw: str, *, record_use: bool = True) -> User | None:
    if not raw or not raw.startswith("pt_") or len(raw) > 100:
        return None
    tok = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=ApiToken.digest(raw))
        .options(joinedload(ApiToken.user).joinedload(User.grants))).unique().scalar_one_or_none()
    if tok is None or tok.revoked_at is not None or not tok.user.active:
        return None
    now = clock.utcnow()
    if record_use and (tok.last_used_at is None or now - tok.last_used_at > timedelta(minutes=5)):
        tok.last_used_at = now  # shown on the account page; written at most every few minutes
        db.session.commit()
    return tok.user


def random_password() -> str:
    return secrets.token_urlsafe(9) + "7a"


# ---- managing the users of one tenant (tenant admin) ----

def tenant_grant(tenant, user_id) -> RoleGrant:
    """The grant of `user_id` in `tenant`; NotFound when the user has no role there."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise NotFound(_("用户不存在"))
    found = db.session.execute(db.select(RoleGrant).filter_by(tenant_id=tenant.id, user_id=user_id)) \
        .scalar_one_or_none()
    if found is None:
        raise NotFound(_("用户不存在"))
    return found


def set_tenant_role(principal, grant_: RoleGrant, role: str, org_id: int | None = None) -> dict:
    """Change a user's role in the principal's tenant (`org_id`: a checked organization of the
    tenant, for a branch secretary). Returns the audit before/after."""
    if role not in TENANT_ROLES:
        raise ValidationFailed({"role": _("未知角色")})
    org_id = org_id if role == SECRETARY else None
    if role == SECRETARY and org_id is None:
        raise ValidationFailed({"org": _("支部书记需要指定所属组织")})
    if grant_.user_id == principal.user.id and role != grant_.role:
        raise ValidationFailed({"role": _("不能修改自己的角色")})
    before = {"role": grant_.role, "org_id": grant_.org_id}
    grant_.role, grant_.org_id = role, org_id
    after = {"role": grant_.role, "org_id": grant_.org_id}
    if before != after:
        record(principal.user, "update", "user", grant_.user_id, before=before, after=after,
               summary=grant_.user.username, tenant_id=grant_.tenant_id)
    return before


def remove_tenant_role(principal, grant_: RoleGrant) -> None:
    if grant_.user_id == principal.user.id:
        raise ValidationFailed({"role": _("不能移除自己的角色")})
    record(principal.user, "revoke", "user", grant_.user_id, before={"role": grant_.role, "org_id": grant_.org_id},
           summary=grant_.user.username, tenant_id=grant_.tenant_id)
    grant_.user.grants.remove(grant_)
    db.session.delete(grant_)


def reset_password(principal, grant_: RoleGrant) -> str:
    """A tenant admin sets a new random password for a user of the tenant. Refused for users who
    also hold roles elsewhere (another tenant's admin must not take over them) and for oneself."""
    user = grant_.user
    if user.id == principal.user.id:
        raise ValidationFailed({"user": _("请在“我的账户”中修改自己的密码")})
    if user.is_platform_admin or any(gr.tenant_id != grant_.tenant_id for gr in user.grants):
        raise ValidationFailed({"user": _("该用户在其他县区或平台也有角色，请联系平台管理员重置密码")})
    clear = random_password()
    user.password_hash = hash_password(clear)
    user.password_changed_at = clock.utcnow()
    sessions.end_all(user, "password_reset")
    record(principal.user, "password_reset", "user", user.id, summary=user.username, tenant_id=grant_.tenant_id)
    return clear


def remember_locale(user: User, chosen: str | None) -> None:
    """The language chosen before logging in becomes the person's preference; without a choice the
    saved preference applies."""
    if chosen in current_app.config["LANGUAGES"] and chosen != user.locale:
        user.locale = chosen
        db.session.commit()
def end_user_sessions(principal, grant_: RoleGrant) -> int:
    """A tenant admin logs a user of the tenant out everywhere (a lost phone, a shared computer).
    Returns how many sessions were open."""
    user = grant_.user
    count = sessions.end_all(user, "admin")
    record(principal.user, "sessions_ended", "user", user.id, after={"sessions": count}, summary=user.username,
           tenant_id=grant_.tenant_id)
    return count

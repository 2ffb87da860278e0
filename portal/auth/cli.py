import click
from flask.cli import AppGroup

from portal.auth import services
from portal.auth.roles import ALL_ROLES, SECRETARY, TENANT_ROLES
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.tenancy.models import Tenant

users_cli = AppGroup("users", help="Users, roles and API tokens.")


@users_cli.command("create")
@click.argument("username")
@click.option("--tenant", "tenant_code", default=None, help="Tenant code (for tenant roles).")
@click.option("--role", type=click.Choice(ALL_ROLES + ("platform_admin",)), required=True)
@click.option("--org", "org_code", default=None, help="Organization code (branch secretary).")
@click.option("--region", default=None, help="Region code (upper-level reader).")
@click.option("--password", default=None, help="Password; a random one is printed when omitted.")
def create(username, tenant_code, role, org_code, region, password):
    """Create a user with a role."""
    from portal.orgs.models import Organization
    from portal.tenancy.context import tenant_scope
    tenant = None
    if tenant_code:
        tenant = db.session.execute(db.select(Tenant).filter_by(code=tenant_code)).scalar_one_or_none()
        if tenant is None:
            raise click.ClickException(_("县区 %(c)s 不存在", c=tenant_code))
    if role in TENANT_ROLES and tenant is None:
        raise click.ClickException(_("角色 %(r)s 需要 --tenant 县区代码", r=role))
    if role == SECRETARY and not org_code:
        raise click.ClickException(_("支部书记需要 --org 所属组织代码"))
    org_id = None
    if org_code:
        if tenant is None:
            raise click.ClickException(_("--org 需要同时指定 --tenant"))
        with tenant_scope(tenant.id):
            org = db.session.execute(db.select(Organization).filter_by(code=org_code)).scalar_one_or_none()
        if org is None:
            raise click.ClickException(_("县区 %(t)s 中没有组织 %(o)s", t=tenant_code, o=org_code))
        org_id = org.id
    try:
        if role == "platform_admin":
            user, clear = services.create_user(username, password, platform_admin=True)
        else:
            user, clear = services.create_user(username, password, tenant=tenant, role=role, org_id=org_id,
                                               region_code=region)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(_("已创建用户 %(u)s", u=user.username))
    if not password:
        click.echo(_("初始密码：%(p)s", p=clear))


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli")
def token(username, name):
    """Print a new API token for USERNAME (only the token, for scripts)."""
    user = services.user_by_name(username)
    if user is None:
        raise click.ClickException(_("用户 %(u)s 不存在", u=username))
    raw = services.issue_token(user, name)
    db.session.commit()
    click.echo(raw)


@users_cli.command("end-sessions")
@click.argument("username")
def end_sessions(username):
    """Log USERNAME out everywhere (every open session ends at once)."""
    from portal.auth import sessions
    user = services.user_by_name(username)
    if user is None:
        raise click.ClickException(_("用户 %(u)s 不存在", u=username))
    count = sessions.end_all(user, "admin")
    services.audit_user(user, "sessions_ended", actor=None, after={"sessions": count})
    db.session.commit()
    click.echo(_("已结束 %(u)s 的 %(n)d 个登录会话", u=username, n=count))

import click
from flask.cli import AppGroup

from portal.auth import services
from portal.auth.roles import ALL_ROLES
from portal.core.errors import ValidationFailed
from portal.extensions import db
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
            raise click.ClickException(f"no tenant {tenant_code}")
    org_id = None
    if org_code:
        if tenant is None:
            raise click.ClickException("--org needs --tenant")
        with tenant_scope(tenant.id):
            org = db.session.execute(db.select(Organization).filter_by(code=org_code)).scalar_one_or_none()
        if org is None:
            raise click.ClickException(f"no organization {org_code} in {tenant_code}")
        org_id = org.id
    try:
        if role == "platform_admin":
            user, clear = services.create_user(username, password, platform_admin=True)
        else:
            user, clear = services.create_user(username, password, tenant=tenant, role=role, org_id=org_id,
                                               region_code=region)
    except ValidationFailed as exc:
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(f"created {user.username}" + ("" if password else f" password: {clear}"))


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli")
def token(username, name):
    """Print a new API token for USERNAME."""
    user = services.user_by_name(username)
    if user is None:
        raise click.ClickException(f"no user {username}")
    raw = services.issue_token(user, name)
    db.session.commit()
    click.echo(raw)

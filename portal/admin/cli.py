"""The admins' commands, added to `flask users` and `flask tenants`: they create what the
admins' pages create, through the same services (and so into the same trail)."""
import click

from portal.admin import services as admin
from portal.auth import services as auth
from portal.auth.roles import ALL_ROLES
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _


@click.command("create")
@click.argument("username")
@click.option("--tenant", "tenant_code", default=None, help="Tenant code (for tenant roles).")
@click.option("--role", type=click.Choice(ALL_ROLES + ("platform_admin",)), required=True)
@click.option("--org", "org_code", default=None, help="Organization code (branch secretary).")
@click.option("--region", default=None, help="Region code (upper-level reader).")
@click.option("--password", default=None, help="Password; a random one is printed when omitted.")
def user_create_command(username, tenant_code, role, org_code, region, password):
    """Create a user with a role (recorded in the tenant's trail, as on the users page)."""
    try:
        user, clear = admin.create_user_by_codes(username, password, role=role, tenant_code=tenant_code,
                                                 org_code=org_code, region_code=region)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(_("已创建用户 %(u)s", u=user.username))
    if not password:
        click.echo(_("初始密码：%(p)s", p=clear))


# In `flask tenants`, but not defined by tenancy: the creation is recorded in the audit trail,
# which sits above tenancy.
@click.command("create")
@click.option("--code", required=True, help="6-digit region code of the county or district.")
@click.option("--name", required=True)
@click.option("--parent", default=None, help="Region code above (city or province); default: the city.")
def tenant_create_command(code, name, parent):
    """Add one tenant (recorded in its trail, as on the platform page)."""
    try:
        tenant = auth.create_tenant(code, name, parent)
    except ValidationFailed as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    db.session.commit()
    click.echo(_("%(c)s %(n)s 已创建（上级地区 %(p)s）", c=tenant.code, n=tenant.name, p=tenant.parent_region))

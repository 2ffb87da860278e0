import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.tenancy.loader import TenantFileError, sync_folder, upsert_tenant
from portal.tenancy.models import Tenant

tenants_cli = AppGroup("tenants", help="Counties and districts (tenants).")


@tenants_cli.command("sync")
@click.option("--folder", default=None, help="Folder of tenant files (default: TENANTS_DIR).")
def sync(folder):
    """Load tenants/ idempotently."""
    try:
        results = sync_folder(folder or current_app.config["TENANTS_DIR"])
    except TenantFileError as exc:
        raise click.ClickException(str(exc))
    for code, what in results:
        click.echo(f"{code} {what}")


@tenants_cli.command("create")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--parent", default=None, help="Region code above (city or province).")
def create(code, name, parent):
    """Add one tenant."""
    if len(code) != 6 or not code.isdigit():
        raise click.ClickException("code must be a 6-digit region code")
    if db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one_or_none():
        raise click.ClickException(f"tenant {code} exists already")
    data = {"code": code, "name": name, "parent_region": parent or code[:4] + "00"}
    upsert_tenant(data)
    db.session.commit()
    click.echo(f"{code} created")


@tenants_cli.command("list")
def list_():
    """Show all tenants."""
    for t in db.session.execute(db.select(Tenant).order_by(Tenant.code)).scalars():
        click.echo(f"{t.code}\t{t.name}\t{t.letter_prefix}\t{t.letter_validity_days}d\t{t.reply_deadline_days}d")

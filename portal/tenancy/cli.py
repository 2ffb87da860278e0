import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.i18n import _
from portal.tenancy import citus
from portal.tenancy.loader import TenantFileError, sync_folder
from portal.tenancy.models import Tenant

tenants_cli = AppGroup("tenants", help="Counties and districts (tenants).")

OUTCOMES = {"created": "已创建", "updated": "已更新", "unchanged": "未变化"}


@tenants_cli.command("sync")
@click.option("--folder", default=None, help="Folder of tenant files (default: TENANTS_DIR).")
def sync(folder):
    """Load tenants/ idempotently: each file is created, updated or left unchanged."""
    try:
        results = sync_folder(folder or current_app.config["TENANTS_DIR"])
    except TenantFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc))
    for code, what in results:
        click.echo(f"{code} {_(OUTCOMES[what])} ({what})")
    if not results:
        click.echo(_("没有找到县区文件（*.toml）"))


@tenants_cli.command("list")
def list_():
    """Show all tenants: code, name, parent region, letter prefix, validity and reply deadline."""
    for t in db.session.execute(db.select(Tenant).order_by(Tenant.code)).scalars():
        click.echo(f"{t.code}\t{t.name}\t{t.parent_region}\t{t.letter_prefix or '-'}\t"
                   f"{t.letter_validity_days}d\t{t.reply_deadline_days}d" + ("" if t.active else "\t" + _("停用")))


@tenants_cli.command("distribute")
def distribute():
    """On a Citus coordinator: make every table a reference table or distribute it (docs/scaling.md)."""
    with db.engine.begin() as conn:
        if not citus.is_citus(conn):
            raise click.ClickException(_("数据库未安装 Citus 扩展，无需分布"))
        for table, how in citus.distribute(conn, db.metadata):
            click.echo(f"{table} {how}")

import os

import click
from flask import current_app
from flask.cli import AppGroup

from portal.auth import services as auth
from portal.core.errors import ValidationFailed
from portal.demo import seed as demo
from portal.demo.national import load as national
from portal.extensions import db

demo_cli = AppGroup("demo", help="Demo data for the development mode (never in production).")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when users or organizations exist.")
@click.option("--scale", type=click.Choice(["demo", "national"]), default="demo", show_default=True,
              help="demo: the tenants in the database, through the services; national: every county of the "
                   "country, loaded in bulk (PostgreSQL only).")
@click.option("--tenants", type=click.IntRange(1), default=None, help="national: how many counties (default all).")
@click.option("--members", type=click.IntRange(1), default=national.NATIONAL["members"], show_default=True)
@click.option("--transfers", type=click.IntRange(0), default=national.NATIONAL["transfers"], show_default=True)
@click.option("--agreements", type=click.IntRange(0), default=national.NATIONAL["agreements"], show_default=True)
@click.option("--seed-number", type=int, default=1, show_default=True, help="national: the same number, the same data.")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="national: processes building the registers.")
def seed(if_empty, scale, tenants, members, transfers, agreements, seed_number, workers):
    """Create demo users, organizations and members in every tenant.

    Runs only in the development configuration (PORTAL_ENV unset or 'development') and only on a
    database without users. All demo users share one password: DEMO_PASSWORD, or the documented
    default; it is printed at the end. DEMO ONLY.
    """
    env = current_app.config.get("ENV_NAME")
    if env != "development":
        raise click.ClickException(
            f"demo data is for the development configuration only; this one is '{env}'. Nothing was written.")
    if demo.data_present():
        if if_empty:
            click.echo("demo data present (users or organizations exist): nothing to do")
            return
        raise click.ClickException(
            "the database already has users or organizations; the demo seed only fills an empty database "
            "(use --if-empty to skip quietly). Nothing was written.")
    password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
    if scale == "national":
        if db.engine.dialect.name != "postgresql":
            raise click.ClickException("the national data set loads with COPY and needs PostgreSQL; this database "
                                       f"is {db.engine.dialect.name}. Nothing was written.")
        options = national.Options(tenants=tenants, members=members, transfers=transfers, agreements=agreements,
                                   seed=seed_number, workers=workers)
        try:
            auth.check_password_strength(password)
        except ValidationFailed as exc:
            raise click.ClickException(f"DEMO_PASSWORD rejected: {exc.message}")
        totals = national.run(current_app, options, password, echo=click.echo)
        click.echo(", ".join(f"{k} {v:,}" for k, v in sorted(totals.items())))
        _banner(password)
        return

    def report(result):
        click.echo(f"{result.code} {result.name}: {result.orgs} organizations, {result.members} members, "
                   f"{result.contacts} contact records; users {', '.join(result.users)}")

    try:
        demo.seed(password, progress=report)
    except ValidationFailed as exc:
        raise click.ClickException(f"DEMO_PASSWORD rejected: {exc.message}")
    except demo.DemoRefused as exc:
        raise click.ClickException(str(exc))
    _banner(password)


def _banner(password):
    click.echo("")
    click.echo("=" * 72)
    click.echo("DEMO ONLY - never use these accounts or this password outside a demo.")
    click.echo("Users per tenant: <code>-admin, <code>-clerk, <code>-viewer, <code>-secretary")
    click.echo(f"Password for every demo user: {password}")
    click.echo("=" * 72)

import os

import click
from flask import current_app
from flask.cli import AppGroup

from portal.core.errors import ValidationFailed
from portal.demo import seed as demo

demo_cli = AppGroup("demo", help="Demo data for the development mode (never in production).")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when users or organizations exist.")
def seed(if_empty):
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

    def report(result):
        click.echo(f"{result.code} {result.name}: {result.orgs} organizations, {result.members} members, "
                   f"{result.contacts} contact records; users {', '.join(result.users)}")

    try:
        demo.seed(password, progress=report)
    except ValidationFailed as exc:
        raise click.ClickException(f"DEMO_PASSWORD rejected: {exc.message}")
    except demo.DemoRefused as exc:
        raise click.ClickException(str(exc))
    click.echo("")
    click.echo("=" * 72)
    click.echo("DEMO ONLY - never use these accounts or this password outside a demo.")
    click.echo("Users per tenant: <code>-admin, <code>-clerk, <code>-viewer, <code>-secretary")
    click.echo(f"Password for every demo user: {password}")
    click.echo("=" * 72)

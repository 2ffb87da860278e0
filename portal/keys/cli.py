"""`flask keys rotate`: see portal/keys/rotate.py and docs/operations.md."""
import click
from flask import current_app
from flask.cli import AppGroup

from portal.core import crypto
from portal.keys import rotate

keys_cli = AppGroup("keys", help="The field-encryption key.")


@keys_cli.command("rotate")
@click.option("--quiet", is_flag=True, help="Print the totals only.")
def rotate_command(quiet):
    """Move every encrypted value to FIELD_KEY from FIELD_KEY_PREVIOUS, in batches, while serving."""
    if not crypto.previous_keys():
        raise click.ClickException("FIELD_KEY_PREVIOUS is not set: set FIELD_KEY to the new key and "
                                   "FIELD_KEY_PREVIOUS to the old one (web and workers too), then run this")
    if not current_app.config.get("AUDIT_CHAIN_KEY"):
        raise click.ClickException("AUDIT_CHAIN_KEY is not set: the audit trail is append-only and keeps the "
                                   "key it was written with; set AUDIT_CHAIN_KEY to the former FIELD_KEY first")
    report = rotate.rotate(progress=None if quiet else lambda what, n: click.echo(f"{what}: {n} moved"))
    for what, n in sorted(report.moved.items()):
        click.echo(f"{what}\t{n}")
    if report.unreadable:
        for what, n in sorted(report.unreadable.items()):
            click.echo(f"UNREADABLE {what}\t{n}", err=True)
        raise click.ClickException("some values open under no key of the ring: keep FIELD_KEY_PREVIOUS and investigate")
    click.echo("done: every value is under the current key; FIELD_KEY_PREVIOUS may now be removed")

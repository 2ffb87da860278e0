"""`flask tenants export CODE FILE` and `flask tenants import FILE`."""
import os

import click

from portal.audit import chain
from portal.backup import archive, tenant_data


def _passphrase(path: str | None, *, confirm: bool) -> bytes:
    try:
        if path:
            return archive.read_passphrase_file(path)
        return archive.check_passphrase(click.prompt("Passphrase", hide_input=True,
                                                     confirmation_prompt=confirm).encode())
    except (OSError, archive.ArchiveError) as exc:
        raise click.ClickException(str(exc))


@click.command("export")
@click.argument("code")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Read the passphrase (or use a key file's bytes) instead of prompting.")
def export_command(code, file, passphrase_file):
    """Write one tenant's whole data into one encrypted archive."""
    secret = _passphrase(passphrase_file, confirm=True)
    try:
        payload, counts = tenant_data.export_tenant(code)
    except tenant_data.RestoreRefused as exc:
        raise click.ClickException(str(exc))
    sealed = archive.seal(payload, secret)
    partial = f"{file}.partial"
    # Written aside and moved into place: a crash never leaves a truncated archive under the name.
    with open(partial, "wb") as f:
        f.write(sealed)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, file)
    click.echo(f"exported {code}: {sum(counts.values())} rows in {len(counts)} tables, {len(sealed)} bytes -> {file}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False),
              help="Read the passphrase (or use a key file's bytes) instead of prompting.")
def import_command(file, passphrase_file):
    """Restore a tenant archive into a database that does not have that tenant."""
    secret = _passphrase(passphrase_file, confirm=False)
    with open(file, "rb") as f:
        data = f.read()
    try:
        tid, counts, left_out = tenant_data.import_tenant(archive.open_sealed(data, secret))
    except (archive.ArchiveError, tenant_data.RestoreRefused) as exc:
        raise click.ClickException(str(exc))
    click.echo(f"imported: {sum(counts.values())} rows in {len(counts)} tables")
    if left_out:
        click.echo("left out, the other county's rows whose owner is not in this database (restore its "
                   "archive too): " + ", ".join(f"{name} {n}" for name, n in sorted(left_out.items())))
    problems = chain.verify([tid])
    click.echo("audit chain: " + ("verified" if not problems else f"PROBLEM {problems[0]}"))

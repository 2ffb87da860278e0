"""Backups an office can use: one tenant's whole data in one encrypted, tamper-evident archive
(`flask tenants export CODE FILE`), restored with `flask tenants import FILE`."""


def init_app(app):
    from portal.backup.cli import export_command, import_command
    from portal.tenancy.cli import tenants_cli
    tenants_cli.add_command(export_command)
    tenants_cli.add_command(import_command)

"""Field-encryption key rotation: `flask keys rotate`."""


def init_app(app):
    from portal.keys.cli import keys_cli
    app.cli.add_command(keys_cli)

"""Demo data for the embedded (development) mode: `flask demo seed [--if-empty]`."""


def init_app(app):
    from portal.demo.cli import demo_cli
    app.cli.add_command(demo_cli)

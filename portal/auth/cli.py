import click
from flask.cli import AppGroup

from portal.auth import services
from portal.extensions import db
from portal.i18n import _

users_cli = AppGroup("users", help="Users, roles and API tokens.")


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli")
def token(username, name):
    """Print a new API token for USERNAME (only the token, for scripts)."""
    user = services.user_by_name(username)
    if user is None:
        raise click.ClickException(_("用户 %(u)s 不存在", u=username))
    raw = services.issue_token(user, name)
    db.session.commit()
    click.echo(raw)


@users_cli.command("end-sessions")
@click.argument("username")
def end_sessions(username):
    """Log USERNAME out everywhere (every open session ends at once)."""
    user = services.user_by_name(username)
    if user is None:
        raise click.ClickException(_("用户 %(u)s 不存在", u=username))
    count = services.end_own_sessions(user, by_admin=True)
    db.session.commit()
    click.echo(_("已结束 %(u)s 的 %(n)d 个登录会话", u=username, n=count))

def init_app(app):
    from portal.auth import models  # noqa: F401
    from portal.auth.cli import users_cli
    from portal.auth.views import bp
    from portal.extensions import login_manager

    @login_manager.user_loader
    def _load(user_id):
        from portal.auth.models import User
        from portal.extensions import db
        user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        return user if user is not None and user.active else None

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)

def init_app(app):
    from portal.auth import models  # noqa: F401
    from portal.auth.cli import users_cli
    from portal.auth.views import bp
    from portal.extensions import login_manager

    @login_manager.user_loader
    def _load(session_id):
        # The session holds "<user id>:<token derived from the password hash>": changing the
        # password (or deactivating the user) ends every session made before.
        import hmac

        from flask import g, session

        from portal.auth import sessions
        user_id, _sep, token = str(session_id).partition(":")
        if not (user_id.isascii() and user_id.isdigit()) or not token:
            return None
        # The cookie alone is not enough: the server-side session behind it must still be open.
        # Its row brings the user along (one statement for session, user and grants).
        row = sessions.live(int(user_id), session.get("sid"))
        if row is None:
            return None
        user = row.user
        if not user.active or not hmac.compare_digest(user.session_token(), token):
            return None
        g.user_session = row
        return user

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)

"""E-mail, one way for every feature: Flask-Mailman, configured by the portal's SMTP_* settings."""
from flask import current_app
from flask_mailman import EmailMessage, Mail

mail = Mail()


def init_app(app) -> None:
    # The portal's SMTP_* settings are the mail settings (one place to configure mail).
    app.config.setdefault("MAIL_SERVER", app.config.get("SMTP_HOST") or "localhost")
    app.config.setdefault("MAIL_PORT", int(app.config.get("SMTP_PORT") or 25))
    app.config.setdefault("MAIL_DEFAULT_SENDER", app.config.get("SMTP_FROM") or "portal@localhost")
    app.config.setdefault("MAIL_TIMEOUT", 30)
    mail.init_app(app)


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def connection():
    """An SMTP connection to the server the settings name now (a test or an operator may change
    SMTP_HOST/SMTP_PORT after start); use it as a context manager to send several messages."""
    config = current_app.config
    return mail.get_connection(host=config.get("SMTP_HOST") or "localhost", port=int(config.get("SMTP_PORT") or 25),
                               timeout=30)


def message(subject: str, body: str, to: list[str], conn=None) -> EmailMessage:
    return EmailMessage(subject=subject, body=body, to=to,
                        from_email=current_app.config.get("SMTP_FROM") or "portal@localhost", connection=conn)

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
    """A connection of the configured backend (MAIL_BACKEND, read now; Flask-Mailman's default is
    SMTP, or its in-memory outbox under TESTING). SMTP goes to the server SMTP_HOST/SMTP_PORT name
    now. Use it as a context manager to send several messages over one connection."""
    config = current_app.config
    backend = config.get("MAIL_BACKEND") or ("locmem" if current_app.testing else "smtp")
    if backend == "smtp":
        return mail.get_connection(backend="smtp", host=config.get("SMTP_HOST") or "localhost",
                                   port=int(config.get("SMTP_PORT") or 25), timeout=30)
    return mail.get_connection(backend=backend)


def message(subject: str, body: str, to: list[str], conn=None) -> EmailMessage:
    return EmailMessage(subject=subject, body=body, to=to,
                        from_email=current_app.config.get("SMTP_FROM") or "portal@localhost", connection=conn)

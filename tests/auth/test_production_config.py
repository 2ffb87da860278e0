"""Production mode refuses to start with the development secrets."""
import pytest

from portal import create_app
from portal.config import DEV_FIELD_KEY, DEV_SECRET, UnsafeConfiguration

STRONG = {"SECRET_KEY": "s3cr3t-" + "x" * 40, "FIELD_KEY": "f13ld-" + "y" * 40,
          "PUBLIC_BASE_URL": "https://portal.example.gov.cn"}


@pytest.fixture(autouse=True)
def no_env_secrets(monkeypatch):
    for name in ("SECRET_KEY", "FIELD_KEY", "PORTAL_ENV", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_default_secret_key_is_refused():
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production"})


def test_default_field_key_is_refused():
    with pytest.raises(UnsafeConfiguration, match="FIELD_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": STRONG["SECRET_KEY"]})
    with pytest.raises(UnsafeConfiguration, match="FIELD_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": STRONG["SECRET_KEY"], "FIELD_KEY": DEV_FIELD_KEY})
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET, "FIELD_KEY": STRONG["FIELD_KEY"]})


def test_environment_selects_production(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(UnsafeConfiguration):
        create_app()
    monkeypatch.setenv("SECRET_KEY", STRONG["SECRET_KEY"])
    monkeypatch.setenv("FIELD_KEY", STRONG["FIELD_KEY"])
    with pytest.raises(UnsafeConfiguration, match="PUBLIC_BASE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://portal.example.gov.cn/")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PUBLIC_BASE_URL"] == "https://portal.example.gov.cn"
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_mode_starts_with_defaults():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == DEV_SECRET and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("value", ["", "http://localhost:5000", "portal.example.gov.cn", "https://x.cn/?a=1",
                                   "javascript:alert(1)"])
def test_production_needs_a_real_public_base_url(value):
    with pytest.raises(UnsafeConfiguration, match="PUBLIC_BASE_URL"):
        create_app({"ENV_NAME": "production", **STRONG, "PUBLIC_BASE_URL": value})
def _pg_url_as(role_url_user: str | None = None):
    """The test PostgreSQL as the admin role (a superuser), or as another role on the same server."""
    import os
    admin = os.environ.get("TEST_DATABASE_URL", "")
    if not admin:
        pytest.skip("needs PostgreSQL")
    if role_url_user is None:
        return admin
    scheme, rest = admin.split("://", 1)
    host_db = rest.split("@", 1)[-1]
    return f"{scheme}://{role_url_user}@{host_db}"


def test_production_refuses_a_superuser_database_role():
    from sqlalchemy import create_engine, text
    admin = _pg_url_as()
    with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
        assert conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    with pytest.raises(UnsafeConfiguration, match="superuser or has BYPASSRLS"):
        create_app({"ENV_NAME": "production", **STRONG, "SQLALCHEMY_DATABASE_URI": admin})


def test_production_refuses_a_bypassrls_role_and_starts_as_an_ordinary_one():
    from sqlalchemy import create_engine, text
    admin = create_engine(_pg_url_as(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role, extra in (("portal_test_bypass", "BYPASSRLS"), ("portal_test_plain", "NOBYPASSRLS")):
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER {extra}"))
    admin.dispose()
    with pytest.raises(UnsafeConfiguration, match="BYPASSRLS"):
        create_app({"ENV_NAME": "production", **STRONG, "SQLALCHEMY_DATABASE_URI": _pg_url_as("portal_test_bypass")})
    app = create_app({"ENV_NAME": "production", **STRONG, "SQLALCHEMY_DATABASE_URI": _pg_url_as("portal_test_plain")})
    assert app.config["ENV_NAME"] == "production"

"""docker/ as an operator runs it. No container engine runs here, so the files are read: the
compose file's services, start order, roles, settings and volumes; the example environment file
against the settings the app reads; the Dockerfile against what the README says it installs."""
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from portal import config
from portal.letters.models import Letter, LetterBatch

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
APP_SERVICES = ("web", "worker", "scheduler")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def _command(service: dict) -> list[str]:
    cmd = service.get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def _user_of(url: str) -> str:
    return re.match(r"postgresql://([^:@/]+)", url).group(1)


def settings_read() -> set[str]:
    """Every variable portal.config.from_env reads, found by letting it read an environment that
    has every name (so each branch is taken)."""
    seen: set[str] = set()
    # "1" parses as every setting but these.
    valid = {"PASSWORD_HASH_COST": "2,19456,1"}

    class Everything(dict):
        def get(self, key, default=None):
            seen.add(key)
            return valid.get(key, "1")

        def __getitem__(self, key):
            seen.add(key)
            return valid.get(key, "1")

        def __contains__(self, key):
            seen.add(key)
            return True

    saved = os.environ
    os.environ = Everything()
    try:
        config.from_env(config.Config)
    finally:
        os.environ = saved
    return seen


def test_the_services_exist_and_start_in_order(compose):
    services = compose["services"]
    assert {"web", "worker", "scheduler", "db", "redis", "migrate"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert _command(services["migrate"])[-1].startswith("flask db upgrade")
    assert services["web"].get("command") is None  # the image's CMD: gunicorn (checked below)
    assert _command(services["worker"])[:3] == ["flask", "rq", "worker"]
    assert _command(services["scheduler"])[:3] == ["flask", "rq", "scheduler"]
    for name in ("db", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    for name in APP_SERVICES:
        after = services[name]["depends_on"]
        assert after["migrate"] == {"condition": "service_completed_successfully"}, name
        assert after["db"] == {"condition": "service_healthy"}, name
        assert after["redis"] == {"condition": "service_healthy"}, name
    assert services["migrate"].get("restart") in (None, "no")  # a step that ends, not a service


def test_the_app_connects_as_an_ordinary_role_and_migrates_as_the_owner(compose):
    services = compose["services"]
    superuser = services["db"].get("environment", {}).get("POSTGRES_USER", "postgres")
    roles = (DOCKER / "initdb" / "10-roles.sh").read_text(encoding="utf-8")
    app_users = {_user_of(services[n]["environment"]["DATABASE_URL"]) for n in APP_SERVICES}
    assert len(app_users) == 1
    app_user = app_users.pop()
    owner = _user_of(services["migrate"]["environment"]["DATABASE_URL"])
    assert superuser not in (app_user, owner)
    assert app_user != owner
    for role in (app_user, owner):
        created = re.search(rf"CREATE ROLE {role} ([^;]+);", roles)
        assert created and "NOSUPERUSER" in created.group(1) and "NOBYPASSRLS" in created.group(1), role
    assert re.search(rf"CREATE DATABASE portal OWNER {owner};", roles)
    assert services["migrate"]["environment"]["PORTAL_APP_ROLE"] == app_user
    for name in APP_SERVICES:
        assert "PORTAL_APP_ROLE" not in services[name]["environment"], name
        assert services[name]["environment"]["PORTAL_ENV"] == "production", name


def test_every_process_has_the_public_address_and_the_keys(compose):
    for name in APP_SERVICES + ("migrate",):
        env = compose["services"][name]["environment"]
        for key in ("PUBLIC_BASE_URL", "SECRET_KEY", "FIELD_KEY"):
            assert env.get(key, "").startswith(f"${{{key}:?"), (name, key)  # required: compose refuses without


def test_volumes_hold_the_database_with_its_documents_and_the_tenant_files(compose):
    services, volumes = compose["services"], compose["volumes"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in services["db"]["volumes"]}
    assert mounts["/var/lib/postgresql/data"] in volumes
    # The documents (letters and batches) are stored, sealed, in the database: the database volume
    # holds them. Should they move to files, this fails until a volume holds those.
    assert "pdf" in Letter.__table__.c and "pdf" in LetterBatch.__table__.c
    assert not [k for k in dir(config.Config) if k.endswith(("_DIR", "_PATH", "_FOLDER")) and k != "TENANTS_DIR"]
    for name in APP_SERVICES + ("migrate",):
        tenants_dir = services[name]["environment"]["TENANTS_DIR"]
        app_mounts = {m.split(":")[1]: m.split(":")[0] for m in services[name]["volumes"]}
        assert app_mounts.get(tenants_dir) in volumes, name


def test_the_example_environment_lists_every_setting_and_nothing_else(compose):
    text = (DOCKER / "env.example").read_text(encoding="utf-8")
    listed = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.M)
    assert len(listed) == len(set(listed)), "a name listed twice"
    read = settings_read()
    assert {"DATABASE_URL", "SECRET_KEY", "FIELD_KEY", "PUBLIC_BASE_URL", "SMTP_PORT"} <= read
    raw = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", raw))
    # The app's settings, and the database passwords compose itself needs.
    assert set(listed) == read | interpolated
    assert interpolated - read == {"POSTGRES_PASSWORD", "PORTAL_OWNER_PASSWORD", "PORTAL_APP_PASSWORD"}
    # ... and every setting reaches the processes (PORTAL_APP_ROLE: the migrate step only).
    migrate = compose["services"]["migrate"]["environment"]
    assert read <= set(migrate)
    for name in APP_SERVICES:
        assert read - {"PORTAL_APP_ROLE"} <= set(compose["services"][name]["environment"]), name


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines() if line.strip()]


def test_the_image_installs_what_the_readme_says_runs_as_a_user_and_serves_with_gunicorn():
    steps = dockerfile()
    installed = set()
    for op, args in steps:
        if op == "RUN" and "apt-get install" in args:
            for part in args.split("&&"):
                if "apt-get install" in part:
                    installed |= {w for w in part.split() if not w.startswith("-")} - {"apt-get", "install"}
    assert "libharfbuzz-subset0" in installed
    assert any(p.startswith("libpango") for p in installed)
    assert any(p.startswith("fonts-") and "cjk" in p for p in installed)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    promised = set(re.findall(r"`((?:lib|fonts-)[a-z0-9.+-]+)`", section))
    assert {"libharfbuzz-subset0"} <= promised and promised <= installed
    ops = [op for op, _ in steps]
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ops.index("USER") < ops.index("CMD")
    cmd = [args for op, args in steps if op == "CMD"][-1]
    assert cmd.startswith("[") and yaml.safe_load(cmd)[0] == "gunicorn"

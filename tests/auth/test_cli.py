"""`flask users create` and `flask users token`, and that a printed token works against the API."""
from portal.auth.models import ApiToken, User
from portal.extensions import db
from tests.factories import PASSWORD


def _user(name):
    db.session.remove()
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()


def test_create_user_with_role_and_token_works_against_the_api(make):
    org = make.org("110105", name="第一党支部")
    runner = make.app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "zhang", "--tenant", "110105", "--role", "secretary",
                                 "--org", org.code, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "已创建用户 zhang" in result.output and PASSWORD not in result.output
    user = _user("zhang")
    grant = user.grants[0]
    assert (grant.role, grant.org_id, grant.tenant.code) == ("secretary", org.id, "110105")
    assert user.password_hash.startswith("$argon2")

    result = runner.invoke(args=["users", "token", "zhang"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("pt_")
    stored = db.session.execute(db.select(ApiToken).filter_by(user_id=user.id)).scalar_one()
    assert stored.token_hash == ApiToken.digest(raw) and raw not in stored.token_hash

    client = make.app.test_client()
    resp = client.get("/api/v1/t/110105/orgs", headers={"Authorization": f"Bearer {raw}"})
    assert resp.status_code == 200
    assert [x["code"] for x in resp.get_json()["items"]] == [org.code]
    assert client.get("/api/v1/t/320115/orgs", headers={"Authorization": f"Bearer {raw}"}).status_code == 404


def test_create_without_password_prints_a_working_one(make):
    runner = make.app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "li", "--tenant", "320115", "--role", "tenant_admin"])
    assert result.exit_code == 0, result.output
    password = result.output.split("初始密码：")[1].strip()
    client = make.app.test_client()
    resp = client.post("/login", data={"username": "li", "password": password})
    assert resp.status_code == 302


def test_platform_admin_and_upper_reader(make):
    runner = make.app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "root", "--role", "platform_admin",
                               "--password", PASSWORD]).exit_code == 0
    assert _user("root").is_platform_admin
    result = runner.invoke(args=["users", "create", "city", "--role", "upper_reader", "--region", "320100",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    grant = _user("city").grants[0]
    assert (grant.role, grant.region_code, grant.tenant_id) == ("upper_reader", "320100", None)


def test_cli_refusals_write_nothing(make):
    runner = make.app.test_cli_runner()
    cases = [
        (["users", "create", "a1", "--tenant", "999999", "--role", "clerk"], "县区 999999 不存在"),
        (["users", "create", "a2", "--role", "clerk"], "需要 --tenant"),
        (["users", "create", "a3", "--tenant", "110105", "--role", "secretary"], "支部书记需要 --org"),
        (["users", "create", "a4", "--tenant", "110105", "--role", "secretary", "--org", "110105-9999"],
         "没有组织 110105-9999"),
        (["users", "create", "a5", "--role", "upper_reader"], "6位地区代码"),
        (["users", "create", "a6", "--role", "upper_reader", "--region", "32"], "6位地区代码"),
        (["users", "create", "a7", "--tenant", "110105", "--role", "clerk", "--password", "short"], "至少需要12个字符"),
        (["users", "create", "a8", "--tenant", "110105", "--role", "clerk", "--password", "abcdefghijkl"],
         "同时包含字母和数字"),
        (["users", "create", "a9", "--tenant", "110105", "--role", "clerk", "--password", "Demo-2026-only!"],
         "不能使用演示密码"),
        (["users", "create", "with space", "--tenant", "110105", "--role", "clerk"], "不含空格"),
        (["users", "token", "nobody"], "用户 nobody 不存在"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert db.session.execute(db.select(db.func.count()).select_from(User)).scalar() == 0
    make.user("110105", "clerk", username="dup")
    result = runner.invoke(args=["users", "create", "dup", "--tenant", "110105", "--role", "clerk"])
    assert result.exit_code != 0 and "用户名已存在" in result.output


def test_cli_created_users_are_audited(make):
    """The same rule as the users page: a creation is recorded in the tenant's trail."""
    from portal.audit.models import AuditEntry
    from tests.conftest import scope
    runner = make.app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "wang", "--tenant", "320115", "--role", "clerk",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    db.session.remove()
    with scope("320115"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(object_type="user")).scalar_one()
    assert (entry.action, entry.username, entry.summary) == ("create", "system", "wang")
    assert entry.after == {"username": "wang", "role": "clerk", "org_id": None}
    assert make.app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_token_printed_on_the_command_line_is_recorded_like_one_made_on_the_account_page(make):
    """User changes are recorded by the auth services, whoever calls them (issue 14)."""
    from portal.audit.models import AuditEntry
    from tests.conftest import scope
    make.user("320115", "clerk", username="zhao")
    runner = make.app.test_cli_runner()
    assert runner.invoke(args=["users", "token", "zhao", "--name", "nightly"]).exit_code == 0
    assert runner.invoke(args=["users", "end-sessions", "zhao"]).exit_code == 0
    db.session.remove()
    with scope("320115"):
        actions = [(e.action, e.after) for e in db.session.execute(
            db.select(AuditEntry).filter_by(object_type="user").order_by(AuditEntry.id)).scalars()]
    assert ("token_created", {"name": "nightly"}) in actions
    assert ("sessions_ended", {"sessions": 0}) in actions
    assert make.app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_tenant_created_on_the_command_line_is_recorded_like_one_made_on_the_platform_page(make):
    """`flask tenants create` and /platform/tenants go through auth.services.create_tenant."""
    from portal.audit.models import AuditEntry
    from tests.conftest import scope
    runner = make.app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "--code", "320116", "--name", "南京市六合区"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    with scope("320116"):
        entry = db.session.execute(db.select(AuditEntry).filter_by(object_type="tenant")).scalar_one()
    assert (entry.action, entry.username, entry.object_id, entry.summary) == ("create", "system", "320116",
                                                                              "南京市六合区")
    assert entry.after == {"code": "320116", "name": "南京市六合区", "parent_region": "320100"}
    assert make.app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_refused_tenant_on_the_command_line_records_nothing(make):
    from portal.audit.models import AuditEntry
    from portal.tenancy.models import Tenant
    from tests.conftest import scope
    runner = make.app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "--code", "320000", "--name", "江苏省"])
    assert result.exit_code != 0 and "不能是省级代码" in result.output
    db.session.remove()
    codes = db.session.execute(db.select(Tenant.code)).scalars().all()
    assert "320000" not in codes
    for code in codes:
        with scope(code):
            assert db.session.execute(db.select(AuditEntry).filter_by(object_type="tenant")).first() is None

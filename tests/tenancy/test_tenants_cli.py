"""`flask tenants sync|create|list` and the tenants/ files."""
import shutil
from pathlib import Path

import pytest

from portal.extensions import db
from portal.tenancy.models import Tenant


def _all():
    db.session.expire_all()
    return {t.code: t for t in db.session.execute(db.select(Tenant)).scalars()}


def _snapshot():
    return {code: (t.name, t.parent_region, t.letter_prefix, t.letter_validity_days, t.reply_deadline_days,
                   t.address, t.phone, t.postcode, t.seal) for code, t in _all().items()}


def test_tenant_files_load_with_their_values(ctx):
    tenants = _all()
    assert set(tenants) == {"110105", "320115", "410804", "620802", "653225"}
    chaoyang, macun = tenants["110105"], tenants["410804"]
    assert (chaoyang.letter_prefix, chaoyang.letter_validity_days, chaoyang.reply_deadline_days) == ("朝组", 30, 15)
    assert (macun.letter_prefix, macun.letter_validity_days, macun.reply_deadline_days) == ("马组", 20, 10)
    assert (chaoyang.parent_region, chaoyang.committee, chaoyang.postcode, chaoyang.seal) == \
        ("110000", "中共北京市朝阳区委组织部", "100020", "110105/seal.svg")
    assert tenants["653225"].parent_region == "653200" and tenants["653225"].name == "策勒县"


def test_sync_is_idempotent(ctx):
    runner = ctx.test_cli_runner()
    before = _snapshot()
    for _ in range(2):
        result = runner.invoke(args=["tenants", "sync"])
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 5 and all("未变化 (unchanged)" in line for line in lines)
        assert _snapshot() == before


def test_sync_creates_then_updates_then_leaves_unchanged(ctx, tmp_path):
    folder = tmp_path / "tenants"
    shutil.copytree(ctx.config["TENANTS_DIR"], folder)
    (folder / "320116.toml").write_text('code = "320116"\nname = "南京市六合区"\nletter_prefix = "六组"\n'
                                        'letter_validity_days = 15\n', encoding="utf-8")
    path = folder / "410804.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("reply_deadline_days = 10", "reply_deadline_days = 12"),
                    encoding="utf-8")
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["tenants", "sync", "--folder", str(folder)])
    assert result.exit_code == 0, result.output
    assert "320116 已创建 (created)" in result.output and "410804 已更新 (updated)" in result.output
    assert "110105 未变化 (unchanged)" in result.output
    tenants = _all()
    assert (tenants["320116"].letter_prefix, tenants["320116"].letter_validity_days,
            tenants["320116"].reply_deadline_days, tenants["320116"].parent_region) == ("六组", 15, 15, "320100")
    assert tenants["410804"].reply_deadline_days == 12
    before = _snapshot()
    result = runner.invoke(args=["tenants", "sync", "--folder", str(folder)])
    assert result.output.count("未变化 (unchanged)") == 6 and "已" not in result.output
    assert _snapshot() == before


@pytest.mark.parametrize("text, message", [
    ('code = "32011"\nname = "x"\n', "code 应为6位数字"),
    ('code = "320116"\n', "name 不能为空"),
    ('code = "320116"\nname = "x"\nletter_validity_days = 120\n', "letter_validity_days 应为1到90之间的整数"),
    ('code = "320116"\nname = "x"\nletter_validity_days = "三十"\n', "letter_validity_days 应为1到90之间的整数"),
    ('code = "320116"\nname = "x"\nreply_deadline_days = 0\n', "reply_deadline_days 应为1到90之间的整数"),
    ('code = "320116"\nname = "x"\nletter_prefix = "很长很长很长很长很长的字号"\n', "letter_prefix 应为不超过10个字符的文本"),
    ('code = "320116"\nname = "x"\nphone = 12345\n', "phone 应为不超过40个字符的文本"),
    ('code = "320117"\nname = "x"\n', "文件名与 code 320117 不一致"),
    ('code = "320116\nname = "x"\n', "320116.toml"),
])
def test_bad_files_are_refused_and_nothing_is_written(ctx, tmp_path, text, message):
    folder = tmp_path / "tenants"
    shutil.copytree(ctx.config["TENANTS_DIR"], folder)
    path = folder / "410804.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('name = "焦作市马村区"', 'name = "改名"'), encoding="utf-8")
    (folder / "320116.toml").write_text(text, encoding="utf-8")
    before = _snapshot()
    result = ctx.test_cli_runner().invoke(args=["tenants", "sync", "--folder", str(folder)])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert _snapshot() == before  # the good file before the bad one was not applied either


def test_sync_of_a_missing_folder(ctx, tmp_path):
    result = ctx.test_cli_runner().invoke(args=["tenants", "sync", "--folder", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "目录不存在" in result.output


def test_duplicate_codes_are_refused(ctx, tmp_path):
    (tmp_path / "a.toml").write_text('code = "320116"\nname = "甲"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('code = "320116"\nname = "乙"\n', encoding="utf-8")
    result = ctx.test_cli_runner().invoke(args=["tenants", "sync", "--folder", str(tmp_path)])
    assert result.exit_code != 0 and "code 重复" in result.output
    assert "320116" not in _all()


def test_create(ctx):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "--code", "320116", "--name", "南京市六合区"])
    assert result.exit_code == 0, result.output
    assert "320116 南京市六合区 已创建（上级地区 320100）" in result.output
    tenant = _all()["320116"]
    assert (tenant.name, tenant.parent_region, tenant.letter_validity_days, tenant.reply_deadline_days,
            tenant.letter_prefix) == ("南京市六合区", "320100", 30, 15, "")
    result = runner.invoke(args=["tenants", "create", "--code", "110106", "--name", "北京市丰台区",
                                 "--parent", "110000"])
    assert result.exit_code == 0 and _all()["110106"].parent_region == "110000"


@pytest.mark.parametrize("args, message", [
    (["--code", "110105", "--name", "重复"], "县区 110105 已存在"),
    (["--code", "12345", "--name", "x"], "县区代码应为6位数字"),
    (["--code", "32O116", "--name", "x"], "县区代码应为6位数字"),
    (["--code", "320000", "--name", "江苏省"], "不能是省级代码"),
    (["--code", "320116", "--name", ""], "名称不能为空"),
    (["--code", "320116", "--name", "x" * 61], "名称不能为空且不超过60个字符"),
    (["--code", "320116", "--name", "六合区", "--parent", "110000"], "包含该县区的市级或省级代码"),
])
def test_create_refusals(ctx, args, message):
    before = _snapshot()
    result = ctx.test_cli_runner().invoke(args=["tenants", "create", *args])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert _snapshot() == before


def test_list(ctx):
    result = ctx.test_cli_runner().invoke(args=["tenants", "list"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["110105", "320115", "410804", "620802", "653225"]
    assert lines[2].split("\t") == ["410804", "焦作市马村区", "410800", "马组", "20d", "10d"]


def test_the_shipped_tenant_files_are_valid(ctx):
    from portal.tenancy.loader import read_tenant_file
    files = sorted(Path(ctx.config["TENANTS_DIR"]).glob("*.toml"))
    assert len(files) == 5
    for path in files:
        data = read_tenant_file(path)
        assert data["code"] == path.stem and data["letter_prefix"] and 1 <= data["letter_validity_days"] <= 90

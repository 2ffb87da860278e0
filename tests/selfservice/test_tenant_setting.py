"""The link lifetime is a tenant setting (tenants/<code>.toml `self_service_days`, 1–730, default 180)."""
import pytest

from portal.tenancy.loader import TenantFileError, read_tenant_file


def _file(tmp_path, extra: str):
    path = tmp_path / "110105.toml"
    path.write_text(f'code = "110105"\nname = "北京市朝阳区"\n{extra}', encoding="utf-8")
    return path


def test_the_setting_is_read_and_checked(ctx, tmp_path):
    assert read_tenant_file(_file(tmp_path, "self_service_days = 90\n"))["self_service_days"] == 90
    assert "self_service_days" not in read_tenant_file(_file(tmp_path, ""))
    for bad in ("0", "731", '"180"', "true"):
        with pytest.raises(TenantFileError, match="self_service_days"):
            read_tenant_file(_file(tmp_path, f"self_service_days = {bad}\n"))

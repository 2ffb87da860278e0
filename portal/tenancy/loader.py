"""Loads tenants/ (one TOML file per county or district) into the database, idempotently."""
import re
import tomllib
from pathlib import Path

from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.tenancy.models import Tenant, region_matches

FIELDS = ("name", "province", "city", "parent_region", "committee", "letter_prefix", "letter_numbers",
          "letter_validity_days", "reply_deadline_days", "lost_contact_months", "self_service_days",
          "address", "phone", "fax", "postcode", "seal")


SIX_DIGITS = re.compile(r"[0-9]{6}")


class TenantFileError(ValueError):
    pass


TEXT_LIMITS = {"name": 60, "province": 30, "city": 30, "parent_region": 6, "committee": 80, "letter_prefix": 10,
               "address": 200, "phone": 40, "fax": 40, "postcode": 10, "seal": 200}
DAY_LIMITS = {"letter_validity_days": (1, 90, 30), "reply_deadline_days": (1, 90, 15),
              "lost_contact_months": (1, 24, 6), "self_service_days": (1, 730, 180)}


def read_tenant_file(path: Path) -> dict:
    """One tenant file, checked. Raises TenantFileError naming the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TenantFileError(f"{path.name}: {exc}") from exc
    code = str(data.get("code", ""))
    if not SIX_DIGITS.fullmatch(code):
        raise TenantFileError(f"{path.name}: " + _("code 应为6位数字的行政区划代码"))
    if path.stem.isdigit() and path.stem != code:
        raise TenantFileError(f"{path.name}: " + _("文件名与 code %(c)s 不一致", c=code))
    if not data.get("name"):
        raise TenantFileError(f"{path.name}: " + _("name 不能为空"))
    for key, limit in TEXT_LIMITS.items():
        if key in data and (not isinstance(data[key], str) or len(data[key]) > limit):
            raise TenantFileError(f"{path.name}: " + _("%(k)s 应为不超过%(n)d个字符的文本", k=key, n=limit))
    for key, (low, high, default) in DAY_LIMITS.items():
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise TenantFileError(f"{path.name}: " + _("%(k)s 应为%(a)d到%(b)d之间的整数", k=key, a=low, b=high))
    from portal.letters.numbering import check_formats
    try:
        data["letter_numbers"] = check_formats(data.get("letter_numbers")) or None
    except ValueError as exc:
        raise TenantFileError(f"{path.name}: {exc}") from exc
    data["code"] = code
    data.setdefault("parent_region", default_parent(code))
    return data


def upsert_tenant(data: dict) -> tuple[Tenant, bool]:
    tenant = db.session.execute(db.select(Tenant).filter_by(code=data["code"])).scalar_one_or_none()
    created = tenant is None
    if created:
        tenant = Tenant(code=data["code"])
        db.session.add(tenant)
    for field in FIELDS:
        if field in data:
            setattr(tenant, field, data[field])
    return tenant, created


def default_parent(code: str) -> str:
    """The region above a county (its city), or above a city-level tenant (its province)."""
    return code[:4] + "00" if not code.endswith("00") else code[:2] + "0000"


def validate_new_tenant(code, name, parent=None) -> dict:
    """Check the fields of a tenant to add (CLI and platform page share these rules).
    Returns the cleaned values; raises ValidationFailed naming each bad field in Chinese."""

    def text(value):
        return value.strip() if isinstance(value, str) else ""

    code, name, parent = text(code), text(name), text(parent)
    errors = {}
    if not SIX_DIGITS.fullmatch(code):
        errors["code"] = _("县区代码应为6位数字的行政区划代码")
    elif code.endswith("0000"):
        errors["code"] = _("县区代码不能是省级代码")
    elif db.session.execute(db.select(Tenant.id).filter_by(code=code)).first() is not None:
        errors["code"] = _("县区 %(c)s 已存在", c=code)
    if not name or len(name) > 60 or not name.isprintable():
        errors["name"] = _("名称不能为空且不超过60个字符")
    if parent and "code" not in errors:
        if not SIX_DIGITS.fullmatch(parent) or not parent.endswith("00") or parent == code \
                or not region_matches(code, parent):
            errors["parent"] = _("上级地区代码应为包含该县区的市级或省级代码，如 %(p)s",
                                 p=default_parent(code))
    elif parent and not SIX_DIGITS.fullmatch(parent):
        errors["parent"] = _("上级地区代码应为6位数字")
    if errors:
        raise ValidationFailed(errors)
    return {"code": code, "name": name, "parent_region": parent or default_parent(code)}


def create_tenant(code, name, parent=None) -> Tenant:
    """Add one tenant (flushes; the caller commits)."""
    values = validate_new_tenant(code, name, parent)
    tenant, _created = upsert_tenant(values)
    db.session.flush()
    return tenant


def sync_folder(folder: str | Path) -> list[tuple[str, str]]:
    """Returns (code, 'created'|'updated'|'unchanged') per file; commits once."""
    results = []
    folder = Path(folder)
    if not folder.is_dir():
        raise TenantFileError(_("目录不存在：%(f)s", f=str(folder)))
    seen: dict[str, str] = {}
    files = []
    for path in sorted(folder.glob("*.toml")):  # every file is checked before anything is written
        data = read_tenant_file(path)
        if data["code"] in seen:
            raise TenantFileError(_("%(a)s 与 %(b)s 的 code 重复", a=path.name, b=seen[data["code"]]))
        seen[data["code"]] = path.name
        files.append(data)
    for data in files:
        tenant, created = upsert_tenant(data)
        if created:
            results.append((data["code"], "created"))
        else:
            changed = bool(db.session.is_modified(tenant))
            results.append((data["code"], "updated" if changed else "unchanged"))
    db.session.commit()
    return results


def tenant_asset(tenants_dir: str | Path, tenant: Tenant, relative: str) -> Path | None:
    """A file a tenant provides (seal image, template override), or None."""
    if not relative:
        return None
    base = Path(tenants_dir).resolve()
    path = (base / relative).resolve()
    if base not in path.parents or not path.is_file():
        return None
    return path

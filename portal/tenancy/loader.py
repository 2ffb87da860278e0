"""Loads tenants/ (one TOML file per county or district) into the database, idempotently."""
import tomllib
from pathlib import Path

from portal.extensions import db
from portal.tenancy.models import Tenant

FIELDS = ("name", "province", "city", "parent_region", "committee", "letter_prefix",
          "letter_validity_days", "reply_deadline_days", "lost_contact_months",
          "address", "phone", "fax", "postcode", "seal")


class TenantFileError(ValueError):
    pass


def read_tenant_file(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TenantFileError(f"{path.name}: {exc}") from exc
    code = str(data.get("code", ""))
    if len(code) != 6 or not code.isdigit():
        raise TenantFileError(f"{path.name}: code must be a 6-digit region code")
    if not data.get("name"):
        raise TenantFileError(f"{path.name}: name is required")
    validity = int(data.get("letter_validity_days", 30))
    if not 1 <= validity <= 90:
        raise TenantFileError(f"{path.name}: letter_validity_days must be 1..90 (never more than 3 months)")
    data["code"] = code
    data.setdefault("parent_region", code[:4] + "00" if not code.endswith("00") else code[:2] + "0000")
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


def sync_folder(folder: str | Path) -> list[tuple[str, str]]:
    """Returns (code, 'created'|'updated'|'unchanged') per file; commits once."""
    results = []
    for path in sorted(Path(folder).glob("*.toml")):
        data = read_tenant_file(path)
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

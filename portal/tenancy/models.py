from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.core import clock


class Tenant(db.Model):
    """One county or district organization department."""
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    province: Mapped[str] = mapped_column(String(30), default="")
    city: Mapped[str] = mapped_column(String(30), default="")
    # Code of the region above this tenant (a city, or a province for municipalities' districts).
    parent_region: Mapped[str] = mapped_column(String(6), default="")
    committee: Mapped[str] = mapped_column(String(80), default="")
    letter_prefix: Mapped[str] = mapped_column(String(10), default="")
    # Printed forms of document numbers per kind, overriding portal.letters.numbering.DEFAULT_FORMATS.
    letter_numbers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    letter_validity_days: Mapped[int] = mapped_column(Integer, default=30)
    reply_deadline_days: Mapped[int] = mapped_column(Integer, default=15)
    lost_contact_months: Mapped[int] = mapped_column(Integer, default=6)
    # How long a member's self-service link stays valid.
    self_service_days: Mapped[int] = mapped_column(Integer, default=180, server_default="180")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    fax: Mapped[str] = mapped_column(String(40), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    seal: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"

    def in_region(self, region: str) -> bool:
        return region_matches(self.code, region)

    def __repr__(self):
        return f"<Tenant {self.code} {self.name}>"


def region_prefix(region: str) -> str:
    """A province (XX0000), city (XXXX00) or county code matches every code below it."""
    region = (region or "").strip()
    if len(region) != 6 or not region.isdigit():
        raise ValueError("地区代码应为6位数字")
    if region.endswith("0000"):
        return region[:2]
    if region.endswith("00"):
        return region[:4]
    return region


def region_matches(code: str, region: str) -> bool:
    return (code or "").startswith(region_prefix(region))

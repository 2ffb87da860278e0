"""Members of the national data set: the demo's generator (the seeds' reasons, industries, ages,
education, 失联 share, dues buckets) with places drawn from the real tree, so an outgoing member
lives in another tenant and an incoming one comes from a real county."""
import random
from bisect import bisect
from itertools import accumulate

from portal.demo import data as vocab
from portal.demo.national.tree import EXPORTING, TOWNS, County
from portal.demo.seed import MemberGenerator
from portal.members.idnumber import check_digit


def _place(county: County) -> vocab.Place:
    return vocab.Place(county.full, county.code, county.city_short)


class Places:
    """Where the members of every tenant go and come from, with each tenant's weights computed once.

    Outgoing members mostly stay in their province or go to the hubs (field reports: the capital
    and the coastal cities); incoming members come half from their own province, half from the
    labour-exporting ones. Destinations are tenants of the set, so a transfer can follow them."""

    def __init__(self, tenants: list[County], everywhere: list[County]):
        self.tenants = tenants
        self.dest_places = [_place(c) for c in tenants]
        self.origin_places = [_place(c) for c in everywhere]
        self.by_province: dict[str, list[int]] = {}
        for i, c in enumerate(everywhere):
            self.by_province.setdefault(c.code[:2], []).append(i)
        self._export_cum = list(accumulate(EXPORTING.get(c.code[:2], 0.2) for c in everywhere))
        self._hub = [c.hub for c in tenants]
        self._dest_cum: dict[str, list[float]] = {}

    def destination_weights(self, code: str) -> list[float]:
        cum = self._dest_cum.get(code)
        if cum is None:
            province = code[:2]
            cum = list(accumulate(
                0.0 if c.code == code else (1 + 12 * hub + (25 if c.code[:2] == province else 0)
                                            + (40 if c.code[:4] == code[:4] else 0))
                for c, hub in zip(self.tenants, self._hub)))
            self._dest_cum[code] = cum
        return cum

    def destination(self, rng: random.Random, code: str) -> vocab.Place:
        cum = self.destination_weights(code)
        if cum[-1] <= 0:  # a set of one tenant: the member lives in its own county
            return self.dest_places[0]
        return self.dest_places[bisect(cum, rng.random() * cum[-1])]

    def origin(self, rng: random.Random, code: str) -> vocab.Place:
        own = self.by_province.get(code[:2], [])
        if own and rng.random() < 0.5:
            i = rng.choice(own)
        else:
            i = bisect(self._export_cum, rng.random() * self._export_cum[-1])
        place = self.origin_places[i]
        return self.origin_places[rng.choice(own)] if place.code == code and own else place


def profile(county: County, share_incoming: float) -> vocab.Profile:
    """The demo's generic profile of a county, with its own city, a couple of towns and the share
    of incoming members its kind of place has."""
    base = vocab.generic_profile(county.code, county.name)
    base.city = county.city_short
    base.incoming_share = share_incoming
    base.local_streets = tuple(TOWNS[i] for i in range(len(TOWNS)) if int(county.code) % 3 != i % 3)[:5] or \
        base.local_streets
    if county.code[:2] in ("65",) and county.code[2:4] in ("28", "29", "30", "31", "32"):
        base.local_ethnicities = (("维吾尔族", 85), ("汉族", 12), ("回族", 3))
    elif county.code[:2] == "54":
        base.local_ethnicities = (("藏族", 90), ("汉族", 8), ("回族", 2))
    if county.hub >= 3:
        base.education = vocab.EDU_HIGH
    elif not county.hub:
        base.education = vocab.EDU_LOW if int(county.code[-2:]) > 20 else vocab.EDU_MID
    return base


class NationalGenerator(MemberGenerator):
    """The demo generator with national places. `place` is the last member's place (for an
    outgoing member, the tenant it lives in: transfers and agreements follow it)."""

    def __init__(self, tenant, prof, rng, today, created_orgs, places: Places):
        super().__init__(tenant, prof, rng, today, set(), created_orgs)
        self.places = places
        self.place: vocab.Place | None = None

    def _place(self, incoming: bool) -> vocab.Place:
        pick = self.places.origin if incoming else self.places.destination
        self.place = pick(self.rng, self.tenant.code)
        return self.place

    def _id_number(self, region: str, born, male: bool) -> str:
        # Serials 000-499 for the county's own people, 500-999 for those who came from elsewhere:
        # this tenant's locals never meet another tenant's incoming members with the same number.
        base = 0 if region == self.tenant.code else 500
        for _attempt in range(1000):
            serial = base + self.rng.randrange(250) * 2 + (1 if male else 0)
            first = f"{region}{born:%Y%m%d}{serial:03d}"
            if first not in self.used_ids:
                self.used_ids.add(first)
                return first + check_digit(first)
        raise RuntimeError("ran out of ID serials")  # pragma: no cover - 250 per day and region

"""Demo data: users, an organization tree and a few hundred plausible members per tenant.

Everything goes through the product's services (users, organizations, members, contacts), so every
rule holds and the audit trail is written. Generation is deterministic (seeded per tenant) and ID
numbers are unique across all tenants. One commit per tenant.
"""
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.audit.services import record
from portal.auth import services as auth
from portal.auth.access import Principal
from portal.auth.models import User
from portal.auth.roles import CLERK, SECRETARY, TENANT_ADMIN, VIEWER
from portal.demo import data as vocab
from portal.extensions import db
from portal.members import services as members
from portal.members.idnumber import check_digit
from portal.members.models import CONTACT_CHANNELS
from portal.members.rules import full_years, month_index, ym
from portal.orgs import services as orgs
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.models import Tenant
from portal.core import clock

# The documented demo password (README). DEMO ONLY: override with DEMO_PASSWORD.
DEFAULT_PASSWORD = "Demo-2026-only!"
ROLES = (("admin", TENANT_ADMIN, "管理员"), ("clerk", CLERK, "业务员"), ("viewer", VIEWER, "只读用户"),
         ("secretary", SECRETARY, "支部书记"))


class DemoRefused(Exception):
    """The demo seed will not run here (wrong configuration, data present, no tenants)."""


@dataclass
class TenantResult:
    code: str
    name: str
    orgs: int = 0
    members: int = 0
    contacts: int = 0
    users: list = field(default_factory=list)


def data_present() -> bool:
    """Whether the database already holds people or organizations (then the demo stays out)."""
    if db.session.execute(db.select(User.id).limit(1)).first() is not None:
        return True
    with cross_tenant():
        return db.session.execute(db.select(Organization.id).limit(1)).first() is not None


def seed(password: str = DEFAULT_PASSWORD, today: date | None = None, *, progress=None) -> list[TenantResult]:
    """Seed every tenant in the database. Caller checks the configuration and emptiness first."""
    auth.check_password_strength(password)
    tenants = db.session.execute(db.select(Tenant).filter_by(active=True).order_by(Tenant.code)).scalars().all()
    if not tenants:
        raise DemoRefused("no tenants in the database: run `flask tenants sync` first")
    today = today or clock.today()
    used_ids: set[str] = set()
    shared_hash: dict = {}
    results = []
    for tenant in tenants:
        profile = vocab.PROFILES.get(tenant.code) or vocab.generic_profile(tenant.code, tenant.name)
        try:
            with tenant_scope(tenant.id):
                result = seed_tenant(tenant, profile, password, today, used_ids, shared_hash)
                db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        results.append(result)
        if progress:
            progress(result)
    return results


def seed_tenant(tenant: Tenant, profile: vocab.Profile, password: str, today: date,
                used_ids: set[str], shared_hash: dict) -> TenantResult:
    """Fill one tenant; runs inside that tenant's scope, the caller commits."""
    rng = random.Random(f"portal-demo-{tenant.code}")
    result = TenantResult(tenant.code, tenant.name)
    admin = _user(tenant, "admin", TENANT_ADMIN, password, None, None, shared_hash.get("hash"))
    shared_hash["hash"] = admin.password_hash
    principal = Principal(user=admin, tenant=tenant, grant=admin.grant_for(tenant.id))
    created = _org_tree(admin, profile)
    result.orgs = len(created)
    branch = next(o for o in created.values() if o.kind == "党支部")
    users = [admin]
    for suffix, role, _label in ROLES[1:]:
        users.append(_user(tenant, suffix, role, password, branch.id if role == SECRETARY else None, admin,
                           shared_hash["hash"]))
    result.users = [u.username for u in users]
    gen = MemberGenerator(tenant, profile, rng, today, used_ids, created)
    for _i in range(profile.members):
        fields, holds, contacts = gen.next()
        member = members.create(principal, fields, holds_relationship=holds)
        for on, channel, note in contacts:
            members.record_contact(principal, member, {"on": on.isoformat(), "channel": channel, "note": note})
            result.contacts += 1
        result.members += 1
    return result


def _user(tenant: Tenant, suffix: str, role: str, password: str, org_id, actor, shared_hash: str | None) -> User:
    """A demo user with a role in `tenant`. Every demo user has the same password, so its argon2
    hash (the slow part) is computed once and shared."""
    label = dict((s, lbl) for s, _r, lbl in ROLES)[suffix]
    username, display = f"{tenant.code}-{suffix}", f"{tenant.name}{label}（演示）"
    if shared_hash is None:
        # create_user records the creation in the tenant's trail itself.
        user, _clear = auth.create_user(username, password, tenant=tenant, role=role, org_id=org_id,
                                        display_name=display, actor=actor)
        return user
    if auth.user_by_name(username) is not None:
        raise DemoRefused(f"user {username} exists already")
    user = User(username=username, password_hash=shared_hash, display_name=display)
    db.session.add(user)
    auth.grant(user, role, tenant=tenant, org_id=org_id)
    db.session.flush()
    record(actor or user, "create", "user", user.id, after={"username": user.username, "role": role,
                                                            "org_id": org_id}, summary=user.username)
    return user


def _org_tree(actor, profile: vocab.Profile) -> dict:
    created: dict = {}
    for spec in profile.orgs:
        values = {k: v for k, v in spec.items() if k not in ("key", "parent")}
        parent = created.get(spec["parent"]) if spec["parent"] else None
        values["parent"] = parent.code if parent else None
        created[spec["key"]] = orgs.create(actor, values)
    return created


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights, k=1)[0]


def _between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class MemberGenerator:
    """Plausible register rows for one tenant. Dates are relative to `today` so the work lists,
    dues buckets and lost contacts look current whenever the demo is seeded."""

    def __init__(self, tenant, profile, rng, today, used_ids, created_orgs):
        self.tenant, self.p, self.rng, self.today, self.used_ids = tenant, profile, rng, today, used_ids
        orgs_ = list(created_orgs.values())
        self.origin_orgs = [o for o in orgs_ if o.role in ("origin", "both")] or orgs_
        self.host_orgs = [o for o in orgs_ if o.role in ("host", "both")] or orgs_
        self.cert_seq = 0
        self.short = (tenant.letter_prefix or tenant.name)[:1]

    # -- pieces --

    def _birth(self) -> date:
        rng = self.rng
        span = _weighted(rng, (((1990, 2003), 30), ((1975, 1989), 35), ((1965, 1974), 20), ((1950, 1964), 15)))
        born = date(rng.randint(*span), rng.randint(1, 12), rng.randint(1, 28))
        latest = _add_years(self.today, -19)
        return min(born, latest)

    def _id_number(self, region: str, born: date, male: bool) -> str:
        for _attempt in range(1000):
            serial = self.rng.randrange(500) * 2 + (1 if male else 0)  # odd: male, even: female
            first = f"{region}{born:%Y%m%d}{serial:03d}"
            if first not in self.used_ids:
                self.used_ids.add(first)
                return first + check_digit(first)
        raise RuntimeError("ran out of ID serials")  # pragma: no cover - 500 per day and region

    def _name(self, male: bool, uyghur: bool) -> str:
        rng = self.rng
        if uyghur:
            given = rng.choice(vocab.UYGHUR_MALE if male else vocab.UYGHUR_FEMALE)
            return f"{given}·{rng.choice(vocab.UYGHUR_FATHER)}"
        # Frequent surnames first: a triangular draw over the ordered list.
        surname = vocab.SURNAMES[int(rng.triangular(0, len(vocab.SURNAMES), 0))]
        chars = vocab.MALE_GIVEN if male else vocab.FEMALE_GIVEN
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
        return surname + given

    def _place(self, incoming: bool) -> vocab.Place:
        """Where an incoming member comes from, or where an outgoing one lives."""
        return _weighted(self.rng, [(pl, pl.weight) for pl in (self.p.origins if incoming else self.p.destinations)])

    def _phone(self) -> str:
        return self.rng.choice(vocab.MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"

    def _employer(self, reason: str, industry: str, city: str, age: int) -> str:
        rng = self.rng
        if reason == "求学":
            return vocab.UNIVERSITIES.get(city, f"{city}职业技术学院")
        if reason == "经商":
            return rng.choice((f"{city}{rng.choice(vocab.BRANDS)}商行", "个体工商户", f"{city}{rng.choice(vocab.BRANDS)}批发部"))
        if reason == "随迁":
            return rng.choice(("随配偶迁居，暂无固定单位", f"{city}{rng.choice(vocab.BRANDS)}{vocab.INDUSTRY_WORDS[industry]}有限公司"))
        if reason == "其他" and age >= 60:
            return "退休，随子女居住"
        return f"{city}{rng.choice(vocab.BRANDS)}{vocab.INDUSTRY_WORDS[industry]}有限公司"

    def _dues(self) -> str:
        rng = self.rng
        bucket = _weighted(rng, (("on_time", 55), ("1_5m", 24), ("6_12m", 10), ("1_5y", 6), ("gt5y", 2),
                                 ("unknown", 3)))
        now = month_index(self.today.year, self.today.month)
        unpaid = {"on_time": rng.choice((0, 0, -1, -2)), "1_5m": rng.randint(1, 5), "6_12m": rng.randint(6, 12),
                  "1_5y": rng.randint(13, 60), "gt5y": rng.randint(61, 96)}.get(bucket)
        return "" if unpaid is None else ym(now - 1 - unpaid)

    def _contacts(self, moved_on: date) -> tuple[date | None, list]:
        """The last contact date and the contact records behind it (oldest first)."""
        rng = self.rng
        since = max(moved_on, self.today - timedelta(days=900))
        roll = rng.random()
        if roll < 0.04:
            return None, []  # never reached since registration
        if roll < 0.16:  # lost: last contact 7 to 30 months ago
            last = _between(rng, max(since, self.today - timedelta(days=900)), self.today - timedelta(days=215))
        else:
            last = _between(rng, max(since, self.today - timedelta(days=150)), self.today - timedelta(days=1))
        last = max(last, moved_on)
        records = []
        if rng.random() < 0.3:
            count = rng.randint(1, 3)
            days = sorted({last - timedelta(days=rng.randint(20, 200)) for _ in range(count - 1)})
            for day in [d for d in days if d >= moved_on] + [last]:
                records.append((day, rng.choice(CONTACT_CHANNELS[:4]), rng.choice(vocab.CONTACT_NOTES)))
        return last, records

    # -- one member --

    def next(self) -> tuple[dict, bool, list]:
        rng, p, today = self.rng, self.p, self.today
        incoming = rng.random() < p.incoming_share
        male = rng.random() < 0.58
        born = self._birth()
        age = full_years(born, today)
        if incoming:
            place = self._place(incoming=True)
            id_region, org = place.code, rng.choice(self.host_orgs)
            reason = _weighted(rng, (("务工", 60), ("经商", 15), ("随迁", 15), ("其他", 10)))
        else:
            place = self._place(incoming=False)
            id_region, org = self.tenant.code, rng.choice(self.origin_orgs)
            reason = _weighted(rng, (("务工", 62), ("经商", 14), ("求学", 8 if age < 28 else 0), ("随迁", 10),
                                     ("其他", 6)))
        local = id_region == self.tenant.code
        ethnicities = p.local_ethnicities if (local and p.local_ethnicities) else p.ethnicities
        ethnicity = _weighted(rng, ethnicities)
        name = self._name(male, ethnicity == "维吾尔族")
        number = self._id_number(id_region, born, male)
        education = _weighted(rng, p.education)
        if reason == "求学":
            education = rng.choice(("本科", "硕士", "硕士", "博士"))
        adult = _add_years(born, 18)
        if rng.random() < 0.06:  # probationary: joined within the last year
            joined = _between(rng, max(adult, today - timedelta(days=330)), today - timedelta(days=10))
        else:
            joined = _between(rng, adult, min(_add_years(adult, 20), today - timedelta(days=400)))
        category = "预备党员" if (today - joined).days < 365 else "正式党员"
        moved_on = _between(rng, max(_add_years(born, 18), date(2008, 1, 1)), today - timedelta(days=20))
        industry = "教育" if reason == "求学" else rng.choice(p.industries)
        city = p.city if incoming else place.city
        if incoming:
            address = f"{self.tenant.name}{rng.choice(p.local_streets)}{rng.randint(1, 300)}号" \
                      f"{rng.choice(vocab.ESTATES)}"
        else:
            address = f"{place.text}{rng.choice(vocab.STREETS)}{rng.randint(1, 500)}号"
        last_contact, contacts = self._contacts(moved_on)
        holds = True if not incoming else rng.random() < 0.5
        certificate = ""
        if not incoming and rng.random() < 0.35:
            self.cert_seq += 1
            certificate = f"{self.short}流活证{moved_on.year}{self.cert_seq:04d}"
        fields = {
            "name": name, "sex": "男" if male else "女", "ethnicity": ethnicity, "id_number": number,
            "education": education, "joined_on": joined.isoformat(), "category": category, "org": org.code,
            "direction": "流入" if incoming else "流出", "moved_on": moved_on.isoformat(), "move_reason": reason,
            "region": place.text, "industry": industry, "employer": self._employer(reason, industry, city, age),
            "address": address[:200], "phone": self._phone(), "dues_paid_through": self._dues(),
            "last_contact_on": last_contact.isoformat() if last_contact else "", "certificate_no": certificate,
        }
        # The contact records are written through the service once the member exists; the newest
        # of them falls on last_contact_on, so the register and the records agree.
        return fields, holds, contacts

"""One tenant's share of the national data set, written in its own transaction: the register (with
contacts, dues months, certificates and the holders' index), the transfers it sends with their
events, the agreements it proposes with their covered members. The receivers' new register rows of
the transfers that arrived are handed back and written later, receiver by receiver (ArrivalTask).

Rows are made the way the app makes them (the values of members.services.clean, which the first
rows of every tenant are checked against; roster.bulk.member_row for the encrypted and hashed ID
number; exchange.transfers.snapshot) and written with tenancy.bulk.insert in
the tenant's own scope, so row-level security checks every row. Ids of rows that others point at
are drawn from the tables' sequences first (by the plan, a block per table), so the whole tenant is
built before anything is sent.
"""
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import text

from portal.core import areas, clock
from portal.tenancy.bulk import insert
from portal.demo.national.people import NationalGenerator, Places, profile
from portal.demo.national.tree import County
from portal.exchange import models as ex
from portal.exchange.transfers import snapshot as transfer_snapshot
from portal.extensions import db
from portal.letters.models import INTRODUCTION, LetterSequence
from portal.letters.numbering import number_for
from portal.members import services as members
from portal.members.models import EDUCATION_SYNONYMS, TRANSFERRED, Contact, Member
from portal.members.rules import month_index, ym
from portal.roster.bulk import member_row
from portal.standing.models import ActivityCertificate, DuesPayment
from portal.tenancy.context import tenant_scope
from portal.tenancy.scoping import apply_settings

# Rows of every tenant checked against members.services.clean (see `check`).
CHECKED = 20
RETURN_NOTES = {"incomplete": "缺少党费交纳证明，请补充后重新提交", "not_our_area": "该党员暂住地不在本区管辖范围",
                "wrong_addressee": "请改送该党员所在街道流动党员党支部", "other": "请先与接收方电话确认"}
END_REASONS = ("党员已返回原籍", "党员已转接组织关系", "流入地党组织撤销", "协议到期不再续签")


@dataclass
class Org:
    id: int
    code: str
    name: str
    kind: str
    role: str


@dataclass
class TenantTask:
    """What one tenant gets: its share of members, the states of the transfers it sends and of the
    agreements it proposes (exact proportions over the whole set, dealt out by the plan)."""
    tenant_id: int
    county: County
    members: int
    incoming_share: float
    transfer_states: list = field(default_factory=list)
    agreement_states: list = field(default_factory=list)
    first_ids: dict = field(default_factory=dict)  # table -> the first id of its block (see ids_needed)

    @property
    def own_members(self) -> int:
        """Its register before the arrivals: those who arrive elsewhere come on top as new rows."""
        return max(1, self.members - self.transfer_states.count(ex.COMPLETED))

    def ids_needed(self) -> dict[str, int]:
        """At most as many ids as it writes rows: its members and their copies at the receivers,
        transfers, agreements (drawn in one block per table for the whole load: no round trip per
        tenant, and ids that do not depend on how the workers interleave)."""
        return {"members": self.own_members + self.transfer_states.count(ex.COMPLETED),
                "transfers": len(self.transfer_states), "agreements": len(self.agreement_states)}


@dataclass
class World:
    """What every tenant's work needs to know about the others."""
    seed: int
    today: date
    tenants: dict          # code -> (tenant id, letter prefix, reply deadline, name)
    orgs: dict             # tenant id -> list[Org]
    places: Places
    admins: dict           # tenant id -> user id of its admin


def reserve(table: str, n: int) -> list[int]:
    """n fresh ids of a table's sequence (unique whoever else draws at the same time)."""
    if n <= 0:
        return []
    apply_settings()
    return list(db.session.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                                        "FROM generate_series(1, :n)"), {"n": n}).scalars())


def reserve_block(table: str, n: int) -> int:
    """The first of n consecutive fresh ids of a table's sequence. Only while nothing else draws
    from it (the load, before its workers start): nextval and setval are two steps."""
    if n <= 0:
        return 0
    last = db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"nextval(pg_get_serial_sequence('{table}', 'id')) + :n - 1)"),
                              {"n": n}).scalar()
    return last - n + 1


def _defaults(table) -> dict:
    """The ORM's Python-side defaults of a table: a Core INSERT of a subset of columns gets them too."""
    out = {}
    for column in table.columns:
        if column.default is None or column.primary_key:
            continue
        arg = column.default.arg
        out[column.name] = arg(None) if callable(arg) else arg
    return out


def complete(table, rows: list[dict]) -> list[dict]:
    if not rows:
        return rows
    base = {k: v for k, v in _defaults(table).items() if k not in rows[0]}
    return [{**base, **row} for row in rows]


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))


def _days(rng, a, b) -> timedelta:
    return timedelta(days=rng.randint(a, b))


def typed(fields: dict, org) -> dict:
    """The model values members.services.clean makes of a generated member's fields, without its
    checks: the generator's output is valid by construction (ISO dates, the vocabularies' words,
    which clean only maps to their canonical forms), and `check` holds the first rows of every
    tenant to clean's own result."""
    number = fields["id_number"]
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    values = dict(fields)
    del values["org"]
    last = fields["last_contact_on"]
    values.update(education=EDUCATION_SYNONYMS.get(fields["education"], fields["education"]),
                  birth_date=born, _born=born, joined_on=date.fromisoformat(fields["joined_on"]),
                  moved_on=date.fromisoformat(fields["moved_on"]),
                  last_contact_on=date.fromisoformat(last) if last else None, org_id=org.id, _org=org)
    return values


def check(fields: dict, values: dict, find_org) -> None:
    """Fails the load when the generator and the register's rules part (a vocabulary or a rule
    changed): `typed` must give what clean gives."""
    expected = members.clean(fields, find_org=find_org)
    if expected != values:
        differ = sorted(k for k in expected.keys() | values.keys() if expected.get(k) != values.get(k))
        raise RuntimeError(f"a generated member differs from members.services.clean in {differ}")


class RegisterWriter:
    """Members of one tenant and what hangs off them (contacts, dues months, certificates, the
    holders' index), in that tenant's scope; the holders' index takes a number once across tenants
    (a number two counties both registered stays with the first)."""

    def __init__(self, tenant_id: int, admin: int | None, rng: random.Random, now: datetime, today: date,
                 counts: Counter):
        self.tenant_id, self.admin, self.rng, self.now, self.today = tenant_id, admin, rng, now, today
        self.counts = counts

    def _standing(self, rows: list[dict], contacts: list[list] | None):
        """Contacts, dues months (the paid-through month and up to five before it) and certificates."""
        rng, tenant_id, admin, now = self.rng, self.tenant_id, self.admin, self.now
        contact_rows, dues_rows, cert_rows = [], [], []
        for i, row in enumerate(rows):
            mid = row["id"]
            for on, channel, note in (contacts[i] if contacts else ()):
                contact_rows.append({"tenant_id": tenant_id, "member_id": mid, "on": on, "channel": channel,
                                     "note": note, "recorded_by": admin, "created_at": now})
            if row["dues_paid_through"]:
                y, m = map(int, row["dues_paid_through"].split("-"))
                last = month_index(y, m)
                for k in range(rng.choice((0, 1, 2, 2, 3, 5))):
                    dues_rows.append({"tenant_id": tenant_id, "member_id": mid, "month": ym(last - k - 1),
                                      "recorded_by": admin, "created_at": now})
                dues_rows.append({"tenant_id": tenant_id, "member_id": mid, "month": row["dues_paid_through"],
                                  "recorded_by": admin, "created_at": now})
            if row["certificate_no"] and row["status"] == "active":
                moved = row["moved_on"]
                cert_rows.append({"tenant_id": tenant_id, "member_id": mid, "number": row["certificate_no"],
                                  "issued_on": moved if moved and moved <= self.today else self.today,
                                  "created_at": now})
        return contact_rows, dues_rows, cert_rows

    def write(self, rows: list[dict], contacts=None) -> None:
        tenant_id = self.tenant_id
        contact_rows, dues_rows, cert_rows = self._standing(rows, contacts)
        with tenant_scope(tenant_id):
            insert(Member.__table__, rows)
            insert(Contact.__table__, contact_rows)
            insert(DuesPayment.__table__, complete(DuesPayment.__table__, dues_rows))
            insert(ActivityCertificate.__table__, complete(ActivityCertificate.__table__, cert_rows))
            holders = [r["id"] for r in rows if r["holds_relationship"] and r["status"] == "active"]
            if holders:
                apply_settings()
                db.session.execute(text(
                    "INSERT INTO relationship_holds (id_hash, tenant_id, member_id, org_id, since) "
                    "SELECT id_hash, tenant_id, id, org_id, :now FROM members "
                    "WHERE tenant_id = :t AND id = ANY(:ids) ON CONFLICT (id_hash) DO NOTHING"),
                    {"now": self.now, "t": tenant_id, "ids": holders})
                lost = db.session.execute(text(
                    "UPDATE members SET holds_relationship = false WHERE tenant_id = :t AND id = ANY(:ids) "
                    "AND NOT EXISTS (SELECT 1 FROM relationship_holds h WHERE h.id_hash = members.id_hash "
                    "AND h.tenant_id = members.tenant_id AND h.member_id = members.id)"),
                    {"t": tenant_id, "ids": holders}).rowcount
                self.counts["holds"] += len(holders) - lost
                self.counts["duplicate_numbers"] += lost
        self.counts["members"] += len(rows)
        self.counts["contacts"] += len(contact_rows)
        self.counts["dues_payments"] += len(dues_rows)
        self.counts["certificates"] += len(cert_rows)


@dataclass
class ArrivalTask:
    """The register rows of the members who arrived at one tenant, from every sender: written
    after all senders, in one transaction per receiver (not one per sender and receiver: at
    national size that is about 100,000 small transactions instead of 2,849)."""
    tenant_id: int
    code: str
    rows: list = field(default_factory=list)


def write_arrivals(world: World, task: ArrivalTask) -> Counter:
    counts: Counter = Counter()
    rng = random.Random(f"portal-national-{world.seed}-{task.code}-arrivals")
    rows = sorted(task.rows, key=lambda r: r["id"])
    RegisterWriter(task.tenant_id, world.admins.get(task.tenant_id), rng, clock.utcnow(), world.today,
                   counts).write(rows)
    counts["arrivals"] = len(rows)
    return counts


class TenantWork:
    def __init__(self, world: World, task: TenantTask):
        self.w, self.t = world, task
        self.rng = random.Random(f"portal-national-{world.seed}-{task.county.code}")
        self.today = world.today
        self.now = clock.utcnow()
        self.orgs = world.orgs[task.tenant_id]
        self.by_code = {o.code: o for o in self.orgs}
        self.by_id = {o.id: o for o in self.orgs}
        code = task.county.code
        self.tenant_id, self.prefix, self.reply_days, self.name = world.tenants[code]
        self.admin = world.admins.get(task.tenant_id)
        self.counts: Counter = Counter()

    # -- the register --

    def _register(self, n: int) -> tuple[list[dict], list[str | None], list[list]]:
        prof = profile(self.t.county, self.t.incoming_share)
        tenant = SimpleNamespace(code=self.t.county.code, name=self.name, letter_prefix=self.prefix)
        gen = NationalGenerator(tenant, prof, self.rng, self.today, {o.code: o for o in self.orgs}, self.w.places)
        rows, dests, contacts = [], [], []
        for k in range(n):
            fields, hold, contact = gen.next()
            values = typed(fields, self.by_code[fields["org"]])
            if k < CHECKED:
                check(fields, values, self.by_code.get)
            row = member_row(self.tenant_id, values, self.now)
            row["holds_relationship"] = hold
            rows.append(row)
            dests.append(gen.place.code if fields["direction"] == "流出" else None)
            contacts.append(contact)
        return rows, dests, contacts

    # -- transfers --

    def _host_org(self, tenant_id: int, k: int) -> Org:
        orgs = self.w.orgs[tenant_id]
        hosts = [o for o in orgs if o.role in ("host", "both")] or orgs
        return hosts[k % len(hosts)]

    def _letter(self, issued: date) -> str:
        seq = self.letter_seq[issued.year] = self.letter_seq.get(issued.year, 0) + 1
        return number_for(SimpleNamespace(letter_numbers=None, letter_prefix=self.prefix, code=self.t.county.code),
                          INTRODUCTION, issued.year, seq)

    def _transfer(self, tid: int, row: dict, dest: str, state: str, k: int):
        """A transfer's row and events in `state`; for an arrival also the receiver's new row."""
        rng, today = self.rng, self.today
        receiver_id = self.w.tenants[dest][0]
        to_org = self._host_org(receiver_id, k)
        from_org = self.by_id[row["org_id"]]
        reply_days = self.w.tenants[dest][2] or 15
        sub = today - {ex.SUBMITTED: _days(rng, 0, 20), ex.RETURNED: _days(rng, 5, 40),
                       ex.ACCEPTED: _days(rng, 3, 30), ex.OVERDUE: _days(rng, 40, 220),
                       ex.COMPLETED: _days(rng, 35, 900), ex.CANCELLED: _days(rng, 15, 500)}[state]
        member = SimpleNamespace(**row, org=from_org)
        t = {"id": tid, "tenant_id": self.tenant_id, "other_tenant_id": receiver_id, "member_id": row["id"],
             "member_snapshot": transfer_snapshot(member), "member_name": row["name"],
             "from_org_id": from_org.id, "to_org_id": to_org.id, "state": state, "note": "",
             "return_reason": "", "return_note": "", "return_count": 0, "submitted_at": _at(sub, rng),
             "reply_due_on": sub + timedelta(days=reply_days), "letter_number": "", "letter_issued_on": None,
             "letter_valid_until": None, "letter_count": 0, "receipt_number": "", "arrived_on": None,
             "new_member_id": None, "created_by": self.admin, "created_at": _at(sub, rng)}
        events = [("submit", "", ex.SUBMITTED, sub, self.tenant_id, "", "")]
        if state in (ex.RETURNED, ex.CANCELLED) or (state == ex.COMPLETED and rng.random() < 0.1):
            reason = rng.choice(ex.RETURN_REASONS)
            back = min(sub + _days(rng, 1, 10), today)
            t.update(return_reason=reason, return_note=RETURN_NOTES[reason], return_count=1)
            events.append(("return", ex.SUBMITTED, ex.RETURNED, back, receiver_id, reason, RETURN_NOTES[reason]))
            if state == ex.CANCELLED:
                events.append(("cancel", ex.RETURNED, ex.CANCELLED, min(back + _days(rng, 1, 20), today),
                               self.tenant_id, "", "党员暂不转接"))
            elif state == ex.COMPLETED:
                sub = back + _days(rng, 1, 5)
                events.append(("resubmit", ex.RETURNED, ex.SUBMITTED, sub, self.tenant_id, "", "已补充材料"))
        if state in (ex.ACCEPTED, ex.OVERDUE, ex.COMPLETED):
            validity = 30
            if state == ex.ACCEPTED:
                issued = max(sub, today - timedelta(days=rng.randint(0, validity - 1)))
            elif state == ex.OVERDUE:
                issued = sub + _days(rng, 1, 8)
            else:
                issued = sub + _days(rng, 1, 12)
            number = self._letter(issued)
            t.update(letter_number=number, letter_issued_on=issued, letter_valid_until=issued + timedelta(days=validity),
                     letter_count=1)
            events.append(("accept", ex.SUBMITTED, ex.ACCEPTED, issued, receiver_id, "", ""))
            if state == ex.OVERDUE:
                events.append(("overdue", ex.ACCEPTED, ex.OVERDUE, issued + timedelta(days=validity + 1), None, "", ""))
            if state == ex.COMPLETED:
                arrived = min(issued + _days(rng, 1, validity - 2), today)
                t["arrived_on"] = arrived
                events.append(("arrive", ex.ACCEPTED, ex.COMPLETED, arrived, receiver_id, "", ""))
        event_rows = [{"tenant_id": self.tenant_id, "other_tenant_id": receiver_id, "transfer_id": tid,
                       "at": _at(on, rng), "actor_id": self.admin if actor == self.tenant_id else None,
                       "actor_name": "业务员（演示）" if actor else "系统", "actor_tenant_id": actor,
                       "action": action, "from_state": before, "to_state": after, "reason": reason, "note": note,
                       "letter_number": t["letter_number"] if action in ("accept", "arrive") else ""}
                      for action, before, after, on, actor, reason, note in events]
        t["updated_at"] = event_rows[-1]["at"]
        return t, event_rows, receiver_id, to_org

    def _arrival(self, row: dict, t: dict, to_org: Org, new_id: int) -> dict:
        """The receiver's register row of an arrived member, as exchange.transfers.arrive writes it."""
        copy = dict(row, id=new_id, tenant_id=t["other_tenant_id"], org_id=to_org.id, direction="流入",
                    region=areas.name(self.t.county.code, default=self.name), moved_on=t["arrived_on"],
                    holds_relationship=True, status="active")
        row.update(status=TRANSFERRED, holds_relationship=False)
        return copy

    # -- agreements --

    def _agreements(self, rows, dests, used: set) -> tuple[list, list]:
        rng, today = self.rng, self.today
        states = self.t.agreement_states
        if not states:
            return [], []
        by_dest = defaultdict(list)
        for i, d in enumerate(dests):
            if d and d != self.t.county.code and i not in used and rows[i]["status"] == "active":
                by_dest[d].append(i)
        hosts = sorted(by_dest, key=lambda d: (-len(by_dest[d]), d))
        if not hosts:
            return [], []
        ids = range(self.t.first_ids["agreements"], self.t.first_ids["agreements"] + len(states))
        origin_orgs = [o for o in self.orgs if o.role in ("origin", "both")] or self.orgs
        agreements, covered = [], []
        for k, (aid, state) in enumerate(zip(ids, states)):
            dest = hosts[k % len(hosts)]
            host_id = self.w.tenants[dest][0]
            host_org = self._host_org(host_id, k)
            origin_org = origin_orgs[k % len(origin_orgs)]
            proposed = today - _days(rng, 1, 30) if state == ex.PROPOSED else today - _days(rng, 60, 1500)
            starts = proposed + _days(rng, 0, 20)
            years = rng.choice((1, 2, 3))
            ends = starts + timedelta(days=365 * years)
            if state == ex.EXPIRED:
                ends = min(ends, today - _days(rng, 1, 60))
            elif state in (ex.ACTIVE, ex.PROPOSED) and ends <= today:
                ends = today + _days(rng, 30, 700)
            signed = state in (ex.ACTIVE, ex.TERMINATED, ex.EXPIRED)
            ended = None
            if state == ex.DECLINED:
                ended = min(proposed + _days(rng, 1, 20), today)
            elif state == ex.TERMINATED:
                ended = min(starts + _days(rng, 30, 300), today)
            a = {"id": aid, "tenant_id": self.tenant_id, "other_tenant_id": host_id,
                 "number": f"{self.prefix}共管{starts.year}{k + 1:03d}" if signed else "",
                 "origin_org_id": origin_org.id, "host_org_id": host_org.id,
                 "proposed_by_side": "origin" if k % 4 else "host", "scope": ex.SCOPE_MEMBERS,
                 "duties_host": list(ex.DEFAULT_DUTIES_HOST), "duties_origin": list(ex.DEFAULT_DUTIES_ORIGIN),
                 "origin_contact_name": "张建军", "origin_contact_phone": "13800000001",
                 "host_contact_name": "刘洋", "host_contact_phone": "13800000004",
                 "report_every": "quarter" if k % 3 else "month", "starts_on": starts, "ends_on": ends,
                 "state": state, "note": "", "proposed_by": self.admin, "proposed_at": _at(proposed, rng),
                 "signed_by": None, "signed_on": min(starts, today) if signed else None, "ended_on": ended,
                 "ended_by_side": ("host" if state == ex.DECLINED else "origin") if ended else "",
                 "end_reason": rng.choice(END_REASONS) if ended else ""}
            agreements.append(a)
            people = by_dest[dest]
            take = people[:rng.randint(1, 8)]
            by_dest[dest] = people[len(take):] + people[:len(take)]  # the next agreement names others
            for i in take:
                r = rows[i]
                covered.append({"tenant_id": self.tenant_id, "other_tenant_id": host_id, "agreement_id": aid,
                                "member_id": r["id"], "id_hash": r["id_hash"], "name": r["name"], "sex": r["sex"],
                                "id_masked": r["id_masked"]})
        return agreements, covered

    # -- the whole tenant --

    def run(self) -> Counter:
        task, rng = self.t, self.rng
        base = task.own_members
        rows, dests, contacts = self._register(base)
        member_ids = iter(range(task.first_ids["members"], task.first_ids["members"] + task.ids_needed()["members"]))
        for row, mid in zip(rows, member_ids):
            row["id"] = mid
        outgoing = [i for i, d in enumerate(dests) if d]
        movers = rng.sample(outgoing, min(len(outgoing), len(task.transfer_states)))
        self.letter_seq: dict[int, int] = {}
        transfers, events, arrivals = [], [], defaultdict(list)
        tids = range(task.first_ids["transfers"], task.first_ids["transfers"] + len(movers))
        new_ids = member_ids
        for k, (i, state, tid) in enumerate(zip(movers, task.transfer_states, tids)):
            t, evs, receiver_id, to_org = self._transfer(tid, rows[i], dests[i], state, k)
            if state == ex.COMPLETED:
                copy = self._arrival(rows[i], t, to_org, next(new_ids))
                t["new_member_id"] = copy["id"]
                arrivals[receiver_id].append(copy)
            transfers.append(t)
            events.extend(evs)
        agreements, covered = self._agreements(rows, dests, set(movers))
        RegisterWriter(self.tenant_id, self.admin, self.rng, self.now, self.today, self.counts).write(rows, contacts)
        with tenant_scope(self.tenant_id):
            insert(ex.Transfer.__table__, complete(ex.Transfer.__table__, transfers))
            insert(ex.TransferEvent.__table__, events)
            insert(ex.Agreement.__table__, complete(ex.Agreement.__table__, agreements))
            insert(ex.AgreementMember.__table__, covered)
            insert(LetterSequence.__table__, [{"tenant_id": self.tenant_id, "kind": INTRODUCTION, "year": y,
                                               "next_value": n + 1} for y, n in sorted(self.letter_seq.items())])
        self.arrivals = dict(arrivals)
        self.counts.update(transfers=len(transfers), transfer_events=len(events), agreements=len(agreements),
                           agreement_members=len(covered))
        return self.counts

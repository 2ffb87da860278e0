"""`flask demo seed --scale national`: the stages and their progress.

1. tenants: every county of the tree not yet in the database;
2. organizations: a county committee, its branches, a mobile members' branch, a service station,
   two towns with a branch each, per tenant;
3. users: admin, clerk, viewer and secretary per tenant, a reader per province and city (one
   password hash for all: DEMO ONLY);
4. registers: tenant by tenant (registers.TenantWork), in worker processes when asked, with the
   bulk tables' secondary indexes and foreign keys set aside (schema.py);
5. arrivals: the register rows of the members who arrived, receiver by receiver;
6. indexes: those set aside, built again and the keys validated;
7. ANALYZE.
The plan (how many members each tenant gets, which transfer and agreement states it sends) is
drawn in this process from --seed-number, so the data do not depend on how the work is shared."""
import multiprocessing
import random
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text

from portal.auth import services as auth
from portal.auth.models import RoleGrant, User
from portal.auth.roles import CLERK, SECRETARY, TENANT_ADMIN, UPPER_READER, VIEWER
from portal.tenancy.bulk import insert
from portal.demo import data as vocab
from portal.demo.national import schema, tree
from portal.demo.national.people import Places
from portal.demo.national.registers import (ArrivalTask, Org, TenantTask, TenantWork, World, complete, reserve,
                                            reserve_block, write_arrivals)
from portal.exchange import models as ex
from portal.extensions import db
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant

NATIONAL = {"members": 2_000_000, "transfers": 300_000, "agreements": 20_000}
# Shares of the states (transfers: most arrive; every state is present in any set of 20 or more).
TRANSFER_SHARES = {ex.COMPLETED: 55, ex.SUBMITTED: 12, ex.ACCEPTED: 10, ex.RETURNED: 8, ex.OVERDUE: 7,
                   ex.CANCELLED: 8}
AGREEMENT_SHARES = {ex.ACTIVE: 50, ex.PROPOSED: 15, ex.EXPIRED: 15, ex.TERMINATED: 10, ex.DECLINED: 10}
ROLES = (("admin", TENANT_ADMIN, "管理员"), ("clerk", CLERK, "业务员"), ("viewer", VIEWER, "只读用户"),
         ("secretary", SECRETARY, "支部书记"))


@dataclass
class Options:
    tenants: int | None = None        # None: every county of the tree
    members: int = NATIONAL["members"]
    transfers: int = NATIONAL["transfers"]
    agreements: int = NATIONAL["agreements"]
    seed: int = 1
    workers: int = 2
    today: date | None = None


class Progress:
    """Prints a stage's rows, rate and the time left, at most every `every` seconds."""

    def __init__(self, echo, every: float = 2.0):
        self.echo, self.every = echo, every
        self.started = time.monotonic()

    def stage(self, name: str, total: int):
        self.name, self.total, self.done, self.t0, self.last = name, total, 0, time.monotonic(), 0.0
        self.echo(f"[{self._clock()}] {name}: {total:,} to write")

    def _clock(self) -> str:
        s = int(time.monotonic() - self.started)
        return f"{s // 60:02d}:{s % 60:02d}"

    def add(self, n: int, force: bool = False):
        self.done += n
        now = time.monotonic()
        if not force and now - self.last < self.every and self.done < self.total:
            return
        self.last = now
        took = max(now - self.t0, 1e-6)
        rate = self.done / took
        left = (self.total - self.done) / rate if rate else 0
        self.echo(f"[{self._clock()}] {self.name}: {self.done:,}/{self.total:,} rows, {rate:,.0f}/s, "
                  f"ETA {int(left) // 60}m{int(left) % 60:02d}s")


def _exact(shares: dict, n: int, rng: random.Random) -> list[str]:
    """n states in exactly the given proportions (largest remainders), shuffled."""
    total = sum(shares.values())
    counts = {s: n * w // total for s, w in shares.items()}
    rest = sorted(shares, key=lambda s: -(n * shares[s] % total))
    for s in rest[:n - sum(counts.values())]:
        counts[s] += 1
    out = [s for s, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def _split(n: int, weights: list[float]) -> list[int]:
    total = sum(weights)
    raw = [n * w / total for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[:n - sum(out)]:
        out[i] += 1
    return out


# ---- stages 1-3 ----

def _tenants(chosen: list[tree.County], rng) -> dict[str, Tenant]:
    have = {t.code: t for t in db.session.execute(db.select(Tenant)).scalars()}
    rows = [tree.tenant_row(c, rng) for c in chosen if c.code not in have]
    insert(Tenant.__table__, complete(Tenant.__table__, rows))
    db.session.commit()
    return {t.code: t for t in db.session.execute(db.select(Tenant)).scalars()}


def _org_specs(county: tree.County, name: str) -> list[dict]:
    specs = vocab.generic_profile(county.code, name).orgs
    short = name[-3:] if len(name) > 3 else name
    towns = [tree.TOWNS[(int(county.code) + k * 5) % len(tree.TOWNS)] for k in (0, 1)]
    for k, town in enumerate(towns):
        specs.append(vocab._org(f"t{k}", f"中共{short}{town}委员会", "基层党委", "both", county.code,
                                f"{name}{town}", "王建国", f"1390000{k}{int(county.code) % 1000:03d}", "综合"))
        specs.append(vocab._org(f"t{k}b", f"{short}{town}流动党员党支部", "党支部", "both", county.code,
                                f"{name}{town}", "李红", f"1390001{k}{int(county.code) % 1000:03d}", "综合",
                                parent=f"t{k}"))
    return specs


def _organizations(chosen, tenants: dict) -> dict[int, list[Org]]:
    rows, out = [], {}
    specs = {c.code: _org_specs(c, tenants[c.code].name) for c in chosen}
    ids = iter(reserve("organizations", sum(len(s) for s in specs.values())))
    for c in chosen:
        tenant = tenants[c.code]
        made: dict[str, dict] = {}
        out[tenant.id] = []
        for n, spec in enumerate(specs[c.code], start=1):
            oid = next(ids)
            parent = made.get(spec["parent"]) if spec["parent"] else None
            row = {"tenant_id": tenant.id, "id": oid, "code": f"{c.code}-{n:04d}", "name": spec["name"][:100],
                   "kind": spec["kind"], "parent_id": parent["id"] if parent else None,
                   "path": f"{parent['path'] if parent else '/'}{oid}/", "role": spec["role"],
                   "region": spec["region"], "address": spec["address"], "contact_name": spec["contact_name"],
                   "contact_phone": spec["contact_phone"], "industries": spec["industries"],
                   "accepting": spec["accepting"], "active": True}
            made[spec["key"]] = row
            rows.append(row)
            out[tenant.id].append(Org(oid, row["code"], row["name"], row["kind"], row["role"]))
    with cross_tenant():
        insert(Organization.__table__, complete(Organization.__table__, rows))
    db.session.commit()
    return out


def _users(chosen, tenants: dict, orgs: dict, password: str) -> dict[int, int]:
    """The demo users; returns each tenant's admin user id."""
    auth.check_password_strength(password)
    hashed = auth.hash_password(password)
    users, grants = [], []
    for c in chosen:
        tenant = tenants[c.code]
        branch = next(o for o in orgs[tenant.id] if o.kind == "党支部")
        for suffix, role, label in ROLES:
            users.append({"username": f"{c.code}-{suffix}", "display_name": f"{tenant.name}{label}（演示）"[:60],
                          "password_hash": hashed})
            grants.append((f"{c.code}-{suffix}", tenant.id, role, branch.id if role == SECRETARY else None, None))
    for code, name in tree.regions(chosen):
        users.append({"username": f"{code}-upper", "display_name": f"{name}上级查看（演示）"[:60],
                      "password_hash": hashed})
        grants.append((f"{code}-upper", None, UPPER_READER, None, code))
    made = {name: uid for uid, name in insert(User.__table__, complete(User.__table__, users),
                                              returning=("id", "username"))}
    insert(RoleGrant.__table__, [{"user_id": made[u], "tenant_id": t, "role": r, "org_id": o, "region_code": g}
                                 for u, t, r, o, g in grants])
    db.session.commit()
    return {tenants[c.code].id: made[f"{c.code}-admin"] for c in chosen}


# ---- stage 4 ----

_WORLD: World | None = None
_APP = None


def _start_worker(settings: dict, world: World) -> None:
    global _WORLD, _APP
    from portal import create_app
    _APP, _WORLD = create_app(settings), world


def _work(job: TenantTask | ArrivalTask) -> tuple[Counter, dict]:
    with _APP.app_context():
        try:
            return _one(_WORLD, job)
        except Exception:
            # Sent back as text: an exception that does not unpickle (ValidationFailed) would
            # leave the pool waiting for ever.
            code = job.county.code if isinstance(job, TenantTask) else job.code
            raise RuntimeError(f"{code}: {traceback.format_exc()}") from None


def _one(world: World, job: TenantTask | ArrivalTask) -> tuple[Counter, dict]:
    """One transaction: a tenant's own share (returns its counts and the rows of the members who
    arrived elsewhere, by receiver), or a receiver's arrivals."""
    try:
        # Demo data, re-made from scratch after a crash: no transaction waits for its WAL flush.
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
        if isinstance(job, ArrivalTask):
            result = write_arrivals(world, job), {}
        else:
            work = TenantWork(world, job)
            result = work.run(), work.arrivals
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def _load(pool, world: World, tasks: list[TenantTask], codes: dict[int, str], progress) -> Counter:
    """Stages 4 and 5: every tenant's own share, then every receiver's arrivals."""
    each = pool.imap_unordered if pool else (lambda _work, jobs: (_one(world, j) for j in jobs))
    total: Counter = Counter()
    arrived: dict[int, list] = {}
    progress.stage("registers", sum(t.own_members for t in tasks))
    # Big tenants first, so the last minutes do not wait on one worker's big county.
    for counts, arrivals in each(_work, sorted(tasks, key=lambda t: -t.members)):
        total.update(counts)
        progress.add(counts["members"])
        for receiver_id, rows in arrivals.items():
            arrived.setdefault(receiver_id, []).extend(rows)
    progress.add(0, force=True)
    progress.stage("arrivals", sum(len(rows) for rows in arrived.values()))
    jobs = sorted((ArrivalTask(tid, codes[tid], rows) for tid, rows in arrived.items()), key=lambda j: -len(j.rows))
    for counts, _ in each(_work, jobs):
        total.update(counts)
        progress.add(counts["arrivals"])
    progress.add(0, force=True)
    return total


def _plain_settings(config) -> dict:
    return {k: v for k, v in config.items() if k.isupper() and isinstance(v, (str, int, float, bool, tuple, list,
                                                                               type(None)))}


def run(app, opts: Options, password: str, echo=print) -> Counter:
    """Seed the national set into the (empty, PostgreSQL) database of `app`'s context."""
    from portal.core import clock
    today = opts.today or clock.today()
    rng = random.Random(f"portal-national-plan-{opts.seed}")
    progress = Progress(echo)
    everywhere = tree.counties()
    have = set(db.session.execute(db.select(Tenant.code)).scalars())
    chosen = tree.choose(everywhere, opts.tenants or len(everywhere), rng, have)
    progress.stage("tenants", len(chosen))
    tenants = _tenants(chosen, rng)
    progress.add(len(chosen), force=True)
    progress.stage("organizations", len(chosen) * 9)
    orgs = _organizations(chosen, tenants)
    progress.add(sum(len(v) for v in orgs.values()), force=True)
    progress.stage("users", len(chosen) * 4)
    admins = _users(chosen, tenants, orgs, password)
    progress.add(len(admins) * 4, force=True)

    # The plan: members by a skewed size per county (hubs are big), transfers in proportion to them.
    sizes = [rng.lognormvariate(0, 0.5) * (1 + 0.6 * c.hub) for c in chosen]
    counts = _split(opts.members, sizes)
    shares = [0.55 if c.hub >= 3 else 0.4 if c.hub else 0.25 for c in chosen]
    transfer_states = _exact(TRANSFER_SHARES, opts.transfers, rng)
    agreement_states = _exact(AGREEMENT_SHARES, opts.agreements, rng)
    t_split = _split(opts.transfers, [n * (1 - s) for n, s in zip(counts, shares)])
    a_split = _split(opts.agreements, [n * (1 - s) for n, s in zip(counts, shares)])
    tasks, ti, ai = [], 0, 0
    for c, n, s, nt, na in zip(chosen, counts, shares, t_split, a_split):
        # A county sends at most a third of its members (those transferred leave the register).
        nt = min(nt, max(0, int(n * (1 - s) * 0.6)))
        tasks.append(TenantTask(tenants[c.code].id, c, n, s, transfer_states[ti:ti + nt], agreement_states[ai:ai + na]))
        ti, ai = ti + nt, ai + na
    for table in ("members", "transfers", "agreements"):
        next_id = reserve_block(table, sum(t.ids_needed()[table] for t in tasks))
        for task in tasks:
            task.first_ids[table] = next_id
            next_id += task.ids_needed()[table]
    db.session.commit()
    world = World(opts.seed, today,
                  {code: (t.id, t.letter_prefix, t.reply_deadline_days, t.name) for code, t in tenants.items()},
                  orgs, Places(chosen, everywhere), admins)
    db.session.remove()

    codes = {t.id: code for code, t in tenants.items()}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        kept = schema.set_aside(conn) if schema.owns_tables(conn) else schema.SetAside()
        if not kept:
            echo(f"[{progress._clock()}] not the tables' owner: loading with every index and key in place")
        try:
            if opts.workers > 1:
                ctx = multiprocessing.get_context("spawn")
                with ctx.Pool(opts.workers, initializer=_start_worker,
                              initargs=(_plain_settings(app.config), world)) as pool:
                    total = _load(pool, world, tasks, codes, progress)
            else:
                total = _load(None, world, tasks, codes, progress)
        finally:
            # Also after a failure: the database keeps the schema the migrations made.
            progress.stage("indexes", len(kept))
            schema.put_back(conn, kept, progress.add)
            progress.add(0, force=True)
        progress.stage("analyze", 1)
        conn.execute(text("ANALYZE"))
        progress.add(1, force=True)
    total.update(tenants=len(chosen), organizations=sum(len(v) for v in orgs.values()), users=len(admins) * 4)
    echo(f"[{progress._clock()}] done")
    sys.stdout.flush()
    return total

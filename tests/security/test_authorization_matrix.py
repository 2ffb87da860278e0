"""Issue 8, the proof: every page and API route (from the URL map), called as every role of the own
tenant, of a foreign tenant, as an upper-level reader, as a platform admin and as nobody, answers as
one expected table says.

EXPECTED names each endpoint's rule; RULES turns a rule and a caller into the expected answer:

* "ok": the access check let the caller through (the view ran: it may still answer 400/404/409
  about the body or the object, which the probes fill with values that name nothing);
* 403: known, not allowed; 404: as if nothing were there; "login": 401 (API) or the login page.

A route missing from EXPECTED fails the test by name: whoever adds a route says who may call it.
The isolation sweep (tests/test_isolation_sweep.py) also runs here as a branch secretary (no row
outside their subtree) and as a viewer (no whole ID number, no birth date, anywhere).
"""
from datetime import date

import pytest
from flask import g, request
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from portal import create_app
from portal.auth import services as auth
from portal.auth.roles import PERMISSIONS, allows
from portal.extensions import db
from tests.conftest import login
from tests.factories import id_number

A, B = "110105", "320115"
REGION = "110000"  # the upper reader's region, covering A
OWN_ROLES = ("tenant_admin", "secretary", "clerk", "viewer")
CALLERS = [("own", r) for r in OWN_ROLES] + [("foreign", "tenant_admin"), ("upper", None), ("platform", None),
                                               ("nobody", None)]

# ---------------------------------------------------------------- the expected table

PERMISSION_NAMES = {p for perms in PERMISSIONS.values() for p in perms}

EXPECTED = {
    # outside any tenant
    "index": "public", "healthz": "public", "auth.login": "public", "verify.lookup": "public",
    "verify.show": "public", "api.openapi_json": "public", "api.docs": "public",
    "auth.home": "login", "auth.account": "login", "auth.create_token": "login", "auth.revoke_token": "login",
    "auth.logout": "login",
    "admin.platform_tenants": "platform", "admin.platform_tenant_admin": "platform",
    "exchange.region": "upper", "reports.region": "upper", "api.api_region_exchange": "upper",
    "api.region_stats": "upper",
    "exchange.registry": "registry", "api.api_registry": "registry",
    "exchange.lookup": "lookup", "api.api_registry_lookup": "lookup",
    # the register
    "members.index": "read", "members.show": "read", "members.create": "edit_register",
    "members.edit": "edit_register", "members.add_contact": "edit_register",
    "api.members_list": "read", "api.members_get": "read", "api.members_create": "edit_register",
    "api.members_patch": "edit_register", "api.members_contacts": "read",
    "api.members_contact_create": "edit_register",
    "roster.upload": "edit_register", "roster.show": "edit_register", "roster.errors": "edit_register",
    "roster.export": "read_id", "api.create_import": "edit_register", "api.show_import": "edit_register",
    "roster.confirm": "edit_register", "roster.discard": "edit_register",
    "api.confirm_import": "edit_register", "api.discard_import": "edit_register",
    # organizations
    "orgs.index": "read", "orgs.show": "read", "orgs.create": "manage_orgs", "orgs.edit": "manage_orgs",
    "orgs.move": "manage_orgs", "api.orgs_list": "read", "api.orgs_get": "read", "api.orgs_create": "manage_orgs",
    "api.orgs_update": "manage_orgs",
    # exchange
    "exchange.transfers": "read", "exchange.transfer": "read", "exchange.new_transfer": "exchange",
    "exchange.submit_transfer": "exchange", "exchange.transfer_step": "exchange", "exchange.letter_pdf": "letters",
    "exchange.receipt_pdf": "letters", "exchange.request_transfer": "exchange",
    "exchange.propose_from_register": "exchange",
    "exchange.agreements": "read", "exchange.agreement": "read", "exchange.new_agreement": "exchange",
    "exchange.propose_agreement": "exchange", "exchange.agreement_step": "exchange",
    "exchange.record_attendance": "exchange", "exchange.post_notice": "exchange", "exchange.ack_notice": "exchange",
    "exchange.agreement_pdf": "letters", "exchange.dashboard": "read", "exchange.notifications": "read",
    "exchange.read_all": "read",
    "api.api_transfers": "read", "api.api_transfer": "read", "api.api_submit_transfer": "exchange",
    "api.api_transfer_step": "exchange", "api.api_transfer_letter": "letters", "api.api_transfer_receipt": "letters",
    "api.api_request_transfer": "exchange",
    "api.api_agreements": "read", "api.api_agreement": "read", "api.api_propose_agreement": "exchange",
    "api.api_agreement_step": "exchange", "api.api_agreement_document": "letters", "api.api_notices": "read",
    "api.api_post_notice": "exchange", "api.api_ack_notice": "exchange", "api.api_attendance": "read",
    "api.api_record_attendance": "exchange", "api.api_dashboard": "read", "api.api_notifications": "read",
    "api.api_notifications_read": "read",
    # letters
    "letters.index": "letters", "letters.show": "letters", "letters.download": "letters",
    "letters.rerender": "letters", "letters.void": "letters", "letters.batch": "letters",
    "letters.batch_pdf": "letters", "letters.batch_archive": "letters", "letters.batch_restart": "letters",
    "letters.day_batch": "letters", "letters.activity_card": "letters", "letters.certificate_letter": "letters",
    "letters.open_letter": "letters",
    "api.letters_list": "letters", "api.letters_get": "letters", "api.letters_pdf": "letters",
    "api.letters_render": "letters", "api.letters_void": "letters", "api.letters_batch": "letters",
    "api.letters_batch_pdf": "letters", "api.letters_batch_zip": "letters", "api.letters_day_batch": "letters",
    "api.letters_open_letter": "letters", "api.letters_activity_card": "letters",
    "api.letters_certificate": "letters",
    # jobs, statistics, users, audit
    "jobs.show": "read", "jobs.status": "read", "api.jobs_get": "read",
    "reports.stats": "read", "api.stats": "read",
    "admin.users": "manage_users", "admin.reset_password": "manage_users", "admin.set_role": "manage_users",
    "audit.index": "audit",
    # Two-step login and sessions: the person's own; ending another user's sessions manages users.
    "auth.login_second_factor": "public", "auth.twofactor_begin": "login", "auth.twofactor_confirm": "login",
    "auth.twofactor_disable": "login", "auth.end_other_sessions": "login", "admin.end_sessions": "manage_users",
    # Background jobs: a tenant's own list; queues and failed jobs for the platform.
    "jobs.index": "read", "platform_jobs.platform_index": "platform", "platform_jobs.platform_retry": "platform",
    # The work list.
    "worklist.index": "read", "worklist.greeting": "read", "worklist.region": "upper", "api.api_worklist": "read",
    # A member's standing: read by every role of the tenant, recorded by those who edit the register.
    "standing.dues": "read", "standing.add_dues": "edit_register", "standing.delete_dues": "edit_register",
    "standing.org_life": "read", "standing.add_org_life": "edit_register", "standing.delete_org_life": "edit_register",
    "standing.certificates": "read", "standing.issue_certificate": "edit_register",
    "standing.check_certificate": "edit_register", "standing.return_certificate": "edit_register",
    "standing.certificates_due": "read", "standing.activities": "read", "standing.create_activity": "edit_register",
    "standing.activity": "read", "standing.add_attendees": "edit_register", "standing.remove_attendee": "edit_register",
    "standing.points": "read", "standing.publish_print": "read", "standing.publish_xlsx": "read",
    "api.standing_dues": "read", "api.standing_dues_create": "edit_register", "api.standing_dues_delete": "edit_register",
    "api.standing_org_life": "read", "api.standing_org_life_create": "edit_register",
    "api.standing_certificates": "read", "api.standing_certificate_issue": "edit_register",
    "api.standing_certificate_check": "edit_register", "api.standing_certificate_return": "edit_register",
    "api.standing_certificates_due": "read", "api.standing_activities": "read",
    "api.standing_activity_create": "edit_register", "api.standing_activity": "read",
    "api.standing_attendees": "read", "api.standing_attendees_add": "edit_register",
    "api.standing_attendee_remove": "edit_register", "api.standing_points": "read",
    # Member self-service: the member's pages and API take the link (and its second factor), no account;
    # the office issues links and decides what members reported.
    "selfservice.open": "public", "selfservice.unlock": "public", "selfservice.submit": "public",
    "selfservice.leave": "public", "api.self_service_session": "public", "api.self_service_report": "public",
    "selfservice.issue": "edit_register", "selfservice.revoke": "edit_register",
    "selfservice.issue_many": "edit_register", "selfservice.card": "edit_register",
    "selfservice.reports": "read", "selfservice.report": "read", "selfservice.approve": "edit_register",
    "selfservice.reject": "edit_register",
    "api.self_service_issue": "edit_register", "api.self_service_revoke": "edit_register",
    "api.self_reports_list": "read", "api.self_report_approve": "edit_register",
    "api.self_report_reject": "edit_register",
}


def expected(rule: str, caller: tuple) -> object:
    """The one rule per role: what `caller` gets from an endpoint whose rule is `rule`."""
    kind, role = caller
    if rule == "public":
        return "any"
    if kind == "nobody":
        return "login"
    if rule == "login":
        return "ok"
    if rule == "platform":
        return "ok" if kind == "platform" else 403
    if rule == "upper":  # aggregates of the counties under the reader's region
        return "ok" if kind == "upper" else 403 if kind == "platform" else 404
    if rule == "registry":  # organizations and contacts: for people who work in a county
        return "ok" if kind in ("own", "foreign") else 403 if kind == "upper" else 404
    if rule == "lookup":  # who holds an ID number: for roles that transfer and co-manage
        return "ok" if kind in ("own", "foreign") and allows(role, "exchange") else 403
    assert rule in PERMISSION_NAMES, f"unknown rule {rule!r}"
    if kind != "own":  # a stranger to the tenant learns nothing, not even that the route exists
        return 404
    return "ok" if allows(role, rule) else 403


# ---------------------------------------------------------------- probing

GHOST_INT, GHOST_STR = 987654, "ghost-0000"


def _values(rule) -> dict:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if name == "tenant":
            values[name] = A
        elif isinstance(converter, AnyConverter):
            values[name] = min(converter.items)
        elif isinstance(converter, IntegerConverter):
            values[name] = GHOST_INT
        elif name == "region" or "/region" in rule.rule:
            values[name] = REGION
        elif rule.endpoint == "exchange.transfer_step":
            values[name] = "accept"
        else:
            values[name] = "999999" if rule.endpoint.startswith("auth.platform") else GHOST_STR
    return values


def _classify(resp, api: bool, passed: bool) -> object:
    status = resp.status_code
    if status >= 500:
        return f"{status} server error"
    if status == 401 or (status in (301, 302, 303) and "/login" in resp.headers.get("Location", "")
                         and not passed):
        return "login"
    if not passed:
        return status if status in (403, 404) else f"refused with {status}"
    if status == 403:
        return 403
    if status == 404 and not api:
        return "ok-or-404"
    return "ok-or-404" if status == 404 else "ok"


def _matches(want, got) -> bool:
    if want == "any":
        return not (isinstance(got, str) and "server error" in got)
    if want == "ok":
        return got in ("ok", "ok-or-404")
    if want == 404:
        return got in (404, "ok-or-404")
    return want == got


@pytest.fixture
def matrix_app(clean_app):
    """A copy of the app that notes, per request, whether the access check let the caller through."""
    settings = {k: v for k, v in clean_app.config.items() if k.isupper()}
    app = create_app(settings)
    passed = []

    @app.before_request  # registered after the access check, so it runs only when that passed
    def _passed():
        passed.append(request.endpoint)
        g.matrix_passed = True

    app.matrix_passed = passed
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _callers(make):
    top = make.org(A, name="朝阳区矩阵党委", kind="基层党委")
    make.org(B, name="江宁区矩阵党委", kind="基层党委")
    users = {("own", r): make.user(A, r, username=f"mx-{r}", org=top if r == "secretary" else None)
             for r in OWN_ROLES}
    users[("foreign", "tenant_admin")] = make.user(B, "tenant_admin", username="mx-foreign")
    users[("upper", None)] = make.user(None, "upper_reader", username="mx-upper", region=REGION)
    admin, _ = auth.create_user("mx-platform", "correct-horse-42", platform_admin=True)
    db.session.commit()
    users[("platform", None)] = admin
    return {caller: (user.username, make.token(user)) for caller, user in users.items()}


def _routes(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static" and not r.endpoint.endswith(".static")]


def _missing(app) -> list[str]:
    return sorted({r.endpoint for r in _routes(app)} - set(EXPECTED))


def test_every_route_answers_every_caller_as_the_table_says(make, matrix_app):
    rules = _routes(matrix_app)
    missing = _missing(matrix_app)
    assert not missing, ("endpoints missing from the authorization matrix (add each to EXPECTED in "
                         f"tests/security/test_authorization_matrix.py with its rule): {', '.join(missing)}")
    stale = sorted(set(EXPECTED) - {r.endpoint for r in rules})
    assert not stale, f"EXPECTED names endpoints that no longer exist: {stale}"

    failures, probed = _probe(matrix_app, rules, _callers(make), EXPECTED)
    assert not failures, f"{len(failures)} answers differ from the table:\n" + "\n".join(failures)
    assert probed > 9 * 100


def test_the_matrix_catches_a_route_that_lets_too_many_in(make, matrix_app):
    """A planted export that asks only READ while the table says READ_ID (whole ID numbers)."""
    from flask import Blueprint

    from portal.auth.access import permission
    bp = Blueprint("planted", __name__, url_prefix="/t/<tenant>/planted")

    @bp.get("/export")
    @permission("read")
    def export():
        return "whole numbers"

    matrix_app.register_blueprint(bp)
    rules = [r for r in matrix_app.url_map.iter_rules() if r.endpoint == "planted.export"]
    failures, _ = _probe(matrix_app, rules, _callers(make), {"planted.export": "read_id"})
    assert failures == [(f"GET /t/{A}/planted/export (planted.export, rule read_id) as own viewer: expected 403, "
                         "got ok [200]")]


def _probe(app, rules, callers, table):
    """Call every rule as every caller; the answers that differ from `table`, and the count."""
    # Logging out ends the probing session: last.
    rules = sorted(rules, key=lambda r: (r.endpoint == "auth.logout", r.rule))
    failures, probed = [], 0
    for caller in CALLERS:
        page, api = app.test_client(), app.test_client()
        headers = {}
        if caller[0] != "nobody":
            username, token = callers[caller]
            login(page, username)
            headers = {"Authorization": f"Bearer {token}"}
        for rule in rules:
            url = rule.build(_values(rule), append_unknown=False)[1]
            is_api = rule.rule.startswith("/api/")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                client = api if is_api else page
                app.matrix_passed.clear()
                kwargs = {"json": {}} if is_api and method != "GET" else {}
                resp = client.open(url, method=method, headers=headers if is_api else {}, **kwargs)
                probed += 1
                got = _classify(resp, is_api, bool(app.matrix_passed))
                want = expected(table[rule.endpoint], caller)
                if not _matches(want, got):
                    failures.append(f"{method} {url} ({rule.endpoint}, rule {table[rule.endpoint]}) as "
                                    f"{caller[0]} {caller[1] or ''}: expected {want}, got {got} [{resp.status_code}]")
    return failures, probed


def test_a_route_missing_from_the_table_is_named(matrix_app):
    from flask import Blueprint

    from portal.auth.access import permission
    bp = Blueprint("newfeature", __name__, url_prefix="/t/<tenant>/newfeature")

    @bp.get("/")
    @permission("read")
    def overview():
        return "ok"

    matrix_app.register_blueprint(bp)
    assert _missing(matrix_app) == ["newfeature.overview"]


def test_the_rule_per_role():
    assert [expected("read_id", c) for c in CALLERS] == ["ok", "ok", "ok", 403, 404, 404, 404, "login"]
    assert [expected("manage_users", c) for c in CALLERS] == ["ok", 403, 403, 403, 404, 404, 404, "login"]
    assert [expected("registry", c) for c in CALLERS] == ["ok"] * 5 + [403, 404, "login"]
    assert [expected("upper", c) for c in CALLERS] == [404] * 5 + ["ok", 403, "login"]


# ---------------------------------------------------------------- the isolation sweep as other roles

def _sweep_as(make, clean_app, role: str, extra_markers, org_name=None):
    from tests import test_isolation_sweep as sweep
    world = sweep.build_world(make)
    org = None
    if org_name:
        from types import SimpleNamespace
        with sweep.tenant_scope(sweep._tenant(A).id):
            # Only the id leaves the tenant's scope: on PostgreSQL the row cannot be refreshed outside it.
            org = SimpleNamespace(id=db.session.execute(
                db.select(sweep._org_model().id).filter_by(name=org_name)).scalar_one())
        db.session.rollback()
    user = make.user(A, role, username=f"sweep-a-{role}", org=org)
    world.a_user, world.a_token, world.a_username = user, make.token(user), user.username
    world.member_markers = world.member_markers + extra_markers(make)
    run = sweep.Sweep(clean_app, world, sweep._a_org_code("甲方第二党支部"), role=role)
    for rule in sorted(clean_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static") or rule.endpoint in sweep.EXCLUDED:
            continue
        run.run_rule(rule)
    assert run.unknown == []
    assert run.failures == [], f"{len(run.failures)} problems:\n" + "\n".join(run.failures)
    assert run.saw_own_data, "no probe showed the sweeping role its own tenant's data"


def test_the_sweep_as_a_branch_secretary_shows_no_row_outside_the_subtree(make, clean_app):
    def outside(make):
        from tests.test_isolation_sweep import _a_org_code
        code = _a_org_code("甲方第二党支部")
        from types import SimpleNamespace
        number = id_number(A, date(1981, 5, 5), 51)
        make.member(A, SimpleNamespace(code=code), name="甲方支部外党员", id_number=number, phone="13766605123",
                    employer="甲方支部外单位")
        return ["甲方支部外党员", number, number[:6] + "*" * 8 + number[14:], "13766605123", "甲方支部外单位"]
    _sweep_as(make, clean_app, "secretary", outside, org_name="甲方第一党支部")


def test_the_sweep_as_a_viewer_shows_no_whole_id_number_and_no_birth_date(make, clean_app):
    def whole_numbers(make):
        from portal.members.models import Member
        from tests.test_isolation_sweep import _tenant
        with _tenant_scope(_tenant(A).id):
            rows = db.session.execute(db.select(Member)).scalars().all()
            from portal.members import services as members
            numbers = [members.id_number_of(m) for m in rows]
            births = [m.birth_date for m in rows]
        db.session.rollback()
        markers = list(numbers)
        for born in births:
            markers += [born.isoformat(), f"{born.year}年{born.month}月{born.day}日", f"{born:%Y%m%d}",
                        f"{born.year}/{born.month}/{born.day}"]
        return markers
    _sweep_as(make, clean_app, "viewer", whole_numbers)


def _tenant_scope(tenant_id):
    from portal.tenancy.context import tenant_scope
    return tenant_scope(tenant_id)

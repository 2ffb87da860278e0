"""A small world of three tenants for the exchange tests.

A = 110105 北京市朝阳区 (the sender / origin), B = 320115 南京市江宁区 (the receiver / host),
C = 410804 焦作市马村区 (a third tenant that must see nothing of what A and B share)."""
import subprocess
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.tenancy.context import cross_tenant
from portal.tenancy.rls import CLOSED_TO_FLAG
from tests.factories import id_number

A, B, C = "110105", "320115", "410804"


@dataclass
class World:
    make: object
    orgs: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    tenant_ids: dict = field(default_factory=dict)

    def member(self, name="张三", org="a_branch", code=A, **fields):
        """A register row, returned as plain values (requests that fail roll the shared test
        session back, and a tenant row cannot be refreshed outside its tenant on PostgreSQL)."""
        fields.setdefault("region", "江苏省南京市江宁区")
        m = self.make.member(code, SimpleNamespace(code=self.codes[org]), name=name, id_number=fields.pop("id_number", None)
                             or id_number(code), **fields)
        plain = SimpleNamespace(id=m.id, id_hash=m.id_hash, name=m.name, org_id=m.org_id, tenant_id=m.tenant_id)
        self.members[name] = plain
        return plain

    def code(self, key: str) -> str:
        return self.codes[key]

    def org_id(self, key: str) -> int:
        return self.ids[key]


@pytest.fixture
def world(make):
    w = World(make)
    w.orgs["a_committee"] = make.org(A, name="朝阳区流动人员党委", kind="基层党委", role="origin",
                                     contact_name="王书记", contact_phone="010-65091234")
    w.orgs["a_branch"] = make.org(A, name="朝阳区某街道党支部", parent=w.orgs["a_committee"],
                                  contact_name="李支书", contact_phone="13800000001")
    w.orgs["b_committee"] = make.org(B, name="江宁区流动党员党委", kind="基层党委", role="host",
                                     address="南京市江宁区上元大街1号", industries="建筑 物流")
    w.orgs["b_branch"] = make.org(B, name="江宁开发区流动党员党支部", kind="流动党员党支部", role="host",
                                  parent=w.orgs["b_committee"], address="南京市江宁区开发区", industries="制造",
                                  contact_name="赵站长", contact_phone="13900000002")
    w.orgs["c_branch"] = make.org(C, name="马村区某党支部", role="both")
    for code, key in ((A, "a"), (B, "b"), (C, "c")):
        w.users[f"{key}_clerk"] = make.user(code, "clerk", username=f"{key}-clerk")
        w.tokens[f"{key}_clerk"] = make.token(w.users[f"{key}_clerk"])
    for key, org in w.orgs.items():
        w.codes[key], w.ids[key] = org.code, org.id
    for code in (A, B, C):
        w.tenant_ids[code] = make.tenant(code).id
    w.users["a_viewer"] = make.user(A, "viewer", username="a-viewer")
    w.tokens["a_viewer"] = make.token(w.users["a_viewer"])
    return w


class Api:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def _h(self):
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self._h(), **kw)

    def post(self, path, json=None, **kw):
        if json is None and "data" not in kw:
            json = {}
        return self.client.post("/api/v1" + path, headers=self._h(), json=json, **kw)


@pytest.fixture
def api(client, world):
    """api("a_clerk").post("/t/110105/transfers", {...})"""
    return lambda who: Api(client, world.tokens[who])


def pdf_text(data: bytes) -> str:
    assert data[:5] == b"%PDF-", data[:40]
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def count(model, **filters) -> int:
    query = db.select(db.func.count()).select_from(model)
    for key, value in filters.items():
        query = query.filter(getattr(model, key) == value)
    if model.__tablename__ in CLOSED_TO_FLAG:  # open to no cross-tenant flag: owner by owner
        from tests.conftest import each_tenant
        return sum(each_tenant(lambda: db.session.execute(query).scalar_one()))
    with cross_tenant():
        return db.session.execute(query).scalar_one()


def rows(model, **filters):
    query = db.select(model)
    for key, value in filters.items():
        query = query.filter(getattr(model, key) == value)
    query = query.order_by(model.id if hasattr(model, "id") else None)
    if model.__tablename__ in CLOSED_TO_FLAG:  # open to no cross-tenant flag: owner by owner
        from tests.conftest import each_tenant
        found = each_tenant(lambda: db.session.execute(query).unique().scalars().all())
        return sorted((row for part in found for row in part), key=lambda r: getattr(r, "id", 0))
    with cross_tenant():
        return db.session.execute(query).unique().scalars().all()


@pytest.fixture
def server(clean_app):
    """The app behind a real threaded HTTP server on 127.0.0.1 (for truly concurrent requests)."""
    import threading

    from werkzeug.serving import make_server
    srv = make_server("127.0.0.1", 0, clean_app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(timeout=10)


def http(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    """One HTTP request with the standard library; returns (status, JSON body)."""
    import json
    import urllib.error
    import urllib.request
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(url, data=data if method == "POST" else None, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"{}")
        except ValueError:
            return exc.code, {"raw": raw[:500].decode("utf-8", "replace")}

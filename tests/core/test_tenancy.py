import pytest
from sqlalchemy import text

from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.members.models import Member
from portal.orgs.models import Organization
from portal.tenancy.context import TenantContextMissing, cross_tenant, tenant_scope
from tests.conftest import each_tenant, tenant


def test_query_without_tenant_context_fails(make):
    org = make.org("110105")
    make.member("110105", org)
    db.session.expire_all()
    with pytest.raises(TenantContextMissing):
        db.session.execute(db.select(Member)).all()


def test_queries_are_scoped_to_the_current_tenant(make):
    a = make.org("110105", name="朝阳支部")
    b = make.org("320115", name="江宁支部")
    make.member("110105", a, name="甲")
    make.member("320115", b, name="乙")
    b_id = b.id
    db.session.remove()  # a fresh session, as each request has
    with tenant_scope(tenant("110105").id):
        names = db.session.execute(db.select(Member.name)).scalars().all()
        assert names == ["甲"]
        assert db.session.get(Organization, b_id) is None
    with cross_tenant():  # the ORM filter steps aside; the organizations of both are read
        assert sorted(db.session.execute(db.select(Organization.name)).scalars().all()) == ["朝阳支部", "江宁支部"]
    # The register is read in the tenant that owns it: a cross-tenant block acting in 110105 sees
    # 110105's members on every database, and on PostgreSQL no other tenant's.
    with cross_tenant(acting_for=tenant("110105").id):
        names = sorted(db.session.execute(db.select(Member.name)).scalars().all())
    assert names == (["甲"] if db.engine.dialect.name == "postgresql" else ["乙", "甲"])
    assert sorted(sum(each_tenant(lambda: db.session.execute(db.select(Member.name)).scalars().all()), [])) \
        == ["乙", "甲"]


def test_writing_another_tenants_row_is_refused(make):
    b = make.org("320115")
    with tenant_scope(tenant("110105").id):
        db.session.add(Organization(code="320115-9999", name="x", kind="党支部", tenant_id=tenant("320115").id, path="/"))
        with pytest.raises(TenantContextMissing):
            db.session.flush()
    db.session.rollback()
    with cross_tenant():
        assert db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar() == 1


def test_one_id_number_one_holder_across_tenants(make):
    from tests.factories import id_number
    number = id_number("110105", serial=7)
    a = make.org("110105", name="朝阳区某党支部")
    b = make.org("320115")
    make.member("110105", a, id_number=number)
    with pytest.raises(ValidationFailed) as err:
        make.member("320115", b, id_number=number)
    assert "朝阳区某党支部" in err.value.fields["id_number"]
    db.session.rollback()
    assert sum(each_tenant(lambda: db.session.execute(db.select(db.func.count()).select_from(Member)).scalar())) == 1


@pytest.mark.postgres
def test_row_level_security_stops_unscoped_sql(make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature")
    a = make.org("110105")
    make.org("320115")
    make.member("110105", a)
    db.session.commit()
    with tenant_scope(tenant("320115").id):
        # Raw SQL bypasses the ORM filter; the database policy still hides the other tenant's rows.
        assert db.session.execute(text("SELECT count(*) FROM members")).scalar() == 0
        assert db.session.execute(text("SELECT count(*) FROM organizations")).scalar() == 1
    db.session.commit()
    # No context at all: nothing is visible.
    assert db.session.execute(text("SELECT count(*) FROM members")).scalar() == 0
    db.session.rollback()


def test_count_over_select_from_is_scoped_too(make):
    make.member("320115", make.org("320115"))
    with tenant_scope(tenant("110105").id):
        assert db.session.execute(db.select(db.func.count()).select_from(Member)).scalar() == 0
    with pytest.raises(TenantContextMissing):
        db.session.execute(db.select(db.func.count()).select_from(Member)).scalar()


def test_a_reused_statement_is_filtered_for_each_tenant_it_runs_in(make):
    """scoping.reusable keeps a statement's filtered form per tenant: tenant A's filter must never
    answer for tenant B, nor a missing context pass unfiltered."""
    from portal.tenancy.scoping import is_reusable, reusable
    a = make.org("110105", name="朝阳支部")
    b = make.org("320115", name="江宁支部")
    make.member("110105", a, name="甲")
    make.member("320115", b, name="乙")
    db.session.remove()
    names = reusable(db.select(Member.name))
    count = reusable(db.select(db.func.count()).select_from(Member))  # no entity: found by its tables
    assert is_reusable(names) and not is_reusable(db.select(Member.name))
    for code, name in (("110105", "甲"), ("320115", "乙"), ("110105", "甲")):
        with tenant_scope(tenant(code).id):
            assert db.session.execute(names).scalars().all() == [name]
            assert db.session.execute(count).scalar() == 1
    with pytest.raises(TenantContextMissing):
        db.session.execute(names).all()
    with pytest.raises(TenantContextMissing):
        db.session.execute(count).all()
    db.session.rollback()


def test_kept_statements_stay_marked_however_many_a_country_needs():
    """One kept statement per county (the header's delayed-jobs count) for ~3,000 counties: marking
    more never unmarks the first, and a statement nobody keeps any more is forgotten."""
    import gc

    from portal.tenancy import scoping
    kept = [scoping.reusable(db.select(Member.id).filter(Member.tenant_id == i)) for i in range(5000)]
    assert all(scoping.is_reusable(s) for s in kept)
    before = len(scoping._REUSED)
    del kept
    gc.collect()
    assert len(scoping._REUSED) <= before - 5000

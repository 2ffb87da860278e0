"""Read-only transactions end with COMMIT (portal/core/database.py), so psycopg's prepared
statements survive from one request to the next; anything that wrote or failed still rolls back."""
import os

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.tenancy.models import Tenant

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")

PROBE = "SELECT count(*) FROM tenants WHERE code = %(code)s AND 1 = 1"


def _prepared(conn, pattern: str) -> int:
    """How many statements matching the regular expression `pattern` this connection has prepared."""
    return conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements WHERE statement ~ %(p)s",
                                {"p": pattern}).scalar()


def test_a_statement_read_in_many_transactions_is_prepared_once(ctx):
    with db.engine.connect() as conn:
        for _ in range(8):  # psycopg prepares on the sixth run; each run its own transaction
            conn.exec_driver_sql("SET LOCAL portal.tenant_id = ''")
            assert conn.exec_driver_sql(PROBE, {"code": "990999"}).scalar() == 0
            conn.rollback()
        assert _prepared(conn, r"^SELECT count\(\*\) FROM tenants WHERE code = \$1 AND 1 = 1") == 1
        # The transaction really ended: a SET LOCAL does not outlive it.
        conn.exec_driver_sql("SET LOCAL portal.tenant_id = '7'")
        conn.rollback()
        assert conn.exec_driver_sql("SELECT current_setting('portal.tenant_id', true)").scalar() in ("", None)


def test_a_page_read_through_the_session_keeps_them_too(ctx):
    for _ in range(8):
        db.session.execute(sa.select(Tenant.id).where(Tenant.code == "110105")).all()
        db.session.remove()  # what the end of a request does
    with db.engine.connect() as conn:
        assert _prepared(conn, r"^SELECT tenants.id\s+FROM tenants\s+WHERE tenants.code = \$1") == 1


def test_a_write_that_is_not_committed_is_rolled_back(ctx):
    with db.engine.connect() as conn:
        conn.execute(sa.insert(Tenant.__table__).values(code="990901", name="回滚县", province="测试省",
                                                         parent_region="990000"))
        conn.rollback()
    with db.engine.connect() as other:
        assert other.exec_driver_sql("SELECT count(*) FROM tenants WHERE code = '990901'").scalar() == 0


def test_a_write_hidden_in_a_with_rolls_back(ctx):
    with db.engine.connect() as conn:
        made = (sa.insert(Tenant.__table__).values(code="990902", name="隐写县", province="测试省",
                                                   parent_region="990000")
                .returning(Tenant.__table__.c.id).cte("made"))
        statement = sa.select(made.c.id)
        assert str(statement.compile(conn)).startswith("WITH made AS")
        conn.execute(statement)
        conn.rollback()
        assert conn.exec_driver_sql("SELECT count(*) FROM tenants WHERE code = '990902'").scalar() == 0


def test_a_failed_statement_rolls_back_and_the_connection_goes_on(ctx):
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT 1 / 0")
        conn.rollback()
        assert conn.exec_driver_sql("SELECT 2").scalar() == 2


def test_a_committed_write_stays(ctx):
    with db.engine.connect() as conn:
        conn.execute(sa.insert(Tenant.__table__).values(code="990903", name="提交县", province="测试省",
                                                         parent_region="990000"))
        conn.commit()
        # After the commit the next read-only transaction is not taken for a write.
        assert conn.exec_driver_sql(PROBE, {"code": "990903"}).scalar() == 1
        conn.rollback()
    with db.engine.connect() as other:
        assert other.exec_driver_sql("SELECT count(*) FROM tenants WHERE code = '990903'").scalar() == 1

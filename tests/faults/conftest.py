"""Fixtures of the fault tests: the register's small tenant tree, and (in support.py) private
PostgreSQL and Redis servers a test may stop and start without touching the shared ones."""
from tests.members.conftest import chaoyang, new_member  # noqa: F401  (fixtures)

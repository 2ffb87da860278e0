"""Self-service tests reuse the exchange world (tenants A, B, C, their organizations and clerks)."""

from datetime import date, datetime

import pytest
import time_machine

from portal.core.clock import LOCAL_ZONE
from tests.exchange.conftest import A, B, C, api, world  # noqa: F401  (fixtures)
from tests.worklist.conftest import items  # noqa: F401

TODAY = date(2026, 12, 1)


def at(moment: datetime):
    return time_machine.travel(moment.replace(tzinfo=LOCAL_ZONE), tick=False)


@pytest.fixture
def frozen():
    with at(datetime(2026, 12, 1, 10)) as traveller:
        yield traveller


def last6(number: str) -> str:
    return number[-6:]

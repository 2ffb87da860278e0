"""schemathesis against the live app (issue 14): every operation of openapi.json, a bounded number
of generated requests each (PORTAL_API_EXAMPLES, default 6), sent over HTTP as a tenant's clerk to
the clerk's own tenant. None may answer 500, and every answer must fit what the document says of
it (status, content type, body schema)."""
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from portal.extensions import db
from tests.conftest import scope
from tests.factories import id_number

EXAMPLES = int(os.environ.get("PORTAL_API_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
TENANT = "110105"


@pytest.fixture
def clerk_token(make):
    """A clerk of 110105 with a small register (so ids 1–3 name real rows) and a neighbour tenant
    with a registry entry."""
    from datetime import date
    branch = make.org(TENANT, name="第一党支部")
    make.org("320115", name="江宁区第一党支部")
    for n in range(3):
        make.member(TENANT, branch, name=f"党员{n}", id_number=id_number(TENANT, date(1990, 1, n + 1)))
    with scope(TENANT):
        db.session.commit()
    return make.token(make.user(TENANT, "clerk"))


def test_no_operation_answers_500_or_outside_its_schema(clean_app, live_server, clerk_token):
    schema = schemathesis.openapi.from_url(live_server + "/api/v1/openapi.json")
    # The app runs in this process: an unexpected exception answers 500 instead of unwinding the server.
    clean_app.config["PROPAGATE_UNEXPECTED"] = False
    session = requests.Session()
    headers = {"Authorization": f"Bearer {clerk_token}"}
    failures, operations = [], 0
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case):
                if case.path_parameters and "tenant" in case.path_parameters:
                    case.path_parameters["tenant"] = TENANT
                response = case.call(base_url=live_server, session=session, headers=headers, timeout=60)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except Exception as exc:  # gather every operation's failures, then report them together
                    failures.append(f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                                    f"{str(exc)[:600]}")
            run()
    finally:
        clean_app.config["PROPAGATE_UNEXPECTED"] = True
    assert operations > 60
    assert not failures, "\n\n".join(failures[:30])

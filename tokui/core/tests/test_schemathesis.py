"""The API keeps its OpenAPI promise: generated requests never get a 5xx or an off-schema answer.

schemathesis calls the Django app in-process (WSGI, no network), signed in with an
administrator's token over a small seeded set of cards, a bounded number of examples
per operation so the run stays short in `make test` on both databases.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tokui.core.testing.factories import CustomerFactory
from tokui.users.choices import Role
from tokui.users.services import token_create


@pytest.fixture
def keep_the_test_connection():
    """Django's WSGI handler closes the database connection around each request when it is
    inside a transaction, as the test's is; the test client turns that off, and so do we."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def admin_token(keep_the_test_connection, users, customer, other_customer, areas):
    for number in range(3):
        CustomerFactory(
            code=f"TKY-01{number:02d}", owner=users[Role.ACCOUNT_MANAGER], area=areas["TKY"]
        )
    _, raw = token_create(user=users[Role.ADMINISTRATOR], name="schemathesis")
    return raw


# Read at collection time: the document is public and needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
# Valid requests from the schema's examples and from fuzzing; the coverage phase's
# hundreds of boundary cases per operation would take minutes.
schema.config.phases.update(phases=["examples", "fuzzing"])
schema.config.generation.update(modes=["positive"], max_examples=10)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )


# Invalid requests (wrong types, missing fields, broken bodies) may be refused in any
# 4xx, but must never break the server.
invalid_requests = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
invalid_requests.config.phases.update(phases=["fuzzing"])
invalid_requests.config.generation.update(modes=["negative"], max_examples=10)


@invalid_requests.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_invalid_requests_never_break_the_api(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error]
    )

"""Change requests through /api/v1/: the card's PATCH answers 202, and requests are decided."""

import json

import pytest

from tokui.approvals.choices import RequestSource, RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import ChangeRequestFactory
from tokui.customers.models import Customer
from tokui.customers.services import customer_update
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db

CARD = "/api/v1/customers/TKY-0001"
REQUESTS = "/api/v1/change-requests"
CREDIT_9 = {"field_values": {"credit_limit": 9}}


@pytest.fixture
def call(client):
    tokens = {}

    def _call(method, url, who, body=None):
        if who.pk not in tokens:
            tokens[who.pk] = token_create(user=who, name="test")[1]
        kwargs = {"headers": {"Authorization": f"Bearer {tokens[who.pk]}"}}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(url, **kwargs)

    return _call


def test_patch_of_a_controlled_field_answers_202_with_the_request(
    call, users, customer, controlled, free_field
):
    am = users[Role.ACCOUNT_MANAGER]
    body = {
        "version": customer.version,
        "fields": {"credit_limit": 700000, "hobby": "Golf"},
        "reason": "Signed the yearly contract",
    }

    response = call("patch", CARD, am, body)

    assert response.status_code == 202
    request = ChangeRequest.objects.get()
    assert response.json() == {
        "id": request.pk,
        "customer": "TKY-0001",
        "status": "pending",
        "proposed": {"credit_limit": 700000},
        "current": {"credit_limit": None},
        "base_version": customer.version + 1,
        "reason": "Signed the yearly contract",
        "source": "api",
        "source_reference": "",
        "requested_by": "am",
        "created_at": response.json()["created_at"],
        "decided_by": None,
        "decided_at": None,
        "decision_comment": "",
    }
    assert request.source == RequestSource.API
    # The free field applied; the controlled one waits.
    assert Customer.objects.get(pk=customer.pk).field_values == {"hobby": "Golf"}


def test_patch_of_a_controlled_field_without_reason_is_422_naming_reason(
    call, users, customer, controlled
):
    response = call(
        "patch",
        CARD,
        users[Role.ACCOUNT_MANAGER],
        {"version": customer.version, "name": "Changed", "fields": {"credit_limit": 1}},
    )

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "reason"]]
    assert not ChangeRequest.objects.exists()
    assert Customer.objects.get(pk=customer.pk).name == "山田商店"


def test_patch_without_controlled_changes_keeps_its_200_customer(call, users, customer, controlled):
    response = call(
        "patch", CARD, users[Role.ACCOUNT_MANAGER], {"version": customer.version, "name": "New"}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "New"


def test_a_manager_patches_controlled_fields_directly(call, users, customer, controlled):
    response = call(
        "patch",
        CARD,
        users[Role.MANAGER],
        {"version": customer.version, "fields": {"credit_limit": 5}},
    )

    assert response.status_code == 200
    assert response.json()["fields"]["credit_limit"] == 5


def test_the_patch_body_documents_reason_and_the_202(client):
    schema = client.get("/api/v1/openapi.json").json()

    operation = schema["paths"]["/api/v1/customers/{code}"]["patch"]
    assert set(operation["responses"]) >= {"200", "202", "409", "422"}
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "reason" in body["properties"]


def test_list_is_scoped(call, users, customer, other_customer, osaka_manager):
    mine = ChangeRequestFactory(customer=customer)
    theirs = ChangeRequestFactory(customer=other_customer)

    def ids(user):
        response = call("get", REQUESTS, user)
        assert response.status_code == 200
        return sorted(item["id"] for item in response.json()["items"])

    assert ids(users[Role.MANAGER]) == [mine.pk]
    assert ids(users[Role.ACCOUNT_MANAGER]) == [mine.pk]
    assert ids(osaka_manager) == [theirs.pk]
    assert ids(users[Role.AUDITOR]) == sorted([mine.pk, theirs.pk])
    assert call("get", REQUESTS, users[Role.ANALYST]).status_code == 403
    assert call("get", REQUESTS, users[Role.SERVICE_AGENT]).status_code == 403


def test_get_hides_requests_outside_the_scope(call, users, other_customer):
    theirs = ChangeRequestFactory(customer=other_customer)

    response = call("get", f"{REQUESTS}/{theirs.pk}", users[Role.MANAGER])

    assert response.status_code == 404


def test_manager_approves_through_the_api(call, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer, proposed=CREDIT_9)

    response = call(
        "post", f"{REQUESTS}/{request.pk}/approve", users[Role.MANAGER], {"comment": "OK"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "manager"
    assert Customer.objects.get(pk=customer.pk).field_values == {"credit_limit": 9}


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ACCOUNT_MANAGER, 403), (Role.AUDITOR, 403), (Role.SERVICE_AGENT, 403)],
)
def test_roles_that_do_not_decide_are_refused(call, users, customer, controlled, role, status):
    request = ChangeRequestFactory(customer=customer, requested_by=users[Role.MANAGER])
    changes = ObjectChange.objects.count()

    for action, body in (("approve", {}), ("reject", {"comment": "No"})):
        response = call("post", f"{REQUESTS}/{request.pk}/{action}", users[role], body)
        assert response.status_code == status

    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert ObjectChange.objects.count() == changes


def test_other_area_manager_gets_404_and_requester_403(
    call, users, customer, controlled, osaka_manager
):
    request = ChangeRequestFactory(customer=customer, requested_by=users[Role.MANAGER])

    assert call("post", f"{REQUESTS}/{request.pk}/approve", osaka_manager, {}).status_code == 404
    own = call("post", f"{REQUESTS}/{request.pk}/approve", users[Role.MANAGER], {})
    assert own.status_code == 403
    assert "own" in own.json()["detail"]
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_stale_approval_is_409_and_the_version_rebases(
    call, users, customer, controlled, free_field
):
    request = ChangeRequestFactory(customer=customer, proposed=CREDIT_9)
    moved = customer_update(
        actor=users[Role.MANAGER],
        customer=customer,
        data={"field_values": {"hobby": "Tennis"}},
        expected_version=customer.version,
    )
    url = f"{REQUESTS}/{request.pk}/approve"

    stale = call("post", url, users[Role.ADMINISTRATOR], {})

    assert stale.status_code == 409
    assert stale.json()["current_version"] == moved.version
    assert Customer.objects.get(pk=customer.pk).field_values == {"hobby": "Tennis"}
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    rebased = call("post", url, users[Role.ADMINISTRATOR], {"version": moved.version})

    assert rebased.status_code == 200
    assert Customer.objects.get(pk=customer.pk).field_values == {
        "hobby": "Tennis",
        "credit_limit": 9,
    }


def test_reject_needs_a_comment(call, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer)
    url = f"{REQUESTS}/{request.pk}/reject"

    assert call("post", url, users[Role.MANAGER], {"comment": " "}).status_code == 422
    response = call("post", url, users[Role.MANAGER], {"comment": "Not this year"})

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["decision_comment"] == "Not this year"


def test_requester_withdraws(call, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer)
    url = f"{REQUESTS}/{request.pk}/withdraw"

    assert call("post", url, users[Role.MANAGER]).status_code == 403
    response = call("post", url, users[Role.ACCOUNT_MANAGER])

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_a_field_the_caller_may_not_see_is_left_out(call, users, customer):
    from tokui.core.testing.factories import FieldDefinitionFactory

    FieldDefinitionFactory(
        key="secret_terms",
        controlled=True,
        view_roles=[Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER],
    )
    request = ChangeRequestFactory(
        customer=customer, proposed={"field_values": {"secret_terms": "Net 90 days"}}
    )
    url = f"{REQUESTS}/{request.pk}"

    assert call("get", url, users[Role.MANAGER]).json()["proposed"] == {
        "secret_terms": "Net 90 days"
    }
    hidden = call("get", url, users[Role.AUDITOR]).json()
    assert (hidden["proposed"], hidden["current"]) == ({}, {})

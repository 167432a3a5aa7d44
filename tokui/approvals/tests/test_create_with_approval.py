"""A new card is no way around approval (GOV-2): its controlled values are asked for."""

import json

import pytest
from django.core.exceptions import PermissionDenied

from tokui.approvals.choices import RequestSource, RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.customers.models import Customer
from tokui.customers.services import customer_create
from tokui.users.choices import Role
from tokui.users.services import token_create

pytestmark = pytest.mark.django_db

NEW_PAGE = "/customers/new/"


def new_card_form(**changes) -> dict:
    data = {
        "code": "TKY-0100",
        "kind": "company",
        "name": "Hoshino Shoten",
        "status": "prospect",
        "tags": "",
        "field__credit_limit": "500000",
    }
    data.update(changes)
    return data


def api_create(client, user, body):
    raw = token_create(user=user, name="test")[1]
    return client.post(
        "/api/v1/customers",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def test_the_service_refuses_a_new_card_with_a_controlled_value(users, controlled):
    with pytest.raises(PermissionDenied, match="credit_limit"):
        customer_create(
            actor=users[Role.ACCOUNT_MANAGER],
            data={
                "code": "TKY-0100",
                "kind": "company",
                "name": "X",
                "field_values": {"credit_limit": 1},
            },
        )

    assert not Customer.objects.filter(code="TKY-0100").exists()


def test_new_card_page_sends_the_controlled_value_for_approval(client, users, controlled):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.post(NEW_PAGE, new_card_form(change_reason="Opening terms agreed"))

    assert response.status_code == 302
    card = Customer.objects.get(code="TKY-0100")
    assert card.field_values.get("credit_limit") is None
    request = ChangeRequest.objects.get(customer=card)
    assert request.proposed == {"field_values": {"credit_limit": 500000}}
    assert request.reason == "Opening terms agreed"
    assert request.status == RequestStatus.PENDING


def test_new_card_page_without_a_reason_creates_nothing(client, users, controlled):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.post(NEW_PAGE, new_card_form())

    assert response.status_code == 200
    assert "change_reason" in response.context["approval"].errors
    assert not Customer.objects.filter(code="TKY-0100").exists()
    assert not ChangeRequest.objects.exists()


def test_a_manager_creates_the_card_with_the_controlled_value(client, users, controlled):
    manager = users[Role.MANAGER]
    body = {"code": "TKY-0100", "kind": "company", "name": "X", "fields": {"credit_limit": 5}}

    response = api_create(client, manager, body)

    assert response.status_code == 201
    assert Customer.objects.get(code="TKY-0100").field_values == {"credit_limit": 5}
    assert not ChangeRequest.objects.exists()


def test_api_create_by_an_account_manager_answers_202_with_the_request(client, users, controlled):
    body = {
        "code": "TKY-0100",
        "kind": "company",
        "name": "X",
        "fields": {"credit_limit": 5},
        "reason": "Opening terms",
    }

    response = api_create(client, users[Role.ACCOUNT_MANAGER], body)

    assert response.status_code == 202
    assert response.json()["customer"] == "TKY-0100"
    assert response.json()["proposed"] == {"credit_limit": 5}
    request = ChangeRequest.objects.get()
    assert request.source == RequestSource.API
    assert Customer.objects.get(code="TKY-0100").field_values.get("credit_limit") is None


def test_api_create_without_a_reason_is_422_and_creates_nothing(client, users, controlled):
    body = {"code": "TKY-0100", "kind": "company", "name": "X", "fields": {"credit_limit": 5}}

    response = api_create(client, users[Role.ACCOUNT_MANAGER], body)

    assert response.status_code == 422
    assert "reason" in json.dumps(response.json())
    assert not Customer.objects.filter(code="TKY-0100").exists()

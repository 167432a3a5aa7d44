"""The people endpoints of /api/v1/: the contacts and family around a customer."""

import datetime
import json

import pytest
from django.utils import timezone

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import PersonFactory
from tokui.customers import services
from tokui.customers.models import Customer, Person
from tokui.users.choices import Role, TokenScope
from tokui.users.services import token_create, token_revoke


@pytest.fixture
def call(client):
    """``call(method, url, user_or_raw_token, body)``: one API request as that caller."""
    tokens = {}

    def _call(method, url, who=None, body=None):
        headers = {}
        if isinstance(who, str):
            headers["Authorization"] = f"Bearer {who}"
        elif who is not None:
            if who.pk not in tokens:
                tokens[who.pk] = token_create(user=who, name="test")[1]
            headers["Authorization"] = f"Bearer {tokens[who.pk]}"
        kwargs = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(url, **kwargs)

    return _call


@pytest.fixture
def am(users):
    return users[Role.ACCOUNT_MANAGER]


@pytest.fixture
def contact(customer):
    return PersonFactory(
        customer=customer, relation="owner", name="山田太郎", name_reading="ヤマダタロウ"
    )


@pytest.fixture
def their_contact(other_customer):
    return PersonFactory(customer=other_customer, relation="contact", name="大阪花子")


NEW_PERSON = {"relation": "spouse", "name": "山田花子", "birthday": "1975-03-03"}


def endpoints(contact_id):
    person = f"/api/v1/people/{contact_id}"
    return {
        "list": ("get", "/api/v1/customers/TKY-0001/people", None),
        "create": ("post", "/api/v1/customers/TKY-0001/people", NEW_PERSON),
        "retrieve": ("get", person, None),
        "update": ("patch", person, {"hobbies": "釣り", "version": 1}),
        "delete": ("delete", person, None),
    }


ENDPOINT_NAMES = ["list", "create", "retrieve", "update", "delete"]
WRITES = ["create", "update", "delete"]


def people_state():
    """What a refused request must leave untouched."""
    return (
        sorted(Person.objects.values_list("name", "hobbies", "version")),
        ObjectChange.objects.count(),
    )


# -- permission matrix -------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINT_NAMES)
def test_no_token_is_401(call, contact, endpoint):
    method, url, body = endpoints(contact.pk)[endpoint]
    before = people_state()

    assert call(method, url, None, body).status_code == 401
    assert people_state() == before


@pytest.mark.parametrize("kind", ["unknown", "revoked", "expired"])
@pytest.mark.parametrize("endpoint", ENDPOINT_NAMES)
def test_bad_revoked_or_expired_token_is_401(call, am, contact, endpoint, kind):
    if kind == "unknown":
        raw = "tokui_" + "y" * 43
    elif kind == "revoked":
        token, raw = token_create(user=am, name="old")
        token_revoke(token=token)
    else:
        _, raw = token_create(
            user=am, name="old", expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    method, url, body = endpoints(contact.pk)[endpoint]
    before = people_state()

    assert call(method, url, raw, body).status_code == 401
    assert people_state() == before


@pytest.mark.parametrize("endpoint", WRITES)
def test_read_only_token_may_not_write(call, am, contact, endpoint):
    _, raw = token_create(user=am, name="ro", scope=TokenScope.READ)
    method, url, body = endpoints(contact.pk)[endpoint]
    before = people_state()

    assert call(method, url, raw, body).status_code == 403
    assert people_state() == before


@pytest.mark.parametrize("endpoint", ENDPOINT_NAMES)
def test_analyst_sees_no_people(call, users, contact, endpoint):
    method, url, body = endpoints(contact.pk)[endpoint]
    before = people_state()

    assert call(method, url, users[Role.ANALYST], body).status_code == 403
    assert people_state() == before


@pytest.mark.parametrize("endpoint", ENDPOINT_NAMES)
def test_service_agent_reads_people_but_changes_none(call, users, contact, endpoint):
    method, url, body = endpoints(contact.pk)[endpoint]
    before = people_state()

    response = call(method, url, users[Role.SERVICE_AGENT], body)

    assert response.status_code == (403 if endpoint in WRITES else 200)
    assert people_state() == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"hobbies": "覗き見", "version": 1}),
        ("delete", "", None),
    ],
)
def test_person_of_an_out_of_scope_card_is_404(call, am, their_contact, method, suffix, body):
    before = people_state()

    response = call(method, f"/api/v1/people/{their_contact.pk}", am, body)

    assert response.status_code == 404
    assert people_state() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_people_of_an_out_of_scope_card_are_404(call, am, other_customer, their_contact, method):
    body = NEW_PERSON if method == "post" else None
    before = people_state()

    response = call(method, "/api/v1/customers/OSK-0001/people", am, body)

    assert response.status_code == 404
    assert people_state() == before


def test_unknown_person_is_404(call, users):
    assert call("get", "/api/v1/people/999999", users[Role.ADMINISTRATOR]).status_code == 404


# -- allowed callers -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_list_a_cards_people(call, users, contact, their_contact, role):
    response = call("get", "/api/v1/customers/TKY-0001/people", users[role])

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": contact.pk,
            "customer": "TKY-0001",
            "relation": "owner",
            "name": "山田太郎",
            "name_reading": "ヤマダタロウ",
            "gender": "",
            "birthday": None,
            "anniversary": None,
            "phone": "",
            "mobile": "",
            "email": "",
            "hobbies": "",
            "preferences": "",
            "notes": "",
            "version": 1,
        }
    ]


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_add_a_person(call, users, customer, role):
    body = {**NEW_PERSON, "mobile": "090-1111-2222", "gender": "female", "email": None}

    response = call("post", "/api/v1/customers/TKY-0001/people", users[role], body)

    assert response.status_code == 201
    assert response.json()["customer"] == "TKY-0001"
    assert response.json()["version"] == 1
    person = Person.objects.get(pk=response.json()["id"])
    assert person.customer == customer
    assert (person.name, person.birthday, person.email) == (
        "山田花子",
        datetime.date(1975, 3, 3),
        "",
    )
    row = ObjectChange.objects.get(object_type="customers.person", object_id=person.pk)
    assert (row.action, row.actor, row.customer_id) == ("create", users[role], customer.pk)


def test_a_new_persons_mobile_finds_the_card(call, am, customer):
    call("post", "/api/v1/customers/TKY-0001/people", am, {**NEW_PERSON, "mobile": "090-7777-8888"})

    response = call("get", "/api/v1/customers?search=09077778888", am)

    assert [item["code"] for item in response.json()["items"]] == ["TKY-0001"]


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER])
def test_allowed_roles_read_change_and_delete_a_person(call, users, contact, role):
    url = f"/api/v1/people/{contact.pk}"

    read = call("get", url, users[role])
    changed = call("patch", url, users[role], {"hobbies": "釣り", "version": 1})
    deleted = call("delete", url, users[role])

    assert (read.status_code, read.json()["name"]) == (200, "山田太郎")
    assert (changed.status_code, changed.json()["hobbies"], changed.json()["version"]) == (
        200,
        "釣り",
        2,
    )
    assert deleted.status_code == 204
    assert not Person.objects.filter(pk=contact.pk).exists()
    actions = list(
        ObjectChange.objects.filter(object_type="customers.person")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["update", "delete"]


# -- versions and validation ---------------------------------------------------------


def test_stale_person_version_is_409_and_nothing_is_saved(call, users, am, contact):
    services.person_update(
        actor=users[Role.MANAGER], person=contact, data={"notes": "誕生日会"}, expected_version=1
    )
    before = people_state()

    response = call("patch", f"/api/v1/people/{contact.pk}", am, {"hobbies": "囲碁", "version": 1})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert "manager" in response.json()["detail"]
    assert "notes" in response.json()["detail"]
    assert people_state() == before


def test_person_patch_without_version_is_422(call, am, contact):
    response = call("patch", f"/api/v1/people/{contact.pk}", am, {"hobbies": "囲碁"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "version"]
    assert Person.objects.get(pk=contact.pk).hobbies == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x" * 10_000),
        ("name", "<script>alert(1)</script>"),
        ("relation", "nemesis"),
        ("birthday", "not a date"),
        ("email", "nobody-at-example"),
        ("phone", "call me"),
    ],
)
def test_bad_person_input_is_422_naming_the_field_and_nothing_is_saved(
    call, am, customer, field, value
):
    before = people_state()

    response = call("post", "/api/v1/customers/TKY-0001/people", am, {**NEW_PERSON, field: value})

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert people_state() == before
    assert Customer.objects.get(code="TKY-0001").version == 1

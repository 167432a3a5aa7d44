"""Anonymising a person on request: personal data erased, orders and figures kept."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import PersonFactory
from tokui.customers.models import Person
from tokui.customers.services import ANONYMISED_NAME, person_anonymise
from tokui.metrics.models import CustomerMetrics
from tokui.sales.models import Order
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(customer):
    return PersonFactory(
        customer=customer,
        name="山田太郎",
        phone="090-1111-2222",
        email="taro@example.jp",
        birthday=datetime.date(1970, 5, 1),
        hobbies="golf",
    )


def test_personal_fields_are_erased_and_orders_kept(users, customer, person):
    Order.objects.create(number="O-9", customer=customer, date=datetime.date(2026, 3, 1))
    CustomerMetrics.objects.create(customer=customer, order_count=1, computed_at=timezone.now())

    person_anonymise(actor=users[Role.MANAGER], person=person)

    person.refresh_from_db()
    assert (person.name, person.phone, person.email, person.birthday, person.hobbies) == (
        ANONYMISED_NAME,
        "",
        "",
        None,
        "",
    )
    assert person.version == 2
    assert customer.orders.count() == 1
    assert CustomerMetrics.objects.get(customer=customer).order_count == 1
    customer.refresh_from_db()
    assert "09011112222" not in customer.phone_digits


def test_the_act_is_audited_without_the_erased_values(users, person):
    person_anonymise(actor=users[Role.ADMINISTRATOR], person=person)

    row = ObjectChange.objects.get(object_type="customers.person", object_id=person.pk)
    assert row.actor_name == "admin"
    assert row.changes == {
        "birthday": {"old": "***", "new": None},
        "email": {"old": "***", "new": ""},
        "hobbies": {"old": "***", "new": ""},
        "name": {"old": "***", "new": ANONYMISED_NAME},
        "phone": {"old": "***", "new": ""},
    }
    assert "山田太郎" not in str(row.changes)


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.AUDITOR])
def test_roles_that_may_not_delete_cards_may_not_anonymise(users, person, role):
    with pytest.raises(PermissionDenied):
        person_anonymise(actor=users[role], person=person)
    person.refresh_from_db()
    assert person.name == "山田太郎"
    assert not ObjectChange.objects.exists()


def test_manager_may_not_anonymise_outside_their_area(users, other_customer):
    outsider = PersonFactory(customer=other_customer, name="大阪一郎")
    with pytest.raises(PermissionDenied):
        person_anonymise(actor=users[Role.MANAGER], person=outsider)
    assert Person.objects.get(pk=outsider.pk).name == "大阪一郎"


@pytest.mark.parametrize(
    ("role", "get_status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.MANAGER, 200),
        (Role.ACCOUNT_MANAGER, 403),
        (Role.SERVICE_AGENT, 403),
        (Role.ANALYST, 403),
        (Role.AUDITOR, 403),
    ],
)
def test_page_permissions(client, users, customer, person, role, get_status):
    client.force_login(users[role])
    url = reverse("customers:person_anonymise", args=[customer.code, person.pk])

    assert client.get(url).status_code == get_status
    response = client.post(url)

    person.refresh_from_db()
    if get_status == 200:
        assert response.status_code == 302
        assert person.name == ANONYMISED_NAME
    else:
        assert response.status_code == 403
        assert person.name == "山田太郎"


def test_page_answers_404_out_of_scope(client, users, other_customer):
    outsider = PersonFactory(customer=other_customer, name="大阪一郎")
    client.force_login(users[Role.MANAGER])

    url = reverse("customers:person_anonymise", args=[other_customer.code, outsider.pk])

    assert client.post(url).status_code == 404
    assert Person.objects.get(pk=outsider.pk).name == "大阪一郎"

"""Privacy requests: everything held about one customer, as JSON and as a page."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tokui.audit.models import AccessEvent
from tokui.core.testing.factories import AddressFactory, PersonFactory
from tokui.customers.models import Consent
from tokui.customers.services import customer_update
from tokui.metrics.models import CustomerMetrics
from tokui.sales.models import Order, OrderLine, Payment, Product
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_card(customer, users):
    PersonFactory(customer=customer, name="山田太郎", email="taro@example.jp")
    PersonFactory(customer=customer, name="山田花子")
    AddressFactory(customer=customer)
    Consent.objects.create(
        customer=customer, channel="email", granted=True, recorded_on=datetime.date(2026, 1, 5)
    )
    product = Product.objects.create(code="P-1", name="Tea")
    order = Order.objects.create(
        number="O-1", customer=customer, date=datetime.date(2026, 2, 1), total_amount=300
    )
    for line_no in (1, 2):
        OrderLine.objects.create(
            order=order,
            line_no=line_no,
            customer=customer,
            date=order.date,
            product=product,
            quantity=Decimal("1"),
            unit_price=Decimal("150"),
            amount=Decimal("150"),
        )
    Payment.objects.create(
        reference="PAY-1", customer=customer, date=datetime.date(2026, 2, 10), amount=300
    )
    CustomerMetrics.objects.create(customer=customer, order_count=1, computed_at=timezone.now())
    customer_update(
        actor=users[Role.MANAGER],
        customer=customer,
        data={"notes": "VIP"},
        expected_version=customer.version,
    )
    return customer


def test_json_holds_everything_on_the_card(client, users, full_card):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    response = client.get(reverse("customers:privacy_export_json", args=[full_card.code]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="customer-TKY-0001-privacy.json"'
    )
    data = json.loads(response.content)
    assert data["customer"]["code"] == "TKY-0001"
    assert data["customer"]["notes"] == "VIP"
    assert data["customer"]["owner"] == "am"
    assert sorted(p["name"] for p in data["people"]) == ["山田太郎", "山田花子"]
    assert len(data["addresses"]) == 1
    assert data["consents"] == [
        {"channel": "email", "granted": True, "recorded_on": "2026-01-05", "source": ""}
    ]
    assert [o["number"] for o in data["orders"]] == ["O-1"]
    assert len(data["orders"][0]["lines"]) == 2
    assert [p["reference"] for p in data["payments"]] == ["PAY-1"]
    assert data["figures"]["order_count"] == 1
    assert [h["changes"] for h in data["history"]] == [{"notes": {"old": "", "new": "VIP"}}]


def test_page_shows_the_same_data_escaped(client, users, full_card):
    PersonFactory(customer=full_card, name="<script>x</script>")
    client.force_login(users[Role.AUDITOR])

    response = client.get(reverse("customers:privacy_export", args=[full_card.code]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "山田太郎" in html and "PAY-1" in html and "O-1" in html
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["privacy_export", "privacy_export_json"])
def test_export_is_recorded_as_an_access(client, users, customer, name):
    client.force_login(users[Role.MANAGER])

    client.get(reverse(f"customers:{name}", args=[customer.code]), {"purpose": "request #12"})

    event = AccessEvent.objects.get()
    assert (event.actor, event.action, event.customer_id, event.count, event.purpose) == (
        users[Role.MANAGER],
        "export",
        customer.pk,
        1,
        "request #12",
    )


@pytest.mark.parametrize("name", ["privacy_export", "privacy_export_json"])
@pytest.mark.parametrize(
    ("role", "in_scope", "out_of_scope"),
    [
        (Role.ADMINISTRATOR, 200, 200),
        (Role.MANAGER, 200, 404),
        (Role.ACCOUNT_MANAGER, 200, 404),
        (Role.AUDITOR, 200, 200),
        (Role.SERVICE_AGENT, 403, 403),
        (Role.ANALYST, 403, 403),
    ],
)
def test_permission_matrix(
    client, users, customer, other_customer, name, role, in_scope, out_of_scope
):
    client.force_login(users[role])

    assert client.get(reverse(f"customers:{name}", args=[customer.code])).status_code == in_scope
    assert (
        client.get(reverse(f"customers:{name}", args=[other_customer.code])).status_code
        == out_of_scope
    )
    recorded = {e.customer_id for e in AccessEvent.objects.filter(action="export")}
    expected = {customer.pk} if in_scope == 200 else set()
    if out_of_scope == 200:
        expected.add(other_customer.pk)
    assert recorded == expected


@pytest.mark.parametrize("name", ["privacy_export", "privacy_export_json"])
def test_anonymous_is_sent_to_log_in(client, customer, name):
    response = client.get(reverse(f"customers:{name}", args=[customer.code]))
    assert response.status_code == 302
    assert not AccessEvent.objects.exists()

"""Merging two cards of one customer: nothing lost, choices applied, recorded, refused safely."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tokui.audit.models import ObjectChange
from tokui.audit.selectors import card_history
from tokui.core.exceptions import EditConflict
from tokui.core.testing.factories import CustomerFactory, FieldDefinitionFactory
from tokui.customers import services
from tokui.customers.models import Address, Consent, Customer, CustomerMerge, Person, Tag
from tokui.customers.selectors import card_history_customer_ids, merged_customer_ids
from tokui.metrics.models import CustomerMetrics
from tokui.metrics.services import metrics_refresh
from tokui.sales.models import Order, OrderLine, Payment, Product
from tokui.users.choices import Role

ADMIN = Role.ADMINISTRATOR
MANAGER = Role.MANAGER
AM = Role.ACCOUNT_MANAGER
DAY = datetime.date(2026, 3, 1)


def add_order(customer, number, product, quantities):
    order = Order.objects.create(
        number=number, customer=customer, date=DAY, line_count=len(quantities)
    )
    for line_no, quantity in enumerate(quantities, start=1):
        OrderLine.objects.create(
            order=order,
            line_no=line_no,
            customer=customer,
            date=DAY,
            product=product,
            quantity=Decimal(quantity),
            unit_price=Decimal("100"),
            amount=Decimal(quantity) * 100,
        )
    return order


@pytest.fixture
def pair(users, areas, customer):
    """``customer`` (kept) and a second card of the same shop with its own people, orders..."""
    admin = users[ADMIN]
    FieldDefinitionFactory(key="store_size")
    FieldDefinitionFactory(key="visit_day")
    keep = services.customer_update(
        actor=admin,
        customer=customer,
        data={"tags": ["VIP"], "field_values": {"store_size": "small"}},
        expected_version=customer.version,
    )
    merge = services.customer_create(
        actor=admin,
        data={
            "code": "TKY-0002",
            "kind": "shop",
            "name": "山田商店",
            "name_reading": "ヤマダショウテン",
            "status": "dormant",
            "owner": users[MANAGER],
            "area": areas["TKY"],
            "phone": "03-1234-5678",
            "email": "yamada@example.jp",
            "tags": ["VIP", "Fair"],
            "field_values": {"store_size": "large", "visit_day": "Mon"},
        },
    )
    services.person_create(actor=admin, customer=keep, data={"relation": "owner", "name": "山田"})
    for name in ("佐藤", "鈴木"):
        services.person_create(
            actor=admin, customer=merge, data={"relation": "contact", "name": name}
        )
    for card in (keep, merge):
        services.address_create(
            actor=admin,
            customer=card,
            data={"postal_code": "100-0001", "line1": "千代田1-1", "is_primary": True},
        )
    services.consent_set(
        actor=admin,
        customer=keep,
        data={"channel": "email", "granted": True, "recorded_on": DAY, "source": "form"},
    )
    services.consent_set(
        actor=admin,
        customer=merge,
        data={"channel": "email", "granted": False, "recorded_on": DAY, "source": "call"},
    )
    services.consent_set(
        actor=admin,
        customer=merge,
        data={"channel": "sms", "granted": True, "recorded_on": DAY, "source": "call"},
    )
    product = Product.objects.create(code="P1", name="Tea")
    add_order(keep, "O-1", product, ["1"])
    add_order(merge, "O-2", product, ["2", "3"])
    add_order(merge, "O-3", product, ["4"])
    Payment.objects.create(reference="PAY-1", customer=merge, date=DAY, amount=Decimal("500"))
    Payment.objects.create(reference="PAY-2", customer=keep, date=DAY, amount=Decimal("100"))
    metrics_refresh(customer_ids=[keep.pk, merge.pk])
    return Customer.objects.get(pk=keep.pk), Customer.objects.get(pk=merge.pk)


def versions(*cards):
    return {card.code: card.version for card in cards}


def counts(*cards):
    ids = [card.pk for card in cards]
    return {
        "people": Person.objects.filter(customer_id__in=ids).count(),
        "addresses": Address.objects.filter(customer_id__in=ids).count(),
        "orders": Order.objects.filter(customer_id__in=ids).count(),
        "order_lines": OrderLine.objects.filter(customer_id__in=ids).count(),
        "payments": Payment.objects.filter(customer_id__in=ids).count(),
        "history": ObjectChange.objects.filter(customer_id__in=ids).count(),
    }


def everything():
    """What a refused merge must leave as it was."""
    return (
        list(Customer.objects.order_by("pk").values_list("pk", "code", "version", "owner")),
        list(Person.objects.order_by("pk").values_list("pk", "customer_id")),
        list(Address.objects.order_by("pk").values_list("pk", "customer_id", "is_primary")),
        list(Consent.objects.order_by("pk").values_list("pk", "customer_id", "granted")),
        list(Order.objects.order_by("pk").values_list("pk", "customer_id")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "customer_id")),
        list(Payment.objects.order_by("pk").values_list("pk", "customer_id")),
        list(CustomerMetrics.objects.order_by("pk").values_list("pk", "order_count")),
        ObjectChange.objects.count(),
        CustomerMerge.objects.count(),
    )


def test_merge_loses_nothing(users, pair):
    keep, merge = pair
    before = counts(keep, merge)

    services.customers_merge(
        actor=users[ADMIN],
        keep=keep,
        merge=merge,
        choices={},
        expected_versions=versions(keep, merge),
    )

    after = counts(keep)
    assert not Customer.objects.filter(pk=merge.pk).exists()
    assert (
        {k: after[k] for k in before if k != "history"}
        == {
            "people": 3,
            "addresses": 2,
            "orders": 3,
            "order_lines": 4,
            "payments": 2,
        }
        == {k: before[k] for k in before if k != "history"}
    )
    # The kept card's history holds both cards' rows, plus: the kept card's update, the
    # refused e-mail consent's deletion, the merge record and the merged card's deletion.
    assert card_history(customer_id=keep.pk).count() == before["history"] + 4
    assert set(
        Consent.objects.filter(customer=keep).values_list("channel", "granted", "source")
    ) == {("email", True, "form"), ("sms", True, "call")}
    assert list(Address.objects.filter(customer=keep, is_primary=True)) == [
        Address.objects.filter(customer=keep).order_by("pk").first()
    ]


def test_figures_move_with_the_orders(users, pair):
    keep, merge = pair

    services.customers_merge(
        actor=users[ADMIN],
        keep=keep,
        merge=merge,
        choices={},
        expected_versions=versions(keep, merge),
    )

    assert list(CustomerMetrics.objects.values_list("customer_id", "order_count")) == [(keep.pk, 3)]
    assert CustomerMetrics.objects.get(customer=keep).amount_total == Decimal("1000.00")


def test_chosen_values_win_and_the_rest_keep_the_kept_card(users, pair):
    keep, merge = pair

    services.customers_merge(
        actor=users[ADMIN],
        keep=keep,
        merge=merge,
        choices={
            "status": "merge",
            "owner": "merge",
            "fields.store_size": "merge",
            "consent.email": "merge",
            "email": "keep",
        },
        expected_versions=versions(keep, merge),
    )

    card = Customer.objects.get(pk=keep.pk)
    assert (card.code, card.status, card.owner, card.email) == (
        "TKY-0001",
        "dormant",
        users[MANAGER],
        "",
    )
    # visit_day was empty on the kept card: by default the merged card's value fills it.
    assert card.field_values == {"store_size": "large", "visit_day": "Mon"}
    assert sorted(card.tags.values_list("name", flat=True)) == ["Fair", "VIP"]
    assert Tag.objects.count() == 2
    assert set(
        Consent.objects.filter(customer=keep).values_list("channel", "granted", "source")
    ) == {("email", False, "call"), ("sms", True, "call")}
    assert card.version == keep.version + 1


def test_the_merge_is_recorded(users, pair):
    keep, merge = pair
    merged_snapshot = services.customer_snapshot(merge)

    record = services.customers_merge(
        actor=users[MANAGER],
        keep=keep,
        merge=merge,
        choices={"status": "merge"},
        expected_versions=versions(keep, merge),
    )

    record = CustomerMerge.objects.get(pk=record.pk)
    assert (record.kept_id, record.kept_code, record.merged_customer_id) == (
        keep.pk,
        "TKY-0001",
        merge.pk,
    )
    assert (record.merged_code, record.merged_name, record.merged_by) == (
        "TKY-0002",
        "山田商店",
        users[MANAGER],
    )
    assert record.merged_snapshot == merged_snapshot
    assert record.choices == {
        "status": "dormant",
        "email": "yamada@example.jp",
        "fields.visit_day": "Mon",
    }
    assert record.moved == {
        "people": 2,
        "addresses": 1,
        "orders": 2,
        "order_lines": 3,
        "payments": 1,
        "consents": 1,
    }
    merge_row = ObjectChange.objects.get(object_type="customers.customermerge")
    assert (merge_row.action, merge_row.object_id, merge_row.customer_id) == (
        "create",
        record.pk,
        keep.pk,
    )
    assert merge_row.changes["merged_code"] == {"old": None, "new": "TKY-0002"}
    deleted = ObjectChange.objects.get(
        object_type="customers.customer", object_id=merge.pk, action="delete"
    )
    assert deleted.customer_id == merge.pk
    assert deleted.changes["code"] == {"old": "TKY-0002", "new": "TKY-0001"}
    assert deleted.changes["name"] == {"old": "山田商店", "new": None}
    updated = ObjectChange.objects.filter(
        object_type="customers.customer", object_id=keep.pk, action="update"
    ).first()
    assert updated.changes["status"] == {"old": "active", "new": "dormant"}
    assert updated.changes["tags"] == {"old": ["VIP"], "new": ["Fair", "VIP"]}
    assert merged_customer_ids(keep.pk) == [merge.pk]


def test_a_stale_version_is_refused_and_nothing_changes(users, pair):
    keep, merge = pair
    stale = versions(keep, merge)
    services.customer_update(
        actor=users[ADMIN], customer=merge, data={"notes": "called"}, expected_version=merge.version
    )
    before = everything()

    with pytest.raises(EditConflict):
        services.customers_merge(
            actor=users[ADMIN], keep=keep, merge=merge, choices={}, expected_versions=stale
        )

    assert everything() == before


def test_a_card_cannot_be_merged_into_itself(users, pair):
    keep, _ = pair
    before = everything()

    with pytest.raises(ValidationError):
        services.customers_merge(
            actor=users[ADMIN], keep=keep, merge=keep, choices={}, expected_versions=versions(keep)
        )

    assert everything() == before


def test_a_choice_for_a_field_that_does_not_differ_is_refused(users, pair):
    keep, merge = pair
    before = everything()

    with pytest.raises(ValidationError):
        services.customers_merge(
            actor=users[ADMIN],
            keep=keep,
            merge=merge,
            choices={"name": "merge"},
            expected_versions=versions(keep, merge),
        )

    assert everything() == before


@pytest.mark.parametrize("role", [AM, Role.SERVICE_AGENT, Role.AUDITOR, Role.ANALYST])
def test_roles_that_may_not_delete_cards_may_not_merge(users, pair, role):
    keep, merge = pair
    before = everything()

    with pytest.raises(PermissionDenied):
        services.customers_merge(
            actor=users[role],
            keep=keep,
            merge=merge,
            choices={},
            expected_versions=versions(keep, merge),
        )

    assert everything() == before


def test_a_manager_may_not_merge_a_card_of_another_area(users, customer, other_customer):
    before = everything()

    for keep, merge in ((customer, other_customer), (other_customer, customer)):
        with pytest.raises(PermissionDenied):
            services.customers_merge(
                actor=users[MANAGER],
                keep=keep,
                merge=merge,
                choices={},
                expected_versions=versions(keep, merge),
            )

    assert everything() == before


def test_history_follows_a_card_through_successive_merges(users, areas):
    admin = users[ADMIN]
    first, second, third = (
        CustomerFactory(code=f"M-{n}", name="丸井", area=areas["TKY"]) for n in (1, 2, 3)
    )
    person = services.person_create(
        actor=admin, customer=first, data={"relation": "contact", "name": "最初の人"}
    )
    services.customers_merge(
        actor=admin, keep=second, merge=first, choices={}, expected_versions=versions(first, second)
    )
    second.refresh_from_db()

    services.customers_merge(
        actor=admin, keep=third, merge=second, choices={}, expected_versions=versions(second, third)
    )

    assert sorted(card_history_customer_ids(third)) == sorted([first.pk, second.pk, third.pk])
    assert (
        card_history(customer_id=third.pk)
        .filter(object_type="customers.person", object_id=person.pk)
        .exists()
    )
    assert Person.objects.get(pk=person.pk).customer_id == third.pk
    # Asking for exactly one card's rows still gives only that card's.
    assert set(card_history(customer_ids=[third.pk]).values_list("customer_id", flat=True)) == {
        third.pk
    }

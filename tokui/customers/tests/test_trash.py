"""The trash (issue 3): a deleted card is hidden everywhere, restored whole by an
administrator, and purged for good after the retention, its change log kept.

``customer`` (TKY-0001) is the Tokyo account manager's and in every card-reading role's
reach; it gets a person, an address, a consent, an order, a payment, figures and a
change request before it goes to the trash.
"""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from tokui.approvals.models import ChangeRequest
from tokui.audit.models import AccessEvent, ObjectChange
from tokui.audit.services import record_access
from tokui.core.testing.factories import (
    AddressFactory,
    ChangeRequestFactory,
    CustomerFactory,
    PersonFactory,
)
from tokui.customers import selectors, services
from tokui.customers.models import Address, Consent, Customer, Person
from tokui.customers.tasks import purge_trash
from tokui.metrics.models import CustomerMetrics
from tokui.metrics.services import metrics_refresh
from tokui.sales.exports import ExportError, export_table
from tokui.sales.models import Order, OrderLine, Payment
from tokui.sales.selectors import export_base_queryset
from tokui.sales.tests import builders
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

# Every role that reads cards; the analyst reads none, trashed or not.
CARD_READERS = (
    Role.ADMINISTRATOR,
    Role.MANAGER,
    Role.ACCOUNT_MANAGER,
    Role.SERVICE_AGENT,
    Role.AUDITOR,
)
ROWS = (Person, Address, Consent, Order, OrderLine, Payment, CustomerMetrics, ChangeRequest)


def fill(users, card, number: str):
    """A person, an address, a consent, an order with a line, a payment, figures and a
    pending change request on ``card``."""
    PersonFactory(customer=card, name=f"担当 {number}")
    AddressFactory(customer=card)
    Consent.objects.create(
        customer=card, channel="email", granted=True, recorded_on=datetime.date(2026, 1, 5)
    )
    builders.order(users, card, number=f"SO-{number}")
    builders.payment(users, card, reference=f"PAY-{number}")
    metrics_refresh(customer_ids=[card.pk])
    ChangeRequestFactory(customer=card)


@pytest.fixture
def full(users, customer):
    fill(users, customer, "1")
    return customer


@pytest.fixture
def admin(users):
    return users[Role.ADMINISTRATOR]


def counts(card_id: int) -> dict:
    return {
        model.__name__: model._base_manager.filter(customer_id=card_id).count() for model in ROWS
    }


def trash(admin, card, days_ago: int = 0):
    services.customer_delete(actor=admin, customer=card)
    if days_ago:
        when = timezone.now() - datetime.timedelta(days=days_ago)
        Customer.objects.filter(pk=card.pk).update(deleted_at=when)
    card.refresh_from_db()
    return card


# --- moving to the trash --------------------------------------------------------------


def test_delete_moves_a_card_with_orders_to_the_trash_keeping_everything(admin, full):
    before = counts(full.pk)

    services.customer_delete(actor=admin, customer=full)

    full.refresh_from_db()
    assert full.deleted_at is not None
    assert full.deleted_by == admin
    assert counts(full.pk) == before
    assert before["Order"] == 1 and before["Payment"] == 1
    row = ObjectChange.objects.filter(customer_id=full.pk).latest("id")
    assert (row.action, row.actor, row.changes["code"]) == (
        "delete",
        admin,
        {"old": "TKY-0001", "new": None},
    )


def test_an_account_manager_may_not_move_a_card_to_the_trash(users, customer):
    with pytest.raises(PermissionDenied):
        services.customer_delete(actor=users[Role.ACCOUNT_MANAGER], customer=customer)

    customer.refresh_from_db()
    assert customer.deleted_at is None


@pytest.mark.parametrize("role", CARD_READERS)
def test_a_trashed_card_and_all_its_rows_are_hidden_from_every_role(users, admin, full, role):
    user = users[role]
    before = {model: model.objects.restrict(user).count() for model in ROWS}
    # Figures and change requests are read by some roles only; cards, people and
    # orders by all of these.
    assert before[Person] == 1 and before[Order] == 1

    trash(admin, full)

    assert not Customer.objects.restrict(user).filter(pk=full.pk).exists()
    assert selectors.customer_get(user=user, code="TKY-0001") is None
    assert {model: model.objects.restrict(user).count() for model in ROWS} == dict.fromkeys(ROWS, 0)
    for action in ("change", "delete"):
        assert not Customer.objects.restrict(user, action).filter(pk=full.pk).exists()


def test_other_cards_stay_visible_when_one_is_trashed(users, admin, full, other_customer):
    trash(admin, full)

    assert list(Customer.objects.restrict(admin).values_list("code", flat=True)) == ["OSK-0001"]


@pytest.mark.parametrize("role", CARD_READERS)
def test_a_trashed_card_is_left_out_of_exports(users, admin, full, other_customer, role):
    trash(admin, full)

    exported = 0
    for kind in ("customers", "people", "orders", "payments"):
        try:
            table = export_table(kind, user=users[role], params={})
        except ExportError:  # a role the field rules keep from exporting people
            continue
        assert full.pk not in table.customer_ids(), kind
        exported += 1
    assert exported >= 3


def test_the_system_export_leaves_trashed_cards_out(admin, full, other_customer):
    trash(admin, full)

    for kind in ("customers", "people", "orders", "lines", "payments"):
        rows = export_base_queryset(kind, user=None, system=True)
        path = "pk" if kind == "customers" else "customer_id"
        assert full.pk not in set(rows.values_list(path, flat=True)), kind


def test_a_trashed_card_is_not_offered_as_a_duplicate(admin, areas):
    first = CustomerFactory(code="DUP-1", name="鈴木商店", area=areas["TKY"])
    CustomerFactory(code="DUP-2", name="鈴木商店", area=areas["TKY"])
    assert len(selectors.duplicate_pairs(user=admin)) == 1

    trash(admin, first)

    assert selectors.duplicate_pairs(user=admin) == []


def test_handover_leaves_trashed_cards_with_their_owner(users, admin, customer, areas):
    am = users[Role.ACCOUNT_MANAGER]
    kept = CustomerFactory(code="TKY-0009", owner=am, area=areas["TKY"])
    receiver = users[Role.MANAGER]
    trash(admin, customer)

    moved = services.customers_reassign(actor=admin, from_user=am, to_user=receiver)

    assert moved == 1
    kept.refresh_from_db()
    customer.refresh_from_db()
    assert (kept.owner, customer.owner) == (receiver, am)


def test_analyst_counts_leave_trashed_cards_out(admin, customer, other_customer):
    trash(admin, customer)

    assert sum(row["total"] for row in selectors.customer_counts_by_status()) == 1


# --- the code stays taken ---------------------------------------------------------------


def test_a_new_card_cannot_take_a_trashed_cards_code_and_is_told_why(users, admin, customer):
    trash(admin, customer)
    cards_before = Customer._base_manager.count()

    with pytest.raises(ValidationError) as error:
        services.customer_create(
            actor=admin, data={"code": "TKY-0001", "kind": "company", "name": "新しい店"}
        )

    assert error.value.message_dict["code"] == [
        "This code belongs to a card in the trash. An administrator can restore that card;"
        " the code is free again once the card is purged."
    ]
    assert Customer._base_manager.count() == cards_before


def test_a_live_cards_code_gives_the_usual_message(admin, customer):
    with pytest.raises(ValidationError) as error:
        services.customer_create(
            actor=admin, data={"code": "TKY-0001", "kind": "company", "name": "新しい店"}
        )

    assert "trash" not in " ".join(error.value.message_dict["code"])


# --- restore ----------------------------------------------------------------------------


def test_restore_brings_the_card_back_with_people_orders_and_history(users, admin, full):
    before = counts(full.pk)
    history_before = list(
        ObjectChange.objects.filter(customer_id=full.pk).values_list("id", flat=True)
    )
    trash(admin, full)

    restored = services.customer_restore(actor=admin, customer=full)

    assert (restored.deleted_at, restored.deleted_by) == (None, None)
    am = users[Role.ACCOUNT_MANAGER]
    assert selectors.customer_get(user=am, code="TKY-0001") == full
    assert counts(full.pk) == before
    assert Person.objects.restrict(am).filter(customer=full).count() == 1
    assert Order.objects.restrict(am).filter(customer=full).count() == 1
    history = list(
        ObjectChange.objects.filter(customer_id=full.pk).order_by("id").values_list("action")
    )
    assert history[-2:] == [("delete",), ("restore",)]
    # Nothing of the history before the trash is lost.
    assert set(history_before) <= set(
        ObjectChange.objects.filter(customer_id=full.pk).values_list("id", flat=True)
    )
    restore_row = ObjectChange.objects.filter(customer_id=full.pk).latest("id")
    assert restore_row.actor == admin
    assert restore_row.changes["deleted_by"] == {"old": "admin", "new": None}


def test_restore_keeps_the_card_as_it_was(admin, customer):
    snapshot = services.customer_snapshot(customer)
    trash(admin, customer)

    services.customer_restore(actor=admin, customer=customer)

    customer.refresh_from_db()
    assert services.customer_snapshot(customer) == snapshot


@pytest.mark.parametrize(
    "role", [Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR]
)
def test_only_administrators_restore(users, admin, customer, role):
    trash(admin, customer)
    rows_before = ObjectChange.objects.count()

    with pytest.raises(PermissionDenied):
        services.customer_restore(actor=users[role], customer=customer)

    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert ObjectChange.objects.count() == rows_before


def test_restoring_a_card_that_is_not_in_the_trash_is_refused(admin, customer):
    with pytest.raises(ValidationError, match="not in the trash"):
        services.customer_restore(actor=admin, customer=customer)


# --- purge ------------------------------------------------------------------------------


def test_purge_deletes_only_cards_past_the_retention_with_their_rows(
    settings, users, admin, full, other_customer
):
    settings.TOKUI_TRASH_RETENTION_DAYS = 30
    fill(users, other_customer, "2")
    record_access(actor=admin, action="view", customer_ids=[full.pk])
    trash(admin, full, days_ago=31)
    trash(admin, other_customer, days_ago=29)
    recent_before = counts(other_customer.pk)
    changes_before = set(ObjectChange.objects.values_list("id", flat=True))
    accesses_before = AccessEvent.objects.count()

    purged = services.customers_purge()

    assert purged == ["TKY-0001"]
    assert not Customer._base_manager.filter(pk=full.pk).exists()
    assert counts(full.pk) == dict.fromkeys(counts(full.pk), 0)
    assert counts(other_customer.pk) == recent_before
    assert Customer._base_manager.filter(pk=other_customer.pk, deleted_at__isnull=False).exists()
    # The change log is append-only: every earlier row stays, plus one per purged card.
    after = set(ObjectChange.objects.values_list("id", flat=True))
    assert changes_before < after
    (purge_row,) = ObjectChange.objects.filter(id__in=after - changes_before)
    assert (purge_row.action, purge_row.customer_id, purge_row.actor_name) == (
        "purge",
        full.pk,
        "system",
    )
    assert purge_row.changes["code"] == {"old": "TKY-0001", "new": None}
    assert "orders: 1" in purge_row.changes["removed"]["new"]
    assert AccessEvent.objects.count() == accesses_before


def test_purge_follows_the_retention_setting(settings, admin, customer):
    trash(admin, customer, days_ago=3)
    settings.TOKUI_TRASH_RETENTION_DAYS = 5
    assert services.customers_purge() == []

    settings.TOKUI_TRASH_RETENTION_DAYS = 2
    assert services.customers_purge() == ["TKY-0001"]


def test_purge_never_touches_live_cards(admin, customer, other_customer):
    assert services.customers_purge(older_than=timezone.now()) == []
    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    "role", [Role.MANAGER, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR]
)
def test_only_administrators_purge(users, admin, customer, role):
    trash(admin, customer, days_ago=90)

    with pytest.raises(PermissionDenied):
        services.customers_purge(actor=users[role])

    assert Customer._base_manager.filter(pk=customer.pk).exists()


def test_an_administrators_purge_is_recorded_under_their_name(admin, customer):
    trash(admin, customer, days_ago=90)

    assert services.customers_purge(actor=admin) == ["TKY-0001"]

    row = ObjectChange.objects.filter(customer_id=customer.pk).latest("id")
    assert (row.action, row.actor) == ("purge", admin)


def test_the_code_is_free_again_after_the_purge(admin, customer):
    trash(admin, customer, days_ago=90)
    services.customers_purge()

    again = services.customer_create(
        actor=admin, data={"code": "TKY-0001", "kind": "company", "name": "新しい店"}
    )

    assert again.pk != customer.pk


def test_the_daily_task_purges(admin, customer):
    trash(admin, customer, days_ago=90)

    assert purge_trash.call() == 1
    assert not Customer._base_manager.filter(pk=customer.pk).exists()


# --- the command ------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("trash", *args, stdout=out)
    return out.getvalue()


def test_command_lists_the_trash_and_purges_what_is_due(admin, customer, other_customer):
    trash(admin, customer, days_ago=90)
    trash(admin, other_customer, days_ago=1)

    listing = run()
    assert "TKY-0001\t山田商店\tdeleted " in listing
    assert "OSK-0001" in listing
    assert "by admin" in listing
    assert listing.rstrip().endswith("2 card(s) in the trash")

    purged = run("--purge")
    assert "Purged 1 card(s) in the trash for more than 30 days" in purged
    assert "  TKY-0001" in purged
    assert "OSK-0001" not in purged
    assert run().rstrip().endswith("1 card(s) in the trash")

"""History covers bulk writes: a queryset update of a card field is refused outside a service."""

import pytest

from tokui.audit.models import ObjectChange
from tokui.core.bulk_writes import UnrecordedBulkWrite, bulk_write_allowed
from tokui.customers.models import Customer
from tokui.customers.services import CUSTOMER_FIELDS

pytestmark = pytest.mark.django_db


def stored(customer) -> dict:
    return Customer.objects.filter(pk=customer.pk).values().get()


def test_a_bulk_update_of_the_name_outside_a_service_is_refused(customer):
    before = stored(customer)
    changes = ObjectChange.objects.count()

    with pytest.raises(UnrecordedBulkWrite):
        Customer.objects.filter(pk=customer.pk).update(name="x")

    assert stored(customer) == before
    assert ObjectChange.objects.count() == changes


@pytest.mark.parametrize(
    "field", [*CUSTOMER_FIELDS, "owner", "owner_id", "area", "area_id", "field_values"]
)
def test_every_card_field_is_guarded(customer, field):
    before = stored(customer)

    with pytest.raises(UnrecordedBulkWrite):
        Customer.objects.filter(pk=customer.pk).update(**{field: None})

    assert stored(customer) == before


def test_bulk_update_is_refused_too(customer):
    before = stored(customer)
    customer.notes = "changed without history"

    with pytest.raises(UnrecordedBulkWrite):
        Customer.objects.bulk_update([customer], ["notes"])

    assert stored(customer) == before


def test_restricted_querysets_are_guarded_as_well(customer, users):
    from tokui.users.choices import Role

    with pytest.raises(UnrecordedBulkWrite):
        Customer.objects.restrict(users[Role.ADMINISTRATOR], "change").update(status="active")


def test_derived_search_columns_stay_updatable(customer):
    assert Customer.objects.filter(pk=customer.pk).update(sort_key="zzz", phone_digits="123") == 1

    assert stored(customer)["sort_key"] == "zzz"
    assert stored(customer)["phone_digits"] == "123"


def test_a_service_may_bulk_update_inside_the_context_manager(customer):
    with bulk_write_allowed():
        Customer.objects.filter(pk=customer.pk).update(name="Bulk Ltd")

    assert stored(customer)["name"] == "Bulk Ltd"
    # The permission ends with the block.
    with pytest.raises(UnrecordedBulkWrite):
        Customer.objects.filter(pk=customer.pk).update(name="After")

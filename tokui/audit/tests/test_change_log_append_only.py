"""The audit trail is append-only: no save, delete or bulk write changes a row.

The one sanctioned deletion is the retention purge of access records.
"""

import datetime

import pytest
from django.utils import timezone

from tokui.audit.models import AccessEvent, AccessEventCustomer, AppendOnlyError, ObjectChange
from tokui.audit.services import purge_access_records, record_access
from tokui.customers import services
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(users, customer) -> ObjectChange:
    services.customer_update(
        actor=users[Role.ACCOUNT_MANAGER],
        customer=customer,
        data={"name": "Renamed Ltd"},
        expected_version=customer.version,
    )
    return ObjectChange.objects.get(object_type="customers.customer", object_version=2)


def test_a_change_cannot_be_edited_or_deleted_one_by_one(change):
    before = list(ObjectChange.objects.values())

    change.actor_name = "someone else"
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        change.delete()

    assert list(ObjectChange.objects.values()) == before


def test_changes_cannot_be_edited_or_deleted_in_bulk(change):
    before = list(ObjectChange.objects.values())

    with pytest.raises(AppendOnlyError):
        ObjectChange.objects.filter(pk=change.pk).update(actor_name="someone else")
    with pytest.raises(AppendOnlyError):
        ObjectChange.objects.all().update(changes={})
    with pytest.raises(AppendOnlyError):
        ObjectChange.objects.filter(pk=change.pk).delete()
    with pytest.raises(AppendOnlyError):
        ObjectChange.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ObjectChange.objects.bulk_update([change], ["actor_name"])

    assert list(ObjectChange.objects.values()) == before


def test_access_records_cannot_be_edited_or_deleted_in_bulk(users, customer):
    record_access(actor=users[Role.AUDITOR], action="export", customer_ids=[customer.pk])
    before = list(AccessEvent.objects.values()), list(AccessEventCustomer.objects.values())

    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.update(purpose="changed")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessEventCustomer.objects.all().delete()

    assert (
        list(AccessEvent.objects.values()),
        list(AccessEventCustomer.objects.values()),
    ) == before


def test_the_retention_purge_still_deletes_old_access_records(users, customer, settings):
    settings.TOKUI_ACCESS_RETENTION_DAYS = 10
    old = record_access(actor=users[Role.AUDITOR], action="view", customer_ids=[customer.pk])
    AccessEvent._base_manager.filter(pk=old.pk).update(
        time=timezone.now() - datetime.timedelta(days=11)
    )
    kept = record_access(actor=users[Role.AUDITOR], action="view", customer_ids=[customer.pk])

    assert purge_access_records() == 1

    assert list(AccessEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_purge_leaves_the_change_log_alone(change, settings):
    settings.TOKUI_ACCESS_RETENTION_DAYS = 10
    ObjectChange._base_manager.filter(pk=change.pk).update(
        time=timezone.now() - datetime.timedelta(days=1000)
    )
    count = ObjectChange.objects.count()

    purge_access_records()

    assert ObjectChange.objects.count() == count

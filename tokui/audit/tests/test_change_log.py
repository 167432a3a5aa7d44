"""The global change log page: who reads it, its filters, paging and field-level rows."""

import datetime

import pytest
from django.utils import timezone

from tokui.audit.models import AccessEvent, ObjectChange
from tokui.audit.views import CHANGE_LOG_PAGE_SIZE
from tokui.customers import services
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

LOG = "/audit/changes/"


def rename(actor, customer, name: str):
    return services.customer_update(
        actor=actor, customer=customer, data={"name": name}, expected_version=customer.version
    )


def change_at(change: ObjectChange, when: datetime.datetime) -> None:
    """Move a change back in time (the log stamps the current time and refuses edits)."""
    ObjectChange._base_manager.filter(pk=change.pk).update(time=when)


def shown_ids(response) -> list[int]:
    ids = []
    for row in response.context["rows"]:
        if row["change"].pk not in ids:
            ids.append(row["change"].pk)
    return ids


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.AUDITOR, 200),
        (Role.MANAGER, 403),
        (Role.ACCOUNT_MANAGER, 403),
        (Role.SERVICE_AGENT, 403),
        (Role.ANALYST, 403),
    ],
)
def test_only_auditors_and_administrators_read_the_change_log(
    client, users, customer, role, status
):
    rename(users[Role.ACCOUNT_MANAGER], customer, "Renamed Ltd")
    client.force_login(users[role])

    response = client.get(LOG)

    assert response.status_code == status
    assert AccessEvent.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(LOG)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_a_change_shows_each_field_old_and_new(client, users, customer):
    old_name = customer.name
    services.customer_update(
        actor=users[Role.ACCOUNT_MANAGER],
        customer=customer,
        data={"name": "Renamed Ltd", "email": "renamed@example.com"},
        expected_version=customer.version,
    )
    client.force_login(users[Role.AUDITOR])

    response = client.get(LOG)

    rows = {row["field"]: row for row in response.context["rows"]}
    assert rows["name"]["old"] == old_name
    assert rows["name"]["new"] == "Renamed Ltd"
    assert rows["name"]["code"] == customer.code
    assert rows["e-mail"]["new"] == "renamed@example.com"
    assert rows["name"]["change"].actor_name == users[Role.ACCOUNT_MANAGER].username
    content = response.content.decode()
    assert "Renamed Ltd" in content
    assert f'href="/customers/{customer.code}/history/"' in content


def test_a_change_of_a_card_in_the_trash_names_the_card(client, users, customer):
    from django.urls import reverse

    rename(users[Role.MANAGER], customer, "山田商店本店")
    services.customer_delete(actor=users[Role.ADMINISTRATOR], customer=customer)
    client.force_login(users[Role.AUDITOR])

    page = client.get(LOG).content.decode()

    assert f'<a href="{reverse("customers:trash")}">TKY-0001</a>' in page
    assert f"#{customer.pk}" not in page
    assert reverse("customers:history", args=["TKY-0001"]) not in page


def test_values_are_escaped(client, users, customer):
    services.customer_update(
        actor=users[Role.ACCOUNT_MANAGER],
        customer=customer,
        data={"notes": "<script>alert(1)</script>"},
        expected_version=customer.version,
    )
    client.force_login(users[Role.AUDITOR])

    content = client.get(LOG).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_filters_by_user_record_type_action_and_period(client, users, customer, other_customer):
    by_account_manager = rename(users[Role.ACCOUNT_MANAGER], customer, "Mine Ltd")
    mine = ObjectChange.objects.get(object_id=by_account_manager.pk, object_version=2)
    theirs_customer = rename(users[Role.ADMINISTRATOR], other_customer, "Theirs Ltd")
    theirs = ObjectChange.objects.get(object_id=theirs_customer.pk, object_version=2)
    change_at(theirs, timezone.now() - datetime.timedelta(days=30))
    client.force_login(users[Role.AUDITOR])

    by_user = client.get(LOG, {"user": users[Role.ACCOUNT_MANAGER].username})
    by_type = client.get(LOG, {"object_type": "customers.customer", "action": "update"})
    by_other_type = client.get(LOG, {"object_type": "customers.customer", "action": "delete"})
    last_week = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    recent = client.get(LOG, {"period_after": last_week})
    older = client.get(LOG, {"period_before": last_week})

    assert shown_ids(by_user) == [mine.pk]
    assert shown_ids(by_type) == [mine.pk, theirs.pk]
    assert shown_ids(by_other_type) == []
    assert shown_ids(recent) == [mine.pk]
    assert shown_ids(older) == [theirs.pk]


def test_pages_newest_first(client, users, customer):
    manager = users[Role.ACCOUNT_MANAGER]
    for number in range(CHANGE_LOG_PAGE_SIZE + 1):
        customer = rename(manager, customer, f"Name {number}")
    client.force_login(users[Role.ADMINISTRATOR])

    first = client.get(LOG, {"object_type": "customers.customer"})
    second = client.get(LOG, {"object_type": "customers.customer", "page": 2})

    newest = ObjectChange.objects.filter(object_type="customers.customer").order_by("-id")
    assert shown_ids(first) == list(newest.values_list("pk", flat=True)[:CHANGE_LOG_PAGE_SIZE])
    assert first.context["rows"][0]["new"] == f"Name {CHANGE_LOG_PAGE_SIZE}"
    assert shown_ids(second) == [newest[CHANGE_LOG_PAGE_SIZE].pk]
    assert "object_type=customers.customer&amp;page=2" in first.content.decode()


def test_the_menu_links_the_change_log_for_its_readers_only(client, users):
    client.force_login(users[Role.AUDITOR])
    assert 'href="/audit/changes/"' in client.get(LOG).content.decode()

    client.force_login(users[Role.MANAGER])
    assert 'href="/audit/changes/"' not in client.get("/customers/").content.decode()


def test_the_log_has_no_way_to_change_or_delete_a_change(client, users, customer):
    rename(users[Role.ACCOUNT_MANAGER], customer, "Renamed Ltd")
    before = list(ObjectChange.objects.values())
    client.force_login(users[Role.ADMINISTRATOR])

    for method in (client.post, client.put, client.patch, client.delete):
        assert method(LOG).status_code == 405

    assert list(ObjectChange.objects.values()) == before

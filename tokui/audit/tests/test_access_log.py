"""The access-log page: who may read it, its filters, its paging, and the card's link."""

import datetime

import pytest
from django.utils import timezone

from tokui.audit.models import AccessAlert, AccessEvent
from tokui.audit.services import record_access
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

LOG = "/audit/access/"


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def record_at(when, **kwargs) -> AccessEvent:
    """An access record written at ``when`` (the service stamps the current time)."""
    event = record_access(**kwargs)
    AccessEvent._base_manager.filter(pk=event.pk).update(time=when)
    return event


def shown_ids(response) -> list[int]:
    return [row["event"].pk for row in response.context["rows"]]


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
def test_only_auditors_and_administrators_read_the_access_log(client, users, role, status):
    client.force_login(users[role])

    response = client.get(LOG)

    assert response.status_code == status
    # Reading the log is not itself a read of customer data.
    assert AccessEvent.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(LOG)

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_log_has_no_way_to_change_or_delete_a_record(client, users):
    client.force_login(users[Role.ADMINISTRATOR])

    assert client.post(LOG, {"purpose": "x"}).status_code == 405


def test_the_log_lists_newest_first_with_address_and_purpose(client, users, customer):
    am = users[Role.ACCOUNT_MANAGER]
    older = record_at(
        at(datetime.date(2026, 11, 1)), actor=am, action="view", customer_ids=[customer.pk]
    )
    newer = record_at(
        at(datetime.date(2026, 11, 2)),
        actor=am,
        action="export",
        count=3,
        purpose="Year-end mailing",
    )
    client.force_login(users[Role.AUDITOR])

    response = client.get(LOG)

    assert shown_ids(response) == [newer.pk, older.pk]
    page = response.content.decode()
    assert "Year-end mailing" in page
    assert 'href="/customers/TKY-0001/"' in page


def test_filters_by_user_action_and_period(client, users, customer):
    am, agent = users[Role.ACCOUNT_MANAGER], users[Role.SERVICE_AGENT]
    day = datetime.date(2026, 11, 10)
    wanted = record_at(at(day), actor=am, action="view", customer_ids=[customer.pk])
    record_at(at(day), actor=agent, action="view", customer_ids=[customer.pk])
    record_at(at(day), actor=am, action="api_read", count=5)
    record_at(
        at(day - datetime.timedelta(days=2)), actor=am, action="view", customer_ids=[customer.pk]
    )
    client.force_login(users[Role.ADMINISTRATOR])

    response = client.get(
        LOG,
        {
            "user": "am",
            "action": "view",
            "period_after": "2026-11-09",
            "period_before": "2026-11-10",
        },
    )

    assert shown_ids(response) == [wanted.pk]


def test_filter_by_customer_code_shows_who_looked_at_that_card(
    client, users, customer, other_customer
):
    am = users[Role.ACCOUNT_MANAGER]
    alone = record_access(actor=am, action="view", customer_ids=[customer.pk])
    in_export = record_access(
        actor=users[Role.MANAGER], action="export", customer_ids=[customer.pk, other_customer.pk]
    )
    record_access(actor=am, action="view", customer_ids=[other_customer.pk])
    client.force_login(users[Role.AUDITOR])

    response = client.get(LOG, {"customer": "TKY-0001"})

    assert sorted(shown_ids(response)) == sorted([alone.pk, in_export.pk])
    assert response.context["customer"] == customer
    assert "Who looked at" in response.content.decode()


def test_a_card_in_the_trash_is_named_and_linked_to_the_trash(client, users, customer):
    from django.urls import reverse

    from tokui.customers.services import customer_delete

    record_access(actor=users[Role.ACCOUNT_MANAGER], action="view", customer_ids=[customer.pk])
    customer_delete(actor=users[Role.ADMINISTRATOR], customer=customer)
    client.force_login(users[Role.AUDITOR])

    log = client.get(LOG).content.decode()
    card = client.get(LOG, {"customer": "TKY-0001"}).content.decode()

    assert f'<a href="{reverse("customers:trash")}">TKY-0001</a>' in log
    assert "in the trash" in log
    assert reverse("customers:detail", args=["TKY-0001"]) not in log + card  # it would be 404
    assert "Back to the trash" in card


def test_an_unknown_customer_code_shows_nothing(client, users, customer):
    record_access(actor=users[Role.ACCOUNT_MANAGER], action="view", customer_ids=[customer.pk])
    client.force_login(users[Role.AUDITOR])

    assert shown_ids(client.get(LOG, {"customer": "NOPE"})) == []


def test_the_log_is_paginated_fifty_a_page_keeping_the_filter(client, users, customer):
    am = users[Role.ACCOUNT_MANAGER]
    for _ in range(55):
        record_access(actor=am, action="view", customer_ids=[customer.pk])
    client.force_login(users[Role.AUDITOR])

    first = client.get(LOG, {"action": "view"})
    second = client.get(LOG, {"action": "view", "page": 2})

    assert len(shown_ids(first)) == 50
    assert len(shown_ids(second)) == 5
    assert "?action=view&amp;page=2" in first.content.decode()


def test_the_card_links_to_its_access_log_for_auditors_only(client, users, customer):
    link = 'href="/audit/access/?customer=TKY-0001"'

    client.force_login(users[Role.AUDITOR])
    assert link in client.get("/customers/TKY-0001/").content.decode()
    client.force_login(users[Role.ACCOUNT_MANAGER])
    assert link not in client.get("/customers/TKY-0001/").content.decode()


def test_unusual_volume_alerts_show_to_administrators_not_auditors(client, users):
    AccessAlert.objects.create(
        user=users[Role.SERVICE_AGENT], day=datetime.date(2026, 11, 20), count=400, norm=12
    )

    client.force_login(users[Role.ADMINISTRATOR])
    admin_page = client.get(LOG).content.decode()
    client.force_login(users[Role.AUDITOR])
    auditor_page = client.get(LOG).content.decode()

    assert "agent read 400 cards" in admin_page
    assert "agent read 400 cards" not in auditor_page

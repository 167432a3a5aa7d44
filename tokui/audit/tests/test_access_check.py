"""The daily unusual-volume check, its command and task, and the retention purge."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from tokui.audit import tasks
from tokui.audit.models import AccessAlert, AccessEvent, AccessEventCustomer
from tokui.audit.services import check_access_volume, purge_access_records, record_access
from tokui.core.testing.factories import UserFactory
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 20)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def read_cards(user, day, cards, action="api_read"):
    """One access record of ``cards`` cards by ``user`` on ``day``."""
    event = record_access(actor=user, action=action, count=cards)
    AccessEvent._base_manager.filter(pk=event.pk).update(time=at(day))


def usual_days(user, cards_a_day, days=30):
    for back in range(1, days + 1):
        read_cards(user, DAY - datetime.timedelta(days=back), cards_a_day)


@pytest.fixture
def admin_with_mail(users):
    admin = users[Role.ADMINISTRATOR]
    admin.email = "admin@example.com"
    admin.save()
    return admin


def test_a_user_reading_twenty_times_their_norm_is_flagged(users, admin_with_mail):
    agent = users[Role.SERVICE_AGENT]
    usual_days(agent, 10)
    read_cards(agent, DAY, 150)
    read_cards(agent, DAY, 50, action="export")

    alerts = check_access_volume(day=DAY)

    assert [(a.user, a.day, a.count, a.norm) for a in alerts] == [(agent, DAY, 200, 10.0)]
    assert AccessAlert.objects.count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@example.com"]
    assert "agent read 200 cards (usually 10 a day)" in mail.outbox[0].body


def test_a_heavy_user_slightly_above_their_norm_is_not_flagged(users, admin_with_mail):
    am = users[Role.ACCOUNT_MANAGER]
    usual_days(am, 300)
    read_cards(am, DAY, 320)

    assert check_access_volume(day=DAY) == []
    assert AccessAlert.objects.count() == 0
    assert mail.outbox == []


def test_a_new_user_is_judged_against_the_floor(users, admin_with_mail):
    quiet, busy = UserFactory(username="quiet"), UserFactory(username="busy")
    read_cards(quiet, DAY, 50)
    read_cards(busy, DAY, 51)

    alerts = check_access_volume(day=DAY)

    assert [(a.user.username, a.norm) for a in alerts] == [("busy", 0.0)]


def test_the_norm_is_the_median_of_active_days_in_the_last_thirty(users, admin_with_mail):
    agent = users[Role.SERVICE_AGENT]
    usual_days(agent, 20, days=10)  # 10 ordinary days; the other 20 are days off
    read_cards(agent, DAY - datetime.timedelta(days=3), 5000)  # one outlier moves no median
    read_cards(agent, DAY - datetime.timedelta(days=40), 5000)  # too old to count
    read_cards(agent, DAY, 61)

    (alert,) = check_access_volume(day=DAY)

    assert (alert.count, alert.norm) == (61, 20.0)


@override_settings(TOKUI_ACCESS_ALERT_FLOOR=10, TOKUI_ACCESS_ALERT_FACTOR=2)
def test_factor_and_floor_come_from_settings(users, admin_with_mail):
    agent = users[Role.SERVICE_AGENT]
    usual_days(agent, 10)
    read_cards(agent, DAY, 21)

    assert [a.count for a in check_access_volume(day=DAY)] == [21]


def test_running_the_check_twice_flags_and_mails_once(users, admin_with_mail):
    read_cards(users[Role.SERVICE_AGENT], DAY, 500)

    check_access_volume(day=DAY)
    again = check_access_volume(day=DAY)

    assert again == []
    assert AccessAlert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_command_checks_the_given_day(users, admin_with_mail):
    read_cards(users[Role.SERVICE_AGENT], DAY, 500)
    out = io.StringIO()

    call_command("access_check", "--date", "2026-11-20", stdout=out)

    assert "2026-11-20: 1 new unusual-volume alert(s)" in out.getvalue()
    assert "agent: 500 cards (norm 0)" in out.getvalue()
    assert AccessAlert.objects.get().day == DAY


def test_the_command_defaults_to_yesterday_and_the_task_does_the_same(users, admin_with_mail):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    read_cards(users[Role.SERVICE_AGENT], yesterday, 500)

    result = tasks.check_access_volume.enqueue()
    call_command("access_check", stdout=io.StringIO())

    assert result.return_value == 1
    assert list(AccessAlert.objects.values_list("day", flat=True)) == [yesterday]


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError):
        call_command("access_check", "--date", "20/11/2026")


@override_settings(TOKUI_ACCESS_RETENTION_DAYS=400)
def test_purge_deletes_only_records_past_the_retention(users, customer, other_customer):
    am = users[Role.ACCOUNT_MANAGER]
    now = timezone.now()
    old = record_access(actor=am, action="export", customer_ids=[customer.pk, other_customer.pk])
    kept = record_access(actor=am, action="view", customer_ids=[customer.pk])
    AccessEvent._base_manager.filter(pk=old.pk).update(time=now - datetime.timedelta(days=401))
    AccessEventCustomer._base_manager.filter(event=old).update(
        time=now - datetime.timedelta(days=401)
    )
    AccessEvent._base_manager.filter(pk=kept.pk).update(time=now - datetime.timedelta(days=399))

    assert purge_access_records(now=now) == 1

    assert list(AccessEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert AccessEventCustomer.objects.count() == 0


def test_the_command_purges_with_purge(users, customer):
    event = record_access(
        actor=users[Role.ACCOUNT_MANAGER], action="view", customer_ids=[customer.pk]
    )
    AccessEvent._base_manager.filter(pk=event.pk).update(
        time=timezone.now() - datetime.timedelta(days=500)
    )
    out = io.StringIO()

    call_command("access_check", "--purge", stdout=out)

    assert "Purged 1 access record(s) older than 400 days" in out.getvalue()
    assert AccessEvent.objects.count() == 0

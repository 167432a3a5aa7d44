import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings

from tokui.audit.choices import AccessAction
from tokui.audit.forms import PurposeForm
from tokui.audit.models import AccessEvent, AccessEventCustomer, AppendOnlyError
from tokui.audit.services import purpose_required, record_access
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


def _request(**meta):
    return RequestFactory().get("/customers/TKY-0001/", **meta)


def test_a_card_view_is_one_row_with_who_what_and_where(users, customer):
    user = users[Role.ACCOUNT_MANAGER]
    request = _request(REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Firefox " + "x" * 400)

    event = record_access(
        actor=user, action=AccessAction.VIEW, customer_ids=[customer.pk], request=request
    )

    event = AccessEvent.objects.get()
    assert (event.actor, event.actor_name, event.action) == (user, "am", "view")
    assert (event.customer_id, event.count) == (customer.pk, 1)
    assert event.ip_address == "192.0.2.7"
    assert event.user_agent == ("Firefox " + "x" * 400)[:300]
    assert event.path == "/customers/TKY-0001/"
    assert AccessEventCustomer.objects.count() == 0


def test_a_set_of_cards_gets_one_row_per_card(users, customer, other_customer):
    event = record_access(
        actor=users[Role.ADMINISTRATOR],
        action=AccessAction.EXPORT,
        customer_ids=[customer.pk, other_customer.pk, customer.pk],
        filters={"status": "active"},
    )

    assert event.count == 2
    assert event.customer_id is None
    assert event.filters == {"status": "active"}
    assert sorted(AccessEventCustomer.objects.values_list("customer_id", flat=True)) == sorted(
        [customer.pk, other_customer.pk]
    )


def test_a_list_read_records_the_count_and_filter_without_ids(users):
    event = record_access(
        actor=users[Role.SERVICE_AGENT],
        action=AccessAction.API_READ,
        count=37,
        filters={"search": "ヤマダ"},
    )

    assert (event.count, event.customer_id, event.filters) == (37, None, {"search": "ヤマダ"})
    assert AccessEventCustomer.objects.count() == 0


def test_forwarded_for_is_ignored_unless_a_trusted_proxy_is_configured(users):
    request = _request(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.2")
    actor = users[Role.AUDITOR]

    with override_settings(TOKUI_PROXY_COUNT=0):
        untrusted = record_access(actor=actor, action=AccessAction.VIEW, request=request)
    with override_settings(TOKUI_PROXY_COUNT=1):
        trusted = record_access(actor=actor, action=AccessAction.VIEW, request=request)

    assert untrusted.ip_address == "10.0.0.1"
    assert trusted.ip_address == "198.51.100.2"


@override_settings(TOKUI_PURPOSE_THRESHOLD=2)
def test_a_large_export_without_a_purpose_is_refused_and_not_recorded(users):
    assert purpose_required(2) is False
    assert purpose_required(3) is True

    with pytest.raises(ValidationError) as refused:
        record_access(actor=users[Role.ADMINISTRATOR], action=AccessAction.EXPORT, count=3)

    assert "purpose" in refused.value.message_dict
    assert AccessEvent.objects.count() == 0
    event = record_access(
        actor=users[Role.ADMINISTRATOR], action=AccessAction.PRINT, count=3, purpose=" audit "
    )
    assert event.purpose == "audit"


def test_access_records_cannot_be_edited_or_deleted(users, customer):
    event = record_access(
        actor=users[Role.AUDITOR], action=AccessAction.VIEW, customer_ids=[customer.pk]
    )

    event.purpose = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.update(purpose="changed")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()
    assert AccessEvent.objects.get().purpose == ""


@override_settings(TOKUI_PURPOSE_THRESHOLD=100)
def test_the_purpose_form_asks_for_a_purpose_only_above_the_threshold():
    assert PurposeForm({"purpose": ""}, count=100).is_valid()
    large = PurposeForm({"purpose": "  "}, count=101)
    assert not large.is_valid()
    assert large.errors["purpose"] == [
        "Say what these cards are for: more than 100 need a purpose."
    ]
    assert PurposeForm({"purpose": "Catalogue mailing"}, count=5000).is_valid()


@override_settings(TOKUI_PURPOSE_THRESHOLD=1)
def test_the_purpose_include_renders_the_field_as_required():
    html = render_to_string("audit/purpose_field.html", {"purpose_form": PurposeForm(count=2)})

    assert 'name="purpose"' in html
    assert " required" in html
    assert "Required: more than 1 cards." in html

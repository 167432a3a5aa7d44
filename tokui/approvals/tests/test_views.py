"""The pages of change requests, per role: the card's edit page, the queue, a request, the inbox."""

import pytest
from django.urls import reverse

from tokui.approvals.choices import RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.approvals.services import change_request_reject
from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import ChangeRequestFactory
from tokui.customers.models import Customer
from tokui.customers.services import customer_update
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

EDIT = "/customers/TKY-0001/edit/"
CARD = "/customers/TKY-0001/"
QUEUE = "/approvals/"
MINE = "/approvals/mine/"


def edit_form(customer, **changes) -> dict:
    """The edit page's fields as the browser posts them, with ``changes`` applied."""
    data = {
        "code": customer.code,
        "kind": customer.kind,
        "name": customer.name,
        "name_reading": customer.name_reading,
        "status": customer.status,
        "phone": customer.phone,
        "email": customer.email,
        "owner": customer.owner.username if customer.owner_id else "",
        "area": customer.area.code if customer.area_id else "",
        "tags": "",
        "version": customer.version,
        "field__credit_limit": (customer.field_values or {}).get("credit_limit", ""),
    }
    data.update(changes)
    return data


def signed_in(client, user):
    client.force_login(user)
    return client


def test_edit_page_marks_controlled_fields_and_asks_for_a_reason(
    client, users, customer, controlled
):
    page = signed_in(client, users[Role.ACCOUNT_MANAGER]).get(EDIT).content.decode()

    assert "needs approval" in page
    assert 'name="change_reason"' in page


def test_managers_see_no_approval_marks(client, users, customer, controlled):
    page = signed_in(client, users[Role.MANAGER]).get(EDIT).content.decode()

    assert "needs approval" not in page
    assert 'name="change_reason"' not in page


def test_saving_a_controlled_change_sends_it_for_approval(client, users, customer, controlled):
    client = signed_in(client, users[Role.ACCOUNT_MANAGER])

    response = client.post(
        EDIT,
        edit_form(customer, field__credit_limit="800000", change_reason="New contract"),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == CARD
    page = response.content.decode()
    assert "Sent for approval" in page
    assert 'id="pending-changes"' in page
    request = ChangeRequest.objects.get()
    assert request.reason == "New contract"
    assert Customer.objects.get(pk=customer.pk).field_values == {}


def test_a_controlled_change_without_reason_stays_on_the_form(client, users, customer, controlled):
    client = signed_in(client, users[Role.ACCOUNT_MANAGER])

    response = client.post(EDIT, edit_form(customer, field__credit_limit="800000", name="Other"))

    assert response.status_code == 200
    assert "Say why the controlled fields should change." in response.content.decode()
    assert not ChangeRequest.objects.exists()
    assert Customer.objects.get(pk=customer.pk).name == "山田商店"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.MANAGER, 200),
        (Role.AUDITOR, 200),
        (Role.ACCOUNT_MANAGER, 200),
        (Role.SERVICE_AGENT, 403),
        (Role.ANALYST, 403),
    ],
)
def test_queue_per_role(client, users, customer, role, status):
    ChangeRequestFactory(customer=customer)

    response = signed_in(client, users[role]).get(QUEUE)

    assert response.status_code == status


def test_queue_lists_only_the_managers_area_and_filters(
    client, users, customer, other_customer, controlled
):
    ChangeRequestFactory(customer=customer)
    ChangeRequestFactory(customer=other_customer)

    page = signed_in(client, users[Role.MANAGER]).get(QUEUE).content.decode()
    assert "TKY-0001" in page
    assert "OSK-0001" not in page
    everyone = signed_in(client, users[Role.ADMINISTRATOR])
    osaka_only = everyone.get(QUEUE, {"area": "OSK", "status": "pending"}).content.decode()
    assert "OSK-0001" in osaka_only
    assert "TKY-0001" not in osaka_only
    by_am = everyone.get(QUEUE, {"requester": "am", "status": ""}).content.decode()
    assert "TKY-0001" in by_am
    assert "OSK-0001" not in by_am


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMINISTRATOR, 200),
        (Role.MANAGER, 200),
        (Role.AUDITOR, 200),
        (Role.ACCOUNT_MANAGER, 200),
        (Role.SERVICE_AGENT, 403),
        (Role.ANALYST, 403),
    ],
)
def test_request_page_per_role(client, users, customer, controlled, role, status):
    request = ChangeRequestFactory(customer=customer)

    response = signed_in(client, users[role]).get(reverse("approvals:detail", args=[request.pk]))

    assert response.status_code == status


def test_request_page_outside_the_scope_is_404(client, users, other_customer, controlled):
    request = ChangeRequestFactory(customer=other_customer)

    response = signed_in(client, users[Role.MANAGER]).get(
        reverse("approvals:detail", args=[request.pk])
    )

    assert response.status_code == 404


def test_manager_approves_on_the_request_page(client, users, customer, controlled):
    request = ChangeRequestFactory(
        customer=customer, proposed={"field_values": {"credit_limit": 7}}
    )
    url = reverse("approvals:detail", args=[request.pk])
    client = signed_in(client, users[Role.MANAGER])
    assert "Approve" in client.get(url).content.decode()

    response = client.post(url, {"decision": "approve", "comment": "Fine"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert Customer.objects.get(pk=customer.pk).field_values == {"credit_limit": 7}


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.AUDITOR])
def test_who_may_not_decide_gets_no_buttons_and_403(client, users, customer, controlled, role):
    request = ChangeRequestFactory(customer=customer, requested_by=users[Role.MANAGER])
    url = reverse("approvals:detail", args=[request.pk])
    client = signed_in(client, users[role])

    assert 'value="approve"' not in client.get(url).content.decode()
    assert client.post(url, {"decision": "approve"}).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_the_requester_cannot_decide_their_own(client, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer, requested_by=users[Role.MANAGER])
    url = reverse("approvals:detail", args=[request.pk])
    client = signed_in(client, users[Role.MANAGER])

    assert client.post(url, {"decision": "approve"}).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_reject_without_comment_is_refused_on_the_page(client, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer)
    url = reverse("approvals:detail", args=[request.pk])

    response = signed_in(client, users[Role.MANAGER]).post(url, {"decision": "reject"})

    assert response.status_code == 422
    assert "Tell the requester why" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_stale_approval_shows_the_conflict_and_the_rebase_step(
    client, users, customer, controlled, free_field
):
    request = ChangeRequestFactory(
        customer=customer, proposed={"field_values": {"credit_limit": 7}}
    )
    moved = customer_update(
        actor=users[Role.ADMINISTRATOR],
        customer=customer,
        data={"field_values": {"hobby": "Tennis"}},
        expected_version=customer.version,
    )
    url = reverse("approvals:detail", args=[request.pk])
    client = signed_in(client, users[Role.MANAGER])
    changes = ObjectChange.objects.count()

    response = client.post(url, {"decision": "approve"})

    assert response.status_code == 409
    page = response.content.decode()
    assert 'id="approval-conflict"' in page
    assert "admin" in page  # who changed the card meanwhile
    assert "Hobby: — → Tennis" in page  # and what they changed
    assert f'name="seen_version" value="{moved.version}"' in page
    assert ObjectChange.objects.count() == changes
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    rebased = client.post(url, {"decision": "approve", "seen_version": moved.version})

    assert rebased.status_code == 302
    assert Customer.objects.get(pk=customer.pk).field_values == {
        "hobby": "Tennis",
        "credit_limit": 7,
    }


def test_inbox_counts_unread_decisions_until_opened(client, users, customer, controlled):
    am = users[Role.ACCOUNT_MANAGER]
    request = ChangeRequestFactory(customer=customer, requested_by=am)
    change_request_reject(actor=users[Role.MANAGER], request=request, comment="Not now")
    client = signed_in(client, am)

    card = client.get(CARD).content.decode()
    assert 'id="nav-my-requests"' in card
    assert 'text-bg-primary" title="Decisions you have not read">1<' in card

    inbox = client.get(MINE).content.decode()
    assert "Not now" in inbox
    assert "new" in inbox

    again = client.get(CARD).content.decode()
    assert "Decisions you have not read" not in again


def test_the_menu_counts_the_requests_waiting_for_this_approver(
    client, users, customer, other_customer, controlled, osaka_manager
):
    waiting = 'title="Requests waiting for your decision">'
    ChangeRequestFactory(customer=customer, requested_by=users[Role.ACCOUNT_MANAGER])
    ChangeRequestFactory(customer=customer, requested_by=users[Role.ACCOUNT_MANAGER])
    decided = ChangeRequestFactory(customer=customer, requested_by=users[Role.ACCOUNT_MANAGER])
    change_request_reject(actor=users[Role.MANAGER], request=decided, comment="No")
    ChangeRequestFactory(customer=other_customer)  # Osaka's

    tokyo = signed_in(client, users[Role.MANAGER]).get(CARD).content.decode()
    assert 'id="nav-change-requests"' in tokyo
    assert f"{waiting}2<" in tokyo  # the decided one and Osaka's do not count
    admin = signed_in(client, users[Role.ADMINISTRATOR]).get(CARD).content.decode()
    assert f"{waiting}3<" in admin
    osaka = signed_in(client, osaka_manager).get(reverse("customers:list")).content.decode()
    assert f"{waiting}1<" in osaka
    # The requester follows their own requests; the auditor reads the queue but decides none.
    for role in (Role.ACCOUNT_MANAGER, Role.AUDITOR):
        page = signed_in(client, users[role]).get(reverse("customers:list")).content.decode()
        assert waiting not in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ACCOUNT_MANAGER, 200),
        (Role.MANAGER, 200),
        (Role.SERVICE_AGENT, 403),
        (Role.AUDITOR, 403),
        (Role.ANALYST, 403),
    ],
)
def test_inbox_per_role(client, users, role, status):
    assert signed_in(client, users[role]).get(MINE).status_code == status


def test_requester_withdraws_on_the_page(client, users, customer, controlled):
    request = ChangeRequestFactory(customer=customer)
    url = reverse("approvals:withdraw", args=[request.pk])

    assert signed_in(client, users[Role.MANAGER]).post(url).status_code == 403
    response = signed_in(client, users[Role.ACCOUNT_MANAGER]).post(url)

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN


def test_card_shows_pending_changes_to_who_sees_the_card(client, users, customer, controlled):
    ChangeRequestFactory(customer=customer, reason="Yearly review")

    for role in (Role.ACCOUNT_MANAGER, Role.MANAGER, Role.AUDITOR):
        page = signed_in(client, users[role]).get(CARD).content.decode()
        assert "Yearly review" in page, role
    agent_page = signed_in(client, users[Role.SERVICE_AGENT]).get(CARD).content.decode()
    assert "Yearly review" not in agent_page


def test_request_page_is_a_recorded_read_of_the_card(client, users, customer, controlled):
    from tokui.audit.models import AccessEvent

    request = ChangeRequestFactory(customer=customer)

    signed_in(client, users[Role.AUDITOR]).get(reverse("approvals:detail", args=[request.pk]))

    event = AccessEvent.objects.get()
    assert (event.actor, event.customer_id) == (users[Role.AUDITOR], customer.pk)


def test_a_field_the_reader_may_not_see_is_left_out(client, users, customer):
    from tokui.core.testing.factories import FieldDefinitionFactory
    from tokui.fields.choices import FieldType

    FieldDefinitionFactory(
        key="secret_terms",
        label="Secret terms",
        field_type=FieldType.TEXT,
        controlled=True,
        view_roles=[Role.ADMINISTRATOR, Role.MANAGER, Role.ACCOUNT_MANAGER],
    )
    request = ChangeRequestFactory(
        customer=customer, proposed={"field_values": {"secret_terms": "Net 90 days"}}
    )
    url = reverse("approvals:detail", args=[request.pk])

    manager_page = signed_in(client, users[Role.MANAGER]).get(url).content.decode()
    auditor_page = signed_in(client, users[Role.AUDITOR]).get(url).content.decode()

    assert "Net 90 days" in manager_page
    assert "Net 90 days" not in auditor_page
    assert "Secret terms" not in auditor_page

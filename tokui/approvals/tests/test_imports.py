"""Card imports: rows that change controlled fields become change requests, reported as such."""

import pytest
from django.urls import reverse

from tokui.approvals.choices import RequestSource, RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.customers.models import Customer
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import runner, services
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


def run(tmp_path, user, text: str, name: str = "cards.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    job = services.job_create(
        actor=user, kind=ImportKind.CUSTOMERS, path=path, file_name=name, skip_invalid=True
    )
    return runner.run_job(job, user)


def test_rows_changing_controlled_fields_become_requests(
    tmp_path, client, users, customer, controlled, free_field
):
    am = users[Role.ACCOUNT_MANAGER]
    text = (
        "code,name,credit_limit,hobby\n"
        "TKY-0001,山田商店,900000,Golf\n"  # a controlled change and a free one
        "NEW-0001,新しい店,,\n"  # a new card, nothing controlled
    )

    job = run(tmp_path, am, text, name="march.csv")

    assert job.status == ImportStatus.DONE
    assert (job.created_rows, job.updated_rows, job.rejected_rows) == (1, 1, 0)
    card = Customer.objects.get(pk=customer.pk)
    assert card.field_values == {"hobby": "Golf"}  # the free column applied
    request = ChangeRequest.objects.get()
    assert request.status == RequestStatus.PENDING
    assert request.source == RequestSource.IMPORT
    assert request.source_reference == f"import {job.pk} row 2"
    assert request.reason == "Import march.csv"
    assert request.proposed == {"field_values": {"credit_limit": 900000}}
    assert request.base_version == card.version

    client.force_login(am)
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="import-sent-for-approval">1<' in page
    assert reverse("approvals:detail", args=[request.pk]) in page


def test_a_managers_import_applies_controlled_fields_directly(
    tmp_path, users, customer, controlled
):
    job = run(tmp_path, users[Role.MANAGER], "code,credit_limit\nTKY-0001,900000\n")

    assert job.updated_rows == 1
    assert Customer.objects.get(pk=customer.pk).field_values == {"credit_limit": 900000}
    assert not ChangeRequest.objects.exists()


def test_a_bad_controlled_value_is_a_rejected_row(tmp_path, users, customer, controlled):
    job = run(tmp_path, users[Role.ACCOUNT_MANAGER], "code,credit_limit\nTKY-0001,lots\n")

    assert job.rejected_rows == 1
    assert list(job.rejections.values_list("row_number", "column")) == [(2, "credit_limit")]
    assert not ChangeRequest.objects.exists()


def test_the_check_pass_leaves_no_request_behind(tmp_path, users, customer, controlled):
    # A file refused as a whole (one bad row, no skipping) makes no request for its good rows.
    path = tmp_path / "c.csv"
    path.write_text("code,credit_limit,kind\nTKY-0001,5,shop\nTKY-0001,6,robot\n")
    job = services.job_create(
        actor=users[Role.ACCOUNT_MANAGER], kind=ImportKind.CUSTOMERS, path=path, file_name="c.csv"
    )

    job = runner.run_job(job, users[Role.ACCOUNT_MANAGER])

    assert job.status == ImportStatus.REJECTED
    assert not ChangeRequest.objects.exists()


def test_a_new_cards_controlled_value_is_asked_for_too(tmp_path, users, areas, controlled):
    am = users[Role.ACCOUNT_MANAGER]

    job = run(tmp_path, am, "code,name,credit_limit\nNEW-0002,新しい店,300000\n")

    assert job.created_rows == 1
    card = Customer.objects.get(code="NEW-0002")
    assert card.field_values == {}
    request = ChangeRequest.objects.get()
    assert (request.customer, request.requested_by) == (card, am)
    assert request.proposed == {"field_values": {"credit_limit": 300000}}
    assert request.source_reference == f"import {job.pk} row 2"

"""Card imports follow the field rules: a column the importer may not edit rejects its row
with a reason naming the field, while a card outside their scope stays unconfirmed."""

import pytest

from tokui.core.testing.factories import AddressFactory, FieldDefinitionFactory
from tokui.customers.models import Customer
from tokui.fields.choices import Category, FieldType
from tokui.fields.models import CategoryRule
from tokui.sales.choices import ImportKind
from tokui.sales.imports import runner, services
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def read_only_business_field(db):
    # Account managers see business fields here but may not change them.
    CategoryRule.objects.create(
        category=Category.BUSINESS, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )
    return FieldDefinitionFactory(
        key="trade_terms",
        label="Trade terms",
        field_type=FieldType.TEXT,
        category=Category.BUSINESS,
    )


def run(tmp_path, user, text: str):
    path = tmp_path / "cards.csv"
    path.write_text(text, encoding="utf-8")
    job = services.job_create(
        actor=user, kind=ImportKind.CUSTOMERS, path=path, file_name="cards.csv", skip_invalid=True
    )
    return runner.run_job(job, user)


def test_a_column_the_importer_may_not_edit_is_named(
    tmp_path, users, customer, read_only_business_field
):
    job = run(tmp_path, users[Role.ACCOUNT_MANAGER], "code,trade_terms\nTKY-0001,Net 90\n")

    rejection = job.rejections.get()
    assert rejection.row_number == 2
    assert rejection.reason == "You may not change these parts of the card: Trade terms."
    assert "Unknown customer" not in rejection.reason
    assert Customer.objects.get(pk=customer.pk).field_values == {}


def test_a_card_outside_the_scope_is_still_unknown(
    tmp_path, users, other_customer, read_only_business_field
):
    job = run(tmp_path, users[Role.ACCOUNT_MANAGER], "code,trade_terms\nOSK-0001,Net 90\n")

    rejection = job.rejections.get()
    assert rejection.reason == "Unknown customer, or not one of the customers you may change."
    assert "trade_terms" not in rejection.reason


def test_a_hidden_column_is_refused_even_with_the_stored_value(tmp_path, users, customer):
    """Counting the row as unchanged would tell the importer the hidden value."""
    FieldDefinitionFactory(
        key="credit_note",
        label="Credit note",
        field_type=FieldType.TEXT,
        category=Category.MANAGEMENT,
    )
    CategoryRule.objects.create(
        category=Category.MANAGEMENT, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    customer.field_values = {"credit_note": "slow payer"}
    customer.save()

    job = run(tmp_path, users[Role.ACCOUNT_MANAGER], "code,credit_note\nTKY-0001,slow payer\n")

    assert job.unchanged_rows == 0
    assert job.rejections.get().reason == "You may not change these parts of the card: Credit note."


def test_a_hidden_address_is_refused_even_when_it_is_the_stored_one(tmp_path, users, customer):
    AddressFactory(customer=customer, postal_code="100-0001", line1="千代田1-1", is_primary=True)
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=False, can_edit=False
    )
    rows = "code,postal_code,address\nTKY-0001,100-0001,千代田1-1\n"

    job = run(tmp_path, users[Role.ACCOUNT_MANAGER], rows)

    assert job.unchanged_rows == 0
    assert job.rejections.get().reason.startswith("You may not change these parts of the card")

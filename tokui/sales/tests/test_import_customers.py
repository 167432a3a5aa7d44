"""A list of customers or of their people sent again: rows that hold the stored values
change nothing and cost little; a row that differs in one value, names a card outside the
importer's scope or a part they may not edit still goes through the card's services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokui.audit.models import ObjectChange
from tokui.core.testing.factories import FieldDefinitionFactory
from tokui.customers.models import Address, Customer, Person
from tokui.fields.access import forget_card_access
from tokui.fields.choices import Category, FieldType
from tokui.fields.models import CategoryRule
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import runner, services
from tokui.users.choices import Role

pytestmark = pytest.mark.django_db

HEADER = "code,name,name_reading,status,owner,area,phone,postal_code,address,grade,since,staff"


def rows(count: int, *, since: str = "2024-04-01", staff: str = "12") -> str:
    return "".join(
        f"CL-{n:03d},店{n},ミセ{n},active,am,TKY,03-0000-{n:04d},100-0001,"
        f"千代田{n}-1,B,{since},{staff}\n"
        for n in range(count)
    )


@pytest.fixture
def card_fields(db):
    FieldDefinitionFactory(
        key="grade", field_type=FieldType.CHOICE, choices=["A", "B", "C"], label="Grade"
    )
    FieldDefinitionFactory(key="since", field_type=FieldType.DATE, label="Customer since")
    FieldDefinitionFactory(key="staff", field_type=FieldType.INTEGER, label="Staff")


def run(tmp_path, user, text: str, name: str = "cards.csv", *, kind=ImportKind.CUSTOMERS):
    path = tmp_path / name
    header = HEADER if kind == ImportKind.CUSTOMERS else PEOPLE_HEADER
    path.write_text(header + "\n" + text, encoding="utf-8")
    job = services.job_create(actor=user, kind=kind, path=path, file_name=name, skip_invalid=False)
    return runner.run_job(job, user)


PEOPLE_HEADER = "customer_code,relation,name,name_reading,birthday,phone,email"


def people_rows(count: int) -> str:
    return "".join(
        f"TKY-0001,contact,担当{n},タントウ{n},1980/1/{n + 1},090-1111-{n:04d},p{n}@example.com\n"
        for n in range(count)
    )


def state():
    return sorted(
        Customer.objects.values_list(
            "code", "name", "phone", "owner__username", "area__code", "field_values", "version"
        )
    ) + sorted(Address.objects.values_list("customer__code", "postal_code", "line1"))


def test_the_same_file_again_changes_nothing_in_a_few_queries_a_batch(tmp_path, users, card_fields):
    admin = users[Role.ADMINISTRATOR]
    first = run(tmp_path, admin, rows(30))
    assert (first.status, first.created_rows) == (ImportStatus.DONE, 30)
    before, changes = state(), ObjectChange.objects.count()

    with CaptureQueriesContext(connection) as queries:
        again = run(tmp_path, admin, rows(30), "again.csv")

    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 30)
    assert state() == before
    assert ObjectChange.objects.count() == changes
    # The cards, their scope and their addresses are read per batch in both passes; the
    # card's services (15 queries a row) are not called for a row that changes nothing.
    # (The dry run still opens a savepoint per row.)
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if "SAVEPOINT" not in sql]) < 30
    assert not [sql for sql in statements if sql.startswith('UPDATE "customers_')]


def test_dates_of_card_fields_may_be_written_as_excel_writes_them(tmp_path, users, card_fields):
    admin = users[Role.ADMINISTRATOR]
    first = run(tmp_path, admin, rows(3, since="2024/4/1"))
    assert first.status == ImportStatus.DONE
    assert Customer.objects.get(code="CL-000").field_values["since"] == "2024-04-01"

    again = run(tmp_path, admin, rows(3, since="2024.4.1"), "korean.csv")

    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 3)


def test_a_value_written_in_another_form_is_judged_by_the_card(tmp_path, users, card_fields):
    admin = users[Role.ADMINISTRATOR]
    run(tmp_path, admin, rows(3))
    before = state()

    # The card keeps 12 as a number: "012" is the same number, which only the card's
    # own check of the field says.
    again = run(tmp_path, admin, rows(3, staff="012"), "zeros.csv")

    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 3)
    assert state() == before


def test_a_row_that_changes_only_the_address_updates_that_card(tmp_path, users, card_fields):
    admin = users[Role.ADMINISTRATOR]
    run(tmp_path, admin, rows(3))
    moved = rows(3).replace("千代田1-1", "丸の内2-2")

    again = run(tmp_path, admin, moved, "moved.csv")

    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 1, 2)
    assert Address.objects.get(customer__code="CL-001", is_primary=True).line1 == "丸の内2-2"
    assert Address.objects.get(customer__code="CL-002", is_primary=True).line1 == "千代田2-1"


def test_a_card_outside_the_scope_is_unknown_even_when_the_row_matches_it(
    tmp_path, users, other_customer
):
    account_manager = users[Role.ACCOUNT_MANAGER]
    path = tmp_path / "osaka.csv"
    path.write_text("code,name,phone\nOSK-0001,大阪物産,06-9876-5432\n", encoding="utf-8")
    job = services.job_create(
        actor=account_manager,
        kind=ImportKind.CUSTOMERS,
        path=path,
        file_name="osaka.csv",
        skip_invalid=False,
    )

    job = runner.run_job(job, account_manager)

    assert job.status == ImportStatus.REJECTED
    assert job.unchanged_rows == 0
    rejection = job.rejections.get()
    assert rejection.reason == "Unknown customer, or not one of the customers you may change."


def test_the_same_people_again_change_nothing_in_a_few_queries_a_batch(tmp_path, users, customer):
    account_manager = users[Role.ACCOUNT_MANAGER]
    first = run(tmp_path, account_manager, people_rows(20), kind=ImportKind.PEOPLE)
    assert (first.status, first.created_rows) == (ImportStatus.DONE, 20)
    people = sorted(Person.objects.values_list("name", "birthday", "phone", "version"))
    changes = ObjectChange.objects.count()

    with CaptureQueriesContext(connection) as queries:
        again = run(tmp_path, account_manager, people_rows(20), "again.csv", kind=ImportKind.PEOPLE)

    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 20)
    assert sorted(Person.objects.values_list("name", "birthday", "phone", "version")) == people
    assert ObjectChange.objects.count() == changes
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if "SAVEPOINT" not in sql]) < 20


def test_people_the_importer_may_not_edit_are_refused_even_unchanged(tmp_path, users, customer):
    account_manager = users[Role.ACCOUNT_MANAGER]
    run(tmp_path, account_manager, people_rows(2), kind=ImportKind.PEOPLE)
    # From now on account managers see people but may not change them.
    CategoryRule.objects.create(
        category=Category.PERSONAL, role=Role.ACCOUNT_MANAGER, can_view=True, can_edit=False
    )
    forget_card_access(account_manager)

    again = run(tmp_path, account_manager, people_rows(2), "again.csv", kind=ImportKind.PEOPLE)

    assert again.status == ImportStatus.REJECTED
    assert again.rejections.count() == 2

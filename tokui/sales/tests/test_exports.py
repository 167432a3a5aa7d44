"""Exports: the import's column names, the user's scope, formula neutralisation, the CLI."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tokui.audit.models import AccessEvent
from tokui.core.testing.factories import AddressFactory, FieldDefinitionFactory, PersonFactory
from tokui.fields.choices import FieldType
from tokui.sales import exports
from tokui.sales.tests import builders
from tokui.users.choices import Role

IMPORT_COLUMNS = {
    "customers": "code, kind, name, name_reading, status, owner, area, phone, email, "
    "postal_code, address",
    "people": "customer_code, relation, name, name_reading, birthday, phone, email",
    "products": "code, name, brand, category, unit, list_price, launch_date",
    "orders": "order_no, line_no, customer_code, date, product_code, quantity, unit_price, amount",
    "payments": "reference, customer_code, date, amount, method",
}
KINDS = list(IMPORT_COLUMNS)
FORMULAS = ["=1+1", "+81 3", "-x", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def book(users, customer, other_customer):
    """One person, address, order and payment on each side of the account manager's scope."""
    FieldDefinitionFactory(key="shop_size", field_type=FieldType.DECIMAL)
    FieldDefinitionFactory(
        key="channels",
        field_type=FieldType.MULTI_CHOICE,
        choices=["store", "web", "phone, fax"],
    )
    customer.field_values = {"shop_size": "-1.5", "channels": ["web", "phone, fax", "store"]}
    customer.save()
    AddressFactory(customer=customer, postal_code="100-0001", is_primary=True)
    for card, name in ((customer, "山田太郎"), (other_customer, "大阪花子")):
        PersonFactory(customer=card, name=name, birthday=datetime.date(1970, 5, 1))
    builders.product("P-001", list_price=Decimal("2980"), launch_date=datetime.date(2025, 4, 1))
    builders.order(users, customer, number="SO-TKY")
    builders.order(users, other_customer, number="SO-OSK")
    builders.payment(users, customer, reference="PAY-TKY", amount=Decimal("300"))
    builders.payment(users, other_customer, reference="PAY-OSK")


def read_csv(data: bytes, encoding="utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def csv_export(kind, user, **params) -> list[list[str]]:
    table = exports.export_table(kind, user=user, params=params)
    return read_csv(b"".join(exports.csv_chunks(table)))


def xlsx_export(kind, user, **params) -> list[tuple]:
    table = exports.export_table(kind, user=user, params=params)
    buffer = io.BytesIO()
    exports.write_xlsx(table, buffer)
    buffer.seek(0)
    return list(openpyxl.load_workbook(buffer).active.iter_rows(values_only=True))


@pytest.mark.parametrize("kind", KINDS)
def test_headers_are_the_import_default_column_names(users, book, kind):
    admin = users[Role.ADMINISTRATOR]
    card_fields = ["channels", "shop_size"] if kind == "customers" else []
    expected = IMPORT_COLUMNS[kind].split(", ") + card_fields

    assert csv_export(kind, admin)[0] == expected
    assert list(xlsx_export(kind, admin)[0]) == expected


def test_csv_starts_with_a_bom_and_uses_crlf(users, book):
    table = exports.export_table("products", user=users[Role.ADMINISTRATOR])
    data = b"".join(exports.csv_chunks(table))
    assert data.startswith(b"\xef\xbb\xbfcode,name,")
    assert b"\r\n" in data


# Which column holds the customer's code, per kind.
CODE_COLUMN = {"customers": 0, "people": 0, "orders": 2, "payments": 1}


@pytest.mark.parametrize("kind", list(CODE_COLUMN))
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_account_managers_export_holds_only_their_customers(users, book, kind, file_format):
    reader = csv_export if file_format == "csv" else xlsx_export
    mine = reader(kind, users[Role.ACCOUNT_MANAGER])[1:]
    everything = reader(kind, users[Role.ADMINISTRATOR])[1:]

    assert {row[CODE_COLUMN[kind]] for row in mine} == {"TKY-0001"}
    assert len(mine) == 1
    assert {row[CODE_COLUMN[kind]] for row in everything} == {"TKY-0001", "OSK-0001"}


def test_products_are_shared_and_analysts_export_nothing(users, book):
    assert [row[0] for row in csv_export("products", users[Role.ACCOUNT_MANAGER])[1:]] == ["P-001"]
    for kind in KINDS:
        assert csv_export(kind, users[Role.ANALYST])[1:] == []


def test_rows_read_back_as_the_import_expects(users, book):
    admin = users[Role.ADMINISTRATOR]
    customers = {row[0]: row for row in csv_export("customers", admin)[1:]}
    assert customers["TKY-0001"] == [
        "TKY-0001",
        "shop",
        "山田商店",
        "ヤマダショウテン",
        "active",
        "am",
        "TKY",
        "03-1234-5678",
        "",
        "100-0001",
        "千代田1-1",
        "web, phone, fax, store",  # a multiple choice, read back by its choices
        "-1.5",
    ]
    assert csv_export("orders", admin, customer="TKY-0001")[1:] == [
        ["SO-TKY", "1", "TKY-0001", "2026-01-31", "P-001", "2.000", "500.00", "1000.00"]
    ]
    assert csv_export("products", admin)[1] == [
        "P-001", "ポロシャツ", "Tokui", "Shirts", "pc", "2980.00", "2025-04-01"
    ]  # fmt: skip
    people = csv_export("people", admin, customer="TKY-0001")[1:]
    assert people == [["TKY-0001", "contact", "山田太郎", "", "1970-05-01", "", ""]]


def test_formula_text_is_neutralised_and_numbers_stay_numbers(users, book):
    for index, name in enumerate(FORMULAS):
        builders.product(f"F-{index}", name=name, brand=name)
    admin = users[Role.ADMINISTRATOR]

    csv_rows = {row[0]: row for row in csv_export("products", admin)[1:]}
    xlsx_rows = {row[0]: row for row in xlsx_export("products", admin)[1:]}

    for index, name in enumerate(FORMULAS):
        assert csv_rows[f"F-{index}"][1:3] == ["'" + name, "'" + name]
        # XML reads a stored CR back as LF; the apostrophe in front is what matters.
        expected = "'" + name.replace("\r", "\n")
        assert list(xlsx_rows[f"F-{index}"][1:3]) == [expected, expected]
    # A negative number is a number, not text to neutralise, in both formats: here a
    # decimal card field of -1.5.
    assert csv_export("customers", admin, q="TKY-0001")[1][-1] == "-1.5"
    customer_row = xlsx_export("customers", admin, q="TKY-0001")[1]
    assert customer_row[-1] == -1.5 and isinstance(customer_row[-1], float)
    assert xlsx_export("payments", admin, customer="TKY-0001")[1][3] == 300
    assert xlsx_rows["P-001"][5] == 2980


def test_dates_are_date_cells_in_xlsx(users, book):
    row = xlsx_export("orders", users[Role.ADMINISTRATOR], customer="TKY-0001")[1]
    assert row[3].date() == datetime.date(2026, 1, 31)


def test_filters_narrow_the_export_and_a_bad_filter_is_refused(users, book):
    admin = users[Role.ADMINISTRATOR]
    assert [r[0] for r in csv_export("orders", admin, status="cancelled")[1:]] == []
    assert len(csv_export("orders", admin, date_from="2026-01-31")[1:]) == 2
    with pytest.raises(exports.ExportError):
        exports.export_table("orders", user=admin, params={"date_from": "31/31/2026"})
    with pytest.raises(exports.ExportError):
        exports.export_table("orders", user=admin, params={"colour": "red"})


# --- the command ------------------------------------------------------------------------


def test_command_refuses_without_saying_whose_export(book, tmp_path):
    with pytest.raises(CommandError, match="--as USERNAME"):
        call_command("export", "customers", "-o", str(tmp_path / "c.csv"))
    assert not (tmp_path / "c.csv").exists()


def test_command_exports_as_a_user_and_as_the_system(book, tmp_path):
    mine, everything = tmp_path / "mine.xlsx", tmp_path / "all.csv"
    call_command("export", "orders", "-o", str(mine), "--as", "am", stdout=io.StringIO())
    call_command("export", "orders", "-o", str(everything), "--all", stdout=io.StringIO())

    rows = list(openpyxl.load_workbook(mine).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["SO-TKY"]
    assert [row[0] for row in read_csv(everything.read_bytes())[1:]] == ["SO-OSK", "SO-TKY"]
    system = AccessEvent.objects.get(actor_name="system")
    assert (system.action, system.count, system.filters["export"]) == ("export", 2, "orders")


def test_command_writes_legacy_encodings(book, tmp_path):
    target = tmp_path / "c.csv"
    call_command(
        "export", "customers", "-o", str(target), "--as", "am", "--encoding", "cp932",
        stdout=io.StringIO(),
    )  # fmt: skip
    data = target.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert read_csv(data, "cp932")[1][2] == "山田商店"


def test_command_filters_and_refuses_unknown_ones(book, tmp_path):
    target = tmp_path / "p.csv"
    call_command(
        "export", "payments", "-o", str(target), "--all", "--filter", "customer=OSK-0001",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert [row[0] for row in read_csv(target.read_bytes())[1:]] == ["PAY-OSK"]
    with pytest.raises(CommandError, match="Unknown filter"):
        call_command("export", "payments", "-o", str(target), "--all", "--filter", "x=1")


def test_command_needs_a_purpose_above_the_threshold(book, tmp_path, settings):
    settings.TOKUI_PURPOSE_THRESHOLD = 1
    target = tmp_path / "c.csv"
    with pytest.raises(CommandError, match="purpose"):
        call_command("export", "customers", "-o", str(target), "--all")
    assert not target.exists()
    call_command(
        "export", "customers", "-o", str(target), "--all", "--purpose", "year-end mailing",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert AccessEvent.objects.get().purpose == "year-end mailing"


# --- the download -----------------------------------------------------------------------


def test_download_streams_csv_of_the_filtered_list_and_records_it(client, users, book):
    client.force_login(users[Role.ACCOUNT_MANAGER])
    url = reverse("sales:export", kwargs={"kind": "payments"})

    response = client.get(url + "?format=csv&customer=TKY-0001&page=2&sort=date")

    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="payments-')
    rows = read_csv(b"".join(response.streaming_content))
    assert [row[0] for row in rows[1:]] == ["PAY-TKY"]
    event = AccessEvent.objects.get(action="export")
    assert (event.actor_name, event.count) == ("am", 1)
    assert event.filters == {"export": "payments", "format": "csv", "customer": "TKY-0001"}


def test_download_xlsx(client, users, book):
    client.force_login(users[Role.MANAGER])
    response = client.get(reverse("sales:export", kwargs={"kind": "people"}) + "?format=xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["山田太郎"]


def test_download_asks_for_a_purpose_above_the_threshold(client, users, book, settings):
    settings.TOKUI_PURPOSE_THRESHOLD = 1
    client.force_login(users[Role.ADMINISTRATOR])
    url = reverse("sales:export", kwargs={"kind": "customers"})

    asked = client.get(url + "?format=csv&status=active")
    given = client.get(url + "?format=csv&status=active&purpose=audit")

    assert asked.templates[0].name == "sales/export_purpose.html"
    assert not AccessEvent.objects.filter(purpose="").exists()
    assert len(read_csv(b"".join(given.streaming_content))) == 3
    assert AccessEvent.objects.get(action="export").purpose == "audit"


def test_download_with_a_bad_filter_is_400(client, users, book):
    client.force_login(users[Role.ADMINISTRATOR])
    url = reverse("sales:export", kwargs={"kind": "orders"})
    assert client.get(url + "?date_from=yesterday").status_code == 400
    assert client.get(url + "?format=pdf").status_code == 400
    assert not AccessEvent.objects.filter(action="export").exists()


# --- round trip -------------------------------------------------------------------------


def database_rows():
    from tokui.audit.models import ObjectChange
    from tokui.customers.models import Address, Customer, Person
    from tokui.sales.models import Order, OrderLine, Payment, Product

    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Customer, Person, Address, Product, Order, OrderLine, Payment, ObjectChange)
    }


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["customers", "people", "products", "orders", "payments"])
def test_an_export_re_imports_unchanged(users, book, tmp_path, kind, file_format):
    target = tmp_path / f"{kind}.{file_format}"
    call_command("export", kind, "-o", str(target), "--all", stdout=io.StringIO())
    before = database_rows()

    call_command(
        "import", kind, str(target), "--as", "admin", "--no-progress",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    assert database_rows() == before

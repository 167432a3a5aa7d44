"""Orders, products, payments and people: rejections, all-or-nothing, idempotence, cancel."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tokui.audit.models import ObjectChange
from tokui.customers.models import Customer, Person
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import runner, services
from tokui.sales.models import ImportJob, ImportRejection, Order, OrderLine, Payment, Product
from tokui.users.choices import Role

ORDER_HEADER = "order_no,line_no,customer_code,date,product_code,quantity,unit_price\n"
GOOD_ORDERS = (
    "A-1,1,TKY-0001,2026-01-31,P-1,2,100\n"
    "A-1,2,TKY-0001,2026-01-31,P-2,1.5,1000.50\n"
    "A-2,1,TKY-0001,2026/2/3,P-1,10,90\n"
    "A-3,1,OSK-0001,2026.2.4,P-2,1,1000\n"
)
PRODUCTS = (
    "code,name,brand,category,unit,list_price,launch_date\n"
    "P-1,緑茶 500ml,お茶屋,飲料,本,100,2025-04-01\n"
    'P-2,玉露 100g,お茶屋,茶葉,袋,"1,200",2025/4/1\n'
)


@pytest.fixture
def products(db, users):
    Product.objects.create(code="P-1", name="緑茶", list_price=100)
    Product.objects.create(code="P-2", name="玉露", list_price=1200)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue()


def snapshot():
    """Every row of every table an import may write, and the audit log's size."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "people": list(Person.objects.order_by("pk").values()),
        "products": list(Product.objects.order_by("pk").values()),
        "orders": list(Order.objects.order_by("pk").values()),
        "lines": list(OrderLine.objects.order_by("pk").values()),
        "payments": list(Payment.objects.order_by("pk").values()),
        "audit": ObjectChange.objects.count(),
    }


def test_orders_import_writes_orders_lines_and_totals(tmp_path, products, customer, other_customer):
    out = run_import("orders", str(write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)))
    assert "4 rows read, 4 added, 0 changed, 0 unchanged, 0 rejected" in out
    order = Order.objects.get(number="A-1")
    assert (order.customer, str(order.date), order.line_count) == (customer, "2026-01-31", 2)
    assert str(order.total_amount) == "1700.75"  # 2 x 100 + 1.5 x 1000.50
    line = OrderLine.objects.get(order__number="A-2")
    assert (str(line.date), line.customer_id, str(line.amount)) == (
        "2026-02-03",
        customer.pk,
        "900.00",
    )
    assert Order.objects.get(number="A-3").customer == other_customer


def test_same_orders_file_twice_changes_nothing(tmp_path, products, customer, other_customer):
    path = write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)
    run_import("orders", str(path))
    before = snapshot()
    out = run_import("orders", str(path))
    assert "0 added, 0 changed, 4 unchanged" in out
    assert snapshot() == before


def test_changed_line_is_updated_and_totals_follow(tmp_path, products, customer, other_customer):
    run_import("orders", str(write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)))
    changed = GOOD_ORDERS.replace(
        "A-1,1,TKY-0001,2026-01-31,P-1,2,100", "A-1,1,TKY-0001,2026-01-31,P-1,3,100"
    )
    out = run_import("orders", str(write(tmp_path, "o2.csv", ORDER_HEADER + changed)))
    assert "0 added, 1 changed, 3 unchanged" in out
    assert str(Order.objects.get(number="A-1").total_amount) == "1800.75"


def test_bad_rows_write_nothing_and_each_is_reported(tmp_path, products, customer, other_customer):
    bad = (
        "B-1,1,TKY-0001,2026-02-30,P-1,1,100\n"  # row 2: no such date
        "B-2,1,NOPE-1,2026-02-01,P-1,1,100\n"  # row 3: unknown customer
        "B-3,1,TKY-0001,2026-02-01,P-1,-4,100\n"  # row 4: negative quantity
        "B-4,1,TKY-0001,2026-02-01,P-1,1,100\n"  # row 5: fine
        "B-4,1,TKY-0001,2026-02-01,P-2,1,100\n"  # row 6: duplicate key of row 5
        '=HYPERLINK("x"),1,TKY-0001,2026-02-01,P-1,1,100\n'  # row 7: formula
        "B-5,1,TKY-0001,2026-02-01,NO-SUCH,1,-100\n"  # row 8: unknown product, negative price
    )
    path = write(tmp_path, "bad.csv", ORDER_HEADER + bad)
    before = snapshot()
    with pytest.raises(CommandError, match="6 rows were rejected, so nothing was written") as error:
        run_import("orders", str(path))
    assert error.value.returncode == 1
    assert snapshot() == before
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert list(job.rejections.values_list("row_number", "column", "value", "reason")) == [
        (2, "date", "2026-02-30", "Not a date: write it as 2026-01-31, 2026/1/31 or 2026.1.31."),
        (
            3,
            "customer_code",
            "NOPE-1",
            "Unknown customer, or not one of the customers you may change.",
        ),
        (4, "quantity", "-4", "Cannot be negative."),
        (6, "line_no", "B-4 / 1", "Duplicate key: the same order and line number are on row 5."),
        (7, "order_no", '=HYPERLINK("x")', "Looks like a spreadsheet formula."),
        (8, "product_code", "NO-SUCH", "Unknown product."),
        (8, "unit_price", "-100", "Cannot be negative."),
    ]


def test_cli_prints_the_report_rows(tmp_path, products, customer):
    path = write(tmp_path, "bad.csv", ORDER_HEADER + "C-1,1,TKY-0001,2026-13-01,P-1,1,100\n")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import", "orders", str(path), "--no-progress", stdout=out, stderr=io.StringIO()
        )
    assert "2\tdate\t2026-13-01\tNot a date" in out.getvalue()


def test_skip_invalid_writes_only_the_valid_rows(tmp_path, products, customer, other_customer):
    rows = GOOD_ORDERS + "B-1,1,TKY-0001,yesterday,P-1,1,100\nA-1,2,TKY-0001,2026-01-31,P-1,9,9\n"
    out = run_import("orders", str(write(tmp_path, "o.csv", ORDER_HEADER + rows)), "--skip-invalid")
    assert "4 added, 0 changed, 0 unchanged, 2 rejected" in out
    assert sorted(Order.objects.values_list("number", flat=True)) == ["A-1", "A-2", "A-3"]
    assert str(OrderLine.objects.get(order__number="A-1", line_no=2).quantity) == "1.500"
    assert ImportRejection.objects.count() == 2


def test_order_out_of_scope_customer_is_rejected_for_a_manager(
    tmp_path, users, products, customer, other_customer
):
    path = write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)
    with pytest.raises(CommandError):
        run_import("orders", str(path), "--as", users[Role.MANAGER].username)
    rejection = ImportRejection.objects.get()
    assert (rejection.row_number, rejection.value) == (5, "OSK-0001")
    assert Order.objects.count() == 0


def _cancel_when(status):
    def on_progress(job):
        if job.status == status:
            ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    return on_progress


@pytest.mark.parametrize("moment", [ImportStatus.VALIDATING, ImportStatus.IMPORTING])
def test_cancelled_orders_import_leaves_nothing(
    tmp_path, users, products, customer, other_customer, moment
):
    path = write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)
    admin = users[Role.ADMINISTRATOR]
    job = services.job_create(actor=admin, kind=ImportKind.ORDERS, path=path, file_name="o.csv")
    before = snapshot()
    job = runner.run_job(job, admin, on_progress=_cancel_when(moment))
    assert job.status == ImportStatus.CANCELLED
    assert snapshot() == before


def test_cancelled_customers_import_leaves_nothing(tmp_path, users, monkeypatch):
    monkeypatch.setattr(runner, "SERVICE_BATCH_ROWS", 1)
    path = write(tmp_path, "c.csv", "code,name\nN-1,一郎商店\nN-2,二郎商店\nN-3,三郎商店\n")
    admin = users[Role.ADMINISTRATOR]
    job = services.job_create(actor=admin, kind=ImportKind.CUSTOMERS, path=path, file_name="c.csv")
    job = runner.run_job(job, admin, on_progress=_cancel_when(ImportStatus.IMPORTING))
    # The write pass checks after each row: the first card was written, then rolled back.
    assert job.status == ImportStatus.CANCELLED
    assert Customer.objects.count() == 0
    assert ObjectChange.objects.count() == 0


def test_products_import_and_reimport(tmp_path, users):
    path = write(tmp_path, "p.csv", PRODUCTS, "cp932")
    out = run_import("products", str(path))
    assert "2 added" in out
    product = Product.objects.get(code="P-2")
    assert (product.name, str(product.list_price), str(product.launch_date)) == (
        "玉露 100g",
        "1200.00",
        "2025-04-01",
    )
    before = snapshot()
    assert "0 added, 0 changed, 2 unchanged" in run_import("products", str(path))
    assert snapshot() == before


def test_products_bad_values_are_rejected(tmp_path, users):
    text = (
        "code,name,brand,list_price\n"
        "P-1,<b>緑茶</b>,x,1\n"
        "P-2,玉露," + "b" * 101 + ",1\n"
        "P-3,抹茶,x,-5\n"
        "P-4,@SUM(A1),x,1\n"
    )
    with pytest.raises(CommandError):
        run_import("products", str(write(tmp_path, "p.csv", text)))
    assert list(ImportRejection.objects.values_list("row_number", "column", "reason")) == [
        (2, "name", "Names cannot contain the characters < or >."),
        (3, "brand", "Too long: 101 characters, at most 100."),
        (4, "list_price", "Cannot be negative."),
        (5, "name", "Looks like a spreadsheet formula."),
    ]
    assert Product.objects.count() == 0


def test_payments_import_is_idempotent(tmp_path, customer, other_customer):
    text = (
        "reference,customer_code,date,amount,method\n"
        "R-1,TKY-0001,2026-03-01,5000,transfer\n"
        "R-2,OSK-0001,2026/3/2,1200.5,Cash\n"
    )
    path = write(tmp_path, "pay.csv", text)
    assert "2 added" in run_import("payments", str(path))
    assert Payment.objects.get(reference="R-2").method == "cash"
    before = snapshot()
    assert "2 unchanged" in run_import("payments", str(path))
    assert snapshot() == before


def test_payment_rejections(tmp_path, customer):
    text = (
        "reference,customer_code,date,amount,method\n"
        "R-1,TKY-0001,2026-03-01,5000,cheque\n"
        "R-1,TKY-0001,2026-03-01,5000,cash\n"
        "R-3,GONE,2026-03-01,5000,cash\n"
    )
    with pytest.raises(CommandError):
        run_import("payments", str(write(tmp_path, "pay.csv", text)))
    reasons = list(ImportRejection.objects.values_list("row_number", "column"))
    assert reasons == [(2, "method"), (4, "customer_code")]


def test_people_import_through_services_and_card_validation(tmp_path, users, customer):
    text = (
        "customer_code,relation,name,name_reading,birthday,phone,email\n"
        "TKY-0001,owner,山田太郎,ヤマダタロウ,1960/5/1,090-1111-2222,taro@example.jp\n"
        "TKY-0001,spouse,山田花子,ヤマダハナコ,1962.7.7,,\n"
    )
    path = write(tmp_path, "people.csv", text)
    assert "2 added" in run_import("people", str(path))
    taro = Person.objects.get(name="山田太郎")
    assert (taro.relation, str(taro.birthday)) == ("owner", "1960-05-01")
    assert ObjectChange.objects.filter(object_type="customers.person").count() == 2
    before = snapshot()
    assert "2 unchanged" in run_import("people", str(path))
    assert snapshot() == before
    bad = (
        "customer_code,relation,name,email\n"
        "TKY-0001,uncle,山田次郎,x\n"
        "TKY-0001,owner,次郎,bad-mail\n"
    )
    with pytest.raises(CommandError):
        run_import("people", str(write(tmp_path, "bad.csv", bad)))
    assert list(ImportRejection.objects.values_list("row_number", "column")) == [
        (2, "relation"),
        (3, "email"),
    ]


def test_customer_card_fields_validated(tmp_path, users):
    from tokui.core.testing.factories import FieldDefinitionFactory

    FieldDefinitionFactory(key="employees", field_type="integer", label="Employees")
    text = (
        "code,name,kind,employees\nF-1,一商店,shop,12\nF-2,二商店,robot,3\nF-3,三商店,shop,many\n"
    )
    with pytest.raises(CommandError):
        run_import("customers", str(write(tmp_path, "c.csv", text)))
    assert list(ImportRejection.objects.values_list("row_number", "column")) == [
        (3, "kind"),
        (4, "employees"),
    ]
    assert Customer.objects.count() == 0
    out = run_import("customers", str(write(tmp_path, "c.csv", text)), "--skip-invalid")
    assert "1 added" in out
    assert Customer.objects.get().field_values == {"employees": 12}


def test_a_multiple_choice_cell_lists_choices_as_exported_or_typed(tmp_path, users):
    from tokui.core.testing.factories import FieldDefinitionFactory

    FieldDefinitionFactory(
        key="channels", field_type="multi_choice", choices=["store", "web", "phone, fax"]
    )
    text = (
        "code,name,kind,channels\n"
        'M-1,一商店,shop,"web, phone, fax"\n'  # as exported: one choice holds a comma
        "M-2,二商店,shop,store、web\n"  # typed with the ideographic comma
        "M-3,三商店,shop,web，store\n"  # and with the full-width one
        'M-4,四商店,shop,"web, mail"\n'
    )
    with pytest.raises(CommandError):
        run_import("customers", str(write(tmp_path, "c.csv", text)))
    rejection = ImportRejection.objects.get()
    assert (rejection.row_number, rejection.column) == (5, "channels")
    assert "mail" in rejection.reason

    run_import("customers", str(write(tmp_path, "c.csv", text)), "--skip-invalid")

    assert dict(Customer.objects.values_list("code", "field_values__channels")) == {
        "M-1": ["web", "phone, fax"],
        "M-2": ["store", "web"],
        "M-3": ["web", "store"],
    }


def test_choice_cells_take_the_label_in_any_language(tmp_path, users):
    from tokui.core.testing.factories import labelled_payment_fields

    labelled_payment_fields()
    text = (
        "code,name,kind,payment,also_pays\n"
        "L-1,一商店,shop,電子マネー,電子マネー、QRコード決済\n"
        "L-2,二商店,shop,e-money,qr_code\n"
        "L-3,三商店,shop,전자화폐,\n"
        "L-4,四商店,shop,cash,\n"
    )

    run_import("customers", str(write(tmp_path, "c.csv", text)))

    assert {c.code: c.field_values for c in Customer.objects.all()} == {
        "L-1": {"payment": "e_money", "also_pays": ["e_money", "qr_code"]},
        "L-2": {"payment": "e_money", "also_pays": ["qr_code"]},
        "L-3": {"payment": "e_money"},
        "L-4": {"payment": "cash"},
    }


def test_postgres_or_sqlite_stage_is_gone_after_import(
    tmp_path, products, customer, other_customer
):
    run_import("orders", str(write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)))
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "tokui_import_order_stage" not in tables


def test_orders_import_refreshes_the_figures_of_touched_customers(
    tmp_path, products, customer, other_customer
):
    from tokui.metrics.models import CustomerMetrics

    run_import("orders", str(write(tmp_path, "o.csv", ORDER_HEADER + GOOD_ORDERS)))
    figures = dict(CustomerMetrics.objects.values_list("customer__code", "order_count"))
    assert figures == {"TKY-0001": 2, "OSK-0001": 1}

"""Big order files: whole batches are checked column by column (issue 4, import speed).

A batch with a bad line is split until the bad lines are found line by line; these tests
hold that the report, the counts and what is written are exactly what checking every line
on its own gives, wherever in a batch (or across batches) the problems are.
"""

import io
import multiprocessing
import os
import sys
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import translation

from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import orders, reading, runner, services
from tokui.sales.models import ImportJob, Order, OrderLine, Product
from tokui.users.choices import Role

HEADER = "order_no,line_no,customer_code,date,product_code,quantity,unit_price\n"


@pytest.fixture
def products(db, users):
    Product.objects.create(code="P-1", name="緑茶", list_price=100)
    Product.objects.create(code="P-2", name="玉露", list_price=1200)


def day(order: int) -> str:
    return f"2026-03-{order % 28 + 1:02d}"


def line(n: int) -> str:
    """Line ``n`` of a clean file: two lines per order, all for TKY-0001."""
    order = n // 2
    return f"G-{order},{n % 2 + 1},TKY-0001,{day(order)},P-{n % 2 + 1},{n % 5 + 1},{100 + n % 7}\n"


def good_lines(count: int) -> list[str]:
    return [line(n) for n in range(count)]


def run_import(tmp_path, text: str, *args) -> str:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import", "orders", str(path), "--no-progress", *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def failed_job(tmp_path, users, text: str, error: type[Exception]) -> ImportJob:
    """Run an import job of the orders ``text``, which must fail raising ``error``; the job
    as stored afterwards, failed."""
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + text, encoding="utf-8")
    admin = users[Role.ADMINISTRATOR]
    job = services.job_create(actor=admin, kind=ImportKind.ORDERS, path=path, file_name="o.csv")
    with pytest.raises(error):
        runner.run_job(job, admin)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    return job


def report():
    job = ImportJob.objects.latest("pk")
    return list(job.rejections.values_list("row_number", "column", "value", "reason"))


def order_line(order, line_no=1, **values) -> OrderLine:
    """An unsaved line of ``order`` for product P-1, as a form or the API would add it."""
    values = {"quantity": 1, "unit_price": 1, "amount": 1, **values}
    return OrderLine(
        order=order,
        line_no=line_no,
        customer=order.customer,
        date=order.date,
        product=Product.objects.get(code="P-1"),
        **values,
    )


def nothing_left_running() -> bool:
    """No child checking a file, no thread pricing its lines, Python's thread switching
    as it was: what a big import leaves behind when it ends, however it ends."""
    return (
        not multiprocessing.active_children()
        and not any(thread.name == "tokui-order-import" for thread in threading.enumerate())
        and sys.getswitchinterval() == SWITCH_INTERVAL
    )


SWITCH_INTERVAL = sys.getswitchinterval()


def line_by_line(monkeypatch):
    monkeypatch.setattr(orders.OrderImport, "_check_columns", lambda self, rows: None)


@pytest.fixture(params=["here", "in a child"])
def where_checked(request, monkeypatch):
    """Big files are read and checked in a forked child process: the tests that use this
    run both ways, in batches of 1,000 rows, and must give the same results."""
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 1000)
    if request.param == "in a child":
        monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    return request.param


BAD_AT = {
    # index in the file (its row number is index + 2): the line put there
    7: "G-3,2,TKY-0001,2026-02-30,P-2,1,100\n",  # no such date
    640: f"G-320,1,NOPE-1,{day(320)},P-1,1,100\n",  # unknown customer
    1499: f"G-749,2,TKY-0001,{day(749)},P-1, 2 ,100\n",  # spaces: fine on the careful path
    1500: f'G-750,1,TKY-0001,2026/3/{750 % 28 + 1},P-1,1,"1,200"\n',  # fine, carefully
    2301: f"G-1150,2,TKY-0001,{day(1150)},P-9,-1,100\n",  # unknown product, negative quantity
    2999: f"G-0,1,TKY-0001,{day(0)},P-1,1,100\n",  # duplicate key of row 2
}


def file_with_bad_lines() -> str:
    lines = good_lines(3000)
    for index, line in BAD_AT.items():
        lines[index] = line
    return "".join(lines)


def test_a_big_file_reports_exactly_what_line_by_line_checking_reports(
    tmp_path, monkeypatch, products, customer, where_checked
):
    text = file_with_bad_lines()
    with pytest.raises(CommandError, match="4 rows were rejected, so nothing was written"):
        run_import(tmp_path, text)
    fast = report()
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0

    line_by_line(monkeypatch)
    with pytest.raises(CommandError):
        run_import(tmp_path, text)
    assert report() == fast
    assert fast == [
        (9, "date", "2026-02-30", "Not a date: write it as 2026-01-31, 2026/1/31 or 2026.1.31."),
        (
            642,
            "customer_code",
            "NOPE-1",
            "Unknown customer, or not one of the customers you may change.",
        ),
        (2303, "product_code", "P-9", "Unknown product."),
        (2303, "quantity", "-1", "Cannot be negative."),
        (3001, "line_no", "G-0 / 1", "Duplicate key: the same order and line number are on row 2."),
    ]


def test_skip_invalid_writes_the_same_lines_either_way(
    tmp_path, monkeypatch, products, customer, where_checked
):
    text = file_with_bad_lines()
    out = run_import(tmp_path, text, "--skip-invalid")
    assert "3000 rows read, 2996 added, 0 changed, 0 unchanged, 4 rejected" in out
    written = list(
        OrderLine.objects.order_by("order__number", "line_no").values_list(
            "order__number", "line_no", "date", "quantity", "unit_price", "amount"
        )
    )
    careful = OrderLine.objects.get(order__number="G-750", line_no=1)
    assert (str(careful.date), str(careful.unit_price)) == (day(750), "1200.00")
    assert str(OrderLine.objects.get(order__number="G-749", line_no=2).quantity) == "2.000"
    OrderLine.objects.all().delete()
    Order.objects.all().delete()

    line_by_line(monkeypatch)
    run_import(tmp_path, text, "--skip-invalid")
    assert (
        list(
            OrderLine.objects.order_by("order__number", "line_no").values_list(
                "order__number", "line_no", "date", "quantity", "unit_price", "amount"
            )
        )
        == written
    )


def test_problems_across_batches_are_found(
    tmp_path, monkeypatch, products, customer, other_customer
):
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 1000)
    lines = good_lines(3000)
    lines[1500] = f"G-10,1,TKY-0001,{day(10)},P-1,1,100\n"  # key of row 22, another batch
    lines[2500] = f"G-300,9,OSK-0001,{day(300)},P-1,1,100\n"  # order G-300 is TKY-0001's
    with pytest.raises(CommandError, match="2 rows were rejected"):
        run_import(tmp_path, "".join(lines))
    assert report() == [
        (
            1502,
            "line_no",
            "G-10 / 1",
            "Duplicate key: the same order and line number are on row 22.",
        ),
        (2502, "customer_code", "G-300 / 9", "Row 602 of the same order names another customer."),
    ]


def test_empty_and_short_rows_keep_their_row_numbers(tmp_path, products, customer):
    lines = good_lines(1200)
    lines[100] = "\n"  # an empty row: skipped, still counted
    lines[700] = "G-350,1,TKY-0001\n"  # a short row: the missing cells are empty
    with pytest.raises(CommandError, match="1 rows were rejected"):
        run_import(tmp_path, "".join(lines))
    assert [(row, column) for row, column, _value, _reason in report()] == [
        (702, "date"),
        (702, "product_code"),
        (702, "quantity"),
        (702, "unit_price"),
    ]


def test_a_clean_big_file_twice_changes_nothing_the_second_time(tmp_path, products, customer):
    text = "".join(good_lines(2400))
    assert "2400 added" in run_import(tmp_path, text)
    before = list(OrderLine.objects.order_by("pk").values())
    assert "0 added, 0 changed, 2400 unchanged" in run_import(tmp_path, text)
    assert list(OrderLine.objects.order_by("pk").values()) == before


def test_new_and_existing_orders_in_one_file(tmp_path, products, customer, other_customer):
    run_import(
        tmp_path, "A-1,1,TKY-0001,2026-01-31,P-1,2,100\nA-2,1,TKY-0001,2026-02-01,P-1,1,50\n"
    )
    out = run_import(
        tmp_path,
        "A-1,1,TKY-0001,2026-01-31,P-1,2,100\n"  # unchanged
        "A-1,2,TKY-0001,2026-01-31,P-2,1,1000\n"  # a new line of an existing order
        "A-2,1,TKY-0001,2026-02-01,P-1,3,50\n"  # changed
        "A-3,1,OSK-0001,2026-02-02,P-2,2,1000\n"  # a new order
        "A-3,2,OSK-0001,2026-02-02,P-1,1,100\n",
    )
    assert "5 rows read, 3 added, 1 changed, 1 unchanged, 0 rejected" in out
    totals = {
        order.number: (str(order.total_amount), order.line_count, order.customer.code)
        for order in Order.objects.select_related("customer")
    }
    assert totals == {
        "A-1": ("1200.00", 2, "TKY-0001"),
        "A-2": ("150.00", 1, "TKY-0001"),
        "A-3": ("2100.00", 2, "OSK-0001"),
    }


def line_keys():
    """The order lines' constraints (PostgreSQL); SQLite cannot drop any, so none to list."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'sales_orderline'::regclass ORDER BY conname"
        )
        return cursor.fetchall()


def order_indexes():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('sales_order', 'sales_orderline') ORDER BY indexname"
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('sales_order', 'sales_orderline') ORDER BY name"
            )
        return cursor.fetchall()


@pytest.fixture(params=["role may turn off key triggers", "role may not"])
def triggers_off(request, monkeypatch):
    """Whether a big file of new orders may check its keys once (see _key_triggers_off):
    the tests' database user may; "role may not" makes the import take it so."""
    if request.param == "role may not":
        monkeypatch.setattr(orders.OrderImport, "_key_triggers_off", lambda self, cursor: False)
    return connection.vendor == "postgresql" and request.param != "role may not"


def replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_a_big_import_checks_the_keys_at_once_builds_indexes_anew_and_puts_them_back(
    tmp_path, monkeypatch, products, customer, other_customer, triggers_off
):
    postgres = connection.vendor == "postgresql"
    monkeypatch.setattr(orders, "BULK_KEY_LINES", 100)
    dropped = {"keys": [], "indexes": []}
    for what, method in (("keys", "_drop_line_keys"), ("indexes", "_drop_indexes")):
        drop = getattr(orders.OrderImport, method)
        monkeypatch.setattr(
            orders.OrderImport,
            method,
            lambda self, cursor, what=what, drop=drop: (
                dropped[what].append(self.staged) or drop(self, cursor)
            ),
        )
    if postgres:
        # The row estimate an earlier test's index builds wrote outlives its rollback (it is
        # written in place): estimate the lines as they are now, none.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_orderline")
    keys, indexes = line_keys(), order_indexes()
    if postgres:
        # Order and product; the customer's is its order's (no constraint on the line).
        assert sum(" REFERENCES " in definition for _name, definition in keys) == 2
    # Lines: primary key (SQLite: the row id), (order, line), (customer, date); orders:
    # primary key (SQLite: the row id), number (unique), (customer, date).
    assert len(indexes) == (6 if postgres else 4)
    run_import(tmp_path, "A-0,1,TKY-0001,2026-01-31,P-1,1,100\n")  # small: nothing dropped
    text = "".join(good_lines(600))
    assert "600 rows read, 600 added" in run_import(tmp_path, text)
    assert (line_keys(), order_indexes()) == (keys, indexes)
    assert "0 added, 0 changed, 600 unchanged" in run_import(tmp_path, text)
    assert (line_keys(), order_indexes()) == (keys, indexes)
    assert OrderLine.objects.count() == 601
    # Both big imports check the keys at once (PostgreSQL): the first, of new orders, with
    # the key triggers off where the role may, else by dropping the lines' keys as the
    # second does. Only the first, into tables smaller than itself, builds the indexes anew.
    first_keys = [] if triggers_off else [600]
    assert dropped == {"keys": [*first_keys, 600] if postgres else [], "indexes": [600]}
    if postgres:
        assert replication_role() == "origin"  # turned on again inside the import
    with pytest.raises(IntegrityError), transaction.atomic():  # the unique indexes hold
        Order.objects.create(number="G-10", customer=customer, date="2026-01-31")
    with pytest.raises(IntegrityError), transaction.atomic():
        order_line(Order.objects.get(number="G-10")).save()
    order = Order.objects.get(number="G-10")
    assert (order.line_count, str(order.total_amount)) == (2, "306.00")  # 1 x 106 + 2 x 100


def test_an_order_moved_to_another_customer_moves_with_its_lines_and_figures(
    tmp_path, products, customer, other_customer
):
    from tokui.metrics.models import CustomerMetrics

    run_import(
        tmp_path, "M-1,1,TKY-0001,2026-01-31,P-1,2,100\nM-2,1,TKY-0001,2026-02-01,P-1,1,50\n"
    )
    out = run_import(
        tmp_path, "M-1,1,OSK-0001,2026-02-05,P-1,2,100\nM-2,1,TKY-0001,2026-02-01,P-1,1,50\n"
    )
    assert "0 added, 1 changed, 1 unchanged, 0 rejected" in out
    moved = Order.objects.get(number="M-1")
    assert (moved.customer, str(moved.date), str(moved.total_amount)) == (
        other_customer,
        "2026-02-05",
        "200.00",
    )
    line = OrderLine.objects.get(order=moved)
    assert (line.customer, str(line.date)) == (other_customer, "2026-02-05")
    assert Order.objects.get(number="M-2").customer == customer
    figures = dict(CustomerMetrics.objects.values_list("customer__code", "order_count"))
    assert figures == {"TKY-0001": 1, "OSK-0001": 1}


def test_a_big_file_of_new_orders_sums_each_order_and_takes_ids_as_forms_do_after(
    tmp_path, monkeypatch, products, customer, other_customer, where_checked, triggers_off
):
    """New orders in a big file are written without grouping or joining the staged lines:
    their sums are added up while checking, their ids taken as a block. Lines of one order
    may be far apart in the file, in different batches."""
    monkeypatch.setattr(orders, "BULK_KEY_LINES", 100)
    rows, expected = [], {}
    for n in range(1500):
        order = f"B-{n % 500}"  # each order's three lines are 500 rows apart
        quantity, price = ("1.5", "99.99") if n % 7 == 0 else (str(n % 4 + 1), str(100 + n % 9))
        amount = ""
        if n % 11 == 0:
            amount = "10.10"  # the file's amount wins over quantity x unit price
        code = "TKY-0001" if n % 500 < 250 else "OSK-0001"
        rows.append(
            f"{order},{n // 500 + 1},{code},{day(n % 500)},P-1,{quantity},{price},{amount}\n"
        )
        line_amount = Decimal(amount or Decimal(quantity) * Decimal(price)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        total, count = expected.get(order, (Decimal(0), 0))
        expected[order] = (total + line_amount, count + 1)
    path = tmp_path / "orders.csv"
    path.write_text(HEADER.replace("\n", ",amount\n") + "".join(rows), encoding="utf-8")
    out = io.StringIO()
    call_command("import", "orders", str(path), "--no-progress", stdout=out)
    assert "1500 rows read, 1500 added" in out.getvalue()
    assert {
        number: (total, count)
        for number, total, count in Order.objects.values_list(
            "number", "total_amount", "line_count"
        )
    } == expected
    assert str(OrderLine.objects.get(order__number="B-0", line_no=1).amount) == "10.10"
    assert str(OrderLine.objects.get(order__number="B-7", line_no=1).amount) == "149.99"  # 149.985
    assert not OrderLine.objects.exclude(customer=F("order__customer")).exists()
    assert set(Order.objects.filter(number="B-300").values_list("customer__code", flat=True)) == {
        "OSK-0001"
    }
    # Orders and lines added afterwards, as a form does, get ids of their own.
    order = Order.objects.create(number="NEW-1", customer=customer, date="2026-04-01")
    line = order_line(order)
    line.save()
    assert order.pk > Order.objects.exclude(pk=order.pk).aggregate(top=Max("pk"))["top"]
    assert line.pk > OrderLine.objects.exclude(pk=line.pk).aggregate(top=Max("pk"))["top"]
    assert nothing_left_running()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="key triggers are PostgreSQL's")
def test_a_product_deleted_during_a_big_import_with_key_triggers_off_fails_it(
    tmp_path, monkeypatch, users, products, customer
):
    """With the key triggers off, the keys are still checked: a product the file names that
    is gone by the time the lines are written fails the import, as the trigger would."""
    monkeypatch.setattr(orders, "BULK_KEY_LINES", 100)
    turn_off = orders.OrderImport._key_triggers_off

    def delete_a_product_then_turn_off(self, cursor):
        cursor.execute("DELETE FROM sales_product WHERE code = 'P-2'")
        return turn_off(self, cursor)

    monkeypatch.setattr(orders.OrderImport, "_key_triggers_off", delete_a_product_then_turn_off)
    job = failed_job(tmp_path, users, "".join(good_lines(200)), RuntimeError)
    assert "A customer or product of this file was deleted during the import." in job.message
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert Product.objects.filter(code="P-2").exists()  # the delete was rolled back too
    assert replication_role() == "origin"


def test_a_big_file_naming_a_stored_order_in_a_late_batch_upserts_it(
    tmp_path, monkeypatch, products, customer, where_checked
):
    """Stored order numbers are looked for batch by batch while the file streams: one far
    down the file is enough for the file not to be written as new orders only."""
    monkeypatch.setattr(orders, "BULK_KEY_LINES", 100)
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 50)
    as_new_orders = []
    insert = orders.OrderImport._insert_new_orders
    monkeypatch.setattr(
        orders.OrderImport,
        "_insert_new_orders",
        lambda self, *args: as_new_orders.append(1) or insert(self, *args),
    )
    stored = Order.objects.create(number="G-90", customer=customer, date=day(90))
    order_line(stored, 1, quantity=9, unit_price=9, amount=81).save()

    out = run_import(tmp_path, "".join(good_lines(200)))

    assert "200 rows read, 199 added, 1 changed, 0 unchanged" in out
    assert as_new_orders == []
    stored.refresh_from_db()
    assert (stored.line_count, str(stored.total_amount)) == (2, "317.00")  # 1 x 105 + 2 x 106
    assert Order.objects.count() == 100
    assert "0 added, 0 changed, 200 unchanged" in run_import(tmp_path, "".join(good_lines(200)))


def test_an_amount_too_large_for_its_column_is_rejected(tmp_path, products, customer):
    text = "T-1,1,TKY-0001,2026-01-31,P-1,1000000,1000000\nT-1,2,TKY-0001,2026-01-31,P-1,1,5\n"
    with pytest.raises(CommandError, match="1 rows were rejected"):
        run_import(tmp_path, text)
    assert report() == [(2, "amount", "1000000 x 1000000", "Too large a number.")]
    assert not Order.objects.exists()


def test_an_amount_priced_beside_the_child_is_rejected_in_the_importers_language(
    tmp_path, monkeypatch, users, products, customer
):
    """Amounts are worked out in a thread beside the child; the reason is still written in
    the language the import runs in, not the thread's default."""
    monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "".join(good_lines(10)) + "T-1,1,TKY-0001,2026-01-31,P-1,1000000,1000000\n",
        encoding="utf-8",
    )
    admin = users[Role.ADMINISTRATOR]
    with translation.override("ja"):  # started from a Japanese page
        job = services.job_create(actor=admin, kind=ImportKind.ORDERS, path=path, file_name="o.csv")
    job = runner.run_job(job, admin)
    assert job.status == ImportStatus.REJECTED
    assert report() == [(12, "amount", "1000000 x 1000000", "数値が大きすぎます。")]


def test_a_child_that_meets_a_bad_byte_fails_the_import_with_its_reason(
    tmp_path, monkeypatch, users, products, customer
):
    monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 1000)
    path = tmp_path / "orders.csv"
    # UTF-8 (as the encoding is guessed from the start) and a Shift_JIS name far below.
    monkeypatch.setattr(reading, "SAMPLE_BYTES", 4096)
    text = HEADER + "受注-1,1,TKY-0001,2026-03-01,P-1,1,100\n" + "".join(good_lines(3000))
    path.write_bytes(text.encode() + "受注-2,1,TKY-0001,2026-03-01,P-1,1,100\n".encode("cp932"))
    admin = users[Role.ADMINISTRATOR]
    job = services.job_create(actor=admin, kind=ImportKind.ORDERS, path=path, file_name="o.csv")
    job = runner.run_job(job, admin)
    assert job.status == ImportStatus.FAILED
    assert job.message.startswith("not utf-8")
    assert not Order.objects.exists() and nothing_left_running()


def test_cancelling_while_a_child_checks_stops_it_and_writes_nothing(
    tmp_path, monkeypatch, users, products, customer
):
    monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 100)
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(good_lines(3000)), encoding="utf-8")
    admin = users[Role.ADMINISTRATOR]
    job = services.job_create(actor=admin, kind=ImportKind.ORDERS, path=path, file_name="o.csv")

    def cancel_after_the_first_batch(job):
        if job.processed_rows:
            ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)

    job = runner.run_job(job, admin, on_progress=cancel_after_the_first_batch)
    assert (job.status, job.processed_rows) == (ImportStatus.CANCELLED, 100)
    assert not Order.objects.exists() and nothing_left_running()


def test_a_failure_while_pricing_beside_the_child_fails_the_import_and_stops_all(
    tmp_path, monkeypatch, users, products, customer
):
    """The lines a child checked are priced in a thread of the import's process: what goes
    wrong there fails the import as if it had happened in the import's own thread."""
    monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    monkeypatch.setitem(runner.BATCH_ROWS, ImportKind.ORDERS, 100)
    priced, calls = orders.OrderImport._priced, []

    def fail_on_the_third_batch(self, lines, reject):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("pricing broke")
        return priced(self, lines, reject)

    monkeypatch.setattr(orders.OrderImport, "_priced", fail_on_the_third_batch)
    job = failed_job(tmp_path, users, "".join(good_lines(1000)), ValueError)
    assert job.message == "Failed: pricing broke"
    assert not Order.objects.exists() and nothing_left_running()


def test_a_child_that_dies_fails_the_import_and_says_so(
    tmp_path, monkeypatch, users, products, customer
):
    monkeypatch.setattr(runner, "CHECK_IN_CHILD_ROWS", 0)
    monkeypatch.setattr(orders.OrderImport, "_check_in_child", lambda *args: os._exit(3))
    job = failed_job(tmp_path, users, "".join(good_lines(10)), RuntimeError)
    assert "The process checking the file ended unexpectedly (exit code 3)." in job.message
    assert not Order.objects.exists() and nothing_left_running()


def test_a_big_file_into_a_bigger_table_keeps_its_indexes_even_before_statistics(
    tmp_path, monkeypatch, products, customer
):
    """Rebuilding every index pays only when the tables are no bigger than the file; a table
    PostgreSQL has not analysed yet (no row estimate) is counted, not taken as empty."""
    monkeypatch.setattr(orders, "BULK_KEY_LINES", 100)
    dropped = []
    drop = orders.OrderImport._drop_indexes
    monkeypatch.setattr(
        orders.OrderImport,
        "_drop_indexes",
        lambda self, cursor: dropped.append(1) or drop(self, cursor),
    )
    stored = Order.objects.create(number="OLD-1", customer=customer, date="2026-01-01")
    OrderLine.objects.bulk_create(order_line(stored, n) for n in range(1, 301))
    assert "200 rows read, 200 added" in run_import(tmp_path, "".join(good_lines(200)))
    assert dropped == []
    assert OrderLine.objects.count() == 500

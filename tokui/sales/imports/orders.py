# ruff: noqa: S608 - the only names put into SQL are this module's constant table names
"""Order lines, set-based: millions of lines per file, so no model instance per line.

One pass over the file checks each line in Python (dict look-ups for customers and
products loaded once, regular expressions for numbers, a cache for dates; a big file in a
forked child process), prices it and numbers its order, and streams the good lines into a
temporary staging table (PostgreSQL COPY, SQLite executemany), committing batch by batch so
the progress bar moves. Checks across lines (duplicate keys, lines of one order naming
another customer or date) run as one SQL query on the staging table. Writing is then a few
set-based statements in one transaction: for a big file of new orders, the orders copied
in and their lines by INSERT … SELECT, ids from the file's own numbering
(``_insert_new_orders``); otherwise an UPDATE of the
orders that change, INSERT … SELECT of the new orders and of their lines, and an
INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE <differs> for lines of orders that existed.
All or nothing, and a second import of the same file changes no row.
"""

import json
import multiprocessing
import operator
import queue
import re
import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tokui.customers.models import Customer
from tokui.customers.selectors import customer_list, trash_in_import_message
from tokui.sales.choices import OrderChannel, OrderStatus
from tokui.sales.models import Product

from . import checks
from .checks import Rejected

STAGE = "tokui_import_order_stage"
_QUANTITY = re.compile(r"^\d{1,9}(?:\.\d{1,3})?$", re.ASCII)
_PRICE = re.compile(r"^\d{1,10}(?:\.\d{1,2})?$", re.ASCII)
_AMOUNT = re.compile(r"^\d{1,12}(?:\.\d{1,2})?$", re.ASCII)
_LINE_NO = re.compile(r"^[1-9]\d{0,8}$", re.ASCII)
_ORDER_NO = re.compile(r"^[^\t\n\r\\=+\-@ ][^\t\n\r\\]{0,31}$")
# The same checks over a whole column joined by line breaks (see _check_columns).
_ALL_ORDER_NOS = re.compile(
    r"[^\t\n\r\\=+\-@ ][^\t\n\r\\]{0,31}(?:\n[^\t\n\r\\=+\-@ ][^\t\n\r\\]{0,31})*"
)
_ALL_LINE_NOS = re.compile(r"[1-9]\d{0,8}(?:\n[1-9]\d{0,8})*", re.ASCII)
_ALL_QUANTITIES = re.compile(r"\d{1,9}(?:\.\d{1,3})?(?:\n\d{1,9}(?:\.\d{1,3})?)*", re.ASCII)
_ALL_PRICES = re.compile(r"\d{1,10}(?:\.\d{1,2})?(?:\n\d{1,10}(?:\.\d{1,2})?)*", re.ASCII)
_ALL_AMOUNTS = re.compile(
    r"(?:\d{1,12}(?:\.\d{1,2})?)?(?:\n(?:\d{1,12}(?:\.\d{1,2})?)?)*", re.ASCII
)
# A batch that fails the column checks is halved down to this size, then checked by line.
SMALLEST_SPLIT = 512
# From this many staged lines on, PostgreSQL checks the lines' keys to their order and
# product once over the whole table, not line by line at commit (see _drop_line_keys).
BULK_KEY_LINES = 100_000
POSTGRES_WORK_MEM_MB = 256
MAX_AMOUNT = 10**12
CENT = Decimal("0.01")
# Well under the 1 GiB an import may use, beside the child that checks a big file.
SQLITE_CACHE_KIB = 128 * 1024
_COPY_LINE = "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%d\n"


class OrderImport:
    """The staging table for one import, on the default connection."""

    def __init__(self, *, actor, positions: dict[str, int], reject):
        self.actor = actor
        self.positions = positions
        self.reject = reject  # reject(row_number, column, value, reason)
        self.postgres = connection.vendor == "postgresql"
        self.customer_ids = dict(
            customer_list(user=actor, action="change").values_list("code", "id")
        )
        self.product_ids = dict(Product.objects.values_list("code", "id"))
        # Looked up once, not per unknown code: the checks may run in a process without
        # a database connection (see checked_batches).
        self.trashed_codes = set(
            Customer._base_manager.filter(deleted_at__isnull=False).values_list("code", flat=True)
        )
        self.staged = 0
        self.seen_keys: set[int] = set()
        self.needs_exact_check = False
        # Each order of the file, numbered from 1 in the order the file names them: its
        # number, a line's customer and date, and the sum and count of its lines.
        self.order_seqs: dict[str, int] = {}
        self.order_customer_dates: list[tuple] = [()]
        self.order_totals: list = [0]
        self.order_counts: list[int] = [0]
        # False once a staged line is taken out again: the sums above no longer hold.
        self.order_sums_hold = True
        # True once an order number of the file is found stored (see _note_stored_orders).
        self.orders_stored = False
        self.staged_products: set[int] = set()
        self.last_row_number = 0

    # --- staging ---------------------------------------------------------------------

    def create_stage(self) -> None:
        with connection.cursor() as cursor:
            if not self.postgres:
                # For this import only (restored by drop_stage): a page cache that holds the
                # order lines' indexes while millions of lines go in. (temp_store cannot be
                # changed inside a transaction, which a caller may hold.)
                cursor.execute("PRAGMA cache_size")
                self.sqlite_cache_size = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGE} (row_number integer NOT NULL, "
                "order_no varchar(32) NOT NULL, line_no integer NOT NULL, "
                "customer_id bigint NOT NULL, date date NOT NULL, product_id bigint NOT NULL, "
                "quantity numeric NOT NULL, unit_price numeric NOT NULL, "
                "amount numeric NOT NULL, order_seq integer NOT NULL)"
            )

    def drop_stage(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            if not self.postgres and hasattr(self, "sqlite_cache_size"):
                cursor.execute(f"PRAGMA cache_size = {int(self.sqlite_cache_size)}")

    def check_rows(self, rows) -> list[tuple]:
        """Check a batch of (row number, cells); returns the good lines as staging tuples,
        each with its amount and its order's number in the file (see ``_priced``)."""
        lines, _new_orders = self._priced(self._checked(rows), self.reject)
        return list(zip(*lines, strict=True))

    def _checked(self, rows) -> tuple:
        """The good lines of a batch of (row number, cells), as the file has them, column by
        column: (row numbers, order numbers, line numbers, customers, dates, products,
        quantities, unit prices, amounts), each a sequence with a value per line.

        A batch is first checked column by column (``_check_columns``); a batch that fails
        that is split in halves, down to small pieces checked line by line, so a few bad
        lines in a big file cost little and are reported exactly as before.
        """
        if not rows:
            return NO_LINES
        good = self._check_columns(rows)
        if good is not None:
            return good
        if len(rows) <= SMALLEST_SPLIT:
            return _columns(self._check_lines(rows))
        half = len(rows) // 2
        first, second = self._checked(rows[:half]), self._checked(rows[half:])
        return tuple([*a, *b] for a, b in zip(first, second, strict=True))

    def _check_columns(self, rows) -> tuple | None:
        """The whole batch at once, or None when any line may have a problem.

        Each column is checked with one pass that runs in C (a dict look-up mapped over the
        column, one regular expression over the column joined by line breaks, which no
        accepted value can hold), not a Python loop per line. It accepts only what the
        line-by-line fast path accepts, with the same values, so a batch it refuses gives
        the very same result line by line. Nothing is remembered unless the batch passes.
        """
        get = self.positions.get
        numbers, cells = zip(*rows, strict=True)
        columns = list(zip(*cells, strict=False))  # rows may run wider than the header
        width = len(columns)
        needed = [get(c) for c in ("order_no", "line_no", "customer_code", "date")]
        needed += [get(c) for c in ("product_code", "quantity", "unit_price")]
        if any(index is None or index >= width for index in needed):
            return None
        i_order, i_line, i_customer, i_date, i_product, i_quantity, i_price = needed
        order_nos, line_nos = columns[i_order], columns[i_line]
        quantities, prices = columns[i_quantity], columns[i_price]
        i_amount = get("amount")
        if i_amount is None:
            amounts = ("",) * len(rows)
        elif i_amount >= width:
            return None
        else:
            amounts = columns[i_amount]
            if not _ALL_AMOUNTS.fullmatch("\n".join(amounts)):
                return None
        if not (
            _ALL_ORDER_NOS.fullmatch("\n".join(order_nos))
            and _ALL_LINE_NOS.fullmatch("\n".join(line_nos))
            and _ALL_QUANTITIES.fullmatch("\n".join(quantities))
            and _ALL_PRICES.fullmatch("\n".join(prices))
        ):
            return None
        customers = list(map(self.customer_ids.get, columns[i_customer]))
        products = list(map(self.product_ids.get, columns[i_product]))
        if None in customers or None in products:
            return None
        dates = _dates(columns[i_date])
        if dates is None:
            return None
        return numbers, order_nos, line_nos, customers, dates, products, quantities, prices, amounts

    def _check_lines(self, rows) -> list[tuple]:
        """Line by line. The fast path avoids anything per cell that is not needed for a clean
        line (no strip, ``isdigit`` before regular expressions); any doubt sends the line down the
        slow path, which finds every problem and its reason.
        """
        get = self.positions.get
        i_order, i_line, i_customer = get("order_no"), get("line_no"), get("customer_code")
        i_date, i_product = get("date"), get("product_code")
        i_quantity, i_price, i_amount = get("quantity"), get("unit_price"), get("amount")
        customers, products = self.customer_ids, self.product_ids
        date_cache = checks._date_cache
        order_no_ok, quantity_ok, price_ok = _ORDER_NO.match, _QUANTITY.match, _PRICE.match
        line_no_ok = _LINE_NO.match
        good = []
        append = good.append
        for number, row in rows:
            try:
                order_no = row[i_order]
                line_no = row[i_line]
                customer = customers.get(row[i_customer])
                date = date_cache.get(row[i_date])
                product = products.get(row[i_product])
                quantity = row[i_quantity]
                price = row[i_price]
                amount = row[i_amount] if i_amount is not None else ""
            except IndexError:
                customer = None
            if (
                customer is None
                or date is None
                or product is None
                # isdigit() and isascii() before a regex: plain whole numbers are the rule.
                or not (line_no.isdigit() and line_no.isascii() and line_no_ok(line_no))
                or not (
                    (quantity.isdigit() and quantity.isascii() and len(quantity) <= 9)
                    or quantity_ok(quantity)
                )
                or not (
                    (price.isdigit() and price.isascii() and len(price) <= 10) or price_ok(price)
                )
                or (amount and not _AMOUNT.match(amount))
                or not order_no_ok(order_no)
            ):
                line = self._check_slowly(number, row)
                if line is None:
                    continue
                number, order_no, line_no, customer, date, _p, quantity, price, amount = line
            else:
                line = (number, order_no, line_no, customer, date, product, quantity, price, amount)
            append(line)
        return good

    def _priced(self, lines: tuple, reject: Callable) -> tuple[tuple, list[str]]:
        """The checked ``lines`` (columns, see ``_checked``) with two more columns, and the
        batch's orders that are new to the file (see ``_note_stored_orders``): each
        line's amount (the file's, or quantity x unit price to the cent, rounded half up as
        the database would) and its order's number in the file; each amount is added to its
        order's sum. A line whose amount would not fit is rejected here, to ``reject``
        (the caller's thread reports it: this may run in another). Column by column,
        as ``_check_columns``: no Python loop per line but the one adding up the orders.

        Here too, as the good lines come in, the checks across lines, on hashes: keys are
        remembered as hashes only (a few dozen bytes a line); a repeated hash, or an order
        whose lines disagree on customer or date, makes ``check_across_lines`` run the exact
        check in SQL. (Not in the child that checks each line: it has the heavier share.)"""
        numbers, order_nos, line_nos, customers, dates, products, quantities, prices, given = lines
        if not numbers:
            return NO_PRICED_LINES, []
        amounts = _amounts(quantities, prices, given)
        if max(amounts) >= MAX_AMOUNT:
            kept = []
            for line, amount in zip(zip(*lines, strict=True), amounts, strict=True):
                if amount < MAX_AMOUNT:
                    kept.append(line)
                    continue
                value = line[8] or f"{line[6]} x {line[7]}"
                reject(line[0], "amount", value, _("Too large a number."))
            return self._priced(_columns(kept), reject)
        seqs, firsts = self.order_seqs, self.order_customer_dates
        # The batch's orders in the order the file names them, with a line's customer and
        # date (the last's: when lines disagree, check_across_lines rejects them, and the
        # orders are then written from the staged lines, see _only_new_orders).
        batch_orders = dict(zip(order_nos, zip(customers, dates, strict=True), strict=True))
        new = [order_no for order_no in batch_orders if order_no not in seqs]
        keys = self.seen_keys
        before = len(keys)
        keys.update(map(hash, zip(order_nos, line_nos, strict=True)))
        if (
            len(keys) - before != len(numbers)
            or len(set(zip(order_nos, customers, dates, strict=True))) != len(batch_orders)
            or any(
                firsts[seqs[order_no]] != batch_orders[order_no]
                for order_no in batch_orders.keys() - new
            )
        ):
            self.needs_exact_check = True
        if new:
            seqs.update(zip(new, range(len(firsts), len(firsts) + len(new)), strict=True))
            firsts.extend(map(batch_orders.__getitem__, new))
            self.order_totals.extend([0] * len(new))
            self.order_counts.extend([0] * len(new))
        order_seqs = list(map(seqs.__getitem__, order_nos))
        self.staged_products.update(products)
        self.last_row_number = numbers[-1]  # row numbers only grow
        totals, counts = self.order_totals, self.order_counts
        for seq, amount in zip(order_seqs, amounts, strict=True):
            totals[seq] += amount
        for seq, count in Counter(order_seqs).items():
            counts[seq] += count
        return (*lines[:8], amounts, order_seqs), new

    def _note_stored_orders(self, order_nos: list[str]) -> None:
        """Whether any of ``order_nos`` (new to the file) is stored already: a file with such
        an order is not written as new orders only (``_only_new_orders``). Asked batch by
        batch while the file streams, through the order number's unique index."""
        if self.orders_stored or not order_nos:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                # One string split by the server: a list of 12,500 numbers as an array
                # parameter cost the import 20 ms a batch to send.
                cursor.execute(
                    "SELECT 1 FROM sales_order "
                    "WHERE number = ANY(string_to_array(%s, E'\\n')) LIMIT 1",
                    ["\n".join(order_nos)],
                )
            else:
                cursor.execute(
                    "SELECT 1 FROM sales_order WHERE number IN "
                    "(SELECT value FROM json_each(%s)) LIMIT 1",
                    [json.dumps(order_nos)],
                )
            self.orders_stored = cursor.fetchone() is not None

    def order_rows(self) -> Iterator[tuple]:
        """(number in the file, order number, customer, date, sum, lines) of each order."""
        return (
            (
                seq,
                order_no,
                *self.order_customer_dates[seq],
                self.order_totals[seq],
                self.order_counts[seq],
            )
            for order_no, seq in self.order_seqs.items()
        )

    def _check_slowly(self, number: int, row: list[str]):
        get = self.positions.get
        values = {}
        problems = []

        def check(column, function):
            raw = row[get(column)].strip() if get(column) is not None else ""
            try:
                values[column] = function(raw)
            except Rejected as exc:
                problems.append((column, raw, exc.reason))

        def required(function):
            def wrapped(raw):
                if not raw:
                    raise Rejected(_("This column is required."))
                return function(raw)

            return wrapped

        def order_no(raw):
            raw = checks.text(raw, max_length=32)
            if not _ORDER_NO.match(raw):
                raise Rejected(_("An order number cannot hold tabs, line breaks or backslashes."))
            return raw

        def line_no(raw):
            if not _LINE_NO.match(raw):
                checks.refuse_formula(raw)
                raise Rejected(_("A line number is a whole number from 1."))
            return raw

        def lookup(mapping, reason):
            def find(raw):
                found = mapping.get(raw)
                if found is None:
                    checks.refuse_formula(raw)
                    raise Rejected(reason)
                return found

            return find

        check("order_no", required(order_no))
        check("line_no", required(line_no))

        def customer(raw):
            found = self.customer_ids.get(raw)
            if found is None:
                checks.refuse_formula(raw)
                # Orders are not booked on a card in the trash: it is hidden and may be purged.
                if raw in self.trashed_codes:
                    raise Rejected(trash_in_import_message())
                raise Rejected(_("Unknown customer, or not one of the customers you may change."))
            return found

        check("customer_code", required(customer))
        check("date", required(checks.date_iso))
        check("product_code", required(lookup(self.product_ids, _("Unknown product."))))
        check(
            "quantity",
            required(lambda raw: checks.number_text(raw, integer_digits=9, decimals=3)),
        )
        check(
            "unit_price",
            required(lambda raw: checks.number_text(raw, integer_digits=10, decimals=2)),
        )
        check(
            "amount",
            lambda raw: checks.number_text(raw, integer_digits=12, decimals=2) if raw else "",
        )
        if problems:
            for column, raw, reason in problems:
                self.reject(number, column, raw, reason)
            return None
        return (
            number,
            values["order_no"],
            values["line_no"],
            values["customer_code"],
            values["date"],
            values["product_code"],
            values["quantity"],
            values["unit_price"],
            values.get("amount", ""),
        )

    def staging_rows(self, lines: tuple):
        """Priced lines (columns, see ``_priced``) as ``stage`` takes them: for PostgreSQL,
        COPY's text format; the values were checked to hold no tab, line break or backslash,
        so nothing needs escaping and each line is one C-level format, no Python call per
        line (nor a list of tuples: zip hands the format one tuple again and again). For
        SQLite, the lines as tuples."""
        if self.postgres:
            return "".join(map(_COPY_LINE.__mod__, zip(*lines, strict=True))).encode()
        return zip(*lines, strict=True)

    def stage(self, rows, count: int) -> None:
        """Add ``count`` lines, as ``staging_rows`` made them, to the staging table."""
        if not count:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(
                    f"COPY {STAGE} (row_number, order_no, line_no, customer_id, date, "
                    "product_id, quantity, unit_price, amount, order_seq) FROM STDIN"
                ) as copy:
                    copy.write(rows)
            else:
                cursor.executemany(f"INSERT INTO {STAGE} VALUES ({', '.join(['?'] * 10)})", rows)
        self.staged += count

    def checked_batches(self, batches: Callable[[], Iterator[list]], *, in_child: bool):
        """Check the batches ``batches()`` yields; yield (rows for ``stage``, how many lines,
        how many rows were read) per batch. Rejections go to ``reject`` as they are found.

        With ``in_child``, reading and checking each line run in a forked process, and a
        thread of this one prices the lines the child sends and formats them for ``stage``
        (``_priced_batch``) while the caller stages the batch before: Python's work on a
        big file is shared by two cores and overlaps the database's (2,000,000 lines staged
        in 8.2-9.4 s instead of 10.8 s, measured). The child inherits what the checks need
        (customers, products, mapping) and never touches the database; neither does the
        thread.
        """
        if in_child:
            priced = _ahead_in_thread(self._checked_in_child(batches), self._priced_batch)
        else:
            priced = map(self._priced_batch, self._checked_here(batches))
        try:
            for rows, count, read, new_orders, rejections in priced:
                for rejection in rejections:
                    self.reject(*rejection)
                self._note_stored_orders(new_orders)
                yield rows, count, read
        finally:
            if in_child:
                priced.close()  # stops the thread, which stops the child

    def _priced_batch(self, checked: tuple) -> tuple:
        """(rows for ``stage``, how many lines, rows read, orders new to the file,
        rejections) of one checked batch (lines, rows read, rejections)."""
        lines, read, rejections = checked
        rejections = list(rejections)
        lines, new_orders = self._priced(lines, lambda *rejection: rejections.append(rejection))
        return self.staging_rows(lines), len(lines[0]), read, new_orders, rejections

    def _checked_here(self, batches):
        for batch in batches():
            yield self._checked(batch), len(batch), ()

    def _checked_in_child(self, batches) -> Iterator[tuple]:
        """Start the child that checks the file (forked here, before any thread starts) and
        return the batches it sends, as (lines, rows read, rejections)."""
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=self._check_in_child, args=(batches, sending))
        child.start()
        sending.close()
        return self._received(child, receiving)

    def _received(self, child, receiving) -> Iterator[tuple]:
        try:
            while True:
                try:
                    message = receiving.recv()
                except EOFError:  # killed, or out of memory: it could not say
                    child.join()
                    raise RuntimeError(
                        _("The process checking the file ended unexpectedly (exit code %(code)s).")
                        % {"code": child.exitcode}
                    ) from None
                if message[0] == "batch":
                    _tag, lines, read, rejections = message
                    yield _unpacked(lines), read, rejections
                elif message[0] == "done":
                    return
                else:
                    raise message[1]
        finally:
            receiving.close()
            if child.is_alive():
                child.terminate()  # cancelled or failed here: the child's work is moot
            child.join()

    def _check_in_child(self, batches, sending) -> None:
        """The forked child's work (see ``checked_batches``); it ends with os._exit, so
        nothing it inherited (database connections above all) is closed or flushed."""
        rejections = []
        self.reject = lambda *rejection: rejections.append(rejection)
        try:
            for batch in batches():
                sending.send(("batch", _packed(self._checked(batch)), len(batch), rejections))
                rejections.clear()
            sending.send(("done",))
        except Exception as exc:  # any failure is the parent's to raise
            try:
                sending.send(("error", exc))
            except Exception:  # one that cannot be pickled
                sending.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))

    # --- checks across lines -------------------------------------------------------------

    def _analyze_stage(self) -> None:
        """Statistics for the staging table, before the first query that joins or sorts it:
        temporary tables are never analysed on their own, and without row counts the planner
        joins millions of staged lines with nested loops. (A big file of new orders is
        only read through once, see ``_insert_new_orders``: it needs none.)"""
        if not getattr(self, "stage_analyzed", False):
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {STAGE}")
            self.stage_analyzed = True

    def check_across_lines(self) -> None:
        """Duplicate keys and lines of one order that disagree on customer or date: reported
        like any other rejected row, each with the row it conflicts with.

        Skipped when the hashes kept while reading saw no repeated key and no order with
        disagreeing lines: the usual clean file.
        """
        self._reject_orders_of_trashed_cards()
        self.seen_keys.clear()
        if not self.needs_exact_check:
            return
        self._analyze_stage()
        sql = f"""
            SELECT row_number, order_no, line_no, dup_of, first_row, other_customer, other_date
            FROM (
                SELECT row_number, order_no, line_no,
                    CASE WHEN row_number() OVER key_rows > 1
                         THEN first_value(row_number) OVER key_rows END AS dup_of,
                    first_value(row_number) OVER order_rows AS first_row,
                    customer_id <> first_value(customer_id) OVER order_rows AS other_customer,
                    date <> first_value(date) OVER order_rows AS other_date
                FROM {STAGE}
                WINDOW key_rows AS (PARTITION BY order_no, line_no ORDER BY row_number),
                       order_rows AS (PARTITION BY order_no ORDER BY row_number)
            ) checked
            WHERE dup_of IS NOT NULL OR other_customer OR other_date
            ORDER BY row_number
        """
        bad = []
        with connection.cursor() as cursor:
            cursor.execute(sql)
            for number, order_no, line_no, dup_of, first, customer, date in cursor:
                bad.append(number)
                key = f"{order_no} / {line_no}"
                if dup_of is not None:
                    self.reject(
                        number,
                        "line_no",
                        key,
                        _("Duplicate key: the same order and line number are on row %(row)d.")
                        % {"row": dup_of},
                    )
                if customer:
                    self.reject(
                        number,
                        "customer_code",
                        key,
                        _("Row %(row)d of the same order names another customer.") % {"row": first},
                    )
                if date:
                    self.reject(
                        number,
                        "date",
                        key,
                        _("Row %(row)d of the same order has another date.") % {"row": first},
                    )
        if bad:
            with transaction.atomic(), connection.cursor() as cursor:
                for start in range(0, len(bad), 500):
                    chunk = bad[start : start + 500]
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(f"DELETE FROM {STAGE} WHERE row_number IN ({marks})", chunk)
                self.staged -= len(bad)
                self.order_sums_hold = False

    def _reject_orders_of_trashed_cards(self) -> None:
        """An order already booked on a card in the trash stays with it: lines naming its
        number are rejected, so restoring the card brings its orders back as they were.
        One look at the (small, indexed) trash when it is empty, which is the usual case."""
        if not Customer._base_manager.filter(deleted_at__isnull=False).exists():
            return
        self._analyze_stage()
        sql = f"""
            SELECT s.row_number, s.order_no FROM {STAGE} s
            WHERE s.order_no IN (
                SELECT o.number FROM sales_order o
                JOIN customers_customer c ON c.id = o.customer_id
                WHERE c.deleted_at IS NOT NULL
            )
            ORDER BY s.row_number
        """
        with connection.cursor() as cursor:
            cursor.execute(sql)
            bad = cursor.fetchall()
        if not bad:
            return
        reason = _("This order belongs to a card in the trash: restore the card first.")
        for number, order_no in bad:
            self.reject(number, "order_no", order_no, reason)
        numbers = [number for number, _order_no in bad]
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, len(numbers), 500):
                chunk = numbers[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {STAGE} WHERE row_number IN ({marks})", chunk)
        self.staged -= len(numbers)
        self.order_sums_hold = False

    # --- writing (inside the caller's transaction) ----------------------------------------

    def write(self, check_cancel) -> tuple[tuple[int, int, int], set[int]]:
        """Upsert orders and lines from the staging table; (created, updated, unchanged) of
        the lines, and the customers whose orders changed."""
        now = timezone.now()
        touched: set[int] = set()
        with connection.cursor() as cursor:
            if self.postgres:
                # For this transaction only: the default 4 MB makes the grouping of the
                # staged lines by order, the join of lines to their orders and the checks of
                # the keys spill to temporary files once a file has a few hundred thousand
                # lines.
                cursor.execute(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM_MB}MB'")
            if self._only_new_orders():
                return self._insert_new_orders(cursor, check_cancel)
            keys = (
                self._drop_line_keys(cursor)
                if self.postgres and self.staged >= BULK_KEY_LINES
                else []
            )
            self._analyze_stage()
            # Orders the file names that exist already, per their stored customer, and how
            # many of them change customer or date (the old customer's figures change too).
            cursor.execute(
                "SELECT o.customer_id, count(*), sum(CASE WHEN o.customer_id <> s.customer_id "
                "OR o.date <> s.date THEN 1 ELSE 0 END) FROM sales_order o JOIN "
                f"(SELECT DISTINCT order_no, customer_id, date FROM {STAGE}) s "
                "ON o.number = s.order_no GROUP BY o.customer_id"
            )
            existing_orders = changed_orders = 0
            for customer_id, count, changed in cursor.fetchall():
                existing_orders += count
                changed_orders += changed
                if changed:
                    touched.add(customer_id)
            indexes = (
                self._drop_indexes(cursor)
                if self.staged >= BULK_KEY_LINES
                and not existing_orders
                and self._lines_beside_import(cursor)
                else []
            )
            if changed_orders:
                cursor.execute(
                    "UPDATE sales_order SET customer_id = s.customer_id, date = s.date, "
                    "updated_at = %s FROM "
                    f"(SELECT DISTINCT order_no, customer_id, date FROM {STAGE}) s "
                    "WHERE sales_order.number = s.order_no "
                    "AND (sales_order.customer_id <> s.customer_id OR sales_order.date <> s.date)",
                    [now],
                )
            # New orders with a plain INSERT, not an upsert: ON CONFLICT DO UPDATE costs more
            # per row and locks (writes) every existing order even when it changes nothing.
            # A new order's lines are all in the file, so its totals come with it; an order
            # that exists keeps its totals until _recompute_totals, which then rewrites only
            # the orders whose totals differ (not every order again). An order number that
            # another import adds meanwhile fails the unique constraint: all is rolled back.
            # A file whose orders are all stored (a re-import) has none to add: it skips the
            # grouping of every staged line.
            new_orders = 0
            if not (self.order_sums_hold and existing_orders == len(self.order_seqs)):
                cursor.execute(
                    "INSERT INTO sales_order (number, customer_id, date, channel, status, "
                    "total_amount, line_count, created_at, updated_at) "
                    "SELECT g.order_no, g.customer_id, g.date, 'other', 'confirmed', g.total, "
                    "g.lines, %s, %s FROM "
                    "(SELECT order_no, customer_id, date, sum(s.amount) AS total, "
                    f"count(*) AS lines FROM {STAGE} s GROUP BY order_no, customer_id, date) g "
                    "WHERE NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.number = g.order_no)",
                    [now, now],
                )
                new_orders = cursor.rowcount
            check_cancel()
            if self.postgres:
                # The import's own transaction only: a crash loses the import, never old data.
                cursor.execute("SET LOCAL synchronous_commit = off")
                lines_before = 0
            else:
                cursor.execute("SELECT count(*) FROM sales_orderline")
                lines_before = cursor.fetchone()[0]
            columns = (
                "INSERT INTO sales_orderline (order_id, line_no, customer_id, date, product_id, "
                "quantity, unit_price, amount) "
                f"SELECT o.id, s.line_no, s.customer_id, s.date, s.product_id, s.quantity, "
                f"s.unit_price, s.amount FROM {STAGE} s JOIN sales_order o "
                "ON o.number = s.order_no "
            )
            # Orders this import created (created_at is this write's own timestamp) have no
            # lines yet: their lines go in with a plain INSERT, which costs PostgreSQL about
            # 40% less than an upsert (measured). A key that did exist would fail the unique
            # constraint and roll the import back, never be overwritten. Each of the two
            # statements joins every staged line to its order, so each runs only when it
            # has orders to write: a first import skips the upsert, a re-import the INSERT.
            new_order_lines = 0
            if new_orders:
                cursor.execute(columns + "WHERE o.created_at = %s", [now])
                new_order_lines = cursor.rowcount
            if new_order_lines:
                cursor.execute(
                    "SELECT DISTINCT customer_id FROM sales_order WHERE created_at = %s", [now]
                )
                touched.update(row[0] for row in cursor.fetchall())
            check_cancel()
            upsert = (
                columns + "WHERE o.created_at <> %s "
                # Lines already stored as the file has them are left out before the upsert:
                # an ON CONFLICT DO UPDATE whose WHERE is false still locks the stored line
                # (on PostgreSQL a write per line), and most lines of a re-import are these.
                "AND NOT EXISTS (SELECT 1 FROM sales_orderline l WHERE l.order_id = o.id "
                "AND l.line_no = s.line_no AND l.customer_id = s.customer_id "
                "AND l.date = s.date AND l.product_id = s.product_id "
                "AND l.quantity = s.quantity AND l.unit_price = s.unit_price "
                "AND l.amount = s.amount) "
                "ON CONFLICT (order_id, line_no) DO UPDATE SET "
                "customer_id = excluded.customer_id, date = excluded.date, "
                "product_id = excluded.product_id, quantity = excluded.quantity, "
                "unit_price = excluded.unit_price, amount = excluded.amount "
                "WHERE sales_orderline.customer_id <> excluded.customer_id "
                "OR sales_orderline.date <> excluded.date "
                "OR sales_orderline.product_id <> excluded.product_id "
                "OR sales_orderline.quantity <> excluded.quantity "
                "OR sales_orderline.unit_price <> excluded.unit_price "
                "OR sales_orderline.amount <> excluded.amount "
                "RETURNING customer_id{inserted}"
            )
            if not existing_orders:
                written = created = new_order_lines
            elif self.postgres:
                # xmax = 0 marks a row this statement inserted (not one it updated): the
                # counts come from the upsert itself, not from counting the whole table twice.
                cursor.execute(
                    f"WITH written AS ({upsert.format(inserted=', xmax = 0 AS inserted')}) "
                    "SELECT customer_id, count(*), count(*) FILTER (WHERE inserted) "
                    "FROM written GROUP BY customer_id",
                    [now],
                )
                written_by_customer = cursor.fetchall()
                written = sum(count for _id, count, _new in written_by_customer)
                created = sum(new for _id, _count, new in written_by_customer)
                touched.update(customer_id for customer_id, _count, _new in written_by_customer)
                written += new_order_lines
                created += new_order_lines
            else:
                cursor.execute(upsert.format(inserted=""), [now])
                written = new_order_lines
                for (customer_id,) in cursor.fetchall():
                    written += 1
                    touched.add(customer_id)
                cursor.execute("SELECT count(*) FROM sales_orderline")
                created = cursor.fetchone()[0] - lines_before
            check_cancel()
            if written > new_order_lines:
                self._recompute_totals(cursor, now)
            self._restore_indexes(cursor, indexes)
            self._restore_line_keys(cursor, keys)
        return (created, written - created, self.staged - written), touched

    def _only_new_orders(self) -> bool:
        """Whether a big file holds only orders that were not stored while it was read, with
        every line as checked (none taken out since): then ``_insert_new_orders`` writes it.
        An order of that number that another import stores meanwhile fails the order
        number's unique index when it is built again: the import is rolled back."""
        return self.staged >= BULK_KEY_LINES and self.order_sums_hold and not self.orders_stored

    def _insert_new_orders(self, cursor, check_cancel):
        """Write a file of new orders: each order and each line gets its id from its number
        in the file (a block of ids is taken from the tables' sequences first), so the
        lines need no join to their order and the orders no grouping of the lines; the
        orders' sums and line counts were added up while the file was checked.

        Measured on PostgreSQL, 2,000,000 lines: the orders went in in 1.5 s instead of 5.0 s,
        the lines in 3.0-3.4 s instead of 8.6 s (no join, and no sequence call per line).

        The keys (order to customer, line to order and product) are checked once for the
        whole file where the database role may turn off the triggers that check them row
        by row (``_key_triggers_off``); otherwise the lines' keys are dropped and added
        back, and each new order's key to its customer is checked on its own.
        """
        triggers_off = self.postgres and self._key_triggers_off(cursor)
        keys = self._drop_line_keys(cursor) if self.postgres and not triggers_off else []
        orders_base = self._reserve_ids(cursor, "sales_order", len(self.order_seqs))
        lines_base = self._reserve_ids(cursor, "sales_orderline", self.last_row_number)
        indexes = self._drop_indexes(cursor) if self._lines_beside_import(cursor) else []
        if self.postgres:
            # The import's own transaction only: a crash loses the import, never old data.
            cursor.execute("SET LOCAL synchronous_commit = off")
        self._write_new_orders(cursor, orders_base)
        check_cancel()
        cursor.execute(
            "INSERT INTO sales_orderline (id, order_id, line_no, customer_id, date, product_id, "
            "quantity, unit_price, amount) "
            "SELECT %s + row_number, %s + order_seq, line_no, customer_id, date, product_id, "
            f"quantity, unit_price, amount FROM {STAGE}",
            [lines_base, orders_base],
        )
        if triggers_off:
            self._check_keys_at_once(cursor)
        check_cancel()
        self._restore_indexes(cursor, indexes)
        self._restore_line_keys(cursor, keys)
        touched = {customer_id for customer_id, _date in self.order_customer_dates[1:]}
        return (self.staged, 0, 0), touched

    def _write_new_orders(self, cursor, base: int) -> None:
        """The file's orders (``order_rows``) straight into the orders table, with ids from
        ``base``: COPY on PostgreSQL, executemany on SQLite. Their created and updated times
        are the database's (``Order.created_at``); no staging table, no INSERT … SELECT."""
        kinds = (OrderChannel.OTHER.value, OrderStatus.CONFIRMED.value)
        # Order numbers were checked to hold no tab, line break or backslash (see
        # staging_rows); channel and status are Tokui's own words.
        copy_format = "%d\t%s\t%d\t%s\t%s\t%d\t" + "\t".join(kinds) + "\n"
        rows = ((base + seq, *order) for seq, *order in self.order_rows())
        columns = "id, number, customer_id, date, total_amount, line_count, channel, status"
        if not self.postgres:
            cursor.executemany(
                f"INSERT INTO sales_order ({columns}) VALUES ({', '.join(['?'] * 8)})",
                ((*order, *kinds) for order in rows),
            )
            return
        # One COPY, written a chunk at a time: the server takes in one chunk while the
        # next is formatted.
        with cursor.cursor.copy(f"COPY sales_order ({columns}) FROM STDIN") as copy:
            while chunk := list(islice(rows, 20_000)):
                copy.write("".join(map(copy_format.__mod__, chunk)).encode())

    def _key_triggers_off(self, cursor) -> bool:
        """Turn off, for the rest of this write, the triggers that check foreign keys row by
        row (``session_replication_role = replica``), if the database role may: a superuser,
        or a role granted it (PostgreSQL 15: ``GRANT SET ON PARAMETER
        session_replication_role TO …``, see docs/deployment.md).

        Checked per row, the new orders' key to their customer alone cost a file of
        2,000,000 lines 2.7 s, and dropping the lines' keys to add them back 1.3 s and an
        exclusive lock on the products until the commit (measured). Turned off, they are
        checked once for the file by ``_check_keys_at_once``, which takes the same row
        locks the triggers would. Tokui has no triggers of its own for this to skip.
        """
        if connection.pg_version >= 150000:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        else:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT set_config('session_replication_role', 'replica', true)")
        return True

    def _check_keys_at_once(self, cursor) -> None:
        """With the key triggers off (``_key_triggers_off``): turn them on again, and check
        every key of the new orders and lines at once, as the triggers would have: each
        customer and product the file names must still exist, and is locked against
        deletion (FOR KEY SHARE) until the commit. Each line's order needs no look-up: it
        is one this import has just inserted, both ids coming from the one numbering of the
        file's orders (``_priced``)."""
        cursor.execute("SELECT set_config('session_replication_role', 'origin', true)")
        for model, ids in (
            (Customer, {customer_id for customer_id, _date in self.order_customer_dates[1:]}),
            (Product, self.staged_products),
        ):
            table = model._meta.db_table
            cursor.execute(
                f"WITH found AS (SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE) "
                "SELECT count(*) FROM found",
                [sorted(ids)],
            )
            if cursor.fetchone()[0] != len(ids):
                raise RuntimeError(
                    _("A customer or product of this file was deleted during the import.")
                )

    def _reserve_ids(self, cursor, table: str, count: int) -> int:
        """A base such that ids base + 1 … base + count of ``table`` are free and stay so: no
        row has them and its sequence will not hand them out. Another import or form cannot
        take one meanwhile: the table is locked against writes until the commit (PostgreSQL;
        readers go on), or the database is (SQLite writes one transaction at a time)."""
        if self.postgres:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT greatest(nextval(%s), (SELECT coalesce(max(id), 0) + 1 FROM {table}))",
                [sequence],
            )
            base = cursor.fetchone()[0] - 1
            cursor.execute("SELECT setval(%s, %s)", [sequence, base + count])
            return base
        # Django's SQLite tables are AUTOINCREMENT: ids of deleted rows are not used again.
        cursor.execute(
            f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        return cursor.fetchone()[0]

    def _drop_line_keys(self, cursor) -> list[tuple[str, str]]:
        """Drop the order lines' foreign keys to their order and product, in this
        transaction only; ``_restore_line_keys`` adds them back before the commit, and adding
        a foreign key checks every line of the table against it in one join.

        Checked line by line, each of these keys costs every new line a look-up when the
        import commits (measured: 300,000 lines, 4.2 s of checks at commit against 0.4 s to
        check the whole table at once). The price: until the import commits, its ALTER TABLE
        locks order lines, orders and products, so pages that read them (order pages, a
        card's latest orders) wait for it. The orders' key to the customer keeps its
        check per order: locking the customers too would stop customer lists and search.
        """
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'sales_orderline'::regclass AND contype = 'f' "
            "AND confrelid IN ('sales_order'::regclass, 'sales_product'::regclass) "
            "ORDER BY conname"
        )
        keys = cursor.fetchall()
        if keys:
            _run_pending_checks(cursor)
            cursor.execute(
                "LOCK TABLE sales_orderline, sales_order, sales_product IN ACCESS EXCLUSIVE MODE"
            )
        for name, _definition in keys:
            cursor.execute(
                f"ALTER TABLE sales_orderline DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
        return keys

    def _lines_beside_import(self, cursor) -> bool:
        """Whether the order lines already stored are no more than this import adds: then
        building the indexes anew over the whole tables costs less than adding each new
        line and order to them (see ``_drop_indexes``). PostgreSQL's row estimate will do
        once the table has been analysed; before that (-1), and on SQLite, the lines are
        counted, but never more than one past the import's."""
        if self.postgres:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'sales_orderline'::regclass")
            estimate = cursor.fetchone()[0]
            if estimate >= 0:
                return estimate <= self.staged
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM sales_orderline LIMIT %s) stored",
            [self.staged + 1],
        )
        return cursor.fetchone()[0] <= self.staged

    def _drop_indexes(self, cursor) -> list[tuple[str, str, str, str]]:
        """Drop the secondary indexes of the order lines and the orders, in this transaction
        only, for an import of new orders at least as big as the tables; ``_restore_indexes``
        builds them again before the commit.

        Each new line goes into four B-trees and each new order into three more (its
        number twice on PostgreSQL: unique, and for prefix searches), at places all over
        them, a page write and its log record each time; building an index sorts the table
        once and writes each page once (measured on PostgreSQL, 2,000,000 lines: 11.9 s to
        insert the lines with their indexes against 7.6 s without, and the indexes built in
        4.4 s). Only imports of new orders come here: an upsert of existing orders' lines
        needs the unique index.

        PostgreSQL: every index of the lines, the orders' but their primary key (the lines'
        key to their order comes back after this and needs it); the tables are already
        locked by ``_drop_line_keys``. SQLite: the indexes it lets go (unique constraints
        written into the table stay); its readers keep their snapshot, so nobody waits.
        """
        if self.postgres:
            _run_pending_checks(cursor)
            cursor.execute(
                "SELECT t.relname, c.relname, con.conname, "
                "CASE WHEN con.oid IS NULL THEN pg_get_indexdef(i.indexrelid) "
                "ELSE pg_get_constraintdef(con.oid) END "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_class t ON t.oid = i.indrelid "
                "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
                "AND con.conrelid = i.indrelid "
                "WHERE i.indrelid = 'sales_orderline'::regclass "
                "OR (i.indrelid = 'sales_order'::regclass AND NOT i.indisprimary) "
                "ORDER BY t.relname, c.relname"
            )
        else:
            cursor.execute(
                "SELECT tbl_name, name, NULL, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('sales_order', 'sales_orderline') AND sql IS NOT NULL "
                "ORDER BY tbl_name, name"
            )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        for table, index, constraint, _definition in indexes:
            if constraint:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint)}")
            else:
                cursor.execute(f"DROP INDEX {quote(index)}")
        return indexes

    def _restore_indexes(self, cursor, indexes: list[tuple[str, str, str, str]]) -> None:
        if not indexes:
            return
        if self.postgres:
            # For this transaction only: sorts for the index builds in memory, not in files.
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{POSTGRES_WORK_MEM_MB}MB'")
            # The new orders' customer key has a check pending for each: run them now (as
            # the commit would), or CREATE INDEX refuses the table (deferred again after
            # the keys, which always come back after the indexes).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        quote = connection.ops.quote_name
        for table, _index, constraint, definition in indexes:
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} {definition}"
                )
            else:
                cursor.execute(definition)

    def _restore_line_keys(self, cursor, keys: list[tuple[str, str]]) -> None:
        if not keys:
            return
        # The new orders' customer key has a check pending for each: run them now (as the
        # commit would), or ALTER TABLE refuses the tables.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, definition in keys:
            cursor.execute(
                f"ALTER TABLE sales_orderline ADD CONSTRAINT {connection.ops.quote_name(name)} "
                + definition
            )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _recompute_totals(self, cursor, now) -> None:
        """Totals and line counts of the orders this file names that existed before it,
        set-based. An order this import created got its totals from all of its lines, which
        were all in the file, when it was inserted: summing its lines again is the same."""
        cursor.execute(
            "UPDATE sales_order SET total_amount = t.total, line_count = t.lines, "
            "updated_at = %s FROM (SELECT l.order_id, sum(l.amount) AS total, "
            "count(*) AS lines FROM sales_orderline l WHERE l.order_id IN "
            f"(SELECT o.id FROM sales_order o WHERE o.number IN (SELECT order_no FROM {STAGE}) "
            "AND o.created_at <> %s) "
            "GROUP BY l.order_id) t WHERE sales_order.id = t.order_id "
            "AND (sales_order.total_amount <> t.total OR sales_order.line_count <> t.lines)",
            [now, now],
        )


def _run_pending_checks(cursor) -> None:
    """Run the key checks still pending in this transaction (PostgreSQL; they would run at
    commit anyway), then defer checks again, as Django declares its keys: ALTER TABLE and
    DROP INDEX refuse a table with checks pending."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _dates(texts) -> list[str] | None:
    """ISO dates for a column of date cells, or None when one is not a date (or the cache of
    dates is full): the line-by-line path then says which."""
    cache = checks._date_cache
    dates = list(map(cache.get, texts))
    if None in dates:
        for text in set(texts).difference(cache):
            try:
                checks.date_iso(text)
            except Rejected:
                return None
        dates = list(map(cache.get, texts))
        if None in dates:
            return None
    return dates


def _amounts(quantities, prices, given) -> list:
    """Each line's amount: the file's (``given``), or quantity x unit price. Whole numbers
    stay integers (one multiplication in C per line); a decimal point anywhere makes the
    batch use exact decimals, rounded half up to the cent as PostgreSQL's round() does."""
    if not any(given):
        if "." not in "".join(quantities) and "." not in "".join(prices):
            return list(map(operator.mul, map(int, quantities), map(int, prices)))
        return list(map(_times, quantities, prices))
    return [
        (_number(amount) if amount else _times(quantity, price))
        for quantity, price, amount in zip(quantities, prices, given, strict=True)
    ]


def _times(quantity: str, price: str):
    if "." in quantity or "." in price:
        return (Decimal(quantity) * Decimal(price)).quantize(CENT, ROUND_HALF_UP)
    return int(quantity) * int(price)


def _number(text: str):
    return Decimal(text) if "." in text else int(text)


NO_LINES = ((),) * 9
NO_PRICED_LINES = ((),) * 10


# Columns of checked lines (see OrderImport._checked) that hold integers: the row numbers,
# customers and products; the others hold text.
_INTEGER_COLUMNS = (0, 3, 5)


def _ahead_in_thread(items: Iterator, work: Callable) -> Iterator:
    """``work(item)`` for each of ``items``, in order, worked out in a thread a batch or two
    ahead of the caller. A failure in the thread is raised in the caller; when the caller
    stops early (a cancel, a failure), the thread stops at its next item and closes
    ``items``. The thread speaks the caller's language (its rejections, its errors).

    Python lets one thread run at a time, but the caller mostly waits for the database
    (COPY, executemany), which lets the thread run. While this runs, threads take turns
    every 0.5 ms instead of 5: the caller's COPY hands Python over to it at every 128 KB
    it sends, and would wait up to a turn each time to get it back.
    """
    results = queue.Queue(maxsize=2)
    stopping = threading.Event()

    def put(message) -> bool:
        while not stopping.is_set():
            try:
                results.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            with translation.override(language):
                for item in items:
                    if not put(("result", work(item))):
                        return
            put(("done", None))
        except BaseException as exc:  # the caller's to raise
            put(("error", exc))
        finally:
            items.close()

    language = translation.get_language()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    thread = threading.Thread(target=produce, name="tokui-order-import", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = results.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stopping.set()
        thread.join()
        sys.setswitchinterval(interval)


def _packed(lines: tuple) -> tuple:
    """Checked lines (columns) as the child sends them: each column of integers an array,
    each column of text one string, its values joined by line breaks, which no checked
    value holds (see staging_rows). Pickled, 50,000 lines as separate objects took 35 ms to
    send and 50 ms to receive; so, 16 and 38 ms."""
    return len(lines[0]), [
        array("q", column) if index in _INTEGER_COLUMNS else "\n".join(column)
        for index, column in enumerate(lines)
    ]


def _unpacked(packed: tuple) -> tuple:
    count, columns = packed
    if not count:
        return NO_LINES
    return tuple(
        column.tolist() if isinstance(column, array) else column.split("\n") for column in columns
    )


def _columns(lines: list[tuple]) -> tuple:
    """Lines (tuples of nine values) as nine columns, as ``OrderImport._checked`` gives them."""
    return tuple(zip(*lines, strict=True)) if lines else NO_LINES

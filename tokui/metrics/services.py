"""Recompute the figures per customer (CARD-4) from orders, order lines and payments.

The work is set-based SQL inside the database, for every customer or for the touched ones,
in a constant number of statements: nothing here loops over customers or lines in Python.

The order lines are read once and summed per customer, brand and category ("line groups",
brands and categories as small integers); the totals per customer, the quantity per brand and
the amount per category are summed again from those groups, which are fewer than the lines,
and every figure comes from those sums, the orders and the payments.

Every refresh is one DELETE and one INSERT … SELECT in one transaction; a full refresh on
PostgreSQL outside a transaction is that, once per session, each for a part of the customers
(``_refresh_in_parts``). A partial refresh
(``customer_ids``) reads the touched customers' lines through their index; a full one reads
every line, and on PostgreSQL sets a larger ``work_mem``, and no hashed aggregation unless
the groups are few, for its transaction only (FULL_REFRESH_SETTINGS), then puts them back.
Nothing is staged in a temporary table: tried, PostgreSQL parallelised too little of
``CREATE TABLE … AS`` to pay for writing the groups out and reading them back
(docs/performance.md).

Rules (docs/metrics.md):
- cancelled orders and their lines count for nothing;
- "orders" are the customer's orders that are not cancelled;
- the trailing 12 months are the dates after the same day one year ago, up to today;
- a customer with neither orders nor payments has no row.
"""

import datetime
import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tokui.customers.models import Customer
from tokui.sales.choices import OrderStatus
from tokui.sales.models import Order, OrderLine, Payment, Product

from .models import CustomerMetrics

# Figure columns, in the order the SELECT below yields them.
FIGURE_COLUMNS = (
    "customer_id",
    "first_order_date",
    "last_order_date",
    "order_count",
    "order_count_12m",
    "quantity_total",
    "amount_total",
    "average_unit_price",
    "average_order_value",
    "amount_12m",
    "monthly_quantity_12m",
    "monthly_amount_12m",
    "mean_days_between_orders",
    "tenure_days",
    "top_brand",
    "top_brand_share",
    "category_mix",
    "payments_total",
    "balance",
    "computed_at",
)

# Planner settings for a full PostgreSQL refresh, for its transaction only (put back after,
# as a caller's transaction may go on): sorts of millions of lines in memory rather than in
# temporary files at the default 4MB, and no hashed grouping of them once there may be more
# than HASHED_GROUPS_MAX groups of lines (customer, brand, category): their numeric running
# sums take several hundred bytes per group and spill to disk batch after batch (medium
# dataset, 87,000 customers: 12 s hashed against 5.5 s sorted). Fewer groups fit in memory
# and hashing them beats sorting the lines (1,000 customers, 2,000,000 lines: 2.3 s against
# 3.2 s).
FULL_REFRESH_SETTINGS = {"work_mem": "512MB", "enable_hashagg": "off"}
HASHED_GROUPS_MAX = 200_000


def _vendor_sql() -> dict[str, str]:
    """The few expressions SQLite and PostgreSQL spell differently."""
    if connection.vendor == "postgresql":
        return {
            "days": "({later} - {earlier})",
            "json_object_agg": "jsonb_object_agg({key}, {value})",
            "empty_json": "'{}'::jsonb",
            "touched": "{column} = ANY(%(customer_ids)s)",
            "scan_all": "",
            # An anti-join: PostgreSQL hashes the (few) cancelled orders.
            "live_line": """NOT EXISTS (
            SELECT 1 FROM {orders} o WHERE o.id = l.order_id AND o.status = %(cancelled)s
        )""",
            # The brand with the most quantity, ties to the smallest brand number, in one
            # aggregate per customer: arrays compare element by element, so the greatest
            # [quantity, -brand number] is the top brand. No sort of every brand row.
            "top_brands": """
        SELECT r.customer_id, b.brand, r.top[1] AS quantity
        FROM (
            SELECT customer_id, MAX(ARRAY[quantity, -brand_no]) AS top
            FROM brand_quantities GROUP BY customer_id
        ) r
        JOIN brands b ON b.brand_no = -r.top[2]""",
        }
    return {
        "days": "CAST(julianday({later}) - julianday({earlier}) AS INTEGER)",
        "json_object_agg": "json_group_object({key}, {value})",
        "empty_json": "'{}'",
        "touched": "{column} IN (SELECT value FROM json_each(%(customer_ids)s))",
        # Every line is read: in table order, not through the customer index's random reads.
        "scan_all": "NOT INDEXED",
        # SQLite runs NOT EXISTS as one look-up in the orders per line; NOT IN reads the
        # cancelled orders once into a small index in memory (2,000,000 lines: 1.5 s less).
        "live_line": """l.order_id NOT IN (
            SELECT o.id FROM {orders} o WHERE o.status = %(cancelled)s
        )""",
        "top_brands": """
        -- One grouped row per customer: SQLite indexes this for the final join, where it
        -- would scan a plain filter of the ranks once per customer.
        SELECT r.customer_id, b.brand, r.quantity
        FROM (
            SELECT customer_id,
                   MAX(CASE WHEN brand_rank = 1 THEN brand_no END) AS brand_no,
                   MAX(CASE WHEN brand_rank = 1 THEN quantity END) AS quantity
            FROM (
                SELECT customer_id, brand_no, quantity,
                       ROW_NUMBER() OVER (
                           PARTITION BY customer_id ORDER BY quantity DESC, brand_no
                       ) AS brand_rank
                FROM brand_quantities
            ) ranks
            GROUP BY customer_id
        ) r
        JOIN brands b ON b.brand_no = r.brand_no""",
    }


def _keys_sql() -> str:
    """CTEs numbering brands and categories in their sort order, and each product's numbers:
    lines are grouped by these small integers, cheaper to hash and sort than the names, which
    are joined back only for the top brand and the category mix."""
    return f"""
    brands AS (
        SELECT brand, ROW_NUMBER() OVER (ORDER BY brand) AS brand_no
        FROM (SELECT DISTINCT brand FROM {Product._meta.db_table}) b
    ),
    categories AS (
        SELECT category, ROW_NUMBER() OVER (ORDER BY category) AS category_no
        FROM (SELECT DISTINCT category FROM {Product._meta.db_table}) c
    ),
    product_keys AS {"NOT MATERIALIZED" if connection.vendor == "postgresql" else "MATERIALIZED"} (
        -- SQLite: its own table, so that SQLite reads the lines once and looks each product
        -- up rather than reading every line once per brand. PostgreSQL: inlined, so that it
        -- hashes the products (a CTE hides their number: it looped over the products and
        -- fetched each one's lines through the index, 10M random reads).
        SELECT p.id, b.brand_no, c.category_no
        FROM {Product._meta.db_table} p
        JOIN brands b ON b.brand = p.brand
        JOIN categories c ON c.category = p.category
    )"""  # noqa: S608


def _line_sums_sql(*, customers: str) -> str:
    """CTEs ending in the live lines' sums per customer (``line_totals``), per customer and
    brand number (``brand_quantities``) and per customer and category number
    (``category_amounts``), for the customers ``customers`` keeps (see ``_customer_filter``)."""
    vendor = _vendor_sql()
    in_12m = "l.date > %(year_ago)s AND l.date <= %(today)s"
    # FILTER, not SUM(CASE … ELSE 0): lines outside the 12 months (most of them) are skipped
    # instead of adding a zero; a customer without such lines gets NULL, read as 0 below.
    sums = f"""SUM(l.quantity) AS quantity, SUM(l.amount) AS amount,
               SUM(l.quantity) FILTER (WHERE {in_12m}) AS quantity_12m,
               SUM(l.amount) FILTER (WHERE {in_12m}) AS amount_12m"""
    live_line = vendor["live_line"].format(orders=Order._meta.db_table)
    only_these = f"AND {customers.format(column='l.customer_id')}" if customers else ""
    lines = f"""{OrderLine._meta.db_table} l {"" if customers else vendor["scan_all"]}
        JOIN product_keys p ON p.id = l.product_id
        WHERE {live_line} {only_these}"""
    # The lines are summed once per customer, brand and category (one sort of the lines);
    # the three groupings are summed from those fewer rows, not from every line again.
    regroup = """SUM(quantity) AS quantity, SUM(amount) AS amount,
               SUM(quantity_12m) AS quantity_12m, SUM(amount_12m) AS amount_12m"""
    line_groups = f"""
        SELECT l.customer_id, p.brand_no, p.category_no, {sums}
        FROM {lines}
        GROUP BY l.customer_id, p.brand_no, p.category_no"""  # noqa: S608
    # Products without a brand count in the totals but cannot be the top brand.
    branded = "brand_no <> (SELECT COALESCE(MAX(brand_no), 0) FROM brands WHERE brand = '')"
    if connection.vendor == "postgresql":
        # A subquery, not a CTE: its rows come out sorted by customer and brand, so the
        # customer and brand groupings need no second sort (only the category one does).
        return f"""
    line_sets AS MATERIALIZED (
        SELECT customer_id, brand_no, category_no,
               GROUPING(brand_no, category_no) AS level, {regroup}
        FROM ({line_groups}
        ) g
        GROUP BY GROUPING SETS (
            (customer_id), (customer_id, brand_no), (customer_id, category_no)
        )
    ),
    line_totals AS (
        SELECT customer_id, quantity, amount, quantity_12m, amount_12m
        FROM line_sets WHERE level = 3
    ),
    brand_quantities AS (
        SELECT customer_id, brand_no, quantity FROM line_sets WHERE level = 1 AND {branded}
    ),
    category_amounts AS (
        SELECT customer_id, category_no, amount FROM line_sets WHERE level = 2
    )"""  # noqa: S608
    # SQLite sums the lines per customer and product first: it sorts by the lines' own
    # columns and looks up each (customer, product) sum's brand and category, not each line's
    # (2,000,000 lines, 300,000 sums: 0.7 s less). It has no grouping sets: three GROUP BYs
    # over the materialised groups, each its own CTE so that SQLite can index the grouped
    # rows for the joins that read them.
    return f"""
    product_sums AS MATERIALIZED (
        SELECT l.customer_id, l.product_id, {sums}
        FROM {OrderLine._meta.db_table} l {"" if customers else vendor["scan_all"]}
        WHERE {live_line} {only_these}
        GROUP BY l.customer_id, l.product_id
    ),
    line_groups AS MATERIALIZED (
        SELECT s.customer_id, p.brand_no, p.category_no, {regroup}
        FROM product_sums s JOIN product_keys p ON p.id = s.product_id
        GROUP BY s.customer_id, p.brand_no, p.category_no
    ),
    line_totals AS MATERIALIZED (
        SELECT customer_id, {regroup} FROM line_groups GROUP BY customer_id
    ),
    brand_quantities AS (
        SELECT customer_id, brand_no, SUM(quantity) AS quantity
        FROM line_groups WHERE {branded} GROUP BY customer_id, brand_no
    ),
    category_amounts AS (
        SELECT customer_id, category_no, SUM(amount) AS amount
        FROM line_groups GROUP BY customer_id, category_no
    )"""  # noqa: S608


def _customer_filter(scope: str) -> str:
    """A condition on ``{column}`` (a customer id) keeping the customers a refresh covers:
    every one (``""``), the touched ones, or one part of a full refresh split by id."""
    if scope == "touched":
        return _vendor_sql()["touched"]
    if scope == "part":
        return "mod({column}, %(parts)s) = %(part)s"
    return ""


def _figures_sql(*, scope: str) -> str:
    """The SELECT that yields one row of FIGURE_COLUMNS per customer with orders or payments,
    for the customers of ``scope`` (see ``_customer_filter``)."""
    vendor = _vendor_sql()
    customers = _customer_filter(scope)

    def only_for(column: str) -> str:
        return f"AND {customers.format(column=column)}" if customers else ""

    def days(later: str, earlier: str) -> str:
        return vendor["days"].format(later=later, earlier=earlier)

    mix = vendor["json_object_agg"].format(
        key="k.category", value="ROUND(1.0 * g.amount / g.total, 4)"
    )
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    return f"""
    WITH {_keys_sql()},
    {_line_sums_sql(customers=customers)},
    top_brands AS ({vendor["top_brands"]}
    ),
    category_mixes AS (
        -- Every line has one category ("" for none), so a customer's category amounts add
        -- up to their amount: the window gives it without joining the totals back.
        SELECT g.customer_id, {mix} AS mix
        FROM (
            SELECT customer_id, category_no, amount,
                   SUM(amount) OVER (PARTITION BY customer_id) AS total
            FROM category_amounts
        ) g
        JOIN categories k ON k.category_no = g.category_no
        WHERE g.total <> 0
        GROUP BY g.customer_id
    ),
    order_stats AS (
        SELECT customer_id, MIN(date) AS first_date, MAX(date) AS last_date,
               COUNT(*) AS orders,
               COUNT(*) FILTER (WHERE date > %(year_ago)s AND date <= %(today)s) AS orders_12m
        FROM {Order._meta.db_table}
        WHERE status <> %(cancelled)s {only_for("customer_id")}
        GROUP BY customer_id
    ),
    payment_stats AS (
        SELECT customer_id, SUM(amount) AS amount
        FROM {Payment._meta.db_table}
        WHERE 1 = 1 {only_for("customer_id")}
        GROUP BY customer_id
    ),
    customers AS (
        SELECT customer_id FROM order_stats
        UNION SELECT customer_id FROM line_totals
        UNION SELECT customer_id FROM payment_stats
    )
    SELECT
        c.customer_id,
        o.first_date,
        o.last_date,
        COALESCE(o.orders, 0),
        COALESCE(o.orders_12m, 0),
        ROUND(COALESCE(t.quantity, 0), 3),
        ROUND(COALESCE(t.amount, 0), 2),
        ROUND(1.0 * t.amount / NULLIF(t.quantity, 0), 2),
        ROUND(1.0 * t.amount / NULLIF(o.orders, 0), 2),
        ROUND(COALESCE(t.amount_12m, 0), 2),
        ROUND(COALESCE(t.quantity_12m, 0) / 12.0, 3),
        ROUND(COALESCE(t.amount_12m, 0) / 12.0, 2),
        CASE WHEN o.orders > 1
             THEN ROUND(1.0 * {days("o.last_date", "o.first_date")} / (o.orders - 1), 1)
        END,
        {days("%(today)s", "o.first_date")},
        COALESCE(b.brand, ''),
        ROUND(1.0 * b.quantity / NULLIF(t.quantity, 0), 4),
        COALESCE(m.mix, {vendor["empty_json"]}),
        ROUND(COALESCE(pay.amount, 0), 2),
        ROUND(COALESCE(t.amount, 0) - COALESCE(pay.amount, 0), 2),
        %(computed_at)s
    FROM customers c
    LEFT JOIN order_stats o ON o.customer_id = c.customer_id
    LEFT JOIN line_totals t ON t.customer_id = c.customer_id
    LEFT JOIN top_brands b ON b.customer_id = c.customer_id
    LEFT JOIN category_mixes m ON m.customer_id = c.customer_id
    LEFT JOIN payment_stats pay ON pay.customer_id = c.customer_id
    """  # noqa: S608


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def _positional(sql: str, params: dict) -> tuple[str, list]:
    """Named parameters as positional ones: Django's SQLite cursor takes only ``%s``."""
    values = []

    def take(match: re.Match) -> str:
        values.append(params[match.group(1)])
        return "%s"

    return _NAMED_PARAMETER.sub(take, sql), values


def _year_ago(today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def metrics_refresh(
    *, customer_ids: Iterable[int] | None = None, today: datetime.date | None = None
) -> int:
    """Recompute the figures of the given customers (all of them when None); return rows written.

    Call it after every write of orders, order lines or payments, with the customers touched.
    The old rows of those customers are replaced in one transaction, so a customer whose last
    order was cancelled or deleted loses its row. ``today`` fixes the date the trailing
    12 months and the tenure are counted to (tests); it defaults to the local date.
    """
    touched_only = customer_ids is not None
    ids = sorted({int(customer_id) for customer_id in customer_ids}) if touched_only else []
    if touched_only and not ids:
        return 0
    today = today or timezone.localdate()
    ops = connection.ops
    params = {
        "today": ops.adapt_datefield_value(today),
        "year_ago": ops.adapt_datefield_value(_year_ago(today)),
        "cancelled": OrderStatus.CANCELLED.value,
        "computed_at": ops.adapt_datetimefield_value(timezone.now()),
        "customer_ids": ids if connection.vendor == "postgresql" else json.dumps(ids),
    }
    if touched_only:
        return _refresh(scope="touched", params=params)
    parts = _full_refresh_sessions()
    if parts == 1:
        return _refresh(scope="all", params=params)
    return _refresh_in_parts(parts, params)


def _full_refresh_sessions() -> int:
    """How many database sessions share a full refresh.

    PostgreSQL 15 runs an INSERT … SELECT, its sorts and its groupings in one process, so one
    session keeps one core of the server busy while the others idle; split by customer id,
    ``TOKUI_METRICS_SESSIONS`` sessions keep that many busy. Inside a transaction (a
    caller's, or a test's) other sessions would not see its writes: one session then, as on
    SQLite, which writes one transaction at a time anyway.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, settings.TOKUI_METRICS_SESSIONS)


def _refresh_in_parts(parts: int, params: dict) -> int:
    """A full refresh in ``parts`` parts (customer id modulo ``parts``), each in a thread with
    a connection and a transaction of its own, the first in this thread.

    Each customer's row is replaced atomically; the refresh as a whole is not: a reader may
    see one part's new figures before another's, as between two partial refreshes. A part
    that fails leaves its customers' old figures and raises once the others are done.
    """

    def refresh_part(part: int) -> int:
        try:
            return _refresh(scope="part", params={**params, "parts": parts, "part": part})
        finally:
            connection.close()  # the thread's own connection; the thread ends here

    with ThreadPoolExecutor(max_workers=parts - 1) as pool:
        others = [pool.submit(refresh_part, part) for part in range(1, parts)]
        written = _refresh(scope="part", params={**params, "parts": parts, "part": 0})
        return written + sum(future.result() for future in others)


def _refresh(*, scope: str, params: dict) -> int:
    """One DELETE and one INSERT … SELECT of the customers of ``scope``, in one transaction."""
    table = CustomerMetrics._meta.db_table
    columns = ", ".join(FIGURE_COLUMNS)
    insert_sql, insert_params = _positional(
        f"INSERT INTO {table} ({columns}) {_figures_sql(scope=scope)}", params
    )
    customers = _customer_filter(scope)
    where = f" WHERE {customers.format(column='customer_id')}" if customers else ""
    delete_sql, delete_params = _positional(f"DELETE FROM {table}{where}", params)  # noqa: S608
    big = scope != "touched" and connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if big:
            before = _set_local(cursor, _full_refresh_settings(params.get("parts", 1)))
        cursor.execute(delete_sql, delete_params)
        cursor.execute(insert_sql, insert_params)
        written = cursor.rowcount
        if big:
            _set_local(cursor, before)
        return written


def _full_refresh_settings(parts: int) -> dict[str, str]:
    """FULL_REFRESH_SETTINGS, with hashed grouping left on when the groups of lines of one
    part cannot outnumber HASHED_GROUPS_MAX: at most each customer times each pair of brand
    and category the products have."""
    pairs = Product.objects.values("brand", "category").distinct().count()
    if Customer._base_manager.count() * pairs / parts <= HASHED_GROUPS_MAX:
        return {**FULL_REFRESH_SETTINGS, "enable_hashagg": "on"}
    return FULL_REFRESH_SETTINGS


def _set_local(cursor, settings: dict[str, str]) -> dict[str, str]:
    """SET LOCAL each setting (PostgreSQL); return the values they had."""
    names = list(settings)
    cursor.execute(
        "SELECT " + ", ".join("current_setting(%s), set_config(%s, %s, true)" for _ in names),
        [value for name in names for value in (name, name, settings[name])],
    )
    row = cursor.fetchone()
    return {name: row[2 * index] for index, name in enumerate(names)}

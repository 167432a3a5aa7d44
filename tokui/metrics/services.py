"""Recompute the figures per customer (CARD-4) from orders, order lines and payments.

One INSERT … SELECT does the whole work inside the database, for every customer or for the
touched ones: the lines are read once and summed per customer, per customer and brand and per
customer and category in one grouping, and every figure comes from those sums, the orders and
the payments with aggregates and a window function. Nothing here
loops over customers or lines in Python, so the number of queries does not grow with the data.

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

from django.db import connection, transaction
from django.utils import timezone

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


def _vendor_sql() -> dict[str, str]:
    """The few expressions SQLite and PostgreSQL spell differently."""
    if connection.vendor == "postgresql":
        return {
            "days": "({later} - {earlier})",
            "json_object_agg": "json_object_agg({key}, {value})::jsonb",
            "empty_json": "'{}'::jsonb",
            "touched": "= ANY(%(customer_ids)s)",
            "scan_all": "",
            "line_sets": """
        -- One sort of the lines feeds all three groupings.
        SELECT customer_id, brand_no, category_no,
               GROUPING(brand_no, category_no) AS level,
               SUM(quantity) AS quantity, SUM(amount) AS amount,
                   SUM(quantity_12m) AS quantity_12m, SUM(amount_12m) AS amount_12m
        FROM line_groups
        GROUP BY GROUPING SETS (
            (customer_id), (customer_id, brand_no), (customer_id, category_no)
        )""",
        }
    return {
        "days": "CAST(julianday({later}) - julianday({earlier}) AS INTEGER)",
        "json_object_agg": "json_group_object({key}, {value})",
        "empty_json": "'{}'",
        "touched": "IN (SELECT value FROM json_each(%(customer_ids)s))",
        # Every line is read: in table order, not through the customer index's random reads.
        "scan_all": "NOT INDEXED",
        "line_sets": """
        -- SQLite has no GROUPING SETS.
        SELECT customer_id, NULL AS brand_no, NULL AS category_no, 3 AS level,
               SUM(quantity) AS quantity, SUM(amount) AS amount,
                   SUM(quantity_12m) AS quantity_12m, SUM(amount_12m) AS amount_12m
        FROM line_groups GROUP BY customer_id
        UNION ALL
        SELECT customer_id, brand_no, NULL, 1,
               SUM(quantity) AS quantity, SUM(amount) AS amount,
                   SUM(quantity_12m) AS quantity_12m, SUM(amount_12m) AS amount_12m
        FROM line_groups GROUP BY customer_id, brand_no
        UNION ALL
        SELECT customer_id, NULL, category_no, 2,
               SUM(quantity) AS quantity, SUM(amount) AS amount,
                   SUM(quantity_12m) AS quantity_12m, SUM(amount_12m) AS amount_12m
        FROM line_groups GROUP BY customer_id, category_no""",
    }


def _figures_sql(*, touched_only: bool) -> str:
    """The SELECT that yields one row of FIGURE_COLUMNS per customer with orders or payments."""
    vendor = _vendor_sql()
    only = ("AND {column} " + vendor["touched"]) if touched_only else ""

    def only_for(column: str) -> str:
        return only.format(column=column)

    def days(later: str, earlier: str) -> str:
        return vendor["days"].format(later=later, earlier=earlier)

    mix = vendor["json_object_agg"].format(
        key="c.category", value="ROUND(1.0 * c.amount / t.amount, 4)"
    )
    # Only table names and fixed fragments are formatted in; every value is a parameter.
    return f"""
    WITH brands AS (
        -- Brands and categories numbered in their sort order: the lines are grouped by these
        -- small integers, cheaper to hash and sort than the names, which are joined back
        -- only for the top brand and the category mix.
        SELECT brand, ROW_NUMBER() OVER (ORDER BY brand) AS brand_no
        FROM (SELECT DISTINCT brand FROM {Product._meta.db_table}) b
    ),
    categories AS (
        SELECT category, ROW_NUMBER() OVER (ORDER BY category) AS category_no
        FROM (SELECT DISTINCT category FROM {Product._meta.db_table}) c
    ),
    product_keys AS (
        SELECT p.id, b.brand_no, c.category_no
        FROM {Product._meta.db_table} p
        JOIN brands b ON b.brand = p.brand
        JOIN categories c ON c.category = p.category
    ),
    line_groups AS (
        SELECT l.customer_id, p.brand_no, p.category_no,
               l.quantity, l.amount,
               CASE WHEN l.date > %(year_ago)s AND l.date <= %(today)s
                    THEN l.quantity ELSE 0 END AS quantity_12m,
               CASE WHEN l.date > %(year_ago)s AND l.date <= %(today)s
                    THEN l.amount ELSE 0 END AS amount_12m
        FROM {OrderLine._meta.db_table} l {vendor["scan_all"] if not touched_only else ""}
        JOIN product_keys p ON p.id = l.product_id
        WHERE NOT EXISTS (
            SELECT 1 FROM {Order._meta.db_table} o
            WHERE o.id = l.order_id AND o.status = %(cancelled)s
        ) {only_for("l.customer_id")}
    ),
    line_sets AS (
        -- The lines summed three ways: per customer (level 3), per customer and brand
        -- (level 1), per customer and category (level 2).
        {vendor["line_sets"]}
    ),
    line_totals AS (
        SELECT customer_id, quantity, amount, quantity_12m, amount_12m
        FROM line_sets WHERE level = 3
    ),
    brand_ranks AS (
        SELECT g.customer_id, g.brand_no, g.quantity,
               ROW_NUMBER() OVER (
                   PARTITION BY g.customer_id ORDER BY g.quantity DESC, g.brand_no
               ) AS brand_rank
        FROM line_sets g
        WHERE g.level = 1
          AND g.brand_no <> (SELECT COALESCE(MAX(brand_no), 0) FROM brands WHERE brand = '')
    ),
    top_brands AS (
        -- One grouped row per customer: SQLite indexes this for the final join, where it
        -- would scan a plain filter of brand_ranks once per customer.
        SELECT r.customer_id, b.brand, r.quantity
        FROM (
            SELECT customer_id,
                   MAX(CASE WHEN brand_rank = 1 THEN brand_no END) AS brand_no,
                   MAX(CASE WHEN brand_rank = 1 THEN quantity END) AS quantity
            FROM brand_ranks GROUP BY customer_id
        ) r
        JOIN brands b ON b.brand_no = r.brand_no
    ),
    category_totals AS (
        SELECT g.customer_id, c.category, g.amount
        FROM line_sets g JOIN categories c ON c.category_no = g.category_no
        WHERE g.level = 2
    ),
    category_mixes AS (
        SELECT c.customer_id, {mix} AS mix
        FROM category_totals c JOIN line_totals t ON t.customer_id = c.customer_id
        WHERE t.amount <> 0
        GROUP BY c.customer_id
    ),
    order_stats AS (
        SELECT customer_id, MIN(date) AS first_date, MAX(date) AS last_date,
               COUNT(*) AS orders,
               SUM(CASE WHEN date > %(year_ago)s AND date <= %(today)s
                        THEN 1 ELSE 0 END) AS orders_12m
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
    table = CustomerMetrics._meta.db_table
    columns = ", ".join(FIGURE_COLUMNS)
    insert_sql, insert_params = _positional(
        f"INSERT INTO {table} ({columns}) {_figures_sql(touched_only=touched_only)}", params
    )
    if touched_only:
        delete_sql, delete_params = _positional(
            f"DELETE FROM {table} WHERE customer_id {_vendor_sql()['touched']}",  # noqa: S608
            params,
        )
    else:
        delete_sql, delete_params = f"DELETE FROM {table}", []  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(delete_sql, delete_params)
        cursor.execute(insert_sql, insert_params)
        return cursor.rowcount

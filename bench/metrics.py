"""Benchmark the full recompute of derived figures against DuckDB on the same data (issue 4).

    .venv/bin/python bench/metrics.py [--size medium] [--db sqlite|postgresql|both] [--seed 1]

For each database: a fresh benchmark database (``var/bench/metrics.sqlite3`` or
``tokui_bench_metrics`` on PostgreSQL) is migrated and loaded straight from the dataset of
``bench/dataset.py`` (PostgreSQL COPY, SQLite executemany: the benchmark's own bulk load, not
the import feature), then ``metrics_refresh()`` recomputes every customer and is timed. In
the same run DuckDB computes the same figures from the dataset's Parquet files: the practical
floor on this machine. A sample of customers is compared field by field between the two;
any disagreement fails the run. Figures are counted as of the dataset's end date.

The table goes to stdout and, unless ``--no-docs``, into its own section of
docs/performance.md. Smoke check: ``--size small --no-docs``.
"""

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset as datasets  # noqa: E402
from bench.run import drop_database, machine, postgres_problem, reset_database  # noqa: E402

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/tokui_bench_metrics"
SQLITE_PATH = ROOT / "var" / "bench" / "metrics.sqlite3"
DOCS = ROOT / "docs" / "performance.md"
# One section per dataset size, so the medium and the large runs each keep their figures.
SECTION_START = "<!-- bench/metrics.py: derived figures, {size} (issue 4) -->"
SECTION_END = "<!-- /bench/metrics.py: derived figures, {size} -->"
TARGET_RATIO = 5.0
DUCKDB_THREADS = 2
SAMPLE_SIZE = 500
LOADED_AT = "2026-10-01 00:00:00"
BATCH_SIZE = 20_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=tuple(datasets.SIZES), default="medium")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the recompute on databases loaded by an earlier --keep run (no reload)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/performance.md")
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- loading the dataset -------------------------------------------------------------------


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def _table_query(model, given: dict[str, str], source: str) -> tuple[list[str], str]:
    """A DuckDB query yielding every column of ``model``'s table: the ``given`` expressions,
    and each field's default for the rest (so a column added later does not break the load)."""
    from django.db.models import NOT_PROVIDED

    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        columns.append(field.column)
        if field.column in given:
            expressions.append(f"{given[field.column]} AS {field.column}")
        elif field.null:
            expressions.append(f"NULL AS {field.column}")
        elif field.default is not NOT_PROVIDED:
            expressions.append(f"{_sql_literal(field.get_default())} AS {field.column}")
        elif field.blank and field.empty_strings_allowed:
            expressions.append(f"'' AS {field.column}")
        else:
            raise RuntimeError(f"{model._meta.db_table}.{field.column}: no value to load")
    return columns, f"SELECT {', '.join(expressions)} FROM {source}"


def _load_queries(data: datasets.Dataset) -> list[tuple[object, list[str], str]]:
    from tokui.customers.models import Customer
    from tokui.sales.models import Order, OrderLine, Payment, Product

    stamp = f"'{LOADED_AT}'"
    customers = f"read_parquet('{data.parquet('customers')}')"
    products = f"read_parquet('{data.parquet('products')}')"
    lines = f"read_parquet('{data.parquet('orders')}')"
    payments = f"read_parquet('{data.parquet('payments')}')"
    number = "CAST(substr({column}, {start}) AS BIGINT)"
    customer_id = number.format(column="customer_code", start=2)
    reading = "coalesce(nullif(name_reading, ''), name)"
    orders = (
        f"(SELECT order_no, any_value(customer_code) AS customer_code, min(date) AS date, "
        f"sum(amount) AS amount, count(*) AS lines FROM {lines} GROUP BY order_no)"
    )
    return [
        (
            Customer,
            *_table_query(
                Customer,
                {
                    "id": number.format(column="code", start=2),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "code": "code",
                    "kind": "kind",
                    "name": "name",
                    "name_reading": "name_reading",
                    "status": "status",
                    "phone": "phone",
                    "email": "email",
                    "field_values": "'{}'",
                    "version": "1",
                    "sort_key": f"lower({reading})",
                    "search_text": f"lower(code || ' ' || name || ' ' || {reading})",
                    "phone_digits": "regexp_replace(phone, '[^0-9]', '', 'g')",
                    "name_key": "lower(name)",
                },
                customers,
            ),
        ),
        (
            Product,
            *_table_query(
                Product,
                {
                    "id": number.format(column="code", start=5),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "code": "code",
                    "name": "name",
                    "brand": "brand",
                    "category": "category",
                    "unit": "unit",
                    "list_price": "list_price",
                    "launch_date": "strftime(launch_date, '%Y-%m-%d')",
                },
                products,
            ),
        ),
        (
            Order,
            *_table_query(
                Order,
                {
                    "id": number.format(column="order_no", start=2),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "number": "order_no",
                    "customer_id": customer_id,
                    "date": "strftime(date, '%Y-%m-%d')",
                    "total_amount": "amount",
                    "line_count": "lines",
                },
                orders,
            ),
        ),
        (
            OrderLine,
            *_table_query(
                OrderLine,
                {
                    "id": "row_number() OVER ()",
                    "order_id": number.format(column="order_no", start=2),
                    "line_no": "line_no",
                    "customer_id": customer_id,
                    "date": "strftime(date, '%Y-%m-%d')",
                    "product_id": number.format(column="product_code", start=5),
                    "quantity": "quantity",
                    "unit_price": "unit_price",
                    "amount": "amount",
                },
                lines,
            ),
        ),
        (
            Payment,
            *_table_query(
                Payment,
                {
                    "id": number.format(column="reference", start=4),
                    "created_at": stamp,
                    "updated_at": stamp,
                    "reference": "reference",
                    "customer_id": customer_id,
                    "date": "strftime(date, '%Y-%m-%d')",
                    "amount": "amount",
                    "method": "method",
                },
                payments,
            ),
        ),
    ]


def load(data: datasets.Dataset, scratch: Path) -> dict[str, int]:
    """Bulk-load the dataset into the (empty, migrated) database; returns rows per table."""
    import duckdb
    from django.db import connection

    rows = {}
    duck = duckdb.connect()
    duck.execute("SET memory_limit = '1GB'; SET threads = 2")
    connection.ensure_connection()
    raw = connection.connection
    for model, columns, query in _load_queries(data):
        table = model._meta.db_table
        column_list = ", ".join(columns)
        if connection.vendor == "postgresql":
            csv_path = scratch / f"{table}.csv"
            duck.execute(f"COPY ({query}) TO '{csv_path}' (HEADER)")
            with raw.cursor() as cursor:
                # Our own ids are consistent by construction: skip the per-row FK triggers.
                cursor.execute("SET session_replication_role = replica")
                with (
                    cursor.copy(
                        f"COPY {table} ({column_list}) FROM STDIN (FORMAT csv, HEADER true)"
                    ) as copy,
                    csv_path.open("rb") as source,
                ):
                    while block := source.read(1 << 20):
                        copy.write(block)
                cursor.execute("SET session_replication_role = DEFAULT")
            raw.commit()
            csv_path.unlink()
        else:
            result = duck.execute(query)
            placeholders = ", ".join("?" for _ in columns)
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("BEGIN")  # Django's connection autocommits every statement otherwise
            while batch := result.fetchmany(BATCH_SIZE):
                raw.executemany(
                    f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", batch
                )
            raw.commit()
            raw.execute("PRAGMA foreign_keys = ON")
        rows[table] = model.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if connection.vendor == "postgresql":
        for model in {model for model, _, _ in _load_queries(data)}:
            with connection.cursor() as cursor:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    return rows


# --- DuckDB: the same figures from the Parquet files ---------------------------------------


def duckdb_figures_sql(data: datasets.Dataset, today: datetime.date) -> str:
    """The figures of tokui.metrics.services, from the Parquet files (docs/metrics.md)."""
    from tokui.metrics.services import _year_ago

    year_ago = _year_ago(today).isoformat()
    in_12m = f"date > DATE '{year_ago}' AND date <= DATE '{today.isoformat()}'"
    return f"""
    WITH lines AS (
        SELECT CAST(substr(customer_code, 2) AS BIGINT) AS customer_id, order_no, date,
               product_code, quantity, amount
        FROM read_parquet('{data.parquet("orders")}')
    ),
    line_groups AS (
        SELECT l.customer_id, p.brand, p.category,
               sum(l.quantity) AS quantity, sum(l.amount) AS amount,
               sum(CASE WHEN {in_12m} THEN l.quantity ELSE 0 END) AS quantity_12m,
               sum(CASE WHEN {in_12m} THEN l.amount ELSE 0 END) AS amount_12m
        FROM lines l JOIN read_parquet('{data.parquet("products")}') p ON p.code = l.product_code
        GROUP BY ALL
    ),
    line_totals AS (
        SELECT customer_id, sum(quantity) AS quantity, sum(amount) AS amount,
               sum(quantity_12m) AS quantity_12m, sum(amount_12m) AS amount_12m
        FROM line_groups GROUP BY customer_id
    ),
    brand_ranks AS (
        SELECT customer_id, brand, sum(quantity) AS quantity,
               row_number() OVER (PARTITION BY customer_id ORDER BY sum(quantity) DESC, brand)
                   AS brand_rank
        FROM line_groups WHERE brand <> '' GROUP BY customer_id, brand
    ),
    category_mixes AS (
        SELECT c.customer_id,
               json_group_object(c.category, round(c.amount / t.amount, 4)) AS mix
        FROM (SELECT customer_id, category, sum(amount) AS amount
              FROM line_groups GROUP BY ALL) c
        JOIN line_totals t USING (customer_id)
        WHERE t.amount <> 0 GROUP BY c.customer_id
    ),
    order_stats AS (
        SELECT customer_id, min(date) AS first_date, max(date) AS last_date,
               count(DISTINCT order_no) AS orders,
               count(DISTINCT order_no) FILTER (WHERE {in_12m}) AS orders_12m
        FROM lines GROUP BY customer_id
    ),
    payment_stats AS (
        SELECT CAST(substr(customer_code, 2) AS BIGINT) AS customer_id, sum(amount) AS amount
        FROM read_parquet('{data.parquet("payments")}') GROUP BY ALL
    ),
    customers AS (
        SELECT customer_id FROM order_stats UNION SELECT customer_id FROM payment_stats
    )
    SELECT c.customer_id,
           o.first_date AS first_order_date,
           o.last_date AS last_order_date,
           coalesce(o.orders, 0) AS order_count,
           coalesce(o.orders_12m, 0) AS order_count_12m,
           coalesce(t.quantity, 0) AS quantity_total,
           coalesce(t.amount, 0) AS amount_total,
           round(t.amount / nullif(t.quantity, 0), 2) AS average_unit_price,
           round(t.amount / nullif(o.orders, 0), 2) AS average_order_value,
           coalesce(t.amount_12m, 0) AS amount_12m,
           round(coalesce(t.quantity_12m, 0) / 12, 3) AS monthly_quantity_12m,
           round(coalesce(t.amount_12m, 0) / 12, 2) AS monthly_amount_12m,
           CASE WHEN o.orders > 1
                THEN round((o.last_date - o.first_date) / (o.orders - 1), 1) END
               AS mean_days_between_orders,
           DATE '{today.isoformat()}' - o.first_date AS tenure_days,
           coalesce(b.brand, '') AS top_brand,
           round(b.quantity / nullif(t.quantity, 0), 4) AS top_brand_share,
           coalesce(m.mix, '{{}}') AS category_mix,
           coalesce(pay.amount, 0) AS payments_total,
           coalesce(t.amount, 0) - coalesce(pay.amount, 0) AS balance
    FROM customers c
    LEFT JOIN order_stats o USING (customer_id)
    LEFT JOIN line_totals t USING (customer_id)
    LEFT JOIN brand_ranks b ON b.customer_id = c.customer_id AND b.brand_rank = 1
    LEFT JOIN category_mixes m ON m.customer_id = c.customer_id
    LEFT JOIN payment_stats pay ON pay.customer_id = c.customer_id
    """


def run_duckdb(data: datasets.Dataset, today: datetime.date):
    """Compute the figures into a DuckDB table; returns (connection, seconds, rows)."""
    import duckdb

    duck = duckdb.connect()
    duck.execute(f"SET threads = {DUCKDB_THREADS}")  # the machine's cores, as PostgreSQL gets
    duck.execute("SET memory_limit = '2GB'")
    start = time.perf_counter()
    duck.execute(f"CREATE TABLE figures AS {duckdb_figures_sql(data, today)}")
    seconds = time.perf_counter() - start
    rows = duck.execute("SELECT count(*) FROM figures").fetchone()[0]
    return duck, seconds, rows


# Allowed difference per figure: SQLite sums in floating point, so the last digit may differ.
TOLERANCE = {
    "quantity_total": 0.001,
    "amount_total": 0.01,
    "average_unit_price": 0.01,
    "average_order_value": 0.01,
    "amount_12m": 0.01,
    "monthly_quantity_12m": 0.001,
    "monthly_amount_12m": 0.01,
    "mean_days_between_orders": 0.1,
    "top_brand_share": 0.0001,
    "payments_total": 0.01,
    "balance": 0.01,
}


def _same(name: str, ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if name == "category_mix":
        theirs = json.loads(theirs) if isinstance(theirs, str) else theirs
        return set(ours) == set(theirs) and all(
            abs(float(ours[key]) - float(theirs[key])) <= 0.0001 for key in ours
        )
    if name in TOLERANCE:
        return abs(float(ours) - float(theirs)) <= TOLERANCE[name] + 1e-9
    return ours == theirs


def compare_sample(duck) -> tuple[int, list[str]]:
    """Compare the biggest buyers and an even spread of the others; returns (checked, problems)."""
    from tokui.metrics.models import CustomerMetrics
    from tokui.metrics.services import FIGURE_COLUMNS

    names = [name for name in FIGURE_COLUMNS if name not in ("customer_id", "computed_at")]
    total = CustomerMetrics.objects.count()
    step = max(1, total // SAMPLE_SIZE)
    ids = list(CustomerMetrics.objects.order_by("-amount_total").values_list("pk", flat=True)[:20])
    ids += list(CustomerMetrics.objects.order_by("pk").values_list("pk", flat=True)[::step])
    ours = {row["customer_id"]: row for row in CustomerMetrics.objects.filter(pk__in=ids).values()}
    cursor = duck.execute(
        f"SELECT customer_id, {', '.join(names)} FROM figures WHERE customer_id IN "
        f"(SELECT unnest($ids))",
        {"ids": ids},
    )
    theirs = {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}
    problems = []
    for customer_id in sorted(set(ids)):
        if customer_id not in theirs:
            problems.append(f"customer {customer_id}: no DuckDB row")
            continue
        for name in names:
            if not _same(name, ours[customer_id][name], theirs[customer_id][name]):
                problems.append(
                    f"customer {customer_id} {name}: "
                    f"{ours[customer_id][name]!r} vs DuckDB {theirs[customer_id][name]!r}"
                )
    return len(set(ids)), problems


# --- CPU time, the figure a loaded machine disturbs least -----------------------------------


def _proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc, or None when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds the local PostgreSQL server spends inside the block: every one of its
    processes, so the refresh's sessions, their parallel workers and the background writers
    alike. Wall time on a shared machine says more about the neighbours than about us.

    Sessions and workers may live only inside the block, so a thread samples every server
    process's /proc entry (every 50 ms; the last sample of each counts, so a process's final
    moments may be missed). ``seconds`` stays None when PostgreSQL is not on this machine's
    /proc (``pid``, a backend of ours, is not there).
    """

    def __init__(self, pid: int | None):
        self.pid = pid
        self.seconds: float | None = None
        self.latest: dict[int, float] = {}
        self._stop = False

    @staticmethod
    def _server_processes() -> dict[int, float]:
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
            except OSError:
                continue
            seconds = _proc_cpu_seconds(int(entry.name))
            if seconds is not None:
                found[int(entry.name)] = seconds
        return found

    def _sample(self) -> None:
        while not self._stop:
            self.latest.update(self._server_processes())
            time.sleep(0.05)

    def __enter__(self):
        if self.pid is None or _proc_cpu_seconds(self.pid) is None:
            return self
        self._start = self._server_processes()
        self.latest = dict(self._start)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if not hasattr(self, "_thread"):
            return
        self._stop = True
        self._thread.join()
        self.latest.update(self._server_processes())
        self.seconds = sum(
            seconds - self._start.get(pid, 0.0) for pid, seconds in self.latest.items()
        )


def _peak_mib(pid: int | None) -> float | None:
    """The process's peak resident memory (VmHWM) in MiB, or None when unreadable."""
    try:
        status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# --- one database, in this process ---------------------------------------------------------


def run_one(args: argparse.Namespace) -> int:
    url = f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite" else args.postgres_url
    data = datasets.generate(args.size, seed=args.seed)
    today = datetime.date.fromisoformat(data.end_date)
    if not args.reuse:
        reset_database(args.db, url, SQLITE_PATH)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tokui.metrics.services import metrics_refresh

    try:
        if args.reuse:
            # The load is not timed again: the table shows the earlier run's load as "-".
            load_seconds = None
            print(f"{args.db}: reusing the loaded {url}; recomputing", flush=True)
        else:
            print(f"{args.db}: migrating {url}", flush=True)
            call_command("migrate", verbosity=0, interactive=False)
            print(f"{args.db}: loading the {args.size} dataset", flush=True)
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(dir=ROOT / "var" / "bench") as scratch:
                loaded = load(data, Path(scratch))
            load_seconds = time.perf_counter() - start
            print(f"{args.db}: loaded {loaded} in {load_seconds:.1f} s; recomputing", flush=True)
        load_before = os.getloadavg()[0]
        # SQLite runs in this process: its CPU time is ours. PostgreSQL's is its backend's.
        pid = _backend_pid()
        cpu_start = time.process_time()
        with ServerCpu(pid) as backend:
            start = time.perf_counter()
            written = metrics_refresh(today=today)
            refresh_seconds = time.perf_counter() - start
        refresh_cpu = backend.seconds if pid else time.process_time() - cpu_start
        sessions = settings.TOKUI_METRICS_SESSIONS if pid else 1
        # The backend (or this process, for SQLite) started with this run: its peak is ours.
        refresh_peak_mib = _peak_mib(pid)
        print(
            f"{args.db}: {written:,} rows in {refresh_seconds:.2f} s "
            f"(CPU {_seconds(refresh_cpu)} s); DuckDB",
            flush=True,
        )
        cpu_start = time.process_time()
        duck, duck_seconds, duck_rows = run_duckdb(data, today)
        duck_cpu = time.process_time() - cpu_start
        load_after = os.getloadavg()[0]
        print(
            f"{args.db}: DuckDB {duck_rows:,} rows in {duck_seconds:.2f} s (CPU {duck_cpu:.1f} s)",
            flush=True,
        )
        checked, problems = compare_sample(duck)
        for problem in problems[:20]:
            print(f"  DISAGREE {problem}", flush=True)
        if connection.vendor == "postgresql":
            major, minor = divmod(connection.pg_version, 10000)
            version = f"PostgreSQL {major}.{minor}"
        else:
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
    finally:
        if not (args.keep or args.reuse):
            drop_database(args.db, url, SQLITE_PATH)
    import duckdb

    Path(args.child_output).write_text(
        json.dumps(
            {
                "database": args.db,
                "version": version,
                "duckdb": duckdb.__version__,
                "size": args.size,
                "rows": data.rows,
                "load_seconds": load_seconds,
                "refresh_seconds": refresh_seconds,
                "refresh_cpu": refresh_cpu,
                "refresh_peak_mib": refresh_peak_mib,
                "sessions": sessions,
                "duckdb_cpu": duck_cpu,
                "written": written,
                "duckdb_seconds": duck_seconds,
                "duckdb_rows": duck_rows,
                "checked": checked,
                "problems": problems,
                "load": [load_before, load_after],
            }
        )
    )
    return 1 if problems or duck_rows != written else 0


# --- the whole run --------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _cpu_ratio(run: dict) -> float | None:
    """The ratio a quiet machine would show, from CPU time: the recompute's CPU seconds spread
    over its sessions against DuckDB's spread over the 2 threads it is given. On a loaded
    machine the wall ratio flatters whichever side lost more cores to others."""
    if not run.get("refresh_cpu") or not run.get("duckdb_cpu"):
        return None
    return (run["refresh_cpu"] / run.get("sessions", 1)) / (run["duckdb_cpu"] / DUCKDB_THREADS)


def _worst_ratio(run: dict) -> float:
    """The target counts as met only if both the wall and the CPU ratio meet it."""
    ratio = run["refresh_seconds"] / run["duckdb_seconds"]
    return max(ratio, _cpu_ratio(run) or ratio)


def _whole(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def markdown_section(runs: list[dict], skipped: dict[str, str], command: str) -> str:
    first = runs[0] if runs else {"rows": {}}
    sessions = next((run["sessions"] for run in runs if run["database"] == "postgresql"), 1)
    rows = first["rows"]
    size = first.get("size")
    lines = [
        SECTION_START.format(size=size),
        f"## Derived figures: full recompute, {size} dataset (issue 4)",
        "",
        f"- Run: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, `{command}`",
        f"- Machine: {machine()}; "
        + ", ".join(f"{run['version']}" for run in runs)
        + f", DuckDB {first.get('duckdb', '?')}."
        + "".join(f" {name}: skipped ({reason})." for name, reason in skipped.items()),
        f"- Data: `bench/dataset.py --size {first.get('size')}` (seed 1): "
        f"{rows.get('customers', 0):,} customers, {rows.get('products', 0):,} products, "
        f"{rows.get('orders', 0):,} order lines, {rows.get('payments', 0):,} payments; "
        "a Pareto-like spread (the top 1 % of customers place about 40 % of the orders).",
        "- Method: `metrics_refresh()` (every customer: one DELETE and one INSERT … SELECT "
        "in a transaction; on PostgreSQL one such transaction per session, each session a "
        f"part of the customers: {sessions} here) timed after a bulk load "
        "and ANALYZE; then DuckDB computes the same figures from the Parquet files into an "
        "in-memory table (2 threads), timed from reading the files. A sample of customers "
        "(the 20 biggest buyers and an even spread) is compared figure by figure.",
        "- Load average (1 min) before / after: "
        + ", ".join(
            f"{run['database']} {run['load'][0]:.1f} / {run['load'][1]:.1f}" for run in runs
        )
        + f" on {os.cpu_count()} cores. CPU s: the PostgreSQL server's, every process of it "
        "(the refresh's sessions and their parallel workers; from /proc), SQLite's and "
        "DuckDB's the benchmark process's; above 2 the load average means other jobs shared "
        "the cores and the wall times are inflated. Ratio from CPU: (recompute CPU s ÷ its "
        "sessions) ÷ (DuckDB CPU s ÷ its 2 threads), what a quiet machine would show; the "
        "target counts as met only when both ratios meet it. Peak MiB: the first PostgreSQL "
        "session's resident peak (shared buffers it touched included), for SQLite the "
        "benchmark process's.",
        f"- Target: within {TARGET_RATIO:.0f}x of DuckDB on PostgreSQL.",
        "",
        "| database | customers with figures | bulk load s | full recompute s | DuckDB s "
        "| ratio | ratio from CPU | recompute CPU s | DuckDB CPU s | recompute peak MiB "
        "| sample agrees | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        ratio = run["refresh_seconds"] / run["duckdb_seconds"]
        cpu_ratio = _cpu_ratio(run)
        if run["database"] == "postgresql":
            target = "met" if _worst_ratio(run) <= TARGET_RATIO else "**MISSED**"
        else:
            target = "(PostgreSQL only)"
        agrees = (
            f"{run['checked']} of {run['checked']}"
            if not run["problems"]
            else f"**{len(run['problems'])} differences**"
        )
        lines.append(
            f"| {run['version']} | {run['written']:,} | {_seconds(run['load_seconds'])} "
            f"| {run['refresh_seconds']:.2f} | {run['duckdb_seconds']:.2f} | {ratio:.1f}x "
            f"| {'-' if cpu_ratio is None else f'{cpu_ratio:.1f}x'} "
            f"| {_seconds(run.get('refresh_cpu'))} | {_seconds(run.get('duckdb_cpu'))} "
            f"| {_whole(run.get('refresh_peak_mib'))} | {agrees} | {target} |"
        )
    if any(run["database"] == "postgresql" and _worst_ratio(run) > TARGET_RATIO for run in runs):
        lines += [
            "",
            "Why PostgreSQL misses here (shares of the large recompute's time in an "
            "`EXPLAIN ANALYZE` of 2026-12-01): reading the 10M lines with their product "
            "numbers and the cancelled-order check 9 %, sorting them by customer, brand and "
            "category 13 % (an external merge even at 512 MB), summing them into 5.4M groups "
            "13 %, rolling those up per customer and brand and re-sorting them per category "
            "28 %, the category shares (3.4M numeric divisions into JSON) 9 %, the top brand "
            "3 %, orders and payments 5 %, joining it all per customer 10 %. Each step runs in "
            "one process with numeric running sums; the pre-grouping only halves the rows, "
            "because most customers buy few lines. DuckDB does the same work column-wise on "
            "both cores.",
        ]
    lines.append(SECTION_END.format(size=size))
    return "\n".join(lines) + "\n"


def write_docs(section: str, size: str) -> None:
    text = DOCS.read_text()
    start, end = SECTION_START.format(size=size), SECTION_END.format(size=size)
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output:
        return run_one(args)
    datasets.generate(args.size, seed=args.seed)  # once, before the children share it
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    runs, skipped, failed = [], {}, False
    for database in databases:
        if database == "postgresql":
            problem = postgres_problem(args.postgres_url)
            if problem:
                print(f"PostgreSQL skipped: {problem}", flush=True)
                if args.db == "postgresql":
                    return 2
                skipped["PostgreSQL"] = problem
                continue
        with tempfile.TemporaryDirectory() as scratch:
            output = Path(scratch) / "results.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                f"--db={database}",
                f"--size={args.size}",
                f"--seed={args.seed}",
                f"--postgres-url={args.postgres_url}",
                f"--child-output={output}",
                *(["--keep"] if args.keep else []),
                *(["--reuse"] if args.reuse else []),
            ]
            completed = subprocess.run(command, check=False, cwd=ROOT)  # noqa: S603
            if not output.exists():
                print(f"ERROR: the {database} run failed ({completed.returncode})", flush=True)
                return completed.returncode or 1
            failed = failed or completed.returncode != 0
            runs.append(json.loads(output.read_text()))
    print()
    for run in runs:
        print(
            f"{run['version']}: {run['written']:,} customers, full recompute "
            f"{run['refresh_seconds']:.2f} s, DuckDB {run['duckdb_seconds']:.2f} s "
            f"({run['refresh_seconds'] / run['duckdb_seconds']:.1f}x); sample "
            + ("agrees" if not run["problems"] else f"{len(run['problems'])} DIFFERENCES")
        )
    if not args.no_docs and runs:
        command = shlex.join([".venv/bin/python", "bench/metrics.py", *(argv or sys.argv[1:])])
        write_docs(markdown_section(runs, skipped, command), args.size)
        print(f"Wrote the figures to {DOCS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate a sales dataset (customers, products, orders with lines, payments) for benchmarks.

    .venv/bin/python bench/dataset.py --size small|medium|large [--seed 1] [--out DIR]

Sizes: small 1,000 customers / 20,000 order lines, medium 100,000 / 2,000,000, large
1,000,000 / 10,000,000. Each table is written as CSV with the import's default column
names (docs/import.md) and as Parquet, into ``var/bench/dataset-<size>-seed<seed>/`` unless
``--out`` says otherwise. A directory that already holds the same size and seed is reused.

DuckDB writes the files straight from SQL over ``range()``: it streams, so memory stays low
even for 10M lines, and it takes seconds, not minutes. Every random choice is a hash of the
row number and the seed, so the same seed gives the same files on every run (with the
same DuckDB version; the version is recorded in ``dataset.json``).

Spending follows a Pareto-like spread: an order's customer is ``floor(N * u^5)`` of a
uniform ``u``, so the top 1 % of customers place about 40 % of the orders and the top
20 % about 72 %; many customers never order. Customer numbers are shuffled by a
multiplicative permutation so the big buyers are not simply the first codes.

Owners and areas are the ones ``bench.fill.create_areas_and_users()`` creates
(``am_tky_1`` … in TKY, OSK, NGY, FUK, SEL, PUS, NYC): create those before importing.
Order dates run over the three years up to ``--end-date`` (fixed, so files do not change
from one day to the next).
"""

import argparse
import datetime
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_END_DATE = datetime.date(2026, 9, 30)
TABLES = ("customers", "products", "orders", "payments")
COLUMNS = {
    "customers": (
        "code",
        "kind",
        "name",
        "name_reading",
        "status",
        "owner",
        "area",
        "phone",
        "email",
        "postal_code",
        "address",
    ),
    "products": ("code", "name", "brand", "category", "unit", "list_price", "launch_date"),
    "orders": (
        "order_no",
        "line_no",
        "customer_code",
        "date",
        "product_code",
        "quantity",
        "unit_price",
        "amount",
    ),
    "payments": ("reference", "customer_code", "date", "amount", "method"),
}


@dataclass(frozen=True)
class Size:
    customers: int
    lines: int
    products: int

    @property
    def orders(self) -> int:
        """Orders to draw: lines per order are 1-9 (mean 5); the last ones are cut off."""
        return self.lines // 5 + 1000

    @property
    def payments(self) -> int:
        return self.lines // 10


SIZES = {
    "small": Size(customers=1_000, lines=20_000, products=200),
    "medium": Size(customers=100_000, lines=2_000_000, products=2_000),
    "large": Size(customers=1_000_000, lines=10_000_000, products=5_000),
}
# Multiplier of the customer permutation: coprime to every size (no factor 2 or 5).
SHUFFLE = 7_919
SPEND_SKEW = 5  # the exponent of u in floor(N * u^SKEW); 1 would be an even spread

# Leaf areas by language, as bench/fill.py creates them (two account managers each).
AREAS = {
    "ja": (
        ("TKY", "東京都千代田区", "100"),
        ("OSK", "大阪府大阪市北区", "530"),
        ("NGY", "愛知県名古屋市中区", "460"),
        ("FUK", "福岡県福岡市博多区", "812"),
    ),
    "ko": (("SEL", "서울특별시 중구", "04"), ("PUS", "부산광역시 해운대구", "48")),
    "en": (("NYC", "New York, NY", "100"),),
}
BRANDS = (
    "Kirin",
    "Asahi",
    "Suntory",
    "Kikkoman",
    "Nissin",
    "Meiji",
    "Ajinomoto",
    "Kao",
    "Lion",
    "Shiseido",
    "CJ",
    "Nongshim",
    "Lotte",
    "Orion",
    "Acme",
    "Globex",
)
CATEGORIES = (
    "Drinks",
    "Alcohol",
    "Seasonings",
    "Noodles",
    "Snacks",
    "Dairy",
    "Frozen",
    "Household",
    "Cosmetics",
    "Stationery",
    "Rice",
    "Health",
)
UNITS = ("pc", "box", "case", "kg", "bottle")
PAYMENT_METHODS = ("transfer", "transfer", "transfer", "cash", "card", "bill", "direct_debit")


def _sql_list(values) -> str:
    """A DuckDB list literal of strings (pools of names are small and fixed)."""
    return "[" + ", ".join("'" + str(value).replace("'", "''") + "'" for value in values) + "]"


def _pick(pool: str, size: int, key: str) -> str:
    """SQL: an element of a list literal chosen by the row's hash under ``key``."""
    return f"{pool}[1 + CAST(hash(i, $seed, '{key}') % {size} AS BIGINT)]"


def _uniform(key: str) -> str:
    """SQL: a uniform number in [0, 1) from the row's hash under ``key``."""
    return f"(CAST(hash(i, $seed, '{key}') >> 11 AS DOUBLE) / 9007199254740992.0)"


def _name_pools() -> dict[str, list]:
    from faker.providers.person.en_US import Provider as English
    from faker.providers.person.ja_JP import Provider as Japanese
    from faker.providers.person.ko_KR import Provider as Korean

    ja_first = list(Japanese.first_name_female_pairs) + list(Japanese.first_name_male_pairs)
    return {
        "ja_last": [pair[0] for pair in Japanese.last_name_pairs],
        "ja_last_kana": [pair[1] for pair in Japanese.last_name_pairs],
        "ja_first": [pair[0] for pair in ja_first],
        "ja_first_kana": [pair[1] for pair in ja_first],
        "ko_last": sorted(set(Korean.last_names)),
        "ko_first": sorted(set(Korean.first_names)),
        "en_last": sorted(set(English.last_names))[:500],
        "en_first": sorted(set(English.first_names))[:500],
    }


def _customers_sql(size: Size) -> str:
    pools = _name_pools()
    ja_last = len(pools["ja_last"])
    ja_first = len(pools["ja_first"])
    ja_last_index = f"1 + CAST(hash(i, $seed, 'jl') % {ja_last} AS BIGINT)"
    ja_first_index = f"1 + CAST(hash(i, $seed, 'jf') % {ja_first} AS BIGINT)"
    ko_name = (
        _pick(_sql_list(pools["ko_last"]), len(pools["ko_last"]), "kl")
        + " || "
        + _pick(_sql_list(pools["ko_first"]), len(pools["ko_first"]), "kf")
    )
    en_first = _pick(_sql_list(pools["en_first"]), len(pools["en_first"]), "ef")
    en_last = _pick(_sql_list(pools["en_last"]), len(pools["en_last"]), "el")
    area_rows = [(lang, *area) for lang, areas in AREAS.items() for area in areas]

    def by_language(lang: str, column: int) -> str:
        values = [row[column] for row in area_rows if row[0] == lang]
        return _pick(_sql_list(values), len(values), "area")

    four = "lpad(CAST(hash(i, $seed, '{k}') % 10000 AS VARCHAR), 4, '0')"
    return f"""
    WITH base AS (
        SELECT i,
               CASE WHEN {_uniform("lang")} < 0.6 THEN 'ja'
                    WHEN {_uniform("lang")} < 0.85 THEN 'ko' ELSE 'en' END AS lang,
               CASE WHEN {_uniform("kind")} < 0.4 THEN 'person'
                    WHEN {_uniform("kind")} < 0.8 THEN 'shop' ELSE 'company' END AS kind
        FROM range({size.customers}) t(i)
    ),
    named AS (
        SELECT i, lang, kind,
            CASE lang
                WHEN 'ja' THEN {_sql_list(pools["ja_last"])}[{ja_last_index}]
                    || CASE kind WHEN 'person' THEN ' ' || {_sql_list(pools["ja_first"])}[
                        {ja_first_index}] WHEN 'shop' THEN '商店' ELSE '商事' END
                WHEN 'ko' THEN {ko_name}
                    || CASE kind WHEN 'person' THEN '' WHEN 'shop' THEN '상회' ELSE '상사' END
                ELSE CASE kind WHEN 'person' THEN {en_first} || ' ' || {en_last}
                               WHEN 'shop' THEN {en_last} || '''s Store'
                               ELSE {en_last} || ' Trading' END
            END AS name,
            CASE lang
                WHEN 'ja' THEN {_sql_list(pools["ja_last_kana"])}[{ja_last_index}]
                    || CASE kind WHEN 'person' THEN ' ' || {_sql_list(pools["ja_first_kana"])}[
                        {ja_first_index}] WHEN 'shop' THEN 'ショウテン' ELSE 'ショウジ' END
                ELSE ''
            END AS name_reading,
            CASE lang WHEN 'ja' THEN {by_language("ja", 1)}
                      WHEN 'ko' THEN {by_language("ko", 1)} ELSE 'NYC' END AS area,
            CASE lang WHEN 'ja' THEN {by_language("ja", 2)}
                      WHEN 'ko' THEN {by_language("ko", 2)} ELSE 'New York, NY' END AS city,
            CASE lang WHEN 'ja' THEN {by_language("ja", 3)}
                      WHEN 'ko' THEN {by_language("ko", 3)} ELSE '100' END AS postal_prefix
        FROM base
    )
    SELECT
        'C' || lpad(CAST(i + 1 AS VARCHAR), 7, '0') AS code,
        kind,
        name,
        name_reading,
        CASE WHEN {_uniform("status")} < 0.60 THEN 'active'
             WHEN {_uniform("status")} < 0.75 THEN 'prospect'
             WHEN {_uniform("status")} < 0.90 THEN 'dormant'
             WHEN {_uniform("status")} < 0.97 THEN 'lost' ELSE 'blocked' END AS status,
        'am_' || lower(area) || '_' || CAST(1 + hash(i, $seed, 'owner') % 2 AS VARCHAR) AS owner,
        area,
        CASE WHEN {_uniform("phone")} < 0.1 THEN ''
             WHEN lang = 'ja' THEN '03-' || {four.format(k="p1")} || '-' || {four.format(k="p2")}
             WHEN lang = 'ko' THEN '010-' || {four.format(k="p1")} || '-' || {four.format(k="p2")}
             ELSE '+1 212-555-' || {four.format(k="p2")} END AS phone,
        CASE WHEN {_uniform("mail")} < 0.5
             THEN 'c' || CAST(i + 1 AS VARCHAR) || '@example.com' ELSE '' END AS email,
        CASE lang WHEN 'ja' THEN postal_prefix || '-' || {four.format(k="zip")}
                  ELSE postal_prefix || lpad(CAST(hash(i, $seed, 'zip') % 1000 AS VARCHAR), 3, '0')
        END AS postal_code,
        city || ' ' || CAST(1 + hash(i, $seed, 'a1') % 9 AS VARCHAR) || '-'
             || CAST(1 + hash(i, $seed, 'a2') % 30 AS VARCHAR) AS address
    FROM named
    ORDER BY i
    """


def _product_index(key: str, size: Size) -> str:
    """SQL: a product number, popular products drawn more often (u^2)."""
    return f"CAST(floor({size.products} * pow({_uniform(key)}, 2)) AS BIGINT)"


def _list_price(product_index: str) -> str:
    """SQL: the list price of a product number, in whole yen (100 to 20,000, mostly low)."""
    u = f"(CAST(hash({product_index}, $seed, 'price') >> 11 AS DOUBLE) / 9007199254740992.0)"
    return f"CAST(10 * (10 + floor(1990 * pow({u}, 3))) AS BIGINT)"


def _products_sql(size: Size) -> str:
    return f"""
    SELECT
        'SKU-' || lpad(CAST(i + 1 AS VARCHAR), 6, '0') AS code,
        {_pick(_sql_list(BRANDS), len(BRANDS), "brand")} || ' '
            || {_pick(_sql_list(CATEGORIES), len(CATEGORIES), "cat")} || ' '
            || CAST(i + 1 AS VARCHAR) AS name,
        {_pick(_sql_list(BRANDS), len(BRANDS), "brand")} AS brand,
        {_pick(_sql_list(CATEGORIES), len(CATEGORIES), "cat")} AS category,
        {_pick(_sql_list(UNITS), len(UNITS), "unit")} AS unit,
        {_list_price("i")} AS list_price,
        DATE '2015-01-01' + CAST(hash(i, $seed, 'launch') % 3650 AS INTEGER) AS launch_date
    FROM range({size.products}) t(i)
    ORDER BY i
    """


def _customer_code(key: str, size: Size) -> str:
    """SQL: the customer code of a draw with the Pareto-like spread, shuffled."""
    rank = f"CAST(floor({size.customers} * pow({_uniform(key)}, {SPEND_SKEW})) AS BIGINT)"
    number = f"(({rank} * {SHUFFLE} + 12345) % {size.customers})"
    return f"'C' || lpad(CAST({number} + 1 AS VARCHAR), 7, '0')"


def _orders_sql(size: Size, end_date: datetime.date) -> str:
    """Order lines. No join and no ORDER BY: DuckDB keeps the order of range() and unnest(),
    so each order's lines stay together and in line order while the query streams."""
    days = 3 * 365
    line_product = f"""CAST(floor({size.products} * pow(
        CAST(hash(i, line_no, $seed, 'product') >> 11 AS DOUBLE) / 9007199254740992.0, 2))
        AS BIGINT)"""
    line_u = "(CAST(hash(i, line_no, $seed, '{k}') >> 11 AS DOUBLE) / 9007199254740992.0)"
    return f"""
    WITH orders AS (
        SELECT i,
               'O' || lpad(CAST(i + 1 AS VARCHAR), 9, '0') AS order_no,
               {_customer_code("customer", size)} AS customer_code,
               DATE '{end_date.isoformat()}' - CAST(floor({days} * {_uniform("date")}) AS INTEGER)
                   AS date,
               unnest(range(1, 2 + CAST(hash(i, $seed, 'lines') % 9 AS BIGINT))) AS line_no
        FROM range({size.orders}) t(i)
    ),
    lines AS (
        SELECT order_no, line_no, customer_code, date, {line_product} AS product_index,
               1 + CAST(floor(20 * pow({line_u.format(k="qty")}, 3)) AS BIGINT) AS quantity,
               {line_u.format(k="discount")} AS discount
        FROM orders
    )
    SELECT order_no, line_no, customer_code, date,
           'SKU-' || lpad(CAST(product_index + 1 AS VARCHAR), 6, '0') AS product_code,
           quantity,
           CAST(round({_list_price("product_index")} * (1 - 0.2 * discount)) AS BIGINT)
               AS unit_price,
           quantity * CAST(round({_list_price("product_index")} * (1 - 0.2 * discount))
               AS BIGINT) AS amount
    FROM lines
    LIMIT {size.lines}
    """


def _payments_sql(size: Size, end_date: datetime.date) -> str:
    methods = _sql_list(PAYMENT_METHODS)
    return f"""
    SELECT
        'PAY' || lpad(CAST(i + 1 AS VARCHAR), 9, '0') AS reference,
        {_customer_code("payer", size)} AS customer_code,
        DATE '{end_date.isoformat()}' - CAST(floor(3 * 365 * {_uniform("paid")}) AS INTEGER)
            AS date,
        CAST(1000 * (1 + floor(100 * pow({_uniform("amount")}, 2))) AS BIGINT) AS amount,
        {_pick(methods, len(PAYMENT_METHODS), "method")} AS method
    FROM range({size.payments}) t(i)
    ORDER BY i
    """


@dataclass
class Dataset:
    """Where a generated dataset lives: ``csv(table)`` and ``parquet(table)`` give the files."""

    directory: Path
    size: str
    seed: int
    end_date: str
    rows: dict

    def csv(self, table: str) -> Path:
        return self.directory / f"{table}.csv"

    def parquet(self, table: str) -> Path:
        return self.directory / f"{table}.parquet"


def default_directory(size: str, seed: int) -> Path:
    return ROOT / "var" / "bench" / f"dataset-{size}-seed{seed}"


def generate(
    size: str,
    *,
    seed: int = 1,
    directory: Path | None = None,
    end_date: datetime.date = DEFAULT_END_DATE,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> Dataset:
    """Write the dataset's CSV and Parquet files (or reuse them) and describe them."""
    import duckdb

    shape = SIZES[size]
    directory = Path(directory or default_directory(size, seed))
    manifest = directory / "dataset.json"
    wanted = {"size": size, "seed": seed, "end_date": end_date.isoformat()}
    if manifest.exists():
        described = json.loads(manifest.read_text())
        if {key: described.get(key) for key in wanted} == wanted and described.get(
            "duckdb"
        ) == duckdb.__version__:
            return Dataset(directory=directory, rows=described["rows"], **wanted)
        manifest.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    queries = {
        "customers": _customers_sql(shape),
        "products": _products_sql(shape),
        "orders": _orders_sql(shape, end_date),
        "payments": _payments_sql(shape, end_date),
    }
    rows = {}
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true")
        for table, query in queries.items():
            parquet, csv = directory / f"{table}.parquet", directory / f"{table}.csv"
            con.execute(f"COPY ({query}) TO '{parquet}' (FORMAT parquet)", {"seed": seed})
            # The CSV is the Parquet file rewritten, so both hold exactly the same rows.
            con.execute(f"COPY (SELECT * FROM '{parquet}') TO '{csv}' (HEADER, DELIMITER ',')")
            rows[table] = con.execute(f"SELECT count(*) FROM '{parquet}'").fetchone()[0]
    manifest.write_text(json.dumps({**wanted, "duckdb": duckdb.__version__, "rows": rows}))
    return Dataset(directory=directory, rows=rows, **wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=tuple(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="directory (default var/bench/dataset-…)")
    parser.add_argument("--end-date", type=datetime.date.fromisoformat, default=DEFAULT_END_DATE)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    dataset = generate(args.size, seed=args.seed, directory=args.out, end_date=args.end_date)
    seconds = time.perf_counter() - start
    print(json.dumps({**asdict(dataset), "directory": str(dataset.directory)}, indent=1))
    print(f"{args.size}: ready in {seconds:.1f} s at {dataset.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

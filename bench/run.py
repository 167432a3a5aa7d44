"""Benchmark the customer list and its search on SQLite and PostgreSQL (issue 2).

    .venv/bin/python bench/run.py [--db sqlite|postgresql|both] [--customers 100000] [--repeat 30]

Each database gets a dedicated, fresh benchmark database (a file under var/bench/,
or ``tokui_bench`` on PostgreSQL), migrated and filled, then every scenario is timed
against the bare view. Each database runs in its own process, because Django's
settings pick one database per process. The table goes to stdout and, unless
``--no-docs``, into its section of docs/performance.md.

Smoke check: ``--customers 2000 --repeat 3 --no-docs``. Missed targets are printed as
MISSED but do not fail the run; only errors do.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/tokui_bench"
SQLITE_PATH = ROOT / "var" / "bench" / "customers.sqlite3"
DOCS = ROOT / "docs" / "performance.md"
SECTION_START = "<!-- bench/run.py: customer list (issue 2) -->"
SECTION_END = "<!-- /bench/run.py: customer list -->"
DOCS_TITLE = (
    "# Performance\n\n"
    "Each benchmark under `bench/` writes its own section of this file; `make bench` "
    "runs them again.\n"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/performance.md")
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.repeat < 1:
        parser.error("--customers and --repeat must be at least 1")
    return args


# --- one database, in this process -------------------------------------------------------


def postgres_admin_connection(url: str):
    """A connection to the server's maintenance database, to create or drop ours."""
    import psycopg

    server, _, name = url.rpartition("/")
    return psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5), name


def reset_database(database: str, url: str, sqlite_path: Path = SQLITE_PATH) -> None:
    """An empty benchmark database: a fresh SQLite file, or PostgreSQL's dropped and created."""
    if database == "sqlite":
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    admin, name = postgres_admin_connection(url)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(database: str, url: str, sqlite_path: Path = SQLITE_PATH) -> None:
    from django.db import connections

    connections.close_all()
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    admin, name = postgres_admin_connection(url)
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(args: argparse.Namespace) -> int:
    url = f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite" else args.postgres_url
    reset_database(args.db, url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import customer_list, fill
    from tokui.customers.selectors import customer_list as customer_list_of

    try:
        print(f"{args.db}: migrating {url}", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        print(f"{args.db}: filling {args.customers:,} customers", flush=True)
        start = time.perf_counter()
        users = fill.fill(args.customers, seed=args.seed)
        fill.analyze()
        fill_seconds = time.perf_counter() - start
        print(f"{args.db}: filled in {fill_seconds:.1f} s; measuring", flush=True)
        print(customer_list.HEADER, flush=True)
        load_before = os.getloadavg()[0]
        results = customer_list.measure(
            args.db,
            {"administrator": users.administrator, "account manager": users.account_manager},
            args.repeat,
        )
        load_after = os.getloadavg()[0]
        if connection.vendor == "postgresql":
            major, minor = divmod(connection.pg_version, 10000)
            version = f"PostgreSQL {major}.{minor}"
        else:
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
        own_share = customer_list_of(user=users.account_manager).count()
    finally:
        if not args.keep:
            drop_database(args.db, url)
    Path(args.child_output).write_text(
        json.dumps(
            {
                "database": args.db,
                "version": version,
                "customers": args.customers,
                "own_share": own_share,
                "fill_seconds": fill_seconds,
                "load": [load_before, load_after],
                "results": [result.as_dict() for result in results],
            },
            ensure_ascii=False,
        )
    )
    return 0


# --- the whole run ------------------------------------------------------------------------


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        admin, _ = postgres_admin_connection(url)
    except Exception as exc:  # any failure to connect means "skip", with the reason shown
        return str(exc).strip().splitlines()[0]
    admin.close()
    return None


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}"


def _fmt_ms(value: float) -> str:
    return f"{value:.1f}"


def markdown_section(runs: list[dict], skipped: dict[str, str], command: str) -> str:
    import django

    results = [result for run in runs for result in run["results"]]
    missed = [r for r in results if r["missed"]]
    first = runs[0] if runs else {}
    lines = [
        SECTION_START,
        "## Customer list and search (issue 2)",
        "",
        f"- Run: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, `{command}`",
        f"- Machine: {machine()}; Python {platform.python_version()}, "
        f"Django {django.get_version()}, "
        + ", ".join(run["version"] for run in runs)
        + "."
        + "".join(f" {name}: skipped ({reason})." for name, reason in skipped.items()),
        f"- Data: {first.get('customers', 0):,} customers (60 % Japanese with kana readings, "
        "25 % Korean, 15 % English; 7 leaf areas, 14 account managers, 4 tags), filled in "
        + ", ".join(f"{run['fill_seconds']:.0f} s on {run['database']}" for run in runs)
        + f". The account manager sees their own share: {first.get('own_share', 0):,} customers.",
        f"- Method: in-process `django.test.Client`, logged in; server time is the wall time "
        "of `client.get` (middleware, session, queries, rendering; no network). "
        f"{len(first.get('results', [{}])[0].get('list_ms', []))} timed requests per "
        "scenario after 3 warm-up requests, list and bare view alternating. Searches are "
        "htmx requests (the results fragment), as the search box sends them; the list "
        "scenarios are full pages.",
        "- Bare view: `bench/customer_list.py:bare_customer_list`, the same restricted "
        "queryset from `tokui.customers.selectors` with the same search, ordering, page of 50 "
        "and paginator COUNT, rendered by a one-line template. The benchmark checks that both "
        "show the same customers in the same order.",
        "- Load average (1 min) when measuring began and ended: "
        + ", ".join(
            f"{run['database']} {run['load'][0]:.1f} / {run['load'][1]:.1f}" for run in runs
        )
        + f" on {os.cpu_count()} cores."
        + (
            " Other work shared the machine (load above one per core), so absolute times are "
            "on the slow side; the ratio to the bare view, measured alternately in the same "
            "run, is the steadier figure."
            if max(load for run in runs for load in run["load"]) > (os.cpu_count() or 1)
            else ""
        ),
        "- Targets: median under 150 ms and at most 3x the bare view's median.",
        "",
        "| database | user | scenario | matches | median ms | p95 ms | bare median ms | ratio "
        "| queries list/bare | target |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        verdict = "met" if not r["missed"] else "**MISSED**: " + "; ".join(r["missed"])
        lines.append(
            f"| {r['database']} | {r['role']} | {r['label']} | {r['matches']:,} "
            f"| {_fmt_ms(r['list_median'])} | {_fmt_ms(r['list_p95'])} "
            f"| {_fmt_ms(r['bare_median'])} | {r['ratio']:.1f}x "
            f"| {r['list_queries']}/{r['bare_queries']} | {verdict} |"
        )
    lines += [
        "",
        f"Result: {len(results) - len(missed)} of {len(results)} measurements met both targets"
        + (f"; {len(missed)} MISSED." if missed else "."),
        SECTION_END,
    ]
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else DOCS_TITLE
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output:
        return run_one(args)

    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    runs: list[dict] = []
    skipped: dict[str, str] = {}
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
                f"--customers={args.customers}",
                f"--repeat={args.repeat}",
                f"--seed={args.seed}",
                f"--postgres-url={args.postgres_url}",
                f"--child-output={output}",
                *(["--keep"] if args.keep else []),
            ]
            completed = subprocess.run(command, check=False, cwd=ROOT)  # noqa: S603
            if completed.returncode != 0:
                print(f"ERROR: the {database} run failed ({completed.returncode})", flush=True)
                return completed.returncode
            runs.append(json.loads(output.read_text()))

    results = [result for run in runs for result in run["results"]]
    missed = [result for result in results if result["missed"]]
    print()
    if missed:
        print(f"MISSED: {len(missed)} of {len(results)} measurements missed a target:")
        for result in missed:
            print(
                f"  {result['database']} / {result['role']} / {result['label']}: "
                + "; ".join(result["missed"])
            )
    else:
        print(f"All {len(results)} measurements met both targets.")
    if not args.no_docs and runs:
        command = shlex.join([".venv/bin/python", "bench/run.py", *(argv or sys.argv[1:])])
        write_docs(markdown_section(runs, skipped, command))
        print(f"Wrote the figures to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `tokui import orders` on SQLite and PostgreSQL (issue 4, CARD-11).

    .venv/bin/python bench/imports.py [--db sqlite|postgresql|both] [--lines 2000000]

One orders CSV of N lines (about four lines per order, customers with a Pareto-like share
of the lines) is generated once under var/bench/ and imported into a fresh database per
engine (a file under var/bench/, or ``tokui_bench_imports`` on PostgreSQL), after the
customers and products it names were imported with `tokui import` too. Each engine runs
in its own process (Django picks one database per process); its peak memory is the most
that process and its forked child held at once (see ``_MemoryPeak``). The same file is
then imported a second time: it must change nothing. Memory is measured last, in a third,
untimed import of the file into emptied order tables. Figures go to stdout and, unless
``--no-docs``, into this benchmark's section of docs/performance.md. Targets (issue 4):
PostgreSQL ≥ 100,000 lines/s, SQLite ≥ 50,000 lines/s, peak memory < 1 GiB. Missed
targets are printed as MISSED; only errors fail.
"""

import argparse
import contextlib
import csv
import datetime
import io
import json
import logging
import os
import platform
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/tokui_bench_imports"
WORK = ROOT / "var" / "bench"
SQLITE_PATH = WORK / "imports.sqlite3"
DOCS = ROOT / "docs" / "performance.md"
SECTION_START = "<!-- bench/imports.py: order import (issue 4) -->"
SECTION_END = "<!-- /bench/imports.py: order import -->"
TARGETS = {"postgresql": 100_000, "sqlite": 50_000}
MEMORY_LIMIT = 1 << 30

sys.path.insert(0, str(ROOT))
from bench.run import machine, reset_database  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the files --------------------------------------------------------------------------


def write_files(args) -> dict[str, Path]:
    """customers.csv, products.csv and orders.csv (streamed to disk, never held in memory)."""
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    paths = {name: WORK / f"import-{name}.csv" for name in ("customers", "products", "orders")}
    with open(paths["customers"], "w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["code", "kind", "name", "name_reading", "status", "phone"])
        for n in range(args.customers):
            out.writerow(
                [f"C{n:07d}", "shop", f"ベンチ商店{n}", f"ベンチショウテン{n}", "active", ""]
            )
    with open(paths["products"], "w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["code", "name", "brand", "category", "unit", "list_price", "launch_date"])
        for n in range(args.products):
            out.writerow(
                [
                    f"P{n:05d}",
                    f"商品{n}",
                    f"Brand {n % 20}",
                    f"Cat {n % 8}",
                    "個",
                    n % 900 + 100,
                    "",
                ]
            )
    # Pareto-like: customer index from a power law, so a fifth of the customers buy most.
    weights = [1 / (rank + 1) ** 1.1 for rank in range(args.customers)]
    customers = rng.choices(range(args.customers), weights=weights, k=min(args.lines, 200_000))
    start = datetime.date(2022, 1, 1)
    dates = [(start + datetime.timedelta(days=d)).isoformat() for d in range(1460)]
    with open(paths["orders"], "w", newline="", encoding="utf-8") as file:
        file.write("order_no,line_no,customer_code,date,product_code,quantity,unit_price\n")
        written = order = 0
        buffer = io.StringIO()
        while written < args.lines:
            order += 1
            customer = customers[order % len(customers)]
            date = dates[rng.randrange(1460)]
            for line in range(1, min(rng.randint(1, 7), args.lines - written) + 1):
                product = rng.randrange(args.products)
                buffer.write(
                    f"O{order:09d},{line},C{customer:07d},{date},P{product:05d},"
                    f"{rng.randint(1, 24)},{product % 900 + 100}\n"
                )
                written += 1
            if buffer.tell() > 1 << 20:
                file.write(buffer.getvalue())
                buffer = io.StringIO()
        file.write(buffer.getvalue())
    return paths


# --- one database, in this process ------------------------------------------------------


class _PhaseLog(logging.Handler):
    """Keeps the import's own phase log line (reading, upserts, figures, commit)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _server_cpu() -> tuple[int | None, float]:
    """(PostgreSQL backend pid, its CPU seconds so far), read from /proc: the server works
    in another process, so this process's own CPU time leaves it out. SQLite: (None, 0)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None, 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return pid, float("nan")  # a server on another machine: not measurable here
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the import's
    forked child, which reads and checks a big file)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


class _MemoryPeak(threading.Thread):
    """The most memory this process and its children held at once, sampled every 0.1 s as
    the sum of their proportional set sizes (PSS, /proc/PID/smaps_rollup): a forked child
    shares its parent's pages, so adding up their resident sizes would count those twice.

    Reading smaps_rollup walks the process's pages (about 10 ms for 600 MB here): sampled,
    the import ran 2 s slower, so its memory is measured in an import of its own."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, sum(map(_pss, [os.getpid(), *_children()])))

    def stop(self) -> int:
        self.stopped.set()
        self.join()
        return self.peak


def _children() -> list[int]:
    pids = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that has just ended
            pids += map(int, (task / "children").read_text().split())
    return pids


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass  # the child has just ended
    return 0


def _empty_order_tables() -> None:
    """Back to no orders, lines or figures (customers and products stay), for the import
    that measures memory after the timed ones."""
    from django.db import connection

    tables = ("sales_orderline", "sales_order", "metrics_customermetrics")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def _timed_import(kind, path) -> tuple[float, str, float, float]:
    """Wall seconds, the command's last line, and CPU seconds of this process and of the
    database server: with other work on the machine, wall time alone says little."""
    from django.core.management import call_command

    out = io.StringIO()
    pid, server_before = _server_cpu()
    own_before = _own_cpu()
    start = time.perf_counter()
    call_command("import", kind, str(path), "--no-progress", stdout=out, stderr=io.StringIO())
    wall = time.perf_counter() - start
    own = _own_cpu() - own_before
    pid_after, server_after = _server_cpu()
    server = server_after - server_before if pid_after == pid else float("nan")
    return wall, out.getvalue().strip().splitlines()[-1], own, server


def run_one(args) -> int:
    url = f"sqlite:///{SQLITE_PATH}" if args.db == "sqlite" else args.postgres_url
    reset_database(args.db, url, SQLITE_PATH)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tokui.sales.models import OrderLine
    from tokui.users.choices import Role
    from tokui.users.models import User

    paths = {name: WORK / f"import-{name}.csv" for name in ("customers", "products", "orders")}
    phases = _PhaseLog()
    runner_log = logging.getLogger("tokui.sales.imports.runner")
    runner_log.addHandler(phases)
    runner_log.setLevel(logging.INFO)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        User.objects.create(username="bench-admin", role=Role.ADMINISTRATOR)
        customers_s, *_ = _timed_import("customers", paths["customers"])
        # The same list again, as an office sends its customer list each month: every row
        # must be unchanged.
        customers_again_s, customers_again, *_ = _timed_import("customers", paths["customers"])
        products_s, *_ = _timed_import("products", paths["products"])
        print(
            f"{args.db}: customers {customers_s:.1f} s, again {customers_again_s:.2f} s "
            f"({customers_again}), products {products_s:.1f} s",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        first_s, first_summary, first_cpu, first_server = _timed_import("orders", paths["orders"])
        print(
            f"{args.db}: orders {first_s:.1f} s (CPU {first_cpu:.1f} + server "
            f"{first_server:.1f} s): {first_summary}",
            flush=True,
        )
        second_s, second_summary, second_cpu, second_server = _timed_import(
            "orders", paths["orders"]
        )
        print(
            f"{args.db}: again {second_s:.1f} s (CPU {second_cpu:.1f} + server "
            f"{second_server:.1f} s): {second_summary}",
            flush=True,
        )
        load_after = os.getloadavg()[0]
        timed_phases = phases.messages[-2:]
        _empty_order_tables()
        memory = _MemoryPeak()
        memory.start()
        _timed_import("orders", paths["orders"])
        sampled_peak = memory.stop()
        lines = OrderLine.objects.count()
        if connection.vendor == "postgresql":
            major, minor = divmod(connection.pg_version, 10000)
            version = f"PostgreSQL {major}.{minor}"
        else:
            import sqlite3

            version = f"SQLite {sqlite3.sqlite_version}"
    finally:
        from django.db import connections

        connections.close_all()
        reset_database(args.db, url, SQLITE_PATH) if args.db == "sqlite" else None
    # A big file is read and checked in a forked child (see OrderImport.checked_batches):
    # the sampled peak counts both; this process's own peak is a floor under it.
    peak = max(sampled_peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    Path(args.child_output).write_text(
        json.dumps(
            {
                "database": args.db,
                "version": version,
                "lines": lines,
                "customers_s": customers_s,
                "customers_again_s": customers_again_s,
                "products_s": products_s,
                "first_s": first_s,
                "first_summary": first_summary,
                "first_cpu": [first_cpu, first_server],
                "second_cpu": [second_cpu, second_server],
                "second_s": second_s,
                "second_summary": second_summary,
                "peak_bytes": peak,
                "phases": timed_phases,
                "load": [load_before, load_after],
            },
            ensure_ascii=False,
        )
    )
    return 0


# --- the whole run ----------------------------------------------------------------------


def markdown(runs, args, command, generate_s, file_bytes) -> str:
    lines = [
        SECTION_START,
        "## Order import (issue 4)",
        "",
        f"- Run: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, `{command}`",
        f"- Machine: {machine()}; Python {platform.python_version()}; "
        + ", ".join(run["version"] for run in runs)
        + ".",
        f"- Data: one orders CSV of {args.lines:,} lines ({file_bytes / 1e6:,.0f} MB, 1-7 "
        f"lines per order, {args.customers:,} customers with a power-law share of orders, "
        f"{args.products:,} products), generated in {generate_s:.0f} s; customers and "
        "products imported first with `tokui import` "
        + ", ".join(
            f"({run['database']}: {run['customers_s']:.1f} s and {run['products_s']:.1f} s; "
            f"the same customers again, all unchanged: {run['customers_again_s']:.2f} s)"
            for run in runs
        )
        + ".",
        "- Method: `tokui import orders FILE` in-process (`call_command`) into a fresh, "
        "migrated database; wall time of the whole command (reading, checking, staging, "
        "checks across lines, upserts, order totals, figures of touched customers); peak "
        "memory is the largest sum of the PSS of the process and its forked child (which "
        "reads and checks the file), sampled every 0.1 s in a third, untimed import of the file "
        "into emptied order tables (sampling slows the import), and at least the process's "
        "`ru_maxrss`. The second import of the same file must "
        "report every line unchanged.",
        "- Load average (1 min) before and after: "
        + ", ".join(f"{r['database']} {r['load'][0]:.1f} / {r['load'][1]:.1f}" for r in runs)
        + f" on {os.cpu_count()} cores.",
        "- Targets: PostgreSQL ≥ 100,000 lines/s, SQLite ≥ 50,000 lines/s, peak memory < 1 GiB.",
        "- CPU s: seconds of CPU the import used, in the command's process and its forked "
        "child + in the PostgreSQL server's backend (from /proc). With the child, the "
        "command's CPU can exceed the wall time (two cores); on a loaded machine wall time "
        "is longer than CPU time because the import waits for a core. The target is judged "
        "on wall time.",
        "",
        "| database | first import s | lines/s | CPU s | second import s | lines/s | CPU s "
        "| peak MiB | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        rate = args.lines / run["first_s"]
        missed = []
        if rate < TARGETS[run["database"]]:
            missed.append(f"under {TARGETS[run['database']]:,} lines/s")
        if run["peak_bytes"] >= MEMORY_LIMIT:
            missed.append("1 GiB or more")
        verdict = "met" if not missed else "**MISSED**: " + "; ".join(missed)
        lines.append(
            f"| {run['database']} | {run['first_s']:.1f} | {rate:,.0f} "
            f"| {_cpu_text(run['first_cpu'])} | {run['second_s']:.1f} "
            f"| {args.lines / run['second_s']:,.0f} | {_cpu_text(run['second_cpu'])} "
            f"| {run['peak_bytes'] / 2**20:,.0f} | {verdict} |"
        )
    lines += ["", "Summaries printed by the command, and its phase log:", ""]
    for run in runs:
        phases = run.get("phases") or ["", ""]
        for label, summary, phase in (
            ("first", run["first_summary"], phases[0]),
            ("second", run["second_summary"], phases[-1]),
        ):
            lines.append(f"- {run['database']}, {label}: `{summary}`")
            if phase:
                lines.append(f"  `{phase}`")
    lines.append(SECTION_END)
    return "\n".join(lines) + "\n"


def _cpu_text(cpu: list[float]) -> str:
    own, server = cpu
    return f"{own:.1f}" if not server else f"{own:.1f} + {server:.1f}"


def write_docs(section: str) -> None:
    text = DOCS.read_text()
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child_output:
        return run_one(args)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    start = time.perf_counter()
    paths = write_files(args)
    generate_s = time.perf_counter() - start
    print(f"generated {args.lines:,} lines in {generate_s:.1f} s", flush=True)
    runs = []
    for database in databases:
        with tempfile.NamedTemporaryFile(suffix=".json") as output:
            command = [
                sys.executable,
                __file__,
                "--db",
                database,
                "--lines",
                str(args.lines),
                "--customers",
                str(args.customers),
                "--products",
                str(args.products),
                "--postgres-url",
                args.postgres_url,
                "--child-output",
                output.name,
            ]
            subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603 - our own script
            runs.append(json.loads(Path(output.name).read_text()))
    command = shlex.join(["bench/imports.py", *(argv if argv is not None else sys.argv[1:])])
    section = markdown(runs, args, command, generate_s, paths["orders"].stat().st_size)
    print(section)
    if not args.no_docs:
        write_docs(section)
    for path in paths.values():
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

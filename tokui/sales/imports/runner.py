"""One import job, from file to result: check every row, then write all or nothing."""

import gc
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tokui.customers.models import Customer
from tokui.fields.selectors import field_definitions_fixed
from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.models import ImportJob, ImportRejection

from .columns import MappingProblem, resolve_columns
from .orders import OrderImport
from .reading import FileProblem, Table, count_rows
from .writers import WRITERS, RowRejected

logger = logging.getLogger(__name__)

BATCH_ROWS = {ImportKind.ORDERS: 50_000, ImportKind.PAYMENTS: 5_000, ImportKind.PRODUCTS: 5_000}
SERVICE_BATCH_ROWS = 200
# From this many rows on, an order file is read and checked in a child process while this
# one stages the checked lines (see OrderImport.checked_batches); smaller files are not
# worth a fork. Only where processes fork (not on Windows).
CHECK_IN_CHILD_ROWS = 200_000
CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
# Touching at least this share of all customers refreshes every customer's figures at once.
FULL_REFRESH_SHARE = 0.2


class Cancelled(Exception):
    pass


class _Refused(Exception):
    """Rows were rejected and the job does not skip them: roll back whatever was written."""


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


class JobRun:
    """Runs ``job`` as ``actor``; ``on_progress(job)`` is told after every batch (CLI bar)."""

    def __init__(self, job: ImportJob, actor, on_progress: Callable | None = None):
        self.job = job
        self.actor = actor
        self.on_progress = on_progress
        self.pending_rejections: list[ImportRejection] = []
        self.rejected_rows: set[int] = set()

    # --- bookkeeping, committed as it goes so other pages see it ---------------------------

    def reject(self, number: int, column: str, value: str, reason: str) -> None:
        self.rejected_rows.add(number)
        self.pending_rejections.append(
            ImportRejection(
                job=self.job,
                row_number=number,
                column=column[:100],
                value=str(value)[:500],
                reason=str(reason)[:500],
            )
        )

    def _flush_rejections(self) -> None:
        if self.pending_rejections:
            ImportRejection.objects.bulk_create(self.pending_rejections, batch_size=2000)
            self.pending_rejections = []

    def _save(self, **fields) -> None:
        for name, value in fields.items():
            setattr(self.job, name, value)
        ImportJob.objects.filter(pk=self.job.pk).update(**fields)

    def progress(self, processed: int) -> None:
        self._flush_rejections()
        self._save(
            processed_rows=processed,
            rejected_rows=len(self.rejected_rows),
            total_rows=max(self.job.total_rows, processed),
        )
        if self.on_progress:
            self.on_progress(self.job)
        self.check_cancel()

    def check_cancel(self) -> None:
        if ImportJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise Cancelled

    # --- the run -------------------------------------------------------------------------

    def run(self) -> ImportJob:
        job = self.job
        try:
            table = Table(job.file_path, job.encoding)
            positions = resolve_columns(job.kind, table.headers, job.mapping or {})
            self._save(
                status=ImportStatus.VALIDATING,
                encoding=table.encoding,
                total_rows=count_rows(job.file_path),
            )
            if job.kind == ImportKind.ORDERS:
                counts, _touched = self._run_orders(table, positions)
            else:
                with field_definitions_fixed():
                    counts, _touched = self._run_rows(table, positions)
        except (FileProblem, MappingProblem) as exc:
            return self._finish(ImportStatus.FAILED, str(exc))
        except _Refused:
            return self._finish(
                ImportStatus.REJECTED,
                _("%(rows)d rows were rejected, so nothing was written.")
                % {"rows": len(self.rejected_rows)},
            )
        except Cancelled:
            return self._finish(ImportStatus.CANCELLED, _("Cancelled: nothing was written."))
        except Exception as exc:
            logger.exception("import %s failed", job.pk)
            self._finish(ImportStatus.FAILED, _("Failed: %(error)s") % {"error": exc})
            raise
        created, updated, unchanged = counts
        self._save(created_rows=created, updated_rows=updated, unchanged_rows=unchanged)
        return self._finish(ImportStatus.DONE, "")

    def _finish(self, status: str, message: str) -> ImportJob:
        self._flush_rejections()
        self._save(
            status=status,
            message=message,
            rejected_rows=len(self.rejected_rows),
            finished_at=timezone.now(),
        )
        if self.on_progress:
            self.on_progress(self.job)
        return self.job

    def _refresh_metrics(self, customer_ids: set[int]) -> None:
        if not customer_ids:
            return
        try:
            from tokui.metrics.services import metrics_refresh
        except ImportError:  # the figures app may lag behind in a partial checkout
            logger.warning("tokui.metrics.services.metrics_refresh missing: figures not refreshed")
            return
        if len(customer_ids) >= FULL_REFRESH_SHARE * Customer.objects.count():
            # A big file touches most customers: one pass over every line beats looking
            # up thousands of customers one by one, and gives the same figures.
            metrics_refresh()
        else:
            metrics_refresh(customer_ids=sorted(customer_ids))

    def _run_rows(self, table: Table, positions: dict[str, int]):
        """Two passes: check every row (a dry run through the services for cards), then
        write the good ones in one transaction."""
        writer_class = WRITERS[self.job.kind]
        writer = writer_class(actor=self.actor, positions=positions, job=self.job)
        size = BATCH_ROWS.get(self.job.kind, SERVICE_BATCH_ROWS)
        processed = 0
        for batch in _batches(table.rows(), size):
            writer.prepare(batch)
            good = []
            for number, row in batch:
                try:
                    good.append((number, writer.clean(number, row)))
                except RowRejected as exc:
                    for column, value, reason in exc.problems:
                        self.reject(number, column, value, reason)
            with transaction.atomic():
                problems = writer.check_batch(good)
            for number, row_problems in problems.items():
                for column, value, reason in row_problems:
                    self.reject(number, column, value, reason)
            processed += len(batch)
            self.progress(processed)
        if self.rejected_rows and not self.job.skip_invalid:
            raise _Refused
        self._save(status=ImportStatus.IMPORTING)
        if self.on_progress:
            self.on_progress(self.job)
        # The second pass cleans the same rows again (nothing big is kept in memory).
        writer = writer_class(actor=self.actor, positions=positions, job=self.job)
        counts = [0, 0, 0]
        with transaction.atomic():
            for batch in _batches(table.rows(), size):
                writer.prepare(batch)
                good = []
                for number, row in batch:
                    if number in self.rejected_rows:
                        continue
                    good.append((number, writer.clean(number, row)))
                for index, count in enumerate(writer.write_batch(good)):
                    counts[index] += count
                if self.on_progress:
                    self.on_progress(self.job)
                self.check_cancel()
            self._refresh_metrics(writer.touched_customer_ids())
        return tuple(counts), writer.touched_customer_ids()

    def _run_orders(self, table: Table, positions: dict[str, int]):
        orders = OrderImport(actor=self.actor, positions=positions, reject=self.reject)
        orders.create_stage()
        try:
            processed = 0
            # Millions of short-lived lists and tuples, none in a reference cycle: with the
            # cycle collector on, it walks every live object again and again while the
            # file streams (a third of the reading and checking time, measured).
            reading = time.monotonic()
            collecting = gc.isenabled()
            gc.disable()
            try:
                size = BATCH_ROWS[ImportKind.ORDERS]
                checked = orders.checked_batches(
                    lambda: table.row_batches(size),
                    in_child=self.job.total_rows >= CHECK_IN_CHILD_ROWS and CAN_FORK,
                )
                # Closed at once on a cancel or failure here, which stops a child at once.
                with closing(checked):
                    for rows, count, read in checked:
                        orders.stage(rows, count)
                        processed += read
                        self.progress(processed)
            finally:
                if collecting:
                    gc.enable()
            orders.check_across_lines()
            self._flush_rejections()
            if self.rejected_rows and not self.job.skip_invalid:
                raise _Refused
            self._save(status=ImportStatus.IMPORTING)
            if self.on_progress:
                self.on_progress(self.job)
            started = time.monotonic()
            with transaction.atomic():
                counts, touched = orders.write(self.check_cancel)
                written = time.monotonic()
                self.check_cancel()
                self._refresh_metrics(touched)
                refreshed = time.monotonic()
            # Where the time of a big import goes, for whoever tunes it next. On PostgreSQL
            # the commit runs the deferred foreign-key checks: three per line, one per order.
            logger.info(
                "import %s: %d lines staged in %.1f s; upserts %.1f s, figures of %d "
                "customers %.1f s, commit %.1f s",
                self.job.pk,
                orders.staged,
                started - reading,
                written - started,
                len(touched),
                refreshed - written,
                time.monotonic() - refreshed,
            )
            return counts, touched
        finally:
            orders.drop_stage()


def run_job(job: ImportJob, actor, on_progress: Callable | None = None) -> ImportJob:
    """Run the import in the language of whoever started it (see ``ImportJob.language``)."""
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return JobRun(job, actor, on_progress).run()


PREVIEW_ROWS = 20


def preview(job: ImportJob, actor, mapping: dict) -> tuple[list[str], list[dict]]:
    """The first rows as mapped, each with its problems; nothing is written.

    Returns the Tokui columns in file order and rows of {"number", "values", "problems"}.
    Raises FileProblem or MappingProblem like the import itself would.
    """
    table = Table(job.file_path, job.encoding)
    positions = resolve_columns(job.kind, table.headers, mapping)
    columns = sorted(positions, key=positions.get)
    rows = list(islice(table.rows(), PREVIEW_ROWS))
    problems: dict[int, list[str]] = {}

    def collect(number, column, value, reason):
        problems.setdefault(number, []).append(f"{column}: {reason}")

    if job.kind == ImportKind.ORDERS:
        OrderImport(actor=actor, positions=positions, reject=collect).check_rows(rows)
    else:
        writer = WRITERS[job.kind](actor=actor, positions=positions)
        writer.prepare(rows)
        good = []
        for number, row in rows:
            try:
                good.append((number, writer.clean(number, row)))
            except RowRejected as exc:
                for column, value, reason in exc.problems:
                    collect(number, column, value, reason)
        with transaction.atomic():
            for number, row_problems in writer.check_batch(good).items():
                for column, value, reason in row_problems:
                    collect(number, column, value, reason)
    return columns, [
        {
            "number": number,
            "values": [row[positions[column]] for column in columns],
            "problems": problems.get(number, []),
        }
        for number, row in rows
    ]

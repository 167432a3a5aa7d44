"""tokui import customers|people|products|orders|payments FILE: check every row, then write.

Runs in this process with a progress bar on stderr. Exits 1 when rows were rejected and
nothing was written (the report's rows are printed), 2 on a file or mapping problem.
"""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from tokui.sales.choices import ImportKind, ImportStatus
from tokui.sales.imports import services
from tokui.sales.imports.columns import MappingProblem, parse_map_options, resolve_columns
from tokui.sales.imports.reading import FileProblem, Table
from tokui.sales.imports.runner import run_job
from tokui.sales.models import ImportJob
from tokui.users.choices import Role
from tokui.users.models import User

REPORT_ROWS_SHOWN = 200


class Command(BaseCommand):
    help = "Import customers, people, products, orders or payments from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--encoding", default="", help="force: utf-8, utf-8-sig, cp932, cp949")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FILE_COLUMN=COLUMN",
            help='map a file column to a Tokui column, e.g. --map "得意先コード=code"',
        )
        parser.add_argument("--mapping", default="", help="use a saved column mapping by name")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="write the valid rows, report the rest"
        )
        parser.add_argument(
            "--as", dest="username", default="", help="import as this user (default: an admin)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, kind, file, encoding, map, mapping, skip_invalid, username, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": file})
        actor = self._actor(username)
        columns = {}
        if mapping:
            saved = services.mapping_by_name(kind, mapping)
            if saved is None:
                raise CommandError(
                    _("No saved mapping named %(name)r for %(kind)s.")
                    % {"name": mapping, "kind": kind}
                )
            columns.update(saved.mapping)
        try:
            columns.update(parse_map_options(map))
            # Check the columns before anything else, so a wrong header fails at once.
            table = Table(path, encoding)
            resolve_columns(kind, table.headers, columns)
        except (MappingProblem, FileProblem) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        try:
            job = services.job_create(
                actor=actor,
                kind=kind,
                path=path.resolve(),
                file_name=path.name,
                mapping=columns,
                encoding=encoding,
                skip_invalid=skip_invalid,
            )
        except Exception as exc:
            raise CommandError(str(exc)) from exc
        bar = None if opts["no_progress"] else _ProgressBar(sys.stderr)
        try:
            job = run_job(job, actor, on_progress=bar.update if bar else None)
        except KeyboardInterrupt:
            # The write transaction has rolled back; say so in the job as well.
            transaction.rollback() if transaction.get_connection().in_atomic_block else None
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CANCELLED)
            raise CommandError(_("Cancelled: nothing was written.")) from None
        if bar:
            bar.close()
        self._report(job)

    def _actor(self, username: str):
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("No active user %(name)r.") % {"name": username})
            return user
        user = User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError(_("No administrator to import as: pass --as USERNAME."))
        return user

    def _report(self, job: ImportJob) -> None:
        out = self.stdout
        rejections = list(job.rejections.all()[: REPORT_ROWS_SHOWN + 1])
        if rejections:
            out.write("row\tcolumn\tvalue\treason")
            for rejection in rejections[:REPORT_ROWS_SHOWN]:
                out.write(
                    f"{rejection.row_number}\t{rejection.column}\t{rejection.value}\t"
                    f"{rejection.reason}"
                )
            if len(rejections) > REPORT_ROWS_SHOWN:
                out.write(
                    _("… more in the report of import #%(job)d (CSV in the UI)") % {"job": job.pk}
                )
        summary = _(
            "%(kind)s: %(read)d rows read, %(added)d added, %(changed)d changed, "
            "%(unchanged)d unchanged, %(rejected)d rejected."
        ) % {
            "kind": job.get_kind_display(),
            "read": job.processed_rows,
            "added": job.created_rows,
            "changed": job.updated_rows,
            "unchanged": job.unchanged_rows,
            "rejected": job.rejected_rows,
        }
        if job.status == ImportStatus.DONE:
            out.write(summary)
            return
        self.stderr.write(summary)
        raise CommandError(str(job.message or job.get_status_display()), returncode=1)


class _ProgressBar:
    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.start = time.monotonic()
        self.shown = False

    def update(self, job: ImportJob) -> None:
        total = max(job.total_rows, job.processed_rows, 1)
        done = int(self.WIDTH * job.processed_rows / total)
        rate = job.processed_rows / max(time.monotonic() - self.start, 1e-6)
        self.stream.write(
            f"\r[{'#' * done}{'.' * (self.WIDTH - done)}] "
            + _("%(done)s/%(total)s rows, %(rate)s/s, %(status)s")
            % {
                "done": f"{job.processed_rows:,}",
                "total": f"{total:,}",
                "rate": f"{rate:,.0f}",
                "status": job.get_status_display(),
            }
            + "   "
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()

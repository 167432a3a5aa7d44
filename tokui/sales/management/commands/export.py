"""``tokui export KIND --format csv|xlsx -o FILE``: take cards or transactions out as a file.

Whose rows: ``--as USERNAME`` exports what that user may see, exactly as their export
button would. ``--all`` is the system export (backups, moving to another system) of
every row; it is refused together with ``--as``. One of the two is required, so nobody
takes the whole customer base out by forgetting an option.
"""

import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.sales import exports


class Command(BaseCommand):
    help = (
        "Export customers, people, products, orders or payments as CSV or XLSX with the "
        "import's column names. --as USERNAME limits the rows to that user's scope; --all "
        "exports everything (system export)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=exports.KINDS)
        parser.add_argument("--format", choices=exports.FORMATS, default=None, dest="file_format")
        parser.add_argument("-o", "--output", required=True, metavar="FILE")
        parser.add_argument(
            "--encoding",
            choices=exports.ENCODINGS,
            default="utf-8",
            help="CSV only: utf-8 (written with a BOM, the default), cp932 or cp949.",
        )
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--as", dest="username", metavar="USERNAME")
        who.add_argument("--all", action="store_true", help="System export of every row.")
        parser.add_argument(
            "--purpose",
            default="",
            help="What the file is for; required above the access log's purpose threshold.",
        )
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=(
                "The list page's filters, e.g. status=active, customer=TKY-0001, "
                "date_from=2026-01-01, date_to=2026-03-31, brand=…, q=…"
            ),
        )

    def handle(self, *args, kind, file_format, output, encoding, username, all, **options):
        if not username and not all:
            raise CommandError(
                _("Say whose export this is: --as USERNAME, or --all for every row.")
            )
        user = None
        if username:
            user = get_user_model().objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("There is no active user %(name)r.") % {"name": username})
        file_format = file_format or ("xlsx" if output.lower().endswith(".xlsx") else "csv")
        params = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(_("--filter takes NAME=VALUE, not %(item)r.") % {"item": item})
            params[name.strip()] = value.strip()
        try:
            table = exports.export_table(kind, user=user, params=params, system=all)
            count = table.count()
            # Logged first: an export refused for want of a purpose writes no file.
            exports.record_export(
                actor=user, table=table, file_format=file_format, purpose=options["purpose"]
            )
            _write(table, Path(output), file_format, encoding)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except exports.ExportError as exc:
            raise CommandError(str(exc)) from exc
        except UnicodeEncodeError as exc:
            raise CommandError(
                _("A value cannot be written in %(encoding)s: %(value)r. Use --encoding utf-8.")
                % {"encoding": encoding, "value": exc.object[exc.start : exc.end]}
            ) from exc
        self.stdout.write(
            _("%(count)d %(kind)s rows written to %(file)s")
            % {"count": count, "kind": kind, "file": output}
        )


def _write(table, path: Path, file_format: str, encoding: str) -> None:
    """Write to a temporary file beside ``path`` and move it into place when complete,
    so a failed export never leaves a half-written file that looks finished."""
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            if file_format == "xlsx":
                exports.write_xlsx(table, file)
            else:
                for chunk in exports.csv_chunks(table, encoding):
                    file.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

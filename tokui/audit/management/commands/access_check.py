"""``tokui access_check [--date D] [--purge]``: the daily unusual-volume check of the access
records, and with ``--purge`` the retention purge. Run it from cron after midnight."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.audit import services
from tokui.audit.tasks import yesterday


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            _("--date must be YYYY-MM-DD, not %(value)r") % {"value": value}
        ) from error


class Command(BaseCommand):
    help = (
        "Flag users who read many more cards on a day than their own norm, and e-mail the "
        "administrators; with --purge also delete access records past the retention period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            metavar="YYYY-MM-DD",
            help="The day to check (default: yesterday, local time).",
        )
        parser.add_argument(
            "--purge",
            action="store_true",
            help="Also delete access records older than TOKUI_ACCESS_RETENTION_DAYS.",
        )

    def handle(self, *args, date=None, purge=False, **options):
        day = _date(date) if date else yesterday()
        alerts = services.check_access_volume(day=day)
        self.stdout.write(
            _("%(day)s: %(count)d new unusual-volume alert(s)")
            % {"day": day.isoformat(), "count": len(alerts)}
        )
        for alert in alerts:
            self.stdout.write(
                "  "
                + _("%(user)s: %(count)d cards (norm %(norm)s)")
                % {"user": alert.user.username, "count": alert.count, "norm": f"{alert.norm:g}"}
            )
        if purge:
            deleted = services.purge_access_records()
            self.stdout.write(
                _("Purged %(count)d access record(s) older than %(days)d days")
                % {"count": deleted, "days": services.retention_days()}
            )

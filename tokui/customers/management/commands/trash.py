"""``tokui trash [--purge]``: list the cards in the trash; with ``--purge`` delete for good
those in it for longer than TOKUI_TRASH_RETENTION_DAYS. Run ``--purge`` daily from cron
(docs/trash.md): django-tasks has no scheduler of its own."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.customers import services
from tokui.customers.models import Customer


class Command(BaseCommand):
    help = (
        "List the customer cards in the trash, with who deleted them and when they will be "
        "purged; with --purge delete for good those past TOKUI_TRASH_RETENTION_DAYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--purge",
            action="store_true",
            help="Delete for good the cards in the trash for longer than the retention, with "
            "their people, orders and figures (their change log stays).",
        )

    def handle(self, *args, purge=False, **options):
        if purge:
            purged = services.customers_purge()
            self.stdout.write(
                _("Purged %(count)d card(s) in the trash for more than %(days)d days")
                % {"count": len(purged), "days": services.trash_retention_days()}
            )
            for code in purged:
                self.stdout.write(f"  {code}")
            return
        # The operator of the server sees the whole trash, as `tokui export --all` does.
        trashed = (
            Customer._base_manager.filter(deleted_at__isnull=False)
            .select_related("deleted_by")
            .order_by("-deleted_at", "code")
        )
        delta = services.trash_purge_cutoff_delta()
        count = 0
        for customer in trashed.iterator():
            count += 1
            deleted = timezone.localtime(customer.deleted_at)
            purge_after = timezone.localtime(customer.deleted_at + delta)
            who = customer.deleted_by.username if customer.deleted_by_id else "-"
            self.stdout.write(
                f"{customer.code}\t{customer.name}\t"
                + _("deleted %(when)s by %(who)s")
                % {"when": f"{deleted:%Y-%m-%d %H:%M}", "who": who}
                + "\t"
                + _("purged after %(when)s") % {"when": f"{purge_after:%Y-%m-%d %H:%M}"}
            )
        self.stdout.write(_("%(count)d card(s) in the trash") % {"count": count})

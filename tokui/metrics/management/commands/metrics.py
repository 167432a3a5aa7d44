"""``tokui metrics --full`` or ``tokui metrics --customers CODE …``: recompute derived figures.

Orders, payments and imports keep the figures of the customers they touch current; the full
run is for the night (the trailing 12 months and the tenure move with the calendar) and
after changes made outside Tokui.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.customers.models import Customer
from tokui.metrics.services import metrics_refresh


class Command(BaseCommand):
    help = "Recompute the derived figures of every customer or of the given customers."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--full", action="store_true", help="Recompute every customer.")
        which.add_argument(
            "--customers", nargs="+", metavar="CODE", help="Recompute these customers only."
        )

    def handle(self, *args, full, customers, **options):
        customer_ids = None
        if not full:
            found = dict(Customer.objects.filter(code__in=customers).values_list("code", "id"))
            unknown = sorted(set(customers) - set(found))
            if unknown:
                raise CommandError(
                    _("Unknown customer code: %(codes)s") % {"codes": ", ".join(unknown)}
                )
            customer_ids = list(found.values())
        start = time.perf_counter()
        rows = metrics_refresh(customer_ids=customer_ids)
        seconds = time.perf_counter() - start
        scope = (
            _("all customers")
            if full
            else _("%(count)d customer(s)") % {"count": len(customer_ids)}
        )
        self.stdout.write(
            _("Figures of %(scope)s: %(rows)d row(s) written in %(seconds).2f s.")
            % {"scope": scope, "rows": rows, "seconds": seconds}
        )

"""``tokui handover FROM_USER TO_USER``: hand one person's customers to another (CARD-9).

Runs as ``--as ADMIN_USERNAME`` (default: the first active administrator), through the
same service and scope check as the page; ``--status`` and ``--area`` narrow the cards.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.customers import services
from tokui.customers.choices import CustomerStatus
from tokui.customers.selectors import handover_customers
from tokui.users.choices import Role


class Command(BaseCommand):
    help = "Hand the customers FROM_USER owns or is assigned to over to TO_USER."

    def add_arguments(self, parser):
        parser.add_argument("from_user", metavar="FROM_USER")
        parser.add_argument("to_user", metavar="TO_USER")
        parser.add_argument("--status", choices=CustomerStatus.values)
        parser.add_argument("--area", metavar="CODE", help="This area and its sub-areas.")
        parser.add_argument("--as", dest="username", metavar="ADMIN_USERNAME")

    def handle(self, *args, from_user, to_user, status, area, username, **options):
        users = get_user_model().objects
        if username:
            actor = users.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(_("There is no active user %(name)r.") % {"name": username})
        else:
            actor = users.filter(role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
            if actor is None:
                raise CommandError(_("There is no active administrator; say who with --as."))
        giver = users.filter(username=from_user).first()
        receiver = users.filter(username=to_user).first()
        if giver is None or receiver is None:
            raise CommandError(
                _("There is no user %(name)r.") % {"name": from_user if giver is None else to_user}
            )
        customer_ids = None
        if status or area:
            cards = handover_customers(user=actor, from_user=giver)
            if status:
                cards = cards.filter(status=status)
            if area:
                cards = cards.filter(area__path__startswith=_area_path(area))
            customer_ids = cards.values_list("pk", flat=True)
        try:
            moved = services.customers_reassign(
                actor=actor, from_user=giver, to_user=receiver, customer_ids=customer_ids
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(
            _("%(count)d customers handed from %(giver)s to %(receiver)s.")
            % {"count": moved, "giver": giver.username, "receiver": receiver.username}
        )


def _area_path(code: str) -> str:
    from tokui.accounts.selectors import area_list

    area = area_list().filter(code=code).first()
    if area is None:
        raise CommandError(_("There is no area %(code)r.") % {"code": code})
    return area.path

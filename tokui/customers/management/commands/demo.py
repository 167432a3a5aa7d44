"""``tokui demo``: fill the database with a demo scenario (see ``tokui.customers.demo``)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.customers import demo


class Command(BaseCommand):
    help = (
        "Create demo areas, users for every role, a card field preset and N customers with "
        "people, addresses, consent and history. The same seed gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scenario",
            choices=sorted(demo.SCENARIOS),
            default="store",
            help="store: a clothing store's regulars; distributor: shops on delivery routes.",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=demo.DEFAULT_CUSTOMERS,
            metavar="N",
            help=f"How many customers ({demo.DEFAULT_CUSTOMERS}).",
        )
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, metavar="S", help="Random seed."
        )

    def handle(self, *args, scenario, customers, seed, **options):
        started = time.monotonic()
        try:
            result = demo.demo_load(scenario=scenario, customers=customers, seed=seed)
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Loaded the %(scenario)s demo: %(customers)d customers, %(people)d people, "
                    "%(addresses)d addresses, %(consents)d consents in %(seconds).1f s."
                )
                % {
                    "scenario": scenario,
                    "customers": result.customers,
                    "people": result.people,
                    "addresses": result.addresses,
                    "consents": result.consents,
                    "seconds": time.monotonic() - started,
                }
            )
        )
        if result.users_created:
            self.stdout.write(
                _("Demo users created (password %(password)r): %(users)s.")
                % {"password": demo.DEMO_PASSWORD, "users": ", ".join(result.users_created)}
            )

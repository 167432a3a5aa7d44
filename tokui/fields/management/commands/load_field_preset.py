"""``tokui load_field_preset NAME``: add a preset's card fields from the command line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.fields.services import PRESETS, field_preset_load


class Command(BaseCommand):
    help = (
        "Add the card fields of a preset (retail_store or wholesale_distributor). Fields whose "
        "key already exists are updated and made active again. Changes are audited as 'system'."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", choices=PRESETS, help="The preset to load.")

    def handle(self, *args, name: str, **options):
        # Whoever can run management commands already controls the installation, so the
        # load runs as the system rather than borrowing some administrator's name.
        try:
            added, updated = field_preset_load(actor=None, name=name, system=True)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Preset %(name)s: %(added)d fields added, %(updated)d updated.")
                % {"name": name, "added": added, "updated": updated}
            )
        )

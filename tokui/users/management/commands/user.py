"""``tokui user add|deactivate|list``: manage staff accounts from the shell."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tokui.accounts.selectors import area_get_by_code
from tokui.users.choices import Role
from tokui.users.models import User
from tokui.users.services import user_create, user_deactivate


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Add, deactivate or list users."
    # Tests hand in the password through ``stdin=`` instead of the process's standard input.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        add = actions.add_parser("add", help="Create a user.")
        add.add_argument("username", metavar="NAME")
        add.add_argument(
            "--role",
            required=True,
            help=f"One of: {', '.join(Role.values)}.",
        )
        add.add_argument("--area", metavar="CODE", help="The code of the user's area.")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input. Without it the "
            "user has no usable password (API tokens only, or set one later).",
        )
        add.add_argument("--email", default="")
        add.add_argument("--first-name", default="")
        add.add_argument("--last-name", default="")

        deactivate = actions.add_parser(
            "deactivate", help="Stop a user from signing in and revoke their API tokens."
        )
        deactivate.add_argument("username", metavar="NAME")

        actions.add_parser("list", help="List users with their role and area.")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_add(self, *, username, role, area, password_stdin, **options):
        if role not in Role.values:
            raise CommandError(
                _("Unknown role %(role)r. Choose one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(Role.values)}
            )
        area_obj = None
        if area:
            area_obj = area_get_by_code(area)
            if area_obj is None:
                raise CommandError(_("Unknown area %(code)r.") % {"code": area})
        password = None
        if password_stdin:
            stdin = options.get("stdin") or sys.stdin
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError(_("--password-stdin was given but standard input was empty."))
        try:
            user = user_create(
                username=username,
                role=role,
                area=area_obj,
                password=password,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as exc:
            raise CommandError(
                _("User %(name)r not created: %(why)s") % {"name": username, "why": _messages(exc)}
            ) from exc
        details = (
            _("%(role)s, area %(area)s") % {"role": user.role, "area": area_obj.code}
            if area_obj
            else user.role
        )
        created = (
            _("Created user %(name)s (%(details)s) with a password.")
            if password
            else _("Created user %(name)s (%(details)s) without a usable password.")
        )
        self.stdout.write(self.style.SUCCESS(created % {"name": user.username, "details": details}))

    def handle_deactivate(self, *, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("Unknown user %(name)r.") % {"name": username})
        revoked = user_deactivate(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                _("Deactivated %(name)s; revoked %(count)d API token(s).")
                % {"name": username, "count": revoked}
            )
        )

    def handle_list(self, **options):
        rows = [("USERNAME", "ROLE", "AREA", "ACTIVE", "NAME")]
        for user in User.objects.select_related("area").order_by("username"):
            rows.append(
                (
                    user.username,
                    user.role,
                    user.area.code if user.area_id else "-",
                    "yes" if user.is_active else "no",
                    user.get_full_name(),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())

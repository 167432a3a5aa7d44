"""``tokui token create|list|revoke``: personal API tokens for scripts and integrations."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.users.choices import TokenScope
from tokui.users.models import ApiToken, User
from tokui.users.services import TOKEN_PREFIX, hash_token, token_create, token_revoke


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def _status(token: ApiToken) -> str:
    if token.revoked_at:
        return "revoked"
    if token.expires_at and token.expires_at <= timezone.now():
        return "expired"
    if not token.user.is_active:
        return "user inactive"
    return "active"


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser(
            "create", help="Create a token for a user and print it (it is shown only once)."
        )
        create.add_argument("username", metavar="NAME")
        create.add_argument("--label", default="cli", help="What the token is for.")
        create.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.WRITE,
            help="read: GET only; write: everything the user's role allows (default).",
        )
        create.add_argument(
            "--expires-days",
            type=int,
            metavar="N",
            help="Stop working after N days (default: never).",
        )

        listing = actions.add_parser("list", help="List a user's tokens (never the secret).")
        listing.add_argument("username", metavar="NAME")

        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix", metavar="PREFIX")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("Unknown user %(name)r.") % {"name": username})
        return user

    def handle_create(self, *, username, label, scope, expires_days, **options):
        user = self._user(username)
        if not user.is_active:
            raise CommandError(
                _("User %(name)r is deactivated; a token would not work.") % {"name": username}
            )
        expires_at = None
        if expires_days is not None:
            if expires_days < 1:
                raise CommandError(_("--expires-days must be at least 1."))
            expires_at = timezone.now() + datetime.timedelta(days=expires_days)
        try:
            token, raw = token_create(user=user, name=label, scope=scope, expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError(
                _("Token not created: %(why)s") % {"why": " ".join(exc.messages)}
            ) from exc
        # The secret goes to stdout alone so scripts can capture it; the notes go to stderr.
        self.stdout.write(raw)
        self.stderr.write(
            _(
                "Token %(prefix)s (%(scope)s, expires %(expires)s) for %(name)s. "
                "Copy it now: only its hash is stored and it cannot be shown again."
            )
            % {
                "prefix": token.prefix,
                "scope": token.scope,
                "expires": _when(expires_at),
                "name": username,
            }
        )

    def handle_list(self, *, username, **options):
        user = self._user(username)
        rows = [("PREFIX", "LABEL", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "STATUS")]
        for token in ApiToken.objects.filter(user=user).select_related("user"):
            rows.append(
                (
                    token.prefix,
                    token.name,
                    token.scope,
                    _when(token.created_at),
                    _when(token.expires_at),
                    _when(token.last_used_at),
                    _status(token),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )

    def handle_revoke(self, *, prefix, **options):
        # Accept the prefix as listed, or the whole token as printed by ``token create``.
        raw = prefix if prefix.startswith(TOKEN_PREFIX) and len(prefix) > 20 else None
        prefix = prefix.removeprefix(TOKEN_PREFIX)[:8]
        tokens = ApiToken.objects.filter(prefix=prefix).select_related("user")
        if raw:
            tokens = tokens.filter(key_hash=hash_token(raw))
        tokens = list(tokens)
        if not tokens:
            raise CommandError(_("No token with prefix %(prefix)r.") % {"prefix": prefix})
        if len(tokens) > 1:
            raise CommandError(
                _(
                    "%(count)d tokens share the prefix %(prefix)r (users: %(users)s); "
                    "give the whole token instead of its prefix."
                )
                % {
                    "count": len(tokens),
                    "prefix": prefix,
                    "users": ", ".join(t.user.username for t in tokens),
                }
            )
        token = tokens[0]
        if token.revoked_at:
            self.stdout.write(
                _("Token %(prefix)s of %(name)s was already revoked.")
                % {"prefix": prefix, "name": token.user.username}
            )
            return
        token_revoke(token=token)
        self.stdout.write(
            self.style.SUCCESS(
                _("Revoked token %(prefix)s of %(name)s.")
                % {"prefix": prefix, "name": token.user.username}
            )
        )

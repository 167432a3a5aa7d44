"""Writes for users and API tokens."""

import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from tokui.accounts.models import Area

from .choices import Role, TokenScope
from .models import ApiToken, User

TOKEN_PREFIX = "tokui_"  # noqa: S105 - a marker, not a secret


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    area: Area | None = None,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    check_password: bool = True,
) -> User:
    user = User(
        username=username,
        role=role,
        area=area,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMINISTRATOR,
    )
    if password:
        if check_password:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is as safe as a slow one here.
    return hashlib.sha256(raw.encode()).hexdigest()


def _token_secret() -> str:
    """256 random bits, URL-safe, starting with a letter or digit: the first characters are
    the token's prefix, which ``tokui token revoke PREFIX`` takes, and one starting with "-"
    would read as an option (one token in 64)."""
    while True:
        secret = secrets.token_urlsafe(32)
        if secret[0].isalnum():
            return secret


@transaction.atomic
def token_create(
    *, user: User, name: str, scope: str = TokenScope.WRITE, expires_at=None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is not stored anywhere."""
    raw = TOKEN_PREFIX + _token_secret()
    token = ApiToken(
        user=user,
        name=name,
        prefix=raw[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
        key_hash=hash_token(raw),
        scope=scope,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, raw


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token matching ``raw``, marking it used; None if unknown, expired or revoked."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    # Writing on every request would serialise API traffic; a minute's precision is plenty.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def user_deactivate(*, user: User) -> int:
    """Stop a user from signing in or using the API; returns how many tokens were revoked.

    The account is kept, not deleted, so the cards' history still names who did what.
    """
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )

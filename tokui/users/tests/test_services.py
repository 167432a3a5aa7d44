"""User and token services: passwords are validated, tokens hashed, deactivation is total."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tokui.users.choices import Role
from tokui.users.models import ApiToken, User
from tokui.users.services import (
    token_authenticate,
    token_create,
    token_revoke,
    user_create,
    user_deactivate,
)


@pytest.mark.django_db
def test_user_create_validates_the_password_against_the_user():
    with pytest.raises(ValidationError) as error:
        user_create(username="hanako2024", role=Role.ANALYST, password="hanako2024")

    assert "too similar to the username" in " ".join(error.value.messages)
    assert not User.objects.filter(username="hanako2024").exists()


@pytest.mark.django_db
def test_user_create_rejects_an_unknown_role():
    with pytest.raises(ValidationError) as error:
        user_create(username="x", role="boss")

    assert "role" in error.value.message_dict
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_token_stops_working_when_it_expires():
    user = user_create(username="bot", role=Role.ANALYST)
    _, raw = token_create(
        user=user, name="short", expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert token_authenticate(raw) is None


@pytest.mark.django_db
def test_token_authenticate_refuses_forged_and_revoked_tokens():
    user = user_create(username="bot", role=Role.ANALYST)
    token, raw = token_create(user=user, name="t")

    assert token_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert token_authenticate("not-a-token") is None
    token_revoke(token=token)
    assert token_authenticate(raw) is None


@pytest.mark.django_db
def test_user_deactivate_keeps_the_account_and_revokes_only_live_tokens():
    user = user_create(username="leaver", role=Role.ACCOUNT_MANAGER)
    old, _ = token_create(user=user, name="old")
    token_revoke(token=old)
    old_revoked_at = ApiToken.objects.get(pk=old.pk).revoked_at
    _, live = token_create(user=user, name="live")

    revoked = user_deactivate(user=user)

    assert revoked == 1
    assert User.objects.get(pk=user.pk).is_active is False
    assert token_authenticate(live) is None
    assert ApiToken.objects.get(pk=old.pk).revoked_at == old_revoked_at

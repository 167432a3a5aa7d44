"""`tokui token create|list|revoke`: the secret is printed once and only its hash is kept."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tokui.users.choices import Role, TokenScope
from tokui.users.models import ApiToken
from tokui.users.services import TOKEN_PREFIX, hash_token, token_authenticate


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_token_once_and_stores_only_its_hash(users):
    out, err = run("create", "am", "--label", "sync script")

    raw = out.strip()
    assert raw.startswith(TOKEN_PREFIX)
    assert len(out.splitlines()) == 1  # the secret alone, for scripts to capture
    token = ApiToken.objects.get(user=users[Role.ACCOUNT_MANAGER])
    assert token.key_hash == hash_token(raw)
    assert token.name == "sync script"
    assert token.scope == TokenScope.WRITE
    assert token.expires_at is None
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(raw in value for value in stored)
    assert raw not in err
    assert f"Token {token.prefix} (write, expires -) for am." in err
    assert token_authenticate(raw) == token


def test_create_read_only_token_that_expires(users):
    out, _ = run("create", "agent", "--scope", "read", "--expires-days", "30")

    token = token_authenticate(out.strip())
    assert token.scope == TokenScope.READ
    expected = timezone.now() + datetime.timedelta(days=30)
    assert abs((token.expires_at - expected).total_seconds()) < 60


def test_create_refuses_unknown_or_inactive_users_and_bad_expiry(users):
    with pytest.raises(CommandError, match="Unknown user 'ghost'"):
        run("create", "ghost")
    with pytest.raises(CommandError, match="--expires-days must be at least 1"):
        run("create", "am", "--expires-days", "0")
    call_command("user", "deactivate", "analyst", stdout=io.StringIO())
    with pytest.raises(CommandError, match="deactivated"):
        run("create", "analyst")

    assert ApiToken.objects.count() == 0


def test_list_shows_tokens_without_their_secret(users):
    raw, _ = run("create", "am", "--label", "laptop")
    raw = raw.strip()
    run("create", "am", "--label", "phone", "--scope", "read")
    run("create", "manager", "--label", "not mine")

    out, _ = run("list", "am")

    lines = out.splitlines()
    assert lines[0].split() == [
        "PREFIX",
        "LABEL",
        "SCOPE",
        "CREATED",
        "EXPIRES",
        "LAST",
        "USED",
        "STATUS",
    ]
    assert len(lines) == 3
    assert {line.split()[1] for line in lines[1:]} == {"laptop", "phone"}
    assert all(line.split()[-1] == "active" for line in lines[1:])
    assert raw not in out
    assert raw[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8] in out


def test_revoke_by_prefix_stops_the_token(users):
    raw, _ = run("create", "am")
    raw = raw.strip()
    other, _ = run("create", "am")
    prefix = ApiToken.objects.get(key_hash=hash_token(raw)).prefix

    out, _ = run("revoke", prefix)

    assert out.strip() == f"Revoked token {prefix} of am."
    assert token_authenticate(raw) is None
    assert token_authenticate(other.strip()) is not None
    listing, _ = run("list", "am")
    assert f"{prefix}" in listing and "revoked" in listing


def test_a_prefix_never_reads_as_an_option(users, monkeypatch):
    """One random secret in 64 starts with "-": ``revoke -AbC…`` would be an option."""
    secrets = iter(["-dashfirst" + "x" * 33, "_underfirst" + "x" * 32, "Letterfirst" + "x" * 32])
    monkeypatch.setattr("tokui.users.services.secrets.token_urlsafe", lambda n: next(secrets))

    raw, _ = run("create", "am")

    prefix = ApiToken.objects.get(key_hash=hash_token(raw.strip())).prefix
    assert prefix == "Letterfi"
    out, _ = run("revoke", prefix)
    assert out.strip() == f"Revoked token {prefix} of am."


def test_revoke_accepts_the_whole_token_and_is_idempotent(users):
    raw, _ = run("create", "am")
    raw = raw.strip()

    run("revoke", raw)
    again, _ = run("revoke", raw)

    assert token_authenticate(raw) is None
    assert "already revoked" in again


@pytest.mark.django_db
def test_revoke_unknown_prefix():
    with pytest.raises(CommandError, match="No token with prefix 'abcdefgh'"):
        run("revoke", "abcdefgh")

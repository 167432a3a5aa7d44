"""`tokui user add|deactivate|list`: what an operator types, and what they get back."""

import io

import pytest
from django.core.management import CommandError, call_command

from tokui.users.choices import Role
from tokui.users.models import ApiToken, User
from tokui.users.services import token_authenticate, token_create

GOOD_PASSWORD = "plum-orchard-lantern-42"


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("user", *args, **options)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_add_creates_a_user_for_every_role_key(role):
    output = run("add", "someone", "--role", role)

    user = User.objects.get(username="someone")
    assert user.role == role
    assert user.is_active
    assert user.is_staff is (role == Role.ADMINISTRATOR)
    assert not user.has_usable_password()
    assert output.strip() == f"Created user someone ({role}) without a usable password."


def test_add_with_area_email_and_names(areas):
    run(
        "add",
        "tanaka",
        "--role",
        "account_manager",
        "--area",
        "TKY",
        "--email",
        "tanaka@example.com",
        "--first-name",
        "Hanako",
        "--last-name",
        "Tanaka",
    )

    user = User.objects.get(username="tanaka")
    assert (user.area, user.email, user.first_name, user.last_name) == (
        areas["TKY"],
        "tanaka@example.com",
        "Hanako",
        "Tanaka",
    )


@pytest.mark.django_db
def test_add_reads_the_password_from_stdin():
    output = run(
        "add", "admin2", "--role", "administrator", "--password-stdin", stdin=f"{GOOD_PASSWORD}\n"
    )

    user = User.objects.get(username="admin2")
    assert user.check_password(GOOD_PASSWORD)
    assert "with a password" in output


@pytest.mark.django_db
def test_add_refuses_a_weak_password_and_creates_nobody():
    with pytest.raises(CommandError) as error:
        run("add", "weak", "--role", "analyst", "--password-stdin", stdin="password\n")

    assert "too common" in str(error.value)
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_add_refuses_empty_stdin():
    with pytest.raises(CommandError, match="standard input was empty"):
        run("add", "nobody", "--role", "analyst", "--password-stdin", stdin="")

    assert not User.objects.filter(username="nobody").exists()


@pytest.mark.django_db
def test_add_names_an_unknown_role():
    with pytest.raises(CommandError) as error:
        run("add", "x", "--role", "boss")

    assert str(error.value).startswith("Unknown role 'boss'. Choose one of: administrator,")
    assert User.objects.count() == 0


def test_add_names_an_unknown_area(areas):
    with pytest.raises(CommandError, match="Unknown area 'NOWHERE'"):
        run("add", "x", "--role", "manager", "--area", "NOWHERE")

    assert not User.objects.filter(username="x").exists()


def test_add_refuses_a_taken_username(users):
    with pytest.raises(CommandError, match="User 'admin' not created: username: "):
        run("add", "admin", "--role", "auditor")

    assert User.objects.get(username="admin").role == Role.ADMINISTRATOR


def test_deactivate_stops_sign_in_and_revokes_every_token(users):
    am = users[Role.ACCOUNT_MANAGER]
    _, first = token_create(user=am, name="one")
    _, second = token_create(user=am, name="two")

    output = run("deactivate", "am")

    am.refresh_from_db()
    assert am.is_active is False
    assert token_authenticate(first) is None
    assert token_authenticate(second) is None
    assert ApiToken.objects.filter(user=am, revoked_at__isnull=True).count() == 0
    assert output.strip() == "Deactivated am; revoked 2 API token(s)."


def test_deactivate_leaves_other_users_alone(users):
    _, raw = token_create(user=users[Role.MANAGER], name="m")

    run("deactivate", "am")

    assert User.objects.get(username="manager").is_active
    assert token_authenticate(raw) is not None


@pytest.mark.django_db
def test_deactivate_unknown_user():
    with pytest.raises(CommandError, match="Unknown user 'ghost'"):
        run("deactivate", "ghost")


def test_list_shows_role_area_and_state(users):
    run("deactivate", "auditor")

    lines = run("list").splitlines()

    assert lines[0].split() == ["USERNAME", "ROLE", "AREA", "ACTIVE", "NAME"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:]}
    assert rows["am"] == ["account_manager", "TKY", "yes"]
    assert rows["admin"] == ["administrator", "-", "yes"]
    assert rows["auditor"] == ["auditor", "-", "no"]
    assert len(rows) == len(users)

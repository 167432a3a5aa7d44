"""Log-in protection: lock-out per user and address, session expiry, deactivation."""

import datetime
import secrets

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tokui.core.testing.factories import TEST_PASSWORD
from tokui.core.tests.test_settings import tokui
from tokui.users.choices import Role
from tokui.users.services import token_create, user_deactivate

LOGIN_URL = "/login/"
OFFICE = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


def log_in(client, username, password, address, **extra):
    return client.post(
        LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


@pytest.fixture
def am(users):
    return users[Role.ACCOUNT_MANAGER]


def test_correct_password_logs_in(am):
    response = log_in(Client(), "am", TEST_PASSWORD, OFFICE)

    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_four_wrong_passwords_do_not_lock_and_a_success_clears_them(am):
    client = Client()
    for _ in range(4):
        assert log_in(client, "am", "wrong", OFFICE).status_code == 200

    assert log_in(client, "am", TEST_PASSWORD, OFFICE).status_code == 302
    assert AccessAttempt.objects.filter(username="am").count() == 0


def test_five_wrong_passwords_lock_that_user_from_that_address(am):
    client = Client()
    answers = [log_in(client, "am", "wrong", OFFICE).status_code for _ in range(5)]

    locked = log_in(Client(), "am", TEST_PASSWORD, OFFICE)

    assert answers == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Log-in locked" in locked.content.decode()
    assert "After 5 wrong passwords" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in locked.client.session


def test_the_same_user_from_another_address_still_logs_in(am):
    for _ in range(5):
        log_in(Client(), "am", "wrong", OFFICE)

    response = log_in(Client(), "am", TEST_PASSWORD, ELSEWHERE)

    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_another_user_from_the_locked_address_still_logs_in(users):
    for _ in range(5):
        log_in(Client(), "am", "wrong", OFFICE)

    assert log_in(Client(), "agent", TEST_PASSWORD, OFFICE).status_code == 302


def test_the_lock_lifts_after_the_cool_off(am):
    for _ in range(5):
        log_in(Client(), "am", "wrong", OFFICE)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert log_in(Client(), "am", TEST_PASSWORD, OFFICE).status_code == 302


def test_lockout_page_speaks_the_users_language(am):
    for _ in range(5):
        log_in(Client(), "am", "wrong", OFFICE)

    response = log_in(Client(), "am", TEST_PASSWORD, OFFICE, HTTP_ACCEPT_LANGUAGE="ja")

    html = response.content.decode()
    assert response.status_code == 429
    assert "ログインがロックされました" in html
    assert "パスワードを5回間違えたため" in html
    assert "15分後にもう一度お試しいただくか" in html


def test_the_test_clients_login_still_works_with_axes(client, am):
    assert client.login(username="am", password=TEST_PASSWORD)
    assert not client.login(username="am", password="wrong")


def test_api_tokens_are_not_subject_to_the_password_lockout(client, am, customer):
    for _ in range(5):
        log_in(Client(), "am", "wrong", "127.0.0.1")
    _, raw = token_create(user=am, name="laptop")

    response = client.get("/api/v1/customers/TKY-0001", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200


# Session expiry and deactivation


def test_a_session_idle_longer_than_the_limit_is_over(client, am, customer):
    client.force_login(am)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/customers/TKY-0001/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/customers/TKY-0001/"


def test_every_request_pushes_the_expiry_back(client, am, customer, settings):
    client.force_login(am)
    soon = timezone.now() + datetime.timedelta(seconds=60)
    Session.objects.update(expire_date=soon)

    assert client.get("/customers/TKY-0001/").status_code == 200

    expiry = Session.objects.get().expire_date
    assert expiry > soon
    expected = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((expiry - expected).total_seconds()) < 60


def test_session_age_and_cool_off_come_from_the_environment(tmp_path):
    result = tokui(
        "shell", "--no-imports", "-c",
        "from django.conf import settings; "
        "print(settings.SESSION_COOKIE_AGE, int(settings.AXES_COOLOFF_TIME.total_seconds()))",
        tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64),
        SESSION_COOKIE_AGE="900", AXES_COOLOFF_MINUTES="30",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "900 1800"


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.MANAGER])
def test_a_deactivated_users_next_page_request_goes_to_log_in(client, users, customer, role):
    client.force_login(users[role])
    assert client.get("/customers/TKY-0001/").status_code == 200

    user_deactivate(user=users[role])
    response = client.get("/customers/TKY-0001/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/customers/TKY-0001/"


def test_a_deactivated_users_session_and_token_no_longer_reach_the_api(client, am, customer):
    client.force_login(am)
    _, raw = token_create(user=am, name="laptop")
    bearer = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/customers/TKY-0001", headers=bearer).status_code == 200

    user_deactivate(user=am)

    assert client.get("/api/v1/customers/TKY-0001", headers=bearer).status_code == 401
    assert client.get("/api/v1/customers/TKY-0001").status_code == 401


def test_a_deactivated_user_cannot_log_in_again(am):
    user_deactivate(user=am)

    response = log_in(Client(), "am", TEST_PASSWORD, OFFICE)

    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session

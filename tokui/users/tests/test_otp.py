"""Two-factor sign-in with TOTP: set-up, the code after the password, and who must have it."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tokui.core.testing.clients import TwoFactorClient, confirm_totp_device, current_totp_code
from tokui.core.testing.factories import TEST_PASSWORD, UserFactory
from tokui.users.auth import pending_device
from tokui.users.choices import Role
from tokui.users.services import token_create

SETUP_URL = "/account/two-factor/"
VERIFY_URL = "/account/two-factor/verify/"
CARD_URL = "/customers/TKY-0001/"


def log_in_with_password(username, address="192.0.2.10") -> Client:
    client = Client()
    response = client.post(
        "/login/", {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR=address
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def new_manager(areas):
    """A manager who has not set up two-factor sign-in yet."""
    return UserFactory(username="new_manager", role=Role.MANAGER, area=areas["TKY"])


# Who must set it up


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER])
def test_administrators_and_managers_without_a_device_are_sent_to_set_up(areas, customer, role):
    user = UserFactory(username="fresh", role=role, area=areas["TKY"])
    client = TwoFactorClient()
    client.force_login(user, verified=False)

    for url in (CARD_URL, "/customers/", "/fields/", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{SETUP_URL}?next="), url


def test_the_set_up_page_keeps_where_the_user_was_going(new_manager, customer):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)

    response = client.get(CARD_URL)

    assert response["Location"] == f"{SETUP_URL}?next=%2Fcustomers%2FTKY-0001%2F"


def test_a_manager_without_a_device_gets_no_customer_data_from_the_api_session(
    new_manager, customer
):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)

    response = client.get("/api/v1/customers/TKY-0001")

    assert response.status_code == 401


def test_api_tokens_are_not_held_back_by_the_second_factor(new_manager, customer):
    _, raw = token_create(user=new_manager, name="script")

    response = Client().get(
        "/api/v1/customers/TKY-0001", headers={"Authorization": f"Bearer {raw}"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "role", [Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT, Role.ANALYST, Role.AUDITOR]
)
def test_other_roles_may_work_without_a_device(users, customer, role):
    client = log_in_with_password(users[role].username)

    response = client.get("/")

    assert response.status_code in (200, 302)
    assert not response.get("Location", "").startswith("/account/")
    assert not TOTPDevice.objects.filter(user=users[role]).exists()


# Setting it up


def test_set_up_page_shows_an_inline_qr_code_and_the_secret(new_manager):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)

    response = client.get(SETUP_URL)

    html = response.content.decode()
    device = TOTPDevice.objects.get(user=new_manager)
    assert response.status_code == 200
    assert device.confirmed is False
    assert "<svg" in html
    secret = re.search(r'<code class="user-select-all" id="otp-secret">([A-Z2-7 ]+)</code>', html)
    assert secret is not None
    assert secret.group(1).replace(" ", "") in device.config_url
    assert "Your role needs two-factor sign-in" in html


def test_the_qr_code_needs_no_inline_style_or_script(new_manager):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)

    html = client.get(SETUP_URL).content.decode()

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "style=" not in svg
    assert "<script" not in svg


def test_reloading_the_set_up_page_shows_the_same_secret(new_manager):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)

    client.get(SETUP_URL)
    client.get(SETUP_URL)

    assert TOTPDevice.objects.filter(user=new_manager).count() == 1


def test_a_wrong_code_does_not_confirm_the_device(new_manager, customer):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)
    client.get(SETUP_URL)

    response = client.post(SETUP_URL, {"code": "000000", "next": CARD_URL})

    assert response.status_code == 200
    assert "This code is wrong" in response.content.decode()
    assert TOTPDevice.objects.get(user=new_manager).confirmed is False
    assert client.get(CARD_URL).status_code == 302


def test_the_right_code_confirms_the_device_and_opens_the_pages(new_manager, customer):
    client = TwoFactorClient()
    client.force_login(new_manager, verified=False)
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=new_manager)

    response = client.post(SETUP_URL, {"code": current_totp_code(device), "next": CARD_URL})

    assert response.status_code == 302
    assert response["Location"] == CARD_URL
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(CARD_URL).status_code == 200


def test_a_new_device_replaces_the_old_one(users):
    manager = users[Role.MANAGER]
    old = TOTPDevice.objects.get(user=manager)
    client = TwoFactorClient()
    client.force_login(manager)
    new = pending_device(manager)

    client.post(SETUP_URL, {"code": current_totp_code(new)})

    assert list(TOTPDevice.objects.filter(user=manager).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_an_account_manager_may_turn_it_on_and_is_then_asked_for_the_code(users, customer):
    am = users[Role.ACCOUNT_MANAGER]
    client = log_in_with_password("am")
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=am)
    assert client.post(SETUP_URL, {"code": current_totp_code(device)}).status_code == 302

    later = log_in_with_password("am", address="192.0.2.11")

    assert later.get(CARD_URL)["Location"] == f"{VERIFY_URL}?next=%2Fcustomers%2FTKY-0001%2F"


# The code after the password


def test_after_the_password_a_user_with_a_device_must_enter_the_code(users, customer):
    client = log_in_with_password("manager")

    response = client.get(CARD_URL)

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY_URL}?next=%2Fcustomers%2FTKY-0001%2F"
    assert client.get("/api/v1/customers/TKY-0001").status_code == 401


def test_the_code_opens_the_pages(users, customer):
    device = TOTPDevice.objects.get(user=users[Role.MANAGER])
    client = log_in_with_password("manager")

    response = client.post(VERIFY_URL, {"code": current_totp_code(device), "next": CARD_URL})

    assert response.status_code == 302
    assert response["Location"] == CARD_URL
    assert client.get(CARD_URL).status_code == 200
    assert client.get("/api/v1/customers/TKY-0001").status_code == 200


def test_a_wrong_code_keeps_the_pages_closed(users, customer):
    client = log_in_with_password("manager")

    response = client.post(VERIFY_URL, {"code": "123456", "next": CARD_URL})

    assert response.status_code == 200
    assert "This code is wrong" in response.content.decode()
    assert client.get(CARD_URL).status_code == 302


def test_reusing_a_code_is_refused(users, customer):
    device = TOTPDevice.objects.get(user=users[Role.MANAGER])
    code = current_totp_code(device)
    first = log_in_with_password("manager")
    assert first.post(VERIFY_URL, {"code": code}).status_code == 302

    second = log_in_with_password("manager", address="192.0.2.99")
    response = second.post(VERIFY_URL, {"code": code, "next": CARD_URL})

    assert response.status_code == 200
    assert "This code is wrong, expired or already used" in response.content.decode()
    assert second.get(CARD_URL).status_code == 302
    assert first.get(CARD_URL).status_code == 200


def test_someone_with_only_the_password_cannot_replace_the_device(users):
    manager = users[Role.MANAGER]
    client = log_in_with_password("manager")

    response = client.get(SETUP_URL)

    assert response["Location"].startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_a_foreign_next_address_is_ignored(users):
    device = confirm_totp_device(users[Role.MANAGER])
    client = log_in_with_password("manager")

    response = client.post(
        VERIFY_URL, {"code": current_totp_code(device), "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_log_out_stays_reachable_before_the_code(users):
    client = log_in_with_password("manager")

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_menu_links_to_the_two_factor_page(client, users):
    client.force_login(users[Role.ACCOUNT_MANAGER])

    html = client.get("/customers/").content.decode()

    assert f'href="{SETUP_URL}"' in html

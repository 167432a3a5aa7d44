"""Shared fixtures: an area tree, one user per role, and customers inside and outside scope.

Areas: JP > TKY (Tokyo), JP > OSK (Osaka). The account manager and manager work in
Tokyo; ``customer`` is theirs, ``other_customer`` belongs to Osaka and another owner.
"""

import os

import pytest
from django.http import HttpRequest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tokui.core.testing.factories import AreaFactory, CustomerFactory, UserFactory
from tokui.users.auth import confirmed_device, second_factor_required
from tokui.users.choices import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def confirm_totp_device(user) -> TOTPDevice:
    """The user's confirmed TOTP device, made if they have none (as the set-up page would)."""
    return confirmed_device(user) or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )


def current_totp_code(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows right now."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(code).zfill(device.digits)


class TwoFactorClient(Client):
    """The test client, signed in the whole way: password *and* second factor.

    Administrators and managers must pass a second factor, so ``force_login`` and
    ``login`` also do what entering the code does: the session is marked verified with
    the user's confirmed device (made when they have none). ``verified=False`` stops
    after the password, for tests of the second factor itself. ``login`` hands
    django-axes the request it needs to count failures by address.
    """

    def force_login(self, user, backend=None, verified=True):
        super().force_login(user, backend)
        if verified:
            self._verify(user)

    def login(self, verified=True, **credentials):
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        logged_in = super().login(request=request, **credentials)
        if logged_in and verified:
            from django.contrib.auth import get_user_model

            self._verify(get_user_model().objects.get(pk=self.session["_auth_user_id"]))
        return logged_in

    def _verify(self, user):
        if not (second_factor_required(user) or confirmed_device(user)):
            return
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = confirm_totp_device(user).persistent_id
        session.save()


@pytest.fixture
def client():
    return TwoFactorClient()


@pytest.fixture
def totp_code():
    """``totp_code(user)``: a code that passes the user's second factor now (for browser log-ins).

    Each code works once: a second log-in in the same 30 seconds needs the next one.
    """

    def code_for(user) -> str:
        return current_totp_code(confirm_totp_device(user))

    return code_for


@pytest.fixture
def areas(db):
    japan = AreaFactory(code="JP", name="Japan")
    return {
        "JP": japan,
        "TKY": AreaFactory(code="TKY", name="Tokyo", parent=japan),
        "OSK": AreaFactory(code="OSK", name="Osaka", parent=japan),
    }


@pytest.fixture
def users(areas):
    """One user per role; area-bound roles sit in Tokyo.

    The administrator and the manager have a confirmed TOTP device, as their roles require.
    """
    users = {
        Role.ADMINISTRATOR: UserFactory(username="admin", role=Role.ADMINISTRATOR),
        Role.MANAGER: UserFactory(username="manager", role=Role.MANAGER, area=areas["TKY"]),
        Role.ACCOUNT_MANAGER: UserFactory(
            username="am", role=Role.ACCOUNT_MANAGER, area=areas["TKY"]
        ),
        Role.SERVICE_AGENT: UserFactory(username="agent", role=Role.SERVICE_AGENT),
        Role.ANALYST: UserFactory(username="analyst", role=Role.ANALYST),
        Role.AUDITOR: UserFactory(username="auditor", role=Role.AUDITOR),
    }
    for role in (Role.ADMINISTRATOR, Role.MANAGER):
        confirm_totp_device(users[role])
    return users


@pytest.fixture
def other_account_manager(areas):
    return UserFactory(username="am_osaka", role=Role.ACCOUNT_MANAGER, area=areas["OSK"])


@pytest.fixture
def customer(users, areas):
    """In scope for the Tokyo account manager and the Tokyo manager."""
    return CustomerFactory(
        code="TKY-0001",
        name="山田商店",
        name_reading="ヤマダショウテン",
        owner=users[Role.ACCOUNT_MANAGER],
        area=areas["TKY"],
        phone="03-1234-5678",
    )


@pytest.fixture
def other_customer(other_account_manager, areas):
    """Out of scope for the Tokyo account manager and the Tokyo manager."""
    return CustomerFactory(
        code="OSK-0001",
        name="大阪物産",
        name_reading="オオサカブッサン",
        owner=other_account_manager,
        area=areas["OSK"],
        phone="06-9876-5432",
    )

"""Shared fixtures: an area tree, one user per role, and customers inside and outside scope.

Areas: JP > TKY (Tokyo), JP > OSK (Osaka). The account manager and manager work in
Tokyo; ``customer`` is theirs, ``other_customer`` belongs to Osaka and another owner.
"""

import os

import pytest

from tokui.core.testing.clients import TwoFactorClient, confirm_totp_device, current_totp_code
from tokui.core.testing.factories import AreaFactory, CustomerFactory, UserFactory
from tokui.users.choices import Role

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Japanese or Korean leaves that language active in the thread (the locale
    middleware turns it on per request and nothing turns it off), so the next test in the
    same worker would read its messages translated."""
    yield
    from django.utils import translation

    translation.deactivate()


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

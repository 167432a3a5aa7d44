import pytest

from tokui.core.testing.factories import CustomerFactory
from tokui.customers.models import Customer
from tokui.customers.selectors import customer_list, customer_search
from tokui.users.choices import Role


@pytest.mark.parametrize(
    "query",
    ["TKY-0001", "山田", "ヤマダ", "やまだ", "ﾔﾏﾀﾞ", "ヤマダ ショウテン", "0312345678", "03-1234"],
)
def test_search_finds_the_card_by_code_name_reading_or_phone(customer, query):
    assert list(customer_search(Customer.objects.all(), query)) == [customer]


def test_search_matches_korean_and_latin_names(db):
    korean = CustomerFactory(name="김민준 상회", name_reading="김민준 상회")
    latin = CustomerFactory(name="Smith & Sons", name_reading="")
    assert list(customer_search(Customer.objects.all(), "민준")) == [korean]
    assert list(customer_search(Customer.objects.all(), "SMITH")) == [latin]


@pytest.mark.parametrize(
    ("role", "sees_own", "sees_other"),
    [
        (Role.ADMINISTRATOR, True, True),
        (Role.MANAGER, True, False),
        (Role.ACCOUNT_MANAGER, True, False),
        (Role.SERVICE_AGENT, True, True),
        (Role.ANALYST, False, False),
        (Role.AUDITOR, True, True),
    ],
)
def test_scope_of_each_role(users, customer, other_customer, role, sees_own, sees_other):
    visible = set(customer_list(user=users[role]))
    assert (customer in visible) is sees_own
    assert (other_customer in visible) is sees_other


def test_assigned_account_manager_sees_the_customer_once(users, other_customer, customer):
    am = users[Role.ACCOUNT_MANAGER]
    other_customer.assigned_users.add(am, users[Role.MANAGER])
    assert list(customer_list(user=am).order_by("code")) == [other_customer, customer]


def test_manager_sees_subareas(users, areas):
    users[Role.MANAGER].area = areas["JP"]
    tokyo = CustomerFactory(area=areas["TKY"])
    osaka = CustomerFactory(area=areas["OSK"])
    elsewhere = CustomerFactory(area=None)
    visible = set(customer_list(user=users[Role.MANAGER]))
    assert {tokyo, osaka} <= visible
    assert elsewhere not in visible

"""Demo data: realistic, valid, deterministic for a seed, and safe to run twice."""

import io

import pytest
from django.core.management import CommandError, call_command

from tokui.approvals.choices import RequestStatus
from tokui.approvals.models import ChangeRequest
from tokui.audit.models import ObjectChange
from tokui.core.text import digits_only
from tokui.customers import demo
from tokui.customers.choices import CustomerKind
from tokui.customers.models import Address, Consent, Customer, Person
from tokui.fields.models import FieldDefinition
from tokui.fields.selectors import active_field_definitions
from tokui.fields.services import clean_field_values, preset_definitions
from tokui.users.choices import Role
from tokui.users.models import User

KANA = set(range(ord("ぁ"), ord("ゖ") + 1)) | set(range(ord("ァ"), ord("ヺ") + 1)) | {ord("ー")}
HANGUL = range(0xAC00, 0xD7A4)


def card_facts(scenario: str) -> list[tuple]:
    """Everything a seed decides about the cards, in code order."""
    prefix = demo.SCENARIOS[scenario].code_prefix
    customers = Customer.objects.filter(code__startswith=f"{prefix}-").order_by("code")
    return [
        (
            c.code,
            c.kind,
            c.name,
            c.name_reading,
            c.status,
            c.owner.username if c.owner else None,
            c.area.code,
            c.phone,
            c.email,
            c.preferred_channel,
            c.field_values,
            sorted(c.tags.values_list("name", flat=True)),
            list(c.people.order_by("id").values_list("relation", "name", "birthday", "mobile")),
            list(c.addresses.order_by("id").values_list("postal_code", "region", "line1")),
            list(c.consents.order_by("id").values_list("channel", "granted", "recorded_on")),
        )
        for c in customers.select_related("owner", "area")
    ]


@pytest.mark.django_db
def test_store_demo_creates_areas_users_for_every_role_fields_and_customers():
    result = demo.demo_load(scenario="store", customers=40, seed=7)

    assert result.customers == Customer.objects.count() == 40
    assert result.people == Person.objects.count()
    assert result.addresses == Address.objects.count() >= 40
    assert result.consents == Consent.objects.count()
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert all(
        User.objects.get(username=u).check_password(demo.DEMO_PASSWORD)
        for u in ("admin", "am_ginza")
    )
    preset_keys = {d["key"] for d in preset_definitions("retail_store")}
    assert set(FieldDefinition.objects.values_list("key", flat=True)) == preset_keys
    assert list(Customer.objects.order_by("code").values_list("code", flat=True)[:2]) == [
        "S-000001",
        "S-000002",
    ]
    # A clothing store's customers are mostly people, each filed under a store.
    assert Customer.objects.filter(kind=CustomerKind.PERSON).count() > 30
    assert not Customer.objects.filter(area__isnull=True).exists()
    assert not Customer.objects.filter(area__parent__isnull=True).exists()


@pytest.mark.django_db
def test_every_owner_is_an_account_manager_of_the_customers_area():
    demo.demo_load(scenario="distributor", customers=60, seed=3)

    customers = Customer.objects.select_related("owner__area", "area")
    assert customers.filter(owner__isnull=True).count() == 0
    for customer in customers:
        assert customer.owner.role == Role.ACCOUNT_MANAGER
        assert customer.area.path.startswith(customer.owner.area.path)
    assert set(customers.values_list("kind", flat=True)) <= {
        CustomerKind.SHOP,
        CustomerKind.COMPANY,
    }


@pytest.mark.django_db
def test_the_demo_log_ins_work_and_see_their_customers(client):
    demo.demo_load(scenario="store", customers=30, seed=5)
    logins = {login.username: login for login in demo.demo_logins()}
    am = User.objects.get(username="am_ginza")

    assert logins["am_ginza"] == demo.DemoLogin("am_ginza", Role.ACCOUNT_MANAGER, "TKY-GINZA")
    assert client.login(username="am_ginza", password=demo.DEMO_PASSWORD)
    own = Customer.objects.restrict(am, "view")
    assert own.count() == Customer.objects.filter(owner=am).count() > 0


@pytest.mark.django_db
def test_names_carry_readings_in_their_script():
    demo.demo_load(scenario="store", customers=80, seed=11)

    japanese = korean = 0
    for customer in Customer.objects.all():
        assert customer.name_reading, customer.name
        if any(0x4E00 <= ord(ch) <= 0x9FFF for ch in customer.name):  # written in kanji
            japanese += 1
            assert set(map(ord, customer.name_reading.replace(" ", ""))) <= KANA, customer
        elif any(ord(ch) in HANGUL for ch in customer.name):
            korean += 1
            assert customer.name_reading == customer.name
    assert japanese > 20
    assert korean > 5
    for person in Person.objects.all():
        assert person.name_reading


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", sorted(demo.SCENARIOS))
def test_every_generated_card_passes_validation(scenario):
    demo.demo_load(scenario=scenario, customers=50, seed=2)
    definitions = active_field_definitions()

    filled = set()
    for customer in Customer.objects.all():
        cleaned = clean_field_values(
            dict(customer.field_values), definitions=definitions, current=customer.field_values
        )
        assert cleaned == customer.field_values, customer.code
        customer.full_clean()
        filled |= set(customer.field_values)
        # Search finds the card by any of its phone numbers.
        for number in Person.objects.filter(customer=customer).values_list("mobile", flat=True):
            if number:
                assert digits_only(number) in customer.phone_digits
        assert digits_only(customer.phone) in customer.phone_digits
    for model in (Person, Address, Consent):
        for row in model.objects.all():
            row.full_clean()
    typed_in = {d.key for d in definitions if not d.is_derived}
    assert len(filled) > len(typed_in) * 0.8


@pytest.mark.django_db
def test_each_card_history_starts_with_its_creation():
    demo.demo_load(scenario="store", customers=25, seed=4)

    customer = Customer.objects.select_related("owner", "area").order_by("code").first()
    changes = ObjectChange.objects.filter(customer_id=customer.pk, object_type="customers.customer")
    assert changes.count() == 1
    change = changes.get()
    assert change.action == "create"
    assert change.actor.username == "admin"
    assert change.request_id.startswith("demo-")
    assert change.changes["name"] == {"old": None, "new": customer.name}
    assert change.changes["owner"] == {"old": None, "new": customer.owner.username}
    assert change.changes["area"] == {"old": None, "new": customer.area.code}
    assert ObjectChange.objects.filter(object_type="customers.customer").count() == 25


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_cards_and_another_seed_does_not():
    demo.demo_load(scenario="distributor", customers=30, seed=42)
    first = card_facts("distributor")
    Customer.objects.all().delete()

    demo.demo_load(scenario="distributor", customers=30, seed=42)
    assert card_facts("distributor") == first
    Customer.objects.all().delete()

    demo.demo_load(scenario="distributor", customers=30, seed=43)
    assert card_facts("distributor") != first


@pytest.mark.django_db
def test_running_it_again_refuses_cleanly_and_changes_nothing():
    demo.demo_load(scenario="store", customers=10, seed=1)
    before = (Customer.objects.count(), Person.objects.count(), ObjectChange.objects.count())

    with pytest.raises(
        demo.DemoError, match=r"10 of the demo customer codes already exist \(e.g. S-000001\)"
    ):
        demo.demo_load(scenario="store", customers=20, seed=1)

    assert (
        Customer.objects.count(),
        Person.objects.count(),
        ObjectChange.objects.count(),
    ) == before


@pytest.mark.django_db
def test_both_scenarios_share_one_database():
    demo.demo_load(scenario="store", customers=5, seed=1)
    demo.demo_load(scenario="distributor", customers=5, seed=1)

    assert Customer.objects.filter(code__startswith="S-").count() == 5
    assert Customer.objects.filter(code__startswith="D-").count() == 5
    assert User.objects.filter(username="admin").count() == 1


@pytest.mark.django_db
def test_command_reports_what_it_loaded_and_refuses_a_second_run():
    out = io.StringIO()
    call_command("demo", "--scenario", "store", "--customers", "8", "--seed", "9", stdout=out)

    assert out.getvalue().startswith("Loaded the store demo: 8 customers, ")
    assert "Demo users created (password 'tokui-demo'): admin, manager," in out.getvalue()
    with pytest.raises(CommandError, match="the store demo data is already loaded"):
        call_command("demo", "--customers", "8", stdout=io.StringIO())
    assert Customer.objects.count() == 8


@pytest.mark.django_db
def test_unknown_scenario_and_negative_count_are_refused():
    with pytest.raises(demo.DemoError, match="Unknown scenario 'farm'"):
        demo.demo_load(scenario="farm", customers=1)
    with pytest.raises(demo.DemoError, match="cannot be negative"):
        demo.demo_load(scenario="store", customers=-1)
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_a_real_user_with_a_demo_name_but_another_role_stops_the_demo():
    User.objects.create_user(username="admin", role=Role.ANALYST, password="x-long-secret-1")

    with pytest.raises(demo.DemoError, match="User 'admin' exists with the role analyst"):
        demo.demo_load(scenario="store", customers=3)

    assert Customer.objects.count() == 0
    assert demo.demo_logins() == []


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", ["store", "distributor"])
def test_the_demo_has_one_request_waiting_for_a_manager(scenario):
    demo.demo_load(scenario=scenario, customers=20, seed=3)

    request = ChangeRequest.objects.get()
    assert request.status == RequestStatus.PENDING
    assert request.requested_by.role == Role.ACCOUNT_MANAGER
    assert request.customer.owner == request.requested_by
    (key,) = request.proposed["field_values"]
    assert FieldDefinition.objects.get(key=key).controlled

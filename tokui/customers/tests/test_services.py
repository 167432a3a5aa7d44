import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tokui.audit.models import ObjectChange
from tokui.core.exceptions import EditConflict
from tokui.customers import services
from tokui.customers.models import Customer
from tokui.users.choices import Role


@pytest.fixture
def am(users):
    return users[Role.ACCOUNT_MANAGER]


def test_account_manager_creates_customer_they_own_with_an_audit_row(am):
    customer = services.customer_create(
        actor=am, data={"code": "N-1", "kind": "shop", "name": "新規商店", "tags": ["VIP"]}
    )
    assert customer.owner == am
    assert customer.area == am.area
    row = ObjectChange.objects.get(object_type="customers.customer", object_id=customer.pk)
    assert row.action == "create"
    assert row.actor == am
    assert row.changes["name"] == {"old": None, "new": "新規商店"}
    assert row.changes["tags"] == {"old": None, "new": ["VIP"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 10_000), ("name", "<script>alert(1)</script>"), ("kind", "planet")],
)
def test_bad_input_is_refused_and_nothing_is_saved(am, field, value):
    data = {"code": "N-2", "kind": "shop", "name": "OK", field: value}
    with pytest.raises(ValidationError) as excinfo:
        services.customer_create(actor=am, data=data)
    assert field in excinfo.value.message_dict
    assert not Customer.objects.filter(code="N-2").exists()
    assert not ObjectChange.objects.exists()


def test_a_code_that_names_a_page_is_refused(am):
    from django.urls import URLPattern

    from tokui.customers import urls
    from tokui.customers.models import RESERVED_CODES

    fixed = {
        str(pattern.pattern).split("/")[0]
        for pattern in urls.urlpatterns
        if isinstance(pattern, URLPattern) and not str(pattern.pattern).startswith("<")
    } - {""}
    assert fixed == RESERVED_CODES  # every fixed page under /customers/ is reserved
    for code in ("trash", "Duplicates"):
        with pytest.raises(ValidationError) as excinfo:
            services.customer_create(actor=am, data={"code": code, "kind": "shop", "name": "X"})
        assert "is the name of a page" in excinfo.value.message_dict["code"][0]
    assert not Customer.objects.exists()


def test_update_bumps_version_and_records_old_and_new_values(am, customer):
    updated = services.customer_update(
        actor=am, customer=customer, data={"phone": "03-0000-1111"}, expected_version=1
    )
    assert updated.version == 2
    row = ObjectChange.objects.get(action="update")
    assert row.changes == {"phone": {"old": "03-1234-5678", "new": "03-0000-1111"}}
    assert row.customer_id == customer.pk


def test_second_save_from_a_stale_version_is_refused_naming_who_changed_what(am, users, customer):
    manager = users[Role.MANAGER]
    services.customer_update(
        actor=manager, customer=customer, data={"name": "山田商店本店"}, expected_version=1
    )
    with pytest.raises(EditConflict) as excinfo:
        services.customer_update(
            actor=am, customer=customer, data={"phone": "03-9999-9999"}, expected_version=1
        )
    assert "manager" in excinfo.value.message
    assert "name" in excinfo.value.message
    assert excinfo.value.current_version == 2
    customer.refresh_from_db()
    assert customer.phone == "03-1234-5678"


def test_account_manager_cannot_change_someone_elses_customer(am, other_customer):
    with pytest.raises(PermissionDenied):
        services.customer_update(
            actor=am, customer=other_customer, data={"name": "乗っ取り"}, expected_version=1
        )
    other_customer.refresh_from_db()
    assert other_customer.name == "大阪物産"


def test_account_manager_cannot_hand_their_customer_to_another_owner(
    am, customer, other_account_manager
):
    with pytest.raises(PermissionDenied):
        services.customer_update(
            actor=am,
            customer=customer,
            data={"owner": other_account_manager},
            expected_version=1,
        )
    customer.refresh_from_db()
    assert customer.owner == am
    assert not ObjectChange.objects.exists()


def test_person_phone_is_searchable_on_the_customer(am, customer):
    services.person_create(
        actor=am,
        customer=customer,
        data={"relation": "owner", "name": "山田太郎", "mobile": "090-1111-2222"},
    )
    customer.refresh_from_db()
    assert "09011112222" in customer.phone_digits

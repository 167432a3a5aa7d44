"""Factories for tests and benchmarks. They build rows directly; tests of services call services."""

import factory
from factory.django import DjangoModelFactory

from tokui.accounts.models import Area
from tokui.customers.choices import CustomerKind, CustomerStatus, Relation
from tokui.customers.models import Address, Customer, Person
from tokui.fields.choices import Category, FieldType, Maintenance
from tokui.fields.models import FieldDefinition
from tokui.users.choices import Role
from tokui.users.models import User

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105


class AreaFactory(DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AREA{n}")
    name = factory.LazyAttribute(lambda o: f"Area {o.code}")
    parent = None
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else '/'}{o.code}/")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.ACCOUNT_MANAGER
    area = None
    password = factory.django.Password(TEST_PASSWORD)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:06d}")
    kind = CustomerKind.SHOP
    name = factory.Faker("company", locale="ja_JP")
    name_reading = ""
    status = CustomerStatus.ACTIVE
    owner = None
    area = None
    phone = factory.Sequence(lambda n: f"03-5555-{n % 10000:04d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        customer = model_class(*args, **kwargs)
        customer.refresh_search()
        customer.save()
        return customer


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    customer = factory.SubFactory(CustomerFactory)
    relation = Relation.CONTACT
    name = factory.Faker("name", locale="ja_JP")


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    postal_code = "100-0001"
    region = "東京都"
    locality = "千代田区"
    line1 = "千代田1-1"


class FieldDefinitionFactory(DjangoModelFactory):
    class Meta:
        model = FieldDefinition
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.LazyAttribute(lambda o: o.key.replace("_", " ").capitalize())
    field_type = FieldType.TEXT
    category = Category.BASIC
    maintenance = Maintenance.DYNAMIC


def labelled_payment_fields() -> None:
    """Two card fields whose choices have labels per language (one without Korean):
    ``payment`` (one choice of cash, e_money) and ``also_pays`` (any of e_money, qr_code)."""
    labels = {
        "e_money": {"en": "E-money", "ja": "電子マネー", "ko": "전자화폐"},
        "qr_code": {"en": "QR code payment", "ja": "QRコード決済"},  # no Korean label
    }
    FieldDefinitionFactory(
        key="payment", field_type="choice", choices=["cash", "e_money"], choice_labels=labels
    )
    FieldDefinitionFactory(
        key="also_pays",
        field_type="multi_choice",
        choices=["e_money", "qr_code"],
        choice_labels=labels,
    )


class ChangeRequestFactory(DjangoModelFactory):
    """A pending request for one controlled card field (GOV-2), as the service would store it."""

    class Meta:
        model = "approvals.ChangeRequest"

    customer = factory.SubFactory(CustomerFactory)
    requested_by = factory.LazyAttribute(lambda o: o.customer.owner or UserFactory())
    proposed = factory.LazyFunction(lambda: {"field_values": {"credit_limit": "500000"}})
    current = factory.LazyAttribute(
        lambda o: {
            key: (o.customer.field_values or {}).get(key)
            for key in (o.proposed.get("field_values") or {})
        }
    )
    base_version = factory.LazyAttribute(lambda o: o.customer.version)
    reason = "Agreed with the customer"

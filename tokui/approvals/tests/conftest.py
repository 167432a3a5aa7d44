import pytest

from tokui.core.testing.factories import FieldDefinitionFactory, UserFactory
from tokui.fields.choices import FieldType
from tokui.users.choices import Role


@pytest.fixture
def controlled(db):
    """A controlled card field: account managers' changes of it wait for a manager."""
    return FieldDefinitionFactory(
        key="credit_limit", label="Credit limit", field_type=FieldType.INTEGER, controlled=True
    )


@pytest.fixture
def free_field(db):
    return FieldDefinitionFactory(key="hobby", label="Hobby", field_type=FieldType.TEXT)


@pytest.fixture
def osaka_manager(areas):
    from tokui.core.testing.clients import confirm_totp_device

    manager = UserFactory(username="manager_osaka", role=Role.MANAGER, area=areas["OSK"])
    confirm_totp_device(manager)
    return manager

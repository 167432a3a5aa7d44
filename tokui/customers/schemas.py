"""The shapes of customer cards and people in the REST API (/api/v1/).

Inputs check types, choices and lengths so a wrong payload is refused with a 422 before
any service runs; the services then check what only they can (scope, markup in names,
uniqueness, the configurable card fields).
"""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, PrivateAttr, ValidationInfo, model_serializer, model_validator

from tokui.fields.access import card_access

from .choices import Channel, CustomerKind, CustomerStatus, Gender, Relation
from .models import Customer, Person

# Blank means "not said" for optional choices; null is accepted for the same.
Blank = Literal[""]


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class _Input(Schema):
    # A misspelt field name must not be silently dropped: the client would think it saved.
    model_config = ConfigDict(extra="forbid")


class CustomerFilters(Schema):
    """The list's query string; every filter given must match."""

    search: str | None = Field(None, description="Code, name, reading (kana) or phone.")
    status: CustomerStatus | None = None
    owner: str | None = Field(None, description="Username of the account manager.")
    area: str | None = Field(None, description="Area code; includes its sub-areas.")
    tag: str | None = Field(None, description="Tag name.")


_HIDDEN = "Absent when the caller's role may not see it (field rules, docs/security.md)."
# The parts of the payload field rules may hide; identity, version and times never are.
HIDEABLE_PARTS = ("tags", "phone", "email", "preferred_channel", "notes")


class CustomerOut(Schema):
    """A card as the caller may see it: a part their role may not see is absent from the
    object (not null, not blank), and ``fields`` holds only the keys they may see."""

    code: str
    kind: CustomerKind
    name: str
    name_reading: str
    status: CustomerStatus
    owner: str | None = Field(None, description="Username of the account manager.")
    area: str | None = Field(None, description="Code of the sales area.")
    tags: list[str] = Field(default_factory=list, description=_HIDDEN)
    fields: dict[str, Any] = Field(
        description="Configurable card field values by field key; only the keys the caller may see."
    )
    phone: str = Field("", description=_HIDDEN)
    email: str = Field("", description=_HIDDEN)
    preferred_channel: Channel | Blank = Field("", description=_HIDDEN)
    notes: str = Field("", description=_HIDDEN)
    version: int = Field(description="Send it back on PATCH; it changes on every save.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    _hidden: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _note_hidden_parts(self, info: ValidationInfo) -> "CustomerOut":
        request = (info.context or {}).get("request")
        if request is not None:
            access = card_access(getattr(request, "auth", None))
            self._hidden = frozenset(p for p in HIDEABLE_PARTS if not access.can_view(p))
        return self

    @model_serializer(mode="wrap")
    def _leave_out_hidden_parts(self, handler):  # unannotated: the schema stays the model's
        data = handler(self)
        for part in self._hidden:
            data.pop(part, None)
        return data

    @staticmethod
    def resolve_owner(obj: Customer) -> str | None:
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_area(obj: Customer) -> str | None:
        return obj.area.code if obj.area_id else None

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        # Sorted in Python so a prefetched list is used as is (no query per customer).
        return sorted(tag.name for tag in obj.tags.all())

    @staticmethod
    def resolve_fields(obj: Customer, context) -> dict[str, Any]:
        request = (context or {}).get("request")
        if request is None:
            return obj.field_values or {}
        return card_access(getattr(request, "auth", None)).visible_values(obj.field_values)


class _CustomerWritable(_Input):
    name_reading: str | None = Field(None, max_length=_max_length(Customer, "name_reading"))
    status: CustomerStatus | None = None
    owner: str | None = Field(None, description="Username of the account manager, or null.")
    area: str | None = Field(None, description="Area code, or null.")
    tags: list[str] | None = Field(None, description="Tag names; unknown names are created.")
    fields: dict[str, Any] | None = Field(
        None, description="Card field values by key; on PATCH only the keys sent change."
    )
    phone: str | None = Field(None, max_length=_max_length(Customer, "phone"))
    email: str | None = Field(None, max_length=_max_length(Customer, "email"))
    preferred_channel: Channel | Blank | None = None
    notes: str | None = Field(None, max_length=_max_length(Customer, "notes"))


class CustomerCreateIn(_CustomerWritable):
    code: str = Field(max_length=_max_length(Customer, "code"))
    kind: CustomerKind
    name: str = Field(max_length=_max_length(Customer, "name"))


class CustomerPatchIn(_CustomerWritable):
    version: int = Field(description="The version the client read; a stale one gives 409.")
    code: str | None = Field(None, max_length=_max_length(Customer, "code"))
    kind: CustomerKind | None = None
    name: str | None = Field(None, max_length=_max_length(Customer, "name"))


class PersonOut(Schema):
    id: int
    customer: str = Field(description="Code of the customer the person belongs to.")
    relation: Relation
    name: str
    name_reading: str
    gender: Gender | Blank
    birthday: datetime.date | None
    anniversary: datetime.date | None
    phone: str
    mobile: str
    email: str
    hobbies: str
    preferences: str
    notes: str
    version: int

    @staticmethod
    def resolve_customer(obj: Person) -> str:
        return obj.customer.code


class _PersonWritable(_Input):
    name_reading: str | None = Field(None, max_length=_max_length(Person, "name_reading"))
    gender: Gender | Blank | None = None
    birthday: datetime.date | None = None
    anniversary: datetime.date | None = None
    phone: str | None = Field(None, max_length=_max_length(Person, "phone"))
    mobile: str | None = Field(None, max_length=_max_length(Person, "mobile"))
    email: str | None = Field(None, max_length=_max_length(Person, "email"))
    hobbies: str | None = Field(None, max_length=_max_length(Person, "hobbies"))
    preferences: str | None = Field(None, max_length=_max_length(Person, "preferences"))
    notes: str | None = Field(None, max_length=_max_length(Person, "notes"))


class PersonCreateIn(_PersonWritable):
    relation: Relation
    name: str = Field(max_length=_max_length(Person, "name"))


class PersonPatchIn(_PersonWritable):
    version: int = Field(description="The version the client read; a stale one gives 409.")
    relation: Relation | None = None
    name: str | None = Field(None, max_length=_max_length(Person, "name"))

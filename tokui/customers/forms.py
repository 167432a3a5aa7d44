"""Forms of the card pages. They check what a browser sends; the services decide and save.

Errors a service raises (keyed by model field, or ``fields.<key>`` for card fields)
are put back on the form with ``add_service_errors`` so they show next to the input.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.selectors import area_list
from tokui.core.validators import validate_plain_name
from tokui.fields.access import card_access
from tokui.fields.choices import Category
from tokui.users.choices import Role

from .choices import Channel
from .models import Address, Customer, Person, Tag
from .selectors import assignable_owners
from .services import ADDRESS_FIELDS, PERSON_FIELDS

CARD_FIELD_PREFIX = "field__"
# The customer's own fields that belong to a card category (tokui.fields.access).
RULED_CUSTOMER_FIELDS = ("phone", "email", "preferred_channel", "notes", "tags")
TAG_SEPARATORS = re.compile(r"[,、，]")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PLAIN_CUSTOMER_FIELDS = (
    "code",
    "kind",
    "name",
    "name_reading",
    "status",
    "phone",
    "email",
    "preferred_channel",
    "notes",
)


class ServiceErrorsMixin:
    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError next to the inputs it is about."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for key, messages in error.message_dict.items():
            name = self.field_name_for(key)
            if name in self.fields and not self.fields[name].disabled:
                self.add_error(name, messages)
            elif label := self.label_for(key):
                # Not an input of this form (a field the user may not see or edit): the
                # message alone ("This field is required.") would not say which.
                self.add_error(None, [f"{label}: {message}" for message in messages])
            else:
                self.add_error(None, messages)

    def field_name_for(self, key: str) -> str:
        return key

    def label_for(self, key: str) -> str | None:
        return None


class CustomerForm(ServiceErrorsMixin, forms.Form):
    """The card's own fields plus one field per active card field definition."""

    owner = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=None,
        required=False,
        to_field_name="username",
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=None, required=False, to_field_name="code"
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, actor, definitions, customer: Customer | None = None, **kwargs):
        self.actor = actor
        self.customer = customer
        self.definitions = list(definitions)
        self.card_field_labels = {d.key: d.display_label for d in self.definitions}
        if customer is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(customer)
        elif "initial" not in kwargs:
            # A new card starts where its creator works; the service does the same on blanks.
            kwargs["initial"] = {
                "owner": actor.username if actor.role == Role.ACCOUNT_MANAGER else None,
                "area": actor.area.code if actor.area_id else None,
            }
        super().__init__(*args, **kwargs)
        plain = fields_for_model(
            Customer,
            fields=PLAIN_CUSTOMER_FIELDS,
            widgets={"notes": forms.Textarea(attrs={"rows": 3})},
        )
        # The model's own fields first, in the order people fill them in.
        self.fields = {**plain, **self.fields}
        if customer is not None:
            # The code is the card's stable business key: other systems and URLs use it.
            self.fields["code"].disabled = True
        else:
            del self.fields["version"]
        self.fields["owner"].queryset = assignable_owners(
            user=actor, keep_pk=customer.owner_id if customer else None
        ).order_by("username")
        self.fields["owner"].label_from_instance = _owner_label
        self.fields["area"].queryset = _areas_for(actor, customer)
        # Field rules (tokui.fields.access): what the user may not see is not in the form at
        # all; what they may see but not edit is shown disabled and never sent on.
        access = card_access(actor)
        for name in RULED_CUSTOMER_FIELDS:
            if not access.can_view(name):
                del self.fields[name]
            elif not access.can_edit(name):
                self.fields[name].disabled = True
        self.definitions = [d for d in self.definitions if access.can_view(d.key)]
        for definition in self.definitions:
            field = definition.form_field()
            field.card_definition = definition
            if not access.can_edit(definition.key):
                field.disabled = True
            self.fields[CARD_FIELD_PREFIX + definition.key] = field

    @staticmethod
    def _initial_from(customer: Customer) -> dict:
        initial = {name: getattr(customer, name) for name in PLAIN_CUSTOMER_FIELDS}
        initial.update(
            owner=customer.owner.username if customer.owner_id else None,
            area=customer.area.code if customer.area_id else None,
            tags=", ".join(tag.name for tag in customer.tags.all()),
            version=customer.version,
        )
        for key, value in (customer.field_values or {}).items():
            if isinstance(value, bool):
                # The yes/no select speaks "true"/"false", not Python's True/False.
                value = "true" if value else "false"
            initial[CARD_FIELD_PREFIX + key] = value
        return initial

    def clean_tags(self) -> list[str]:
        names = []
        for raw in TAG_SEPARATORS.split(self.cleaned_data["tags"]):
            name = raw.strip()
            if not name:
                continue
            if len(name) > Tag._meta.get_field("name").max_length:
                raise ValidationError(
                    _("A tag can be at most %(limit)d characters: “%(tag)s”."),
                    params={"limit": Tag._meta.get_field("name").max_length, "tag": name[:20]},
                )
            validate_plain_name(name)
            if name not in names:
                names.append(name)
        return names

    def field_name_for(self, key: str) -> str:
        if key.startswith("fields."):
            return CARD_FIELD_PREFIX + key.removeprefix("fields.")
        return key

    def label_for(self, key: str) -> str | None:
        return self.card_field_labels.get(key.removeprefix("fields."))

    def service_data(self) -> dict:
        """The cleaned input in the shape ``customer_create``/``customer_update`` take."""
        data = {
            name: self.cleaned_data[name]
            for name in (*PLAIN_CUSTOMER_FIELDS, "owner", "area", "tags")
            if name in self.fields and not self.fields[name].disabled
        }
        data["field_values"] = {
            definition.key: self.cleaned_data[CARD_FIELD_PREFIX + definition.key]
            for definition in self.definitions
            if not self.fields[CARD_FIELD_PREFIX + definition.key].disabled
        }
        return data

    def card_field_groups(self) -> list[dict]:
        """The card fields as the five categories show them, empty categories left out."""
        groups = []
        for category, label in Category.choices:
            fields = [
                self[CARD_FIELD_PREFIX + d.key] for d in self.definitions if d.category == category
            ]
            if fields:
                groups.append({"category": category, "label": label, "fields": fields})
        return groups

    def plain_fields(self):
        names = (*PLAIN_CUSTOMER_FIELDS, "owner", "area", "tags")
        return [self[name] for name in names if name in self.fields]

    def with_version(self, version: int) -> "CustomerForm":
        """The same input, now based on ``version``, so a re-submit applies it on top."""
        data = self.data.copy()
        data["version"] = str(version)
        return type(self)(
            data, actor=self.actor, definitions=self.definitions, customer=self.customer
        )


def _owner_label(user) -> str:
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def _areas_for(actor, customer: Customer | None):
    """Areas the actor works in (all for administrators), plus the card's current one."""
    areas = area_list()
    if actor.area_id is None:
        return areas
    keep = customer.area_id if customer else None
    return areas.filter(Q(path__startswith=actor.area.path) | Q(pk=keep))


class PersonForm(ServiceErrorsMixin, forms.Form):
    """Someone around the customer. ``version`` guards against overwriting a colleague's edit."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, person: Person | None = None, **kwargs):
        self.person = person
        if person is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(person, name) for name in PERSON_FIELDS},
                "version": person.version,
            }
        super().__init__(*args, **kwargs)
        self.fields = {
            **fields_for_model(
                Person,
                fields=PERSON_FIELDS,
                widgets={
                    "birthday": DATE_WIDGET,
                    "anniversary": DATE_WIDGET,
                    "hobbies": forms.Textarea(attrs={"rows": 2}),
                    "preferences": forms.Textarea(attrs={"rows": 2}),
                    "notes": forms.Textarea(attrs={"rows": 3}),
                },
            ),
            **self.fields,
        }
        if person is None:
            del self.fields["version"]

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PERSON_FIELDS}

    def with_version(self, version: int) -> "PersonForm":
        data = self.data.copy()
        data["version"] = str(version)
        return type(self)(data, person=self.person)


class AddressForm(ServiceErrorsMixin, forms.Form):
    def __init__(self, *args, address: Address | None = None, **kwargs):
        if address is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(address, name) for name in ADDRESS_FIELDS}
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Address, fields=ADDRESS_FIELDS))

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ADDRESS_FIELDS}


GRANTED_CHOICES = [("", _("Not asked")), ("yes", _("Accepts")), ("no", _("Refuses"))]


class ConsentForm(ServiceErrorsMixin, forms.Form):
    """The customer's answer for each of the five channels, and the channel they prefer.

    An answer once recorded can be changed but not taken back to "not asked": the
    record of what the customer said stays.
    """

    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"),
        choices=[("", "—"), *Channel.choices],
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, customer: Customer, consents: dict, **kwargs):
        self.customer = customer
        self.consents = consents
        if "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(customer, consents)
        super().__init__(*args, **kwargs)
        for channel, label in Channel.choices:
            recorded = consents.get(channel)
            self.fields[f"{channel}_granted"] = forms.ChoiceField(
                label=label,
                choices=GRANTED_CHOICES[1:] if recorded else GRANTED_CHOICES,
                required=recorded is not None,
            )
            self.fields[f"{channel}_recorded_on"] = forms.DateField(
                label=_("Date"), required=False, widget=DATE_WIDGET
            )
            self.fields[f"{channel}_source"] = forms.CharField(
                label=_("Source"),
                required=False,
                max_length=200,
                validators=[validate_plain_name],
            )

    @staticmethod
    def _initial_from(customer: Customer, consents: dict) -> dict:
        initial = {"preferred_channel": customer.preferred_channel, "version": customer.version}
        for channel, _label in Channel.choices:
            consent = consents.get(channel)
            if consent is not None:
                initial[f"{channel}_granted"] = "yes" if consent.granted else "no"
                initial[f"{channel}_recorded_on"] = consent.recorded_on
                initial[f"{channel}_source"] = consent.source
        return initial

    def rows(self) -> list[dict]:
        return [
            {
                "channel": channel,
                "label": label,
                "granted": self[f"{channel}_granted"],
                "recorded_on": self[f"{channel}_recorded_on"],
                "source": self[f"{channel}_source"],
            }
            for channel, label in Channel.choices
        ]

    def changed_consents(self) -> list[dict]:
        """``consent_set`` payloads for the channels whose answer, date or source changed."""
        payloads = []
        today = timezone.localdate()
        for channel, _label in Channel.choices:
            answer = self.cleaned_data[f"{channel}_granted"]
            if not answer:
                continue
            granted = answer == "yes"
            current = self.consents.get(channel)
            recorded_on = self.cleaned_data[f"{channel}_recorded_on"]
            if recorded_on is None:
                # A new answer without a date was given today; an unchanged one keeps its date.
                same_answer = current is not None and current.granted == granted
                recorded_on = current.recorded_on if same_answer else today
            payload = {
                "channel": channel,
                "granted": granted,
                "recorded_on": recorded_on,
                "source": self.cleaned_data[f"{channel}_source"],
            }
            if current is None or (current.granted, current.recorded_on, current.source) != (
                granted,
                recorded_on,
                payload["source"],
            ):
                payloads.append(payload)
        return payloads

    def field_name_for(self, key: str) -> str:
        return key

    def with_version(self, version: int) -> "ConsentForm":
        data = self.data.copy()
        data["version"] = str(version)
        return type(self)(data, customer=self.customer, consents=self.consents)

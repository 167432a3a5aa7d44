"""Per kind: turn a file's row into clean values (``clean``) and write batches of them.

Customers and people go through the card's services, so every change lands in the card's
history. Products and payments compare with what is stored and write only the differences
with bulk statements. Orders have their own set-based path in ``orders.py``.
"""

import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Area
from tokui.core.validators import validate_code
from tokui.customers import services as customer_services
from tokui.customers.choices import CustomerKind, CustomerStatus, Relation
from tokui.customers.models import Address, Customer, Person
from tokui.fields.access import card_access
from tokui.fields.choices import FieldType
from tokui.fields.models import FieldDefinition
from tokui.sales.choices import ImportKind, PaymentMethod
from tokui.sales.models import Payment, Product
from tokui.users.models import User

from . import checks
from .checks import Rejected
from .columns import KINDS

# A multiple-choice cell: exports join the choices with ", "; Japanese and Korean Excel users
# also type the ideographic comma or the full-width one.
_CHOICE_SEPARATORS = re.compile(r"(\s*[,、，]\s*)")


def _choice_list(text: str, known: set[str]) -> list[str]:
    """The choices in a cell, in order. A choice may hold a comma itself ("phone, fax"):
    from each piece on, the longest run of pieces that is a known choice is taken; a piece
    that starts none is kept alone, for the card's check to name it."""
    parts = _CHOICE_SEPARATORS.split(text)  # piece, separator, piece, …
    pieces = len(parts) // 2 + 1
    found, first = [], 0
    while first < pieces:
        last = next(
            (
                last
                for last in range(pieces - 1, first, -1)
                if "".join(parts[2 * first : 2 * last + 1]) in known
            ),
            first,
        )
        if run := "".join(parts[2 * first : 2 * last + 1]):
            found.append(run)
        first = last + 1
    return found


class RowRejected(Exception):
    """One row's problems: [(column, value, reason), …]."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        super().__init__(problems)
        self.problems = problems


def _unknown_customer(code: str | None = None) -> str:
    from tokui.customers.selectors import trash_in_import_message, trashed_codes

    if code and trashed_codes([code]):
        return trash_in_import_message()
    return _("Unknown customer, or not one of the customers you may change.")


class Writer:
    kind: str

    def __init__(self, *, actor, positions: dict[str, int], job=None):
        self.actor = actor
        self.positions = positions
        self.job = job  # None in a preview
        self.row_number = 0  # the file's row being written, for what it leaves behind
        self.seen_keys: dict[tuple, int] = {}

    def value(self, row: list[str], column: str) -> str:
        index = self.positions.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    def prepare(self, rows: list[tuple[int, list[str]]]) -> None:
        """Read at once what cleaning this batch of (row number, cells) will look up."""

    def clean(self, number: int, row: list[str]) -> dict:
        """Clean values of one row, or RowRejected with every problem found in it."""
        problems = []
        data = {}
        for column in self.positions:
            raw = self.value(row, column)
            try:
                data[column] = self.clean_value(column, raw)
            except Rejected as exc:
                problems.append((column, raw, exc.reason))
        if not problems:
            key = tuple(data.get(c) for c in KINDS[self.kind].key)
            first = self.seen_keys.setdefault(key, number)
            if first != number:
                problems.append(
                    (
                        KINDS[self.kind].key[-1],
                        " / ".join(str(k) for k in key),
                        _("Duplicate key: the same key is on row %(row)d.") % {"row": first},
                    )
                )
        if problems:
            raise RowRejected(problems)
        return data

    def clean_value(self, column: str, raw: str):
        raise NotImplementedError

    def check_batch(self, batch: list[tuple[int, dict]]) -> dict[int, list]:
        """Checks that need the database; {row number: problems}. Default: none."""
        return {}

    def write_batch(self, batch: list[tuple[int, dict]]) -> tuple[int, int, int]:
        """Write clean rows; returns (created, updated, unchanged)."""
        raise NotImplementedError

    def touched_customer_ids(self) -> set[int]:
        return set()


def _same_value(stored, wanted) -> bool:
    """Whether a stored value is what an import's clean cell gives: the same text, choice or
    choices, a date in ISO form, or a whole number written as the card writes it (card
    fields keep numbers as numbers; yes and no have forms of their own, left to the card)."""
    if type(stored) is int:
        return str(stored) == wanted
    if hasattr(stored, "isoformat"):
        return stored.isoformat() == wanted
    return stored == wanted


def _customers_by_code(actor, codes) -> dict[str, Customer]:
    from tokui.customers.selectors import customer_list

    found = {}
    codes = list(codes)
    for start in range(0, len(codes), 500):
        for customer in customer_list(user=actor, action="change").filter(
            code__in=codes[start : start + 500]
        ):
            found[customer.code] = customer
    return found


class _ServiceWriter(Writer):
    """Writes rows one by one through the card's services; a dry run is the same inside a
    rolled-back savepoint, so validation sees exactly what writing would refuse."""

    def load_batch(self, batch: list[tuple[int, dict]]) -> None:
        """Read at once what writing the batch's clean rows will look up, before either pass."""

    def check_batch(self, batch):
        self.load_batch(batch)
        problems: dict[int, list] = {}
        sid = transaction.savepoint()
        try:
            for number, data in batch:
                self.row_number = number
                try:
                    with transaction.atomic():
                        self.write_row(data)
                except RowRejected as exc:
                    problems[number] = exc.problems
        finally:
            transaction.savepoint_rollback(sid)
        return problems

    def write_batch(self, batch):
        self.load_batch(batch)
        counts = [0, 0, 0]
        for number, data in batch:
            self.row_number = number
            counts[self.write_row(data)] += 1
        return tuple(counts)

    def _service_problems(self, exc: ValidationError, data: dict) -> RowRejected:
        problems = []
        details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for field, messages in details.items():
            column = field.removeprefix("fields.")
            column = {"line1": "address"}.get(column, column)
            value = data.get(column, "")
            for message in messages:
                problems.append((column, str(value or ""), message))
        return RowRejected(problems)


class CustomerWriter(_ServiceWriter):
    kind = ImportKind.CUSTOMERS
    PLAIN = {"name": 200, "name_reading": 200}
    TEXT = {"phone": 32, "email": 254, "postal_code": 16, "address": 200}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kinds = checks.choice_lookup(CustomerKind.choices)
        self.statuses = checks.choice_lookup(CustomerStatus.choices)
        self.touched: set[int] = set()
        self.users = {}
        self.areas = {}
        # Choice card fields take the choice or its label in any language, as the card
        # shows it: {field key: {choice or label, case-folded: choice}}.
        self.choice_fields = {}
        self.multiple_choice_keys = set()
        # Date card fields take the forms Japanese and Korean Excel write, as every date
        # column of an import does.
        self.date_keys = set()
        for definition in FieldDefinition.objects.filter(
            field_type__in=(FieldType.CHOICE, FieldType.MULTI_CHOICE, FieldType.DATE)
        ):
            if definition.field_type == FieldType.DATE:
                self.date_keys.add(definition.key)
                continue
            names = {}
            for choice in definition.choices or []:
                for label in (definition.choice_labels or {}).get(choice, {}).values():
                    names[label.casefold()] = choice
            names.update({choice.casefold(): choice for choice in definition.choices or []})
            self.choice_fields[definition.key] = names
            if definition.field_type == FieldType.MULTI_CHOICE:
                self.multiple_choice_keys.add(definition.key)

    def clean_value(self, column, raw):
        if column == "code":
            if not raw:
                raise Rejected(_("This column is required."))
            return checks.text(raw, max_length=32)
        if not raw:
            return None  # an empty cell leaves the card's value as it is
        if column == "kind":
            return checks.choice(raw, self.kinds)
        if column == "status":
            return checks.choice(raw, self.statuses)
        if column in self.PLAIN:
            return checks.text(raw, max_length=self.PLAIN[column], plain=True)
        if column == "owner":
            raw = checks.text(raw, max_length=150)
            if raw not in self.users:
                self.users[raw] = User.objects.filter(username=raw, is_active=True).first()
            if self.users[raw] is None:
                raise Rejected(_("No active user with this user name."))
            return self.users[raw]
        if column == "area":
            raw = checks.text(raw, max_length=32)
            if raw not in self.areas:
                self.areas[raw] = Area.objects.filter(code=raw).first()
            if self.areas[raw] is None:
                raise Rejected(_("No area with this code."))
            return self.areas[raw]
        if column in self.TEXT:
            return checks.text(raw, max_length=self.TEXT[column])
        text = checks.text(raw, max_length=10_000)  # a card field, checked by its definition
        if column in self.date_keys:
            return checks.date_iso(text)
        names = self.choice_fields.get(column)
        if names is None:
            return text
        # A name that is no choice is passed on as it is, for the card's check to name it.
        if column in self.multiple_choice_keys:
            pieces = _choice_list(text.casefold(), set(names))
            return [names.get(piece, piece) for piece in pieces]
        return names.get(text.casefold(), text)

    def load_batch(self, batch) -> None:
        """The batch's stored cards, which of them the importer may change, and their
        primary addresses: three queries a batch, not three a row. A row changes only its
        own card (a code is once in a file), so what is read here stays true for the batch."""
        from tokui.customers.selectors import customer_ids_in_scope

        codes = [data["code"] for _number, data in batch]
        self.cards = {card.code: card for card in Customer.objects.filter(code__in=codes)}
        ids = [card.pk for card in self.cards.values()]
        self.changeable = customer_ids_in_scope(user=self.actor, action="change", ids=ids)
        self.primary_addresses = {
            address.customer_id: address
            for address in Address.objects.filter(customer_id__in=ids, is_primary=True)
        }

    def write_row(self, data: dict) -> int:
        fields = {k: v for k, v in data.items() if v is not None}
        address = {k: fields.pop(k) for k in ("postal_code", "address") if k in fields}
        card_fields = {
            k: fields.pop(k)
            for k in list(fields)
            if k not in customer_services.CUSTOMER_FIELDS and k not in ("owner", "area")
        }
        if card_fields:
            fields["field_values"] = card_fields
        customer = self.cards.get(data["code"])
        if customer is not None and customer.deleted_at is not None:
            raise RowRejected([("code", data["code"], _unknown_customer(data["code"]))])
        if customer is not None and self._unchanged(customer, fields, address):
            return 2
        try:
            if customer is None:
                fields.setdefault("kind", CustomerKind.COMPANY)
                if "name" not in fields:
                    raise RowRejected([("name", "", _("This column is required."))])
                customer = self._create_card(fields)
                outcome = 0
            else:
                version = customer.version
                customer = self._update_card(customer, fields)
                outcome = 1 if customer.version != version else 2
            if address and self._write_address(customer, address) and outcome == 2:
                outcome = 1
        except ValidationError as exc:
            raise self._service_problems(exc, data) from exc
        except PermissionDenied as exc:
            raise RowRejected([("code", data["code"], self._refusal(customer, exc))]) from exc
        if outcome != 2:
            self.touched.add(customer.pk)
        return outcome

    def _unchanged(self, customer: Customer, fields: dict, address: dict) -> bool:
        """Whether the row holds nothing but the card's values, on a card the importer may
        change: the usual row of a customer list sent again. The card's services would find
        the same only after locking, reading and validating the whole card (15 queries a
        row, measured), so they are not called. A value the card keeps in another form (a
        number field's text) counts as a change and goes to them, which judge it."""
        if customer.pk not in self.changeable:
            return False  # the services refuse it, without telling whether the card exists
        if customer_services.hidden_parts_named(self.actor, fields):
            return False  # refused by the services whatever the value (it would tell it)
        for name, value in fields.items():
            if name == "field_values":
                stored = customer.field_values or {}
                if not all(_same_value(stored.get(k), wanted) for k, wanted in value.items()):
                    return False
            elif name in ("owner", "area"):
                if getattr(customer, f"{name}_id") != value.pk:
                    return False
            elif getattr(customer, name) != value:
                return False
        if not address:
            return True
        if not card_access(self.actor).can_view("addresses"):
            return False  # as a hidden field, below
        current = self.primary_addresses.get(customer.pk)
        return (
            current is not None
            and current.postal_code == address.get("postal_code", "")
            and ("address" not in address or current.line1 == address["address"])
        )

    def _refusal(self, customer: Customer | None, exc: PermissionDenied) -> str:
        """Why the service refused the row. Inside the importer's scope the service names
        the columns they may not change (field rules); outside it, the row must not
        confirm that the card exists."""
        from tokui.customers.selectors import customer_ids_in_scope

        if customer is None or customer_ids_in_scope(
            user=self.actor, action="change", ids=[customer.pk]
        ):
            return str(exc) or _unknown_customer()
        return _unknown_customer()

    def _approval_options(self) -> dict:
        """GOV-2: controlled card fields the importer may not set directly become a change
        request (reason: the file's name; reference: the job and row), reported on the
        job's page as sent for approval; the rest of the row applies."""
        from tokui.approvals.choices import RequestSource
        from tokui.approvals.services import import_reference

        job = self.job
        return {
            "reason": _("Import %(file)s") % {"file": job.file_name} if job else _("Import"),
            "source": RequestSource.IMPORT,
            "source_reference": import_reference(job, self.row_number) if job else "",
        }

    def _create_card(self, fields: dict) -> Customer:
        from tokui.approvals.services import customer_create_with_approval

        customer, _request = customer_create_with_approval(
            actor=self.actor, data=fields, **self._approval_options()
        )
        return customer

    def _update_card(self, customer: Customer, fields: dict) -> Customer:
        from tokui.approvals.services import customer_edit_with_approval

        customer, _request = customer_edit_with_approval(
            actor=self.actor,
            customer=customer,
            data=fields,
            expected_version=customer.version,
            **self._approval_options(),
        )
        return customer

    def _write_address(self, customer, values: dict) -> bool:
        wanted = {"postal_code": values.get("postal_code", "")}
        if "address" in values:
            wanted["line1"] = values["address"]
        current = self.primary_addresses.get(customer.pk)  # none yet for a new card
        if current is None:
            if "line1" not in wanted:
                raise RowRejected([("address", "", _("This column is required."))])
            customer_services.address_create(
                actor=self.actor, customer=customer, data={**wanted, "is_primary": True}
            )
            return True
        # An address the importer may not see goes to the service even when it is the stored
        # one: it refuses it either way, where "unchanged" would confirm a guess.
        visible = card_access(self.actor).can_view("addresses")
        if visible and all(getattr(current, k) == v for k, v in wanted.items()):
            return False
        customer_services.address_update(actor=self.actor, address=current, data=wanted)
        return True

    def touched_customer_ids(self):
        return self.touched


class PersonWriter(_ServiceWriter):
    kind = ImportKind.PEOPLE

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.relations = checks.choice_lookup(Relation.choices)
        self.customers: dict[str, Customer | None] = {}
        self.touched: set[int] = set()

    def prepare(self, rows):
        """The customers the batch names, in one query (not one per new code)."""
        codes = {self.value(row, "customer_code") for _number, row in rows} - self.customers.keys()
        self.customers.update(dict.fromkeys(codes))
        self.customers.update(_customers_by_code(self.actor, codes))

    def clean_value(self, column, raw):
        if column in ("customer_code", "name") and not raw:
            raise Rejected(_("This column is required."))
        if column == "customer_code":
            if self.customers.get(raw) is None:  # read by prepare
                raise Rejected(_unknown_customer(raw))
            return raw
        if not raw:
            return None
        if column == "relation":
            return checks.choice(raw, self.relations)
        if column in ("name", "name_reading"):
            return checks.text(raw, max_length=200, plain=True)
        if column == "birthday":
            return checks.date_iso(raw)
        return checks.text(raw, max_length={"phone": 32, "email": 254}[column])

    def load_batch(self, batch) -> None:
        """The people the batch's rows name, by customer and name, in one query: the
        first of a name on a card, as the card lists its people. A row changes only the
        person it names, so what is read here stays true for the batch."""
        customer_ids = {self.customers[data["customer_code"]].pk for _number, data in batch}
        names = {data["name"] for _number, data in batch}
        self.people: dict[tuple[int, str], Person] = {}
        for person in Person.objects.filter(customer_id__in=customer_ids, name__in=names).order_by(
            *Person._meta.ordering, "pk"
        ):
            self.people.setdefault((person.customer_id, person.name), person)
        self.may_edit_people = card_access(self.actor).can_edit("people")

    def write_row(self, data: dict) -> int:
        customer = self.customers[data["customer_code"]]
        fields = {
            k: v for k, v in data.items() if v is not None and k not in ("customer_code", "name")
        }
        person = self.people.get((customer.pk, data["name"]))
        # A row that holds only the person's values: unchanged, as the services would find
        # after locking and validating the person (a list of contacts sent again). The
        # customer is in the importer's scope (see clean_value); the part must be editable.
        if (
            person is not None
            and self.may_edit_people
            and all(_same_value(getattr(person, k), v) for k, v in fields.items())
        ):
            return 2
        try:
            if person is None:
                fields.setdefault("relation", Relation.CONTACT)
                customer_services.person_create(
                    actor=self.actor, customer=customer, data={"name": data["name"], **fields}
                )
                outcome = 0
            else:
                version = person.version
                person = customer_services.person_update(
                    actor=self.actor, person=person, data=fields, expected_version=version
                )
                outcome = 1 if person.version != version else 2
        except ValidationError as exc:
            raise self._service_problems(exc, data) from exc
        except PermissionDenied as exc:
            raise RowRejected([("customer_code", customer.code, _unknown_customer())]) from exc
        if outcome != 2:
            self.touched.add(customer.pk)
        return outcome

    def touched_customer_ids(self):
        return self.touched


def _decimal_text(value) -> str | None:
    """A stored decimal as text the file would write, to compare without float noise."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _same_number(a: str | None, b: str | None) -> bool:
    return _decimal_text(None if a is None else Decimal(a)) == _decimal_text(
        None if b is None else Decimal(b)
    )


class _BulkWriter(Writer):
    """Compares each batch with the stored rows by natural key and writes only differences."""

    model = None
    key_field = ""
    fields: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    def stored_values(self, instance) -> dict:
        return {f: getattr(instance, f) for f in self.fields}

    def row_values(self, data: dict) -> dict:
        return {f: data.get(f) for f in self.fields}

    def _differs(self, stored: dict, wanted: dict) -> bool:
        for field, value in wanted.items():
            current = stored[field]
            if field in self.numeric:
                if not _same_number(None if current is None else str(current), value):
                    return True
            elif (current.isoformat() if hasattr(current, "isoformat") else current) != value:
                return True
        return False

    def write_batch(self, batch):
        keys = [data[self.key_field] for _n, data in batch]
        stored = {
            getattr(obj, self.key_field): obj
            for obj in self.model.objects.filter(**{f"{self.key_field}__in": keys})
        }
        created, changed, unchanged = [], [], 0
        now = timezone.now()
        for _number, data in batch:
            wanted = self.row_values(data)
            instance = stored.get(data[self.key_field])
            if instance is None:
                created.append(self.model(**{self.key_field: data[self.key_field]}, **wanted))
                self.on_write(None, wanted)
            elif self._differs(self.stored_values(instance), wanted):
                self.on_write(instance, wanted)
                for field, value in wanted.items():
                    setattr(instance, field, value)
                instance.updated_at = now
                changed.append(instance)
            else:
                unchanged += 1
        self.model.objects.bulk_create(created, batch_size=1000)
        if changed:
            self.model.objects.bulk_update(changed, [*self.fields, "updated_at"], batch_size=1000)
        return len(created), len(changed), unchanged

    def on_write(self, instance, wanted: dict) -> None:
        pass


class ProductWriter(_BulkWriter):
    kind = ImportKind.PRODUCTS
    model = Product
    key_field = "code"
    fields = ("name", "brand", "category", "unit", "list_price", "launch_date")
    numeric = ("list_price",)
    TEXT = {"name": 200, "brand": 100, "category": 100, "unit": 20}

    def clean_value(self, column, raw):
        if column in ("code", "name") and not raw:
            raise Rejected(_("This column is required."))
        if column == "code":
            raw = checks.text(raw, max_length=32)
            try:
                validate_code(raw)
            except ValidationError as exc:
                raise Rejected(" ".join(exc.messages)) from exc
            return raw
        if column in self.TEXT:
            return checks.text(raw, max_length=self.TEXT[column], plain=True)
        if not raw:
            return None
        if column == "list_price":
            return checks.number_text(raw, integer_digits=10, decimals=2)
        return checks.date_iso(raw)

    def row_values(self, data):
        # A column the file leaves out keeps the stored value; an empty text cell clears it.
        return {f: data[f] for f in self.fields if f in data}

    def stored_values(self, instance):
        return {f: getattr(instance, f) for f in self.fields}


class PaymentWriter(_BulkWriter):
    kind = ImportKind.PAYMENTS
    model = Payment
    key_field = "reference"
    fields = ("customer_id", "date", "amount", "method")
    numeric = ("amount",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from tokui.customers.selectors import customer_list

        # One dict for the whole file: payment files name the same customers over and over.
        self.customer_ids = dict(
            customer_list(user=self.actor, action="change").values_list("code", "id")
        )
        self.methods = checks.choice_lookup(PaymentMethod.choices)
        self.touched: set[int] = set()

    def clean_value(self, column, raw):
        if column != "method" and not raw:
            raise Rejected(_("This column is required."))
        if column == "reference":
            return checks.text(raw, max_length=64)
        if column == "customer_code":
            customer_id = self.customer_ids.get(raw)
            if customer_id is None:
                raise Rejected(_unknown_customer(raw))
            return customer_id
        if column == "date":
            return checks.date_iso(raw)
        if column == "amount":
            return checks.number_text(raw, integer_digits=12, decimals=2)
        return checks.choice(raw, self.methods) if raw else PaymentMethod.TRANSFER

    def check_batch(self, batch):
        """A payment already booked on a card in the trash stays with it, so restoring the
        card brings its payments back as they were."""
        references = [data["reference"] for _number, data in batch]
        held = set(
            Payment.objects.filter(
                reference__in=references, customer__deleted_at__isnull=False
            ).values_list("reference", flat=True)
        )
        reason = _("This payment belongs to a card in the trash: restore the card first.")
        return {
            number: [("reference", data["reference"], reason)]
            for number, data in batch
            if data["reference"] in held
        }

    def row_values(self, data):
        return {
            "customer_id": data["customer_code"],
            "date": data["date"],
            "amount": data["amount"],
            "method": data.get("method") or PaymentMethod.TRANSFER,
        }

    def on_write(self, instance, wanted):
        self.touched.add(wanted["customer_id"])
        if instance is not None:
            self.touched.add(instance.customer_id)

    def touched_customer_ids(self):
        return self.touched


WRITERS = {
    ImportKind.CUSTOMERS: CustomerWriter,
    ImportKind.PEOPLE: PersonWriter,
    ImportKind.PRODUCTS: ProductWriter,
    ImportKind.PAYMENTS: PaymentWriter,
}

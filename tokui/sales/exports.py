"""Exports of cards, people, products, orders and payments as CSV or XLSX (CARD-11, GOV-1).

The columns are the import's default column names, so an exported file re-imports
unchanged. Rows come from the restricted selectors: an export holds exactly what its
user may see, narrowed by the same filters as the list pages. Both formats stream: CSV
as an iterator of encoded chunks, XLSX through openpyxl's write-only workbook.

Spreadsheet programs run text that starts with ``=``, ``+``, ``-``, ``@``, tab or CR as
a formula, so such text cells get a leading apostrophe. Numbers stay numbers: -5 is a
numeric cell (XLSX) or a numeric field (CSV), never neutralised.
"""

import codecs
import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from tokui.audit.choices import AccessAction
from tokui.audit.services import purpose_required, record_access
from tokui.customers.filtersets import CustomerFilterSet
from tokui.customers.selectors import SYSTEM
from tokui.fields.access import card_access
from tokui.fields.choices import FieldType
from tokui.fields.selectors import active_field_definitions
from tokui.users.roles import CUSTOMER, has_permission

from .filtersets import OrderFilterSet, PaymentFilterSet, PersonFilterSet, ProductFilterSet
from .selectors import export_base_queryset

KINDS = ("customers", "people", "products", "orders", "payments")
FORMATS = ("csv", "xlsx")
ENCODINGS = ("utf-8", "cp932", "cp949")

CUSTOMER_COLUMNS = [
    "code",
    "kind",
    "name",
    "name_reading",
    "status",
    "owner",
    "area",
    "phone",
    "email",
    "postal_code",
    "address",
]
PEOPLE_COLUMNS = ["customer_code", "relation", "name", "name_reading", "birthday", "phone", "email"]
PRODUCT_COLUMNS = ["code", "name", "brand", "category", "unit", "list_price", "launch_date"]
ORDER_COLUMNS = [
    "order_no",
    "line_no",
    "customer_code",
    "date",
    "product_code",
    "quantity",
    "unit_price",
    "amount",
]
PAYMENT_COLUMNS = ["reference", "customer_code", "date", "amount", "method"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000


class ExportError(ValueError):
    """The export was asked for something it cannot do (unknown filter, bad value)."""


@dataclass
class ExportTable:
    kind: str
    header: list[str]
    queryset: QuerySet
    rows: Iterable[list]
    filters: dict

    def count(self) -> int:
        return self.queryset.count()

    def customer_ids(self) -> list[int]:
        """The cards whose data the file holds (none for products), read once."""
        if not hasattr(self, "_customer_ids"):
            path = {"customers": "pk", "products": None}.get(self.kind, "customer_id")
            self._customer_ids = (
                []
                if path is None
                else list(self.queryset.order_by().values_list(path, flat=True).distinct())
            )
        return self._customer_ids


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- rows -------------------------------------------------------------------------------


# The card part (tokui.fields.access) behind each customer column that field rules may
# hide; the others are the card's identity, which whoever may export the card sees.
CUSTOMER_COLUMN_PARTS = {
    "phone": "phone",
    "email": "email",
    "postal_code": "addresses",
    "address": "addresses",
}


def _customer_columns(access) -> tuple[list[str], list]:
    """The customer columns and card fields ``access`` may see (all of them for None)."""
    columns = [
        c
        for c in CUSTOMER_COLUMNS
        if access is None or access.can_view(CUSTOMER_COLUMN_PARTS.get(c, c))
    ]
    definitions = [
        d for d in active_field_definitions() if access is None or access.can_view(d.key)
    ]
    return columns, definitions


def _customer_rows(queryset: QuerySet, columns: list[str], definitions: list) -> Iterator[list]:
    from tokui.customers.models import Address  # the prefetch's row order; read-only

    # The import reads postal_code and address into the primary address (address is its
    # first line), so the export writes exactly those: a re-import then changes nothing.
    addresses = Prefetch(
        "addresses",
        queryset=Address.objects.filter(is_primary=True).order_by("pk"),
        to_attr="export_addresses",
    )
    customers = queryset.select_related("owner", "area").prefetch_related(addresses)
    for customer in customers.order_by("code").iterator(chunk_size=CHUNK_ROWS):
        address = customer.export_addresses[0] if customer.export_addresses else None
        values = customer.field_values or {}
        cells = {
            "code": customer.code,
            "kind": customer.kind,
            "name": customer.name,
            "name_reading": customer.name_reading,
            "status": customer.status,
            "owner": customer.owner.username if customer.owner_id else "",
            "area": customer.area.code if customer.area_id else "",
            "phone": customer.phone,
            "email": customer.email,
            "postal_code": address.postal_code if address else "",
            "address": address.line1 if address else "",
        }
        yield [
            *(cells[column] for column in columns),
            *(_card_value(d, values.get(d.key)) for d in definitions),
        ]


def _card_value(definition, raw):
    """A card field's stored JSON value as a cell: numbers as numbers, lists joined."""
    if raw in (None, "", []):
        return None
    kind = definition.field_type
    try:
        if kind == FieldType.INTEGER:
            return int(raw)
        if kind == FieldType.DECIMAL:
            return Decimal(str(raw))
    except (TypeError, ValueError, ArithmeticError):
        return str(raw)  # stored before the field's type changed: export it as it is
    if kind == FieldType.BOOLEAN:
        return "true" if raw else "false"
    if isinstance(raw, list):
        return ", ".join(str(item) for item in raw)
    return raw


def _people_rows(queryset: QuerySet) -> Iterator[list]:
    people = queryset.select_related("customer").order_by("customer__code", "pk")
    for person in people.iterator(chunk_size=CHUNK_ROWS):
        yield [
            person.customer.code,
            person.relation,
            person.name,
            person.name_reading,
            person.birthday,
            person.phone,
            person.email,
        ]


def _product_rows(queryset: QuerySet) -> Iterator[list]:
    for p in queryset.order_by("code").iterator(chunk_size=CHUNK_ROWS):
        yield [p.code, p.name, p.brand, p.category, p.unit, p.list_price, p.launch_date]


def _order_rows(queryset: QuerySet) -> Iterator[list]:
    lines = queryset.order_by("order__number", "line_no").values_list(
        "order__number",
        "line_no",
        "customer__code",
        "date",
        "product__code",
        "quantity",
        "unit_price",
        "amount",
    )
    for row in lines.iterator(chunk_size=CHUNK_ROWS):
        yield list(row)


def _payment_rows(queryset: QuerySet) -> Iterator[list]:
    payments = queryset.order_by("reference").values_list(
        "reference", "customer__code", "date", "amount", "method"
    )
    for row in payments.iterator(chunk_size=CHUNK_ROWS):
        yield list(row)


def _filtered(filterset_class, params: dict, queryset: QuerySet, user=SYSTEM) -> QuerySet:
    params = {key: value for key, value in params.items() if value not in (None, "")}
    unknown = set(params) - set(filterset_class.base_filters)
    if unknown:
        raise ExportError(
            _("Unknown filter: %(names)s. Known: %(known)s.")
            % {
                "names": ", ".join(sorted(unknown)),
                "known": ", ".join(filterset_class.base_filters),
            }
        )
    if not params:
        return queryset
    # The search matches phones only for a user who may see them; the filter set reads the
    # user from its request, which an export (web or command line) does not always have.
    filterset = filterset_class(params, queryset=queryset, request=SimpleNamespace(user=user))
    if refused := sorted(set(params) - set(filterset.filters)):
        # Field rules took the filter away (a tag the user may not see): say so, rather
        # than export every card.
        raise ExportError(_("You may not filter by: %(names)s.") % {"names": ", ".join(refused)})
    if not filterset.is_valid():
        # An export that silently dropped a filter would take out more than was asked.
        raise ExportError(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
        )
    return filterset.qs


def export_table(kind: str, *, user=None, params: dict | None = None, system: bool = False):
    """The header and rows of an export of ``kind`` for ``user`` with list-page filters.

    ``system=True`` exports every row regardless of scope (the CLI's ``--all``).
    Raises ``ExportError`` for an unknown kind or filter, or a filter value that does
    not validate.
    """
    params = dict(params or {})
    if kind not in KINDS:
        raise ExportError(_("Unknown export: %(kind)s.") % {"kind": kind})
    # Field rules (tokui.fields.access): a column the user may not see is not in the file.
    access = None if system else card_access(user)
    if kind == "customers":
        queryset = _filtered(
            CustomerFilterSet,
            params,
            export_base_queryset(kind, user=user, system=system),
            user=SYSTEM if system else user,
        )
        columns, definitions = _customer_columns(access)
        header = columns + [d.key for d in definitions]
        rows = _customer_rows(queryset, columns, definitions)
    elif kind == "people":
        # A role that reads no cards gets an empty file from its scope, as for other kinds.
        may_read_cards = has_permission(user, CUSTOMER, "view")
        if access is not None and may_read_cards and not access.can_view("people"):
            raise ExportError(
                _("Your role may not see the people of a card, so it cannot export them.")
            )
        queryset = _filtered(
            PersonFilterSet, params, export_base_queryset(kind, user=user, system=system)
        )
        header, rows = PEOPLE_COLUMNS, _people_rows(queryset)
    elif kind == "products":
        queryset = _filtered(
            ProductFilterSet, params, export_base_queryset(kind, user=user, system=system)
        )
        header, rows = PRODUCT_COLUMNS, _product_rows(queryset)
    elif kind == "orders":
        orders = _filtered(
            OrderFilterSet, params, export_base_queryset(kind, user=user, system=system)
        )
        queryset = export_base_queryset("lines", user=user, system=system)
        if params:
            queryset = queryset.filter(order__in=orders.values("pk"))
        header, rows = ORDER_COLUMNS, _order_rows(queryset)
    else:
        queryset = _filtered(
            PaymentFilterSet, params, export_base_queryset(kind, user=user, system=system)
        )
        header, rows = PAYMENT_COLUMNS, _payment_rows(queryset)
    return ExportTable(kind=kind, header=list(header), queryset=queryset, rows=rows, filters=params)


# --- writers ----------------------------------------------------------------------------


def csv_value(value) -> str:
    """A cell as CSV text: numbers and dates as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return neutralise(str(value))


def xlsx_value(value):
    """A cell as openpyxl writes it: numbers and dates typed, text neutralised."""
    if value is None or isinstance(value, (Decimal, int, float, datetime.date)):
        if isinstance(value, bool):
            return "true" if value else "false"
        return value
    return neutralise(str(value))


class _Line:
    """csv.writer's target that hands back what it was given, so rows can be yielded."""

    def write(self, text: str) -> str:
        return text


def csv_chunks(table: ExportTable, encoding: str = "utf-8") -> Iterator[bytes]:
    """The file as encoded chunks. UTF-8 starts with a BOM so Excel reads it as UTF-8.

    A character the legacy encodings (CP932, CP949) cannot hold raises UnicodeEncodeError:
    a file that silently lost a customer's name would re-import wrongly.
    """
    if encoding not in ENCODINGS:
        raise ExportError(_("Unknown encoding: %(encoding)s.") % {"encoding": encoding})
    writer = csv.writer(_Line(), lineterminator="\r\n")
    if encoding == "utf-8":
        yield codecs.BOM_UTF8
    yield writer.writerow(table.header).encode(encoding)
    buffer = []
    for row in table.rows:
        buffer.append(writer.writerow([csv_value(value) for value in row]))
        if len(buffer) >= 500:
            yield "".join(buffer).encode(encoding)
            buffer = []
    if buffer:
        yield "".join(buffer).encode(encoding)


def write_xlsx(table: ExportTable, target) -> None:
    """Write the table to ``target`` (a path or a binary file) as one worksheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.kind)
    sheet.append(table.header)
    for row in table.rows:
        sheet.append([xlsx_value(value) for value in row])
    workbook.save(target)


def record_export(*, actor, table: ExportTable, file_format: str, purpose: str = "", request=None):
    """Log who took which cards out (GOV-1): one access record naming every card in the file.

    Raises ValidationError when the file holds more cards than the purpose threshold and
    no purpose was given; call it before writing, so such an export writes nothing.
    """
    ids = table.customer_ids()
    record_access(
        actor=actor,
        action=AccessAction.EXPORT,
        customer_ids=ids,
        count=len(ids),
        filters={"export": table.kind, "format": file_format, **table.filters},
        request=request,
        purpose=purpose,
    )


def purpose_needed(table: ExportTable) -> bool:
    return purpose_required(len(table.customer_ids()))

"""Each kind's columns, and how a file's headers map onto them."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from tokui.sales.choices import ImportKind


@dataclass(frozen=True)
class KindSpec:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]  # the natural key rows upsert by
    extra_columns_allowed: bool = False  # customers: any card field by its key


KINDS: dict[str, KindSpec] = {
    ImportKind.CUSTOMERS: KindSpec(
        columns=(
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
        ),
        required=("code",),
        key=("code",),
        extra_columns_allowed=True,
    ),
    ImportKind.PEOPLE: KindSpec(
        columns=("customer_code", "relation", "name", "name_reading", "birthday", "phone", "email"),
        required=("customer_code", "name"),
        key=("customer_code", "name"),
    ),
    ImportKind.PRODUCTS: KindSpec(
        columns=("code", "name", "brand", "category", "unit", "list_price", "launch_date"),
        required=("code", "name"),
        key=("code",),
    ),
    ImportKind.ORDERS: KindSpec(
        columns=(
            "order_no",
            "line_no",
            "customer_code",
            "date",
            "product_code",
            "quantity",
            "unit_price",
            "amount",
        ),
        required=(
            "order_no",
            "line_no",
            "customer_code",
            "date",
            "product_code",
            "quantity",
            "unit_price",
        ),
        key=("order_no", "line_no"),
    ),
    ImportKind.PAYMENTS: KindSpec(
        columns=("reference", "customer_code", "date", "amount", "method"),
        required=("reference", "customer_code", "date", "amount"),
        key=("reference",),
    ),
}


class MappingProblem(Exception):
    """The file's columns do not fit the kind: reported before any row is read."""


def card_field_keys() -> list[str]:
    from tokui.fields.selectors import active_field_definitions

    return [d.key for d in active_field_definitions() if not d.is_derived]


def parse_map_options(options: list[str]) -> dict[str, str]:
    """``["得意先コード=code", …]`` → ``{"得意先コード": "code"}`` (file header → Tokui column)."""
    mapping = {}
    for option in options:
        header, sep, column = option.rpartition("=")
        if not sep or not header.strip() or not column.strip():
            raise MappingProblem(
                _("Write a mapping as “file column=Tokui column”, not “%(option)s”.")
                % {"option": option}
            )
        mapping[header.strip()] = column.strip()
    return mapping


def allowed_columns(kind: str) -> list[str]:
    spec = KINDS[kind]
    columns = list(spec.columns)
    if spec.extra_columns_allowed:
        columns += [key for key in card_field_keys() if key not in columns]
    return columns


def suggest_mapping(kind: str, headers: list[str], saved: dict | None = None) -> dict[str, str]:
    """A header → column guess: the saved mapping first, then headers named as Tokui columns."""
    columns = set(allowed_columns(kind))
    saved = saved or {}
    suggestion = {}
    for header in headers:
        if header in saved and saved[header] in columns:
            suggestion[header] = saved[header]
        elif header in columns:
            suggestion[header] = header
        elif header.casefold() in columns:
            suggestion[header] = header.casefold()
    return suggestion


def resolve_columns(kind: str, headers: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """Tokui column → index in the row, or MappingProblem naming every unknown or missing column.

    A header is mapped by ``mapping`` (header → column; an empty column ignores the header),
    else taken as is when it is a Tokui column name. Other headers are an error, so a typo
    never silently drops a column.
    """
    columns = allowed_columns(kind)
    known = set(columns)
    problems = []
    unknown_targets = sorted({c for c in mapping.values() if c and c not in known})
    if unknown_targets:
        problems.append(
            _("Not a column of this import: %(columns)s. Columns are: %(allowed)s.")
            % {"columns": ", ".join(unknown_targets), "allowed": ", ".join(columns)}
        )
    missing_headers = sorted(h for h in mapping if h not in headers)
    if missing_headers:
        problems.append(
            _("The mapping names columns the file does not have: %(headers)s.")
            % {"headers": ", ".join(missing_headers)}
        )
    positions: dict[str, int] = {}
    unknown_headers = []
    duplicated = set()
    for index, header in enumerate(headers):
        if header in mapping:
            column = mapping[header]
            if not column:
                continue
        elif header in known:
            column = header
        elif not header:
            continue
        else:
            unknown_headers.append(header)
            continue
        if column in positions:
            duplicated.add(column)
        positions[column] = index
    if unknown_headers:
        problems.append(
            _("Unknown columns: %(headers)s. Map them to a Tokui column or leave them out.")
            % {"headers": ", ".join(unknown_headers)}
        )
    if duplicated:
        problems.append(
            _("More than one file column maps to: %(columns)s.")
            % {"columns": ", ".join(sorted(duplicated))}
        )
    missing = [c for c in KINDS[kind].required if c not in positions]
    if missing:
        problems.append(
            _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if problems:
        raise MappingProblem(" ".join(problems))
    return positions

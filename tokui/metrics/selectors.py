"""Reads of the derived figures, restricted to the customers the user may see."""

from .models import CustomerMetrics

# Card fields of the presets (tokui/fields/presets/*.json, maintenance "derived") that are a
# figure: the card shows the figure in them. customer_class belongs to the classification run.
DERIVED_FIELD_SOURCES = {
    "last_purchase_date": "last_order_date",
    "purchase_amount_12m": "amount_12m",
    "purchase_count_12m": "order_count_12m",
    "monthly_average_volume": "monthly_quantity_12m",
    "average_unit_price": "average_unit_price",
}


def customer_figures(*, user, customer) -> CustomerMetrics | None:
    """The customer's figures, or None when there are none yet or the user may not see them."""
    return CustomerMetrics.objects.restrict(user, "view").filter(customer=customer).first()


def derived_field_values(figures: CustomerMetrics | None) -> dict:
    """Values for the derived card fields, stored-value style (ISO dates, decimals as text)."""
    if figures is None:
        return {}
    values = {}
    for key, source in DERIVED_FIELD_SOURCES.items():
        value = getattr(figures, source)
        if value is None:
            continue
        values[key] = value if isinstance(value, int) else str(value)
        if hasattr(value, "isoformat"):
            values[key] = value.isoformat()
    return values

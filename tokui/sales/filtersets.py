"""Search and filters of the product, order and payment lists (and of their exports).

The list pages and the exports read the same query string, so an export button hands
over exactly the filter on screen.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import OrderStatus, PaymentMethod
from .selectors import product_brands, product_categories, product_search

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _StyledFilterSet(django_filters.FilterSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class ProductFilterSet(_StyledFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Code, name or brand"), "autocomplete": "off"}
        ),
    )
    brand = django_filters.ChoiceFilter(
        label=_("Brand"),
        choices=lambda: [(b, b) for b in product_brands()],
        empty_label=_("Any brand"),
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"),
        choices=lambda: [(c, c) for c in product_categories()],
        empty_label=_("Any category"),
    )

    def filter_search(self, queryset, name, value):
        return product_search(queryset, value)


class _CustomerDateFilterSet(_StyledFilterSet):
    customer = django_filters.CharFilter(
        label=_("Customer code"), field_name="customer__code", lookup_expr="exact"
    )
    date_from = django_filters.DateFilter(
        label=_("Date from"),
        field_name="date",
        lookup_expr="gte",
        widget=DATE_WIDGET,
    )
    date_to = django_filters.DateFilter(
        label=_("Date to"),
        field_name="date",
        lookup_expr="lte",
        widget=DATE_WIDGET,
    )


class OrderFilterSet(_CustomerDateFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=OrderStatus.choices, empty_label=_("Any status")
    )


class PaymentFilterSet(_CustomerDateFilterSet):
    method = django_filters.ChoiceFilter(
        label=_("Method"), choices=PaymentMethod.choices, empty_label=_("Any method")
    )


class PersonFilterSet(_StyledFilterSet):
    """Only for the people export: the people of one customer."""

    customer = django_filters.CharFilter(
        label=_("Customer code"), field_name="customer__code", lookup_expr="exact"
    )

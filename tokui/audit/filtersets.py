"""Filters of the access log: user, customer code, action and period."""

import django_filters
from django.utils.translation import gettext_lazy as _

from tokui.customers.selectors import customer_list

from .choices import AccessAction
from .selectors import access_log_users, accesses_to_customer


class AccessEventFilterSet(django_filters.FilterSet):
    """``?user=USERNAME&customer=CODE&action=view&period_after=D&period_before=D``."""

    user = django_filters.ModelChoiceFilter(
        label=_("User"),
        field_name="actor",
        queryset=access_log_users(),
        to_field_name="username",
        empty_label=_("Anyone"),
    )
    customer = django_filters.CharFilter(label=_("Customer code"), method="filter_customer")
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AccessAction.choices, empty_label=_("Any action")
    )
    period = django_filters.DateFromToRangeFilter(
        label=_("Period"),
        field_name="time",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reader = user
        self.customer = None

    def filter_customer(self, queryset, name, value):
        code = value.strip()
        if not code:
            return queryset
        # The readers of the log see every card, so the code resolves whatever its scope.
        self.customer = customer_list(user=self.reader).filter(code=code).first()
        if self.customer is None:
            return queryset.none()
        return accesses_to_customer(queryset, self.customer.pk)

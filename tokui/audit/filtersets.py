"""Filters of the access log (user, customer code, action, period) and the change log."""

import django_filters
from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tokui.customers.selectors import customer_list, trash_list

from .choices import AccessAction, ChangeAction
from .selectors import access_log_users, accesses_to_customer, change_log_object_types


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
            # A card in the trash keeps its access records, for those who may see the trash.
            self.customer = trash_list(user=self.reader).filter(code=code).first()
        if self.customer is None:
            return queryset.none()
        return accesses_to_customer(queryset, self.customer.pk)


def _object_type_choices() -> list[tuple[str, str]]:
    choices = []
    for label in change_log_object_types():
        try:
            name = capfirst(apps.get_model(label)._meta.verbose_name)
        except (LookupError, ValueError):
            name = label  # a model that has since gone: its rows stay
        choices.append((label, name))
    return choices


class ObjectChangeFilterSet(django_filters.FilterSet):
    """``?user=USERNAME&object_type=customers.customer&action=update&period_after=D&...``."""

    user = django_filters.ModelChoiceFilter(
        label=_("User"),
        field_name="actor",
        queryset=access_log_users(),
        to_field_name="username",
        empty_label=_("Anyone"),
    )
    object_type = django_filters.ChoiceFilter(
        label=_("Record type"), choices=_object_type_choices, empty_label=_("Any type")
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=ChangeAction.choices, empty_label=_("Any action")
    )
    period = django_filters.DateFromToRangeFilter(
        label=_("Period"),
        field_name="time",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

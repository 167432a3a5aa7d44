"""Search and filters of the customer list."""

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from tokui.accounts.selectors import area_list
from tokui.fields.access import card_access

from .choices import CustomerStatus
from .selectors import customer_search, owner_filter_choices, tag_list


class PlainSelect(forms.Select):
    """A select rendered in Python: the list page draws its filters on every keystroke,
    and Django's per-option templates cost more than the page's database work."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        selected = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, " selected" if str(option_value) == selected else "", label)
                for option_value, label in self.choices
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


class CustomerFilterSet(django_filters.FilterSet):
    """The list page's query string: q, status, owner, area, tag.

    Ordering and paging belong to the table (``sort`` and ``page``). A value that does
    not validate (an unknown owner, say) is reported on the form and ignored.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Code, name, reading or phone"),
                "autocomplete": "off",
            }
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CustomerStatus.choices, empty_label=_("Any status")
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Account manager"),
        queryset=owner_filter_choices(),
        to_field_name="username",
        empty_label=_("Anyone"),
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"),
        queryset=area_list(),
        to_field_name="code",
        method="filter_area",
        empty_label=_("Any area"),
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"),
        queryset=tag_list(),
        to_field_name="name",
        field_name="tags",
        empty_label=_("Any tag"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Field rules (tokui.fields.access): filtering by tag would tell a hidden tag.
        if not card_access(getattr(self.request, "user", None)).can_view("tags"):
            del self.filters["tag"]
        for field in self.form.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget = PlainSelect(attrs={"class": "form-select"}, choices=field.choices)
            else:
                field.widget.attrs.setdefault("class", "form-control")

    def filter_search(self, queryset, name, value):
        # Phones are matched only for a user who may see them; without a request, no one.
        return customer_search(queryset, value, user=getattr(self.request, "user", None))

    def filter_area(self, queryset, name, area):
        # Areas form a tree: choosing a region includes its sub-areas.
        return queryset.filter(area__path__startswith=area.path)

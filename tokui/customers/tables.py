"""The customer list as a table: sortable columns, one page at a time."""

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

STATUS_BADGE = {
    "prospect": "text-bg-info",
    "active": "text-bg-success",
    "dormant": "text-bg-warning",
    "lost": "text-bg-secondary",
    "blocked": "text-bg-danger",
}


def status_badge(customer) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGE.get(customer.status, "text-bg-light"),
        customer.get_status_display(),
    )


class CustomerTable(tables.Table):
    """Rows come from ``selectors.customer_list`` with owner and area joined, tags prefetched.

    Sorting by name uses the folded reading (``sort_key``), which is indexed, so
    Japanese names sort in kana order and the first page is read from the index.
    Cells are rendered in Python, not per-cell templates, to keep a page of 50 fast.
    """

    code = tables.Column(
        verbose_name=_("Code"),
        linkify=("customers:detail", {"code": tables.A("code")}),
        # The results area is boosted for sorting and paging; the card is a full page.
        attrs={"a": {"hx-boost": "false"}},
        order_by=("code",),
    )
    name = tables.Column(verbose_name=_("Name"), order_by=("sort_key", "code"))
    kind = tables.Column(verbose_name=_("Kind"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "sort_key", "code"))
    owner = tables.Column(verbose_name=_("Account manager"), orderable=False)
    area = tables.Column(verbose_name=_("Area"), orderable=False)
    tags = tables.Column(verbose_name=_("Tags"), orderable=False, empty_values=())
    phone = tables.Column(verbose_name=_("Phone"), orderable=False)
    updated = tables.DateTimeColumn(
        verbose_name=_("Updated"),
        accessor="updated_at",
        format="SHORT_DATETIME_FORMAT",
        order_by=("updated_at", "code"),
    )

    class Meta:
        order_by_field = "sort"
        empty_text = _("No customers match.")
        attrs = {"class": "table table-sm table-hover align-middle customer-table"}

    def render_name(self, record, value):
        if record.name_reading:
            return format_html(
                '{}<div class="reading" lang="ja">{}</div>', value, record.name_reading
            )
        return value

    def render_status(self, record):
        return status_badge(record)

    def render_tags(self, record):
        return format_html_join(
            " ",
            '<span class="badge rounded-pill text-bg-light border">{}</span>',
            ((tag.name,) for tag in record.tags.all()),
        )

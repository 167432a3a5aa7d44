"""The customer list as a table: sortable columns, one page at a time."""

from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .choices import CustomerKind, CustomerStatus

STATUS_BADGE = {
    "prospect": "text-bg-info",
    "active": "text-bg-success",
    "dormant": "text-bg-warning",
    "lost": "text-bg-secondary",
    "blocked": "text-bg-danger",
}
# One cell per column, in the columns' order; tags and phone are left out for a user who
# may not see them (the view excludes those columns, tokui.fields.access).
CELLS = {
    "code": '<td><a href="{}" hx-boost="false">{}</a></td>',
    "name": "<td>{}{}</td>",
    "kind": "<td>{}</td>",
    "status": '<td><span class="badge {}">{}</span></td>',
    "owner": "<td>{}</td>",
    "area": "<td>{}</td>",
    "tags": "<td>{}</td>",
    "phone": '<td class="text-nowrap">{}</td>',
    "updated": '<td class="text-nowrap">{}</td>',
}
ROW = "<tr>" + "".join(CELLS.values()) + "</tr>"
READING = '<div class="reading">{}</div>'
TAG = '<span class="badge rounded-pill text-bg-light border">{}</span>'


class CustomerTable(tables.Table):
    """Rows come from ``selectors.customer_list`` with owner and area joined, tags prefetched.

    Sorting by name uses the folded reading (``sort_key``), which is indexed, so
    Japanese names sort in kana order and the first page is read from the index.

    The table decides columns, sorting (``?sort=``) and paging; ``rows_html`` writes the
    cells. Rendering them cell by cell through django-tables2's templates cost several
    times the database work for a page of 50 at 100,000 cards.
    """

    code = tables.Column(verbose_name=_("Code"), order_by=("code",))
    name = tables.Column(verbose_name=_("Name"), order_by=("sort_key", "code"))
    kind = tables.Column(verbose_name=_("Kind"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "sort_key", "code"))
    owner = tables.Column(verbose_name=_("Account manager"), orderable=False)
    area = tables.Column(verbose_name=_("Area"), orderable=False)
    tags = tables.Column(verbose_name=_("Tags"), orderable=False, empty_values=())
    phone = tables.Column(verbose_name=_("Phone"), orderable=False)
    updated = tables.Column(
        verbose_name=_("Updated"), accessor="updated_at", order_by=("updated_at", "code")
    )

    class Meta:
        template_name = "customers/customer_table.html"
        order_by_field = "sort"
        empty_text = _("No customers match.")
        attrs = {"class": "table table-sm table-hover align-middle customer-table"}

    def page_rows(self) -> list:
        """The customers on the current page."""
        if not hasattr(self, "_page_rows"):
            self._page_rows = [row.record for row in self.paginated_rows]
        return self._page_rows

    def rows_html(self) -> str:
        """The page's rows as HTML, every value escaped by ``format_html``."""
        # Codes are letters, digits, dot, hyphen and underscore: one reverse serves all rows.
        before, after = reverse("customers:detail", kwargs={"code": "CODE"}).split("CODE")
        # Choice labels are lazy translations; resolving them once per page, not per row.
        kinds = {value: str(label) for value, label in CustomerKind.choices}
        statuses = {value: str(label) for value, label in CustomerStatus.choices}
        excluded = set(self.exclude or ())
        show_tags, show_phone = "tags" not in excluded, "phone" not in excluded
        row = "<tr>" + "".join(c for n, c in CELLS.items() if n not in excluded) + "</tr>"
        return format_html_join(
            "",
            row,
            (
                (
                    before + quote(customer.code) + after,
                    customer.code,
                    customer.name,
                    format_html(READING, customer.name_reading) if customer.name_reading else "",
                    kinds.get(customer.kind, customer.kind),
                    STATUS_BADGE.get(customer.status, "text-bg-light"),
                    statuses.get(customer.status, customer.status),
                    customer.owner or "—",
                    customer.area or "—",
                    *(
                        [format_html_join(" ", TAG, ((tag.name,) for tag in _tags(customer)))]
                        if show_tags
                        else []
                    ),
                    *([customer.phone] if show_phone else []),
                    date_format(timezone.localtime(customer.updated_at), "SHORT_DATETIME_FORMAT"),
                )
                for customer in self.page_rows()
            ),
        )


def _tags(customer) -> list:
    # The list view prefetches into ``tag_list``; a related manager per row costs more.
    tag_list = getattr(customer, "tag_list", None)
    return tag_list if tag_list is not None else list(customer.tags.all())

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import FieldDefinition


class FieldDefinitionTable(tables.Table):
    """One category's fields. Rows come in display order, so nothing here sorts."""

    key = tables.Column(verbose_name=_("Key"))
    label = tables.Column(verbose_name=_("Label"))
    field_type = tables.Column(verbose_name=_("Type"))
    choices = tables.Column(verbose_name=_("Choices"), empty_values=())
    category = tables.Column(verbose_name=_("Category"))
    maintenance = tables.Column(verbose_name=_("Maintenance class"))
    required = tables.BooleanColumn(verbose_name=_("Required"))
    is_active = tables.BooleanColumn(verbose_name=_("Active"))
    order = tables.Column(verbose_name=_("Order"), attrs={"td": {"class": "text-end"}})
    actions = tables.TemplateColumn(
        template_name="fields/_row_actions.html",
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "text-end text-nowrap"}},
    )

    class Meta:
        model = FieldDefinition
        fields = (
            "key",
            "label",
            "field_type",
            "choices",
            "category",
            "maintenance",
            "required",
            "is_active",
            "order",
        )
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle"}
        row_attrs = {
            "class": lambda record: "" if record.is_active else "text-body-secondary",
            "id": lambda record: f"field-{record.key}",
        }

    def render_key(self, value):
        return format_html("<code>{}</code>", value)

    def render_label(self, record):
        others = [label for label in (record.label_ja, record.label_ko) if label]
        if not others:
            return record.label
        return format_html(
            '{}<br><span class="small text-body-secondary">{}</span>',
            record.label,
            format_html_join(" · ", "{}", ((label,) for label in others)),
        )

    def render_choices(self, record):
        if not record.choices:
            return "—"
        return format_html_join(
            " ",
            '<span class="badge text-bg-light border">{}</span>',
            ((c,) for c in record.choices),
        )

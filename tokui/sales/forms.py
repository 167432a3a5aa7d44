"""Forms of the product, order and payment pages. They check input; the services decide.

Customers and products are typed by code (a company has thousands of both, far too
many for a drop-down); the view resolves the codes through the selectors, so a code
outside the user's scope is reported as unknown.
"""

from decimal import Decimal

from django import forms
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.customers.forms import ServiceErrorsMixin

from .choices import OrderChannel, OrderStatus, PaymentMethod
from .models import Order, Payment, Product
from .services import PRODUCT_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductForm(ServiceErrorsMixin, forms.Form):
    def __init__(self, *args, product: Product | None = None, **kwargs):
        initial = {name: getattr(product, name) for name in PRODUCT_FIELDS} if product else None
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(fields_for_model(Product, fields=PRODUCT_FIELDS))
        self.fields["launch_date"].widget = DATE_WIDGET
        if product is not None:
            # The code is how files and other systems name the product: it stays.
            self.fields["code"].disabled = True
        else:
            self.fields["is_active"].initial = True

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in PRODUCT_FIELDS}
        if self.fields["code"].disabled:
            data.pop("code")
        return data


class OrderForm(ServiceErrorsMixin, forms.Form):
    customer = forms.CharField(label=_("Customer code"), max_length=32)
    number = forms.CharField(
        label=_("Order number"), max_length=Order._meta.get_field("number").max_length
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    channel = forms.ChoiceField(
        label=_("Order channel"),
        choices=OrderChannel.choices,
        initial=OrderChannel.OTHER,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        # A new order is confirmed or already delivered; cancelling is its own step.
        choices=[
            (OrderStatus.CONFIRMED, OrderStatus.CONFIRMED.label),
            (OrderStatus.DELIVERED, OrderStatus.DELIVERED.label),
        ],
        initial=OrderStatus.CONFIRMED,
    )


class OrderLineForm(forms.Form):
    product = forms.CharField(label=_("Product code"), max_length=32)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=12, decimal_places=3)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the product's list price."),
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: quantity × unit price."),
    )


class _BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if not any(form.cleaned_data and not form.cleaned_data.get("DELETE") for form in self):
            raise forms.ValidationError(_("An order needs at least one line."))


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=_BaseLineFormSet, extra=5, max_num=200, validate_max=True
)


class PaymentForm(ServiceErrorsMixin, forms.Form):
    customer = forms.CharField(label=_("Customer code"), max_length=32)
    reference = forms.CharField(
        label=_("Reference"), max_length=Payment._meta.get_field("reference").max_length
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET, initial=timezone.localdate)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER
    )


def line_payloads(formset, products: dict) -> list[dict]:
    """The filled lines of ``formset`` as the service's line dicts; ``products`` by code."""
    lines = []
    for form in formset:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        product = products[data["product"]]
        unit_price = data.get("unit_price")
        if unit_price is None:
            unit_price = product.list_price if product.list_price is not None else Decimal(0)
        lines.append(
            {
                "product": product,
                "quantity": data["quantity"],
                "unit_price": unit_price,
                "amount": data.get("amount"),
            }
        )
    return lines

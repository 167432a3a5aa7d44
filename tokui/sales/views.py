"""Pages for products, orders and payments, and the export downloads. Thin: selectors read,
services write, forms check input.

Every view answers in the same order: anonymous → log-in page, a role that may not do
the action at all → 403, a customer or order outside the user's scope → 404.
"""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig

from tokui.customers.selectors import can_act_on, customer_get
from tokui.users.roles import CUSTOMER, PRODUCT, has_permission

from . import exports, services
from .filtersets import OrderFilterSet, PaymentFilterSet, ProductFilterSet
from .forms import OrderForm, OrderLineFormSet, PaymentForm, ProductForm, line_payloads
from .selectors import order_get, order_list, payment_list, product_get, product_list
from .tables import OrderTable, PaymentTable, ProductTable

# Query parameters that page or sort a list but do not choose its rows.
NOT_FILTERS = ("page", "sort", "format", "encoding", "purpose")


def _require(user, resource: str, action: str) -> None:
    if not has_permission(user, resource, action):
        raise PermissionDenied


def _filters(request) -> dict:
    return {k: v for k, v in request.GET.items() if k not in NOT_FILTERS and v != ""}


def _list_page(request, *, title, filterset, table, export_kind, new_url=None):
    """A list with its filter form; with htmx just the results, refreshed in place."""
    RequestConfig(request, paginate={"per_page": settings.TOKUI_PAGE_SIZE}).configure(table)
    template = "sales/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    context = {
        "title": title,
        "filter": filterset,
        "table": table,
        "export_kind": export_kind,
        "export_query": urlencode(_filters(request)),
        "new_url": new_url,
    }
    response = render(request, template, context)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- products ---------------------------------------------------------------------------


def _product_or_404(request, code):
    product = product_get(user=request.user, code=code)
    if product is None:
        raise Http404(_("No such product."))
    return product


@login_required
def product_list_view(request):
    _require(request.user, PRODUCT, "view")
    filterset = ProductFilterSet(request.GET or None, queryset=product_list(user=request.user))
    new_url = None
    if has_permission(request.user, PRODUCT, "add"):
        new_url = reverse("sales:product_create")
    return _list_page(
        request,
        title=_("Products"),
        filterset=filterset,
        table=ProductTable(filterset.qs),
        export_kind="products",
        new_url=new_url,
    )


@login_required
def product_detail(request, code):
    _require(request.user, PRODUCT, "view")
    product = _product_or_404(request, code)
    return render(
        request,
        "sales/product_detail.html",
        {"product": product, "can_change": has_permission(request.user, PRODUCT, "change")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    _require(request.user, PRODUCT, "add")
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Product %(name)s created.") % {"name": product.name})
            return redirect("sales:product_detail", code=product.code)
    return render(
        request,
        "sales/product_form.html",
        {"form": form, "product": None, "title": _("New product")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, code):
    _require(request.user, PRODUCT, "change")
    product = _product_or_404(request, code)
    form = ProductForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(actor=request.user, product=product, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("sales:product_detail", code=product.code)
    return render(
        request,
        "sales/product_form.html",
        {"form": form, "product": product, "title": _("Edit %(name)s") % {"name": product.name}},
    )


# --- orders -----------------------------------------------------------------------------


@login_required
def order_list_view(request):
    _require(request.user, CUSTOMER, "view")
    filterset = OrderFilterSet(request.GET or None, queryset=order_list(user=request.user))
    new_url = None
    if has_permission(request.user, CUSTOMER, "change"):
        new_url = reverse("sales:order_create")
        if request.GET.get("customer"):
            new_url += "?" + urlencode({"customer": request.GET["customer"]})
    return _list_page(
        request,
        title=_("Orders"),
        filterset=filterset,
        table=OrderTable(filterset.qs),
        export_kind="orders",
        new_url=new_url,
    )


def _order_or_404(request, number, action="view"):
    order = order_get(user=request.user, number=number, action=action)
    if order is None:
        raise Http404(_("No such order."))
    return order


@login_required
def order_detail(request, number):
    _require(request.user, CUSTOMER, "view")
    order = _order_or_404(request, number)
    can_change = can_act_on(user=request.user, customer=order.customer, action="change")
    return render(
        request,
        "sales/order_detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "can_cancel": can_change and order.status != "cancelled",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request, number):
    _require(request.user, CUSTOMER, "change")
    order = _order_or_404(request, number)
    if not can_act_on(user=request.user, customer=order.customer, action="change"):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.order_cancel(actor=request.user, order=order)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Order %(number)s cancelled.") % {"number": order.number})
        return redirect("sales:order_detail", number=order.number)
    return render(request, "sales/order_cancel.html", {"order": order})


def _customer_for_entry(request):
    """The customer named by ``?customer=`` for a new order or payment: 404 unless the
    user may change that card."""
    code = request.GET.get("customer")
    if not code:
        return None
    customer = customer_get(user=request.user, code=code, action="change")
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


def _resolve_customer(request, form):
    code = form.cleaned_data["customer"]
    customer = customer_get(user=request.user, code=code, action="change")
    if customer is None:
        form.add_error(
            "customer",
            _("There is no customer “%(code)s” whose card you may change.") % {"code": code},
        )
    return customer


def _resolve_products(request, formset) -> dict | None:
    """Products of the filled lines by code, or None after marking unknown codes."""
    products, ok = {}, True
    for form in formset:
        code = (form.cleaned_data or {}).get("product")
        if not code:
            continue
        product = product_get(user=request.user, code=code)
        if product is None:
            form.add_error("product", _("There is no product “%(code)s”.") % {"code": code})
            ok = False
        elif form.cleaned_data.get("unit_price") is None and product.list_price is None:
            form.add_error("unit_price", _("This product has no list price: enter the price."))
            ok = False
        else:
            products[code] = product
    return products if ok else None


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request):
    _require(request.user, CUSTOMER, "change")
    customer = _customer_for_entry(request)
    initial = {"customer": customer.code} if customer else None
    form = OrderForm(request.POST or None, initial=initial)
    formset = OrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        customer = _resolve_customer(request, form)
        products = _resolve_products(request, formset)
        if customer is not None and products is not None:
            data = form.cleaned_data
            try:
                order = services.order_create(
                    actor=request.user,
                    customer=customer,
                    number=data["number"],
                    date=data["date"],
                    channel=data["channel"],
                    status=data["status"],
                    lines=line_payloads(formset, products),
                )
            except ValidationError as error:
                form.add_service_errors(error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
                return redirect("sales:order_detail", number=order.number)
    return render(
        request, "sales/order_form.html", {"form": form, "formset": formset, "customer": customer}
    )


# --- payments ---------------------------------------------------------------------------


@login_required
def payment_list_view(request):
    _require(request.user, CUSTOMER, "view")
    filterset = PaymentFilterSet(request.GET or None, queryset=payment_list(user=request.user))
    new_url = None
    if has_permission(request.user, CUSTOMER, "change"):
        new_url = reverse("sales:payment_create")
        if request.GET.get("customer"):
            new_url += "?" + urlencode({"customer": request.GET["customer"]})
    return _list_page(
        request,
        title=_("Payments"),
        filterset=filterset,
        table=PaymentTable(filterset.qs),
        export_kind="payments",
        new_url=new_url,
    )


@login_required
@require_http_methods(["GET", "POST"])
def payment_create(request):
    _require(request.user, CUSTOMER, "change")
    customer = _customer_for_entry(request)
    initial = {"customer": customer.code} if customer else None
    form = PaymentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        customer = _resolve_customer(request, form)
        if customer is not None:
            data = form.cleaned_data
            try:
                payment = services.payment_create(
                    actor=request.user,
                    customer=customer,
                    reference=data["reference"],
                    date=data["date"],
                    amount=data["amount"],
                    method=data["method"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Payment %(reference)s saved.") % {"reference": payment.reference}
                )
                return redirect(
                    reverse("sales:payment_list") + "?" + urlencode({"customer": customer.code})
                )
    return render(request, "sales/payment_form.html", {"form": form, "customer": customer})


# --- exports ----------------------------------------------------------------------------


@login_required
def export_download(request, kind):
    """The list's rows under the current filter as CSV (streamed) or XLSX."""
    if kind not in exports.KINDS:
        raise Http404
    _require(request.user, PRODUCT if kind == "products" else CUSTOMER, "view")
    file_format = request.GET.get("format", "csv")
    encoding = request.GET.get("encoding", "utf-8")
    if file_format not in exports.FORMATS or encoding not in exports.ENCODINGS:
        return HttpResponseBadRequest(_("Unknown file format or encoding."))
    try:
        table = exports.export_table(kind, user=request.user, params=_filters(request))
    except exports.ExportError as error:
        return HttpResponseBadRequest(str(error))
    purpose = request.GET.get("purpose", "").strip()
    if not purpose and exports.purpose_needed(table):
        # Many cards leaving the system must say why (GOV-1): ask, then come back here.
        return render(
            request,
            "sales/export_purpose.html",
            {
                "kind": kind,
                "count": len(table.customer_ids()),
                "hidden": [(k, v) for k, v in request.GET.items() if k != "purpose"],
            },
        )
    exports.record_export(
        actor=request.user, table=table, file_format=file_format, purpose=purpose, request=request
    )
    name = f"{kind}-{timezone.localdate().isoformat()}.{file_format}"
    if file_format == "xlsx":
        # openpyxl's write-only workbook streams rows to a temporary file, never into memory.
        # The response closes the file when it has been sent, so no context manager here.
        file = tempfile.TemporaryFile()  # noqa: SIM115
        exports.write_xlsx(table, file)
        file.seek(0)
        return FileResponse(
            file,
            as_attachment=True,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        exports.csv_chunks(table, encoding), content_type=f"text/csv; charset={encoding}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

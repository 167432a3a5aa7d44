"""The second factor: setting up an authenticator app and entering its code after log-in."""

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .auth import (
    confirmed_device,
    device_confirm,
    pending_device,
    qr_code_svg,
    second_factor_required,
    secret_for_typing,
)
from .forms import OtpCodeForm

WRONG_CODE = gettext_lazy(
    "This code is wrong, expired or already used. Wait for the next one and try again."
)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Show a new device's QR code and secret; a correct code confirms it."""
    device = pending_device(request.user)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device_confirm(request=request, device=device, code=form.cleaned_data["code"]):
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect(_next_url(request))
        form.add_error("code", WRONG_CODE)
    return render(
        request,
        "users/otp_setup.html",
        {
            "form": form,
            "qr_code": qr_code_svg(device),
            "secret": secret_for_typing(device),
            "has_device": confirmed_device(request.user) is not None,
            "required": second_factor_required(request.user),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """After the password: the code from the confirmed device."""
    device = confirmed_device(request.user)
    if device is None or request.user.is_verified():
        return redirect(_next_url(request))
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = django_otp.verify_token(
            request.user, device.persistent_id, form.cleaned_data["code"].strip()
        )
        if verified is not None:
            django_otp.login(request, verified)
            return redirect(_next_url(request))
        form.add_error("code", WRONG_CODE)
    return render(request, "users/otp_verify.html", {"form": form, "next": _next_url(request)})
